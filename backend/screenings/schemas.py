from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from backend.core.clock import PeriodOut
from backend.core.paging import Page
from backend.core.schemas import RequestModel
from backend.screenings.idcard import IdNumberError, parse_id_number
from backend.screenings.models import (
    AidStatus,
    Diagnosis,
    FollowUpStatus,
    HardshipStatus,
    NoticeMethod,
    ScreeningKind,
    ScreeningMethod,
    ScreeningResult,
    ScreeningSource,
    Tbs,
)

PHONE_PATTERN = r"^[0-9+\- ]{5,20}$"
Name = Annotated[str, Field(min_length=1, max_length=50)]
Phone = Annotated[str, Field(max_length=20, pattern=PHONE_PATTERN, description="联系电话")]
Note = Annotated[str, Field(max_length=1000)]


def _valid_id_number(value: str) -> str:
    try:
        return parse_id_number(value)[0]
    except IdNumberError as exc:
        raise ValueError(str(exc)) from None


class IdNumberMixin(RequestModel):
    id_number: str = Field(max_length=30, description="18 位居民身份证号,末位 X 大小写均可")

    @field_validator("id_number")
    @classmethod
    def _check_id_number(cls, value: str) -> str:
        return _valid_id_number(value)


# ---- women


class WomanCreate(IdNumberMixin):
    name: Name
    phone: Phone | None = None
    branch_id: int | None = Field(default=None, description="所在村(社区),默认为登记人所在组织")
    hardship_status: HardshipStatus = HardshipStatus.none


class WomanUpdate(RequestModel):
    name: Name | None = None
    phone: Phone | None = None
    branch_id: int | None = None
    hardship_status: HardshipStatus | None = None


class WomanPublic(BaseModel):
    id: int
    name: str
    id_number: str = Field(description="已脱敏;查看原文请调用 /women/{id}/pii")
    phone: str | None
    birth_date: date
    age: int
    branch_id: int
    hardship_status: HardshipStatus
    hardship_verified_by: str | None
    hardship_verified_at: datetime | None
    created_at: datetime
    updated_at: datetime


class WomanList(Page[WomanPublic]):
    pass


class WomanPii(BaseModel):
    id: int
    name: str
    id_number: str
    phone: str | None


# ---- plans


class PlanCreate(RequestModel):
    year: int = Field(ge=2000, le=2100)
    branch_id: int | None = Field(default=None, description="默认为当前用户所在组织")
    name: str | None = Field(default=None, max_length=100)
    target_count: int = Field(ge=0, le=10_000_000, description="计划筛查人数")
    budget: Decimal | None = Field(default=None, ge=0, le=Decimal("999999999999"), decimal_places=2)


class PlanUpdate(RequestModel):
    name: str | None = Field(default=None, max_length=100)
    target_count: int | None = Field(default=None, ge=0, le=10_000_000)
    budget: Decimal | None = Field(default=None, ge=0, le=Decimal("999999999999"), decimal_places=2)


class PlanPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    year: int
    branch_id: int
    name: str | None
    target_count: int
    budget: Decimal | None
    created_at: datetime
    updated_at: datetime


class PlanList(Page[PlanPublic]):
    pass


# ---- records


class RecordFields(RequestModel):
    kind: ScreeningKind
    screened_on: date
    institution: str | None = Field(default=None, max_length=100)
    method: ScreeningMethod | None = None
    result: ScreeningResult
    tbs: Tbs | None = Field(default=None, description="TBS 分级,仅宫颈细胞学")
    birads: int | None = Field(default=None, ge=0, le=6, description="BI-RADS 0–6,仅乳腺影像")
    consent: bool = False


class RecordCreate(RecordFields):
    woman_id: int
    plan_id: int | None = None
    external_id: str | None = Field(default=None, min_length=1, max_length=64)


class RecordUpdate(RequestModel):
    kind: ScreeningKind | None = None
    screened_on: date | None = None
    institution: str | None = Field(default=None, max_length=100)
    method: ScreeningMethod | None = None
    result: ScreeningResult | None = None
    tbs: Tbs | None = None
    birads: int | None = Field(default=None, ge=0, le=6)
    consent: bool | None = None
    plan_id: int | None = None


class RecordPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    woman_id: int
    plan_id: int | None
    branch_id: int
    kind: ScreeningKind
    screened_on: date
    institution: str | None
    method: ScreeningMethod | None
    result: ScreeningResult | None = Field(description="without `pii:read` null, and `result_masked` is true")
    tbs: Tbs | None
    birads: int | None
    result_masked: bool = False
    consent: bool
    source: ScreeningSource
    external_id: str | None
    follow_up_id: int | None = None
    created_at: datetime
    updated_at: datetime


class RecordList(Page[RecordPublic]):
    pass


class BatchRow(RecordFields, IdNumberMixin):
    """One result from a hospital or the health bureau, keyed by the sender's own id."""

    external_id: str = Field(min_length=1, max_length=64)
    name: Name
    phone: Phone | None = None
    branch_id: int | None = Field(default=None, description="新登记妇女所在村(社区);已登记的妇女可不填")


class BatchIn(RequestModel):
    rows: list[dict[str, Any]] = Field(
        min_length=1,
        max_length=1000,
        description="最多 1000 行;每行字段见 BatchRow:external_id, id_number, name, phone, branch_id, kind, "
        "screened_on, institution, method, result, tbs, birads, consent",
    )


class BatchItem(BaseModel):
    row: int = Field(description="行号,从 1 开始")
    external_id: str | None
    outcome: str = Field(description="created | updated | unchanged | error")
    id: int | None = None
    error: str | None = None
    field: str | None = None


class BatchOut(BaseModel):
    items: list[BatchItem]
    created: int
    updated: int
    unchanged: int
    errors: int


# ---- follow-ups


class FollowUpEventPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    action: str
    at: datetime
    actor_name: str | None
    note: str | None
    data: dict[str, Any] | None


class FollowUpPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    record_id: int
    woman_id: int
    woman_name: str = Field(description="她的姓名,与妇女名册所示相同")
    branch_id: int
    kind: ScreeningKind
    status: FollowUpStatus
    notice_due_on: date
    notified_at: datetime | None
    notified_by: str | None
    notice_method: NoticeMethod | None
    recheck_due_on: date | None
    rechecked_on: date | None
    recheck_institution: str | None
    recheck_result: str | None
    diagnosis: Diagnosis | None
    diagnosed_on: date | None
    treated_on: date | None
    treatment: str | None
    closed_at: datetime | None
    lost_at: datetime | None
    lost_reason: str | None
    visit_count: int
    last_visit_at: datetime | None
    note: str | None
    overdue: bool = False
    due_on: date | None = Field(default=None, description="当前步骤的期限")
    allowed_actions: list[str] = Field(description="当前用户现在可做的步骤(服务端计算)")
    created_at: datetime
    updated_at: datetime


class FollowUpDetail(FollowUpPublic):
    events: list[FollowUpEventPublic] = []


class FollowUpList(Page[FollowUpPublic]):
    pass


class NotifyBody(RequestModel):
    method: NoticeMethod = NoticeMethod.in_person
    notified_at: AwareDatetime | None = Field(default=None, description="默认为现在")
    notified_by: str | None = Field(default=None, max_length=100, description="告知人,默认为当前用户")
    note: Note | None = None


class RecheckBody(RequestModel):
    rechecked_on: date | None = Field(default=None, description="默认为今天")
    institution: str | None = Field(default=None, max_length=100)
    result: str | None = Field(default=None, max_length=500)
    note: Note | None = None


class DiagnoseBody(RequestModel):
    diagnosis: Diagnosis
    diagnosed_on: date | None = None
    note: Note | None = None


class TreatBody(RequestModel):
    treated_on: date | None = None
    treatment: str | None = Field(default=None, max_length=500)
    note: Note | None = None


class CloseBody(RequestModel):
    note: Note | None = None


class LoseBody(RequestModel):
    reason: str = Field(min_length=2, max_length=500, description="失访原因")


class VisitBody(RequestModel):
    """A village rep's visit, from a phone: little to type."""

    note: Note | None = None
    reached: bool = True
    visited_at: AwareDatetime | None = None


# ---- aid


class AidCreate(RequestModel):
    follow_up_id: int
    amount: Decimal = Field(gt=0, le=Decimal("1000000"), decimal_places=2)
    documents: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(
        default_factory=list, max_length=20
    )
    note: Note | None = None


class AidVerifyBody(RequestModel):
    hardship_status: HardshipStatus = Field(
        description="民政核实的困难类型:dibao 低保,tekun 特困,none 都不是"
    )
    note: str | None = Field(default=None, max_length=500)


class AidApproveBody(RequestModel):
    note: str | None = Field(default=None, max_length=500)


class AidPayBody(RequestModel):
    payment_reference: str | None = Field(default=None, max_length=100)
    paid_at: AwareDatetime | None = None


class AidRejectBody(RequestModel):
    reason: str = Field(min_length=2, max_length=500)


class AidPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    woman_id: int
    follow_up_id: int
    branch_id: int
    diagnosis: Diagnosis
    amount: Decimal
    documents: list[str]
    note: str | None
    status: AidStatus
    submitted_by: str | None
    verified_hardship: HardshipStatus | None
    verified_by: str | None
    verified_at: datetime | None
    verification_note: str | None
    approved_by: str | None
    approved_at: datetime | None
    paid_by: str | None
    paid_at: datetime | None
    payment_reference: str | None
    rejected_by: str | None
    rejected_at: datetime | None
    rejected_reason: str | None
    allowed_actions: list[str] = Field(description="当前用户现在可做的步骤(服务端计算)")
    created_at: datetime
    updated_at: datetime


class AidList(Page[AidPublic]):
    pass


# ---- figures


class KindFigures(BaseModel):
    records: int
    women: int
    abnormal: int = Field(description="异常与可疑阳性")
    abnormal_rate: float | None
    confirmed_cancers: int


class FollowUpFigures(BaseModel):
    total: int
    by_status: dict[str, int]
    completed: int = Field(description="已结案")
    completion_rate: float | None
    rechecked: int = Field(description="已复查及之后各步(不含失访)")
    recheck_rate: float | None
    lost: int
    lost_rate: float | None
    overdue: int


class ChildFigures(BaseModel):
    branch_id: int
    name: str
    target: int
    screened: int
    coverage: float | None
    coverage_above_target: bool
    abnormal: int
    lost: int


class ScreeningStats(BaseModel):
    branch_id: int
    period: PeriodOut
    plan_years: list[int] = Field(description="计划人数取自这些年度的计划(区间涉及的每一年)")
    target: int
    screened: int = Field(description="筛查人数(按人去重)")
    coverage: float | None = Field(description="筛查人数 / 计划人数,超过 1 时如实显示并标记")
    coverage_above_target: bool
    by_kind: dict[str, KindFigures]
    follow_up: FollowUpFigures
    confirmed_cancers: int
    aid_paid_count: int
    aid_paid_amount: Decimal
    children: list[ChildFigures] = Field(default_factory=list, description="下一级各组织的主要数字")
