"""Shapes of 结对帮扶: pairings with their steps and timeline, visits with their photos, and the children's figures."""

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field

from backend.children.models import (
    CarerKind,
    ChildCategory,
    ChildState,
    ChildStatus,
    ConsentRelation,
    PairingStatus,
    VisitMode,
)
from backend.core.clock import PeriodOut
from backend.core.paging import Page
from backend.core.schemas import RequestModel

# A pairing is visited at least once a year and at most once a week.
MIN_EVERY_DAYS, MAX_EVERY_DAYS = 7, 366


class PairingCreate(RequestModel):
    child_id: int
    carer_kind: CarerKind
    volunteer_id: int | None = Field(default=None, description="carer_kind=volunteer 时必填:登记在册的志愿者")
    member_id: int | None = Field(
        default=None, description="carer_kind=member 时必填:孩子所在组织或其下级的会员"
    )
    carer_user_id: int | None = Field(
        default=None, description="帮扶人的登录账号(爱心妈妈角色,所在村须含孩子所在村),可在手机上记走访"
    )
    consent_on: date = Field(description="家长或监护人同意结对的日期")
    consent_by_name: str = Field(min_length=1, max_length=50, description="同意人姓名")
    consent_by_relation: ConsentRelation
    starts_on: date | None = Field(default=None, description="结对开始日期,默认今天")
    planned_end_on: date | None = Field(default=None, description="计划结束日期")
    visit_every_days: int = Field(
        default=30, ge=MIN_EVERY_DAYS, le=MAX_EVERY_DAYS, description="走访频次(天),默认 30 天一次"
    )


class EndBody(RequestModel):
    reason: str = Field(min_length=1, max_length=500, description="结束原因")
    ended_on: date | None = Field(default=None, description="结束日期,默认今天")


class PairingEventPublic(BaseModel):
    id: int
    action: str
    at: datetime
    actor_name: str | None
    note: str | None
    data: dict[str, Any] | None


class PairingPublic(BaseModel):
    id: int
    child_id: int
    child_name: str
    branch_id: int
    carer_kind: CarerKind
    volunteer_id: int | None
    member_id: int | None
    carer_user_id: int | None
    carer_name: str
    consent_on: date
    consent_by_name: str
    consent_by_relation: ConsentRelation
    starts_on: date
    planned_end_on: date | None
    ended_on: date | None
    end_reason: str | None
    visit_every_days: int
    status: PairingStatus
    last_visit_on: date | None
    next_visit_due_on: date | None
    overdue: bool = Field(description="进行中且下次走访日期已过(按北京时间)")
    allowed_actions: list[str] = Field(description="当前用户现在可做的步骤")
    created_at: datetime
    updated_at: datetime


class PairingDetail(PairingPublic):
    events: list[PairingEventPublic]


class PairingList(Page[PairingPublic]):
    pass


class VisitCreate(RequestModel):
    visited_on: date | None = Field(default=None, description="走访日期,默认今天;不能晚于今天")
    mode: VisitMode
    done: str | None = Field(default=None, max_length=2000, description="做了什么")
    study: ChildState | None = Field(default=None, description="学习情况")
    health: ChildState | None = Field(default=None, description="身体情况")
    mood: ChildState | None = Field(default=None, description="情绪状态")
    problems: str | None = Field(default=None, max_length=2000, description="发现的问题")
    rights_issue: bool = Field(
        default=False, description="发现侵害孩子权益的问题:自动登记一张 12338 工单(须填写发现的问题)"
    )


class VisitPublic(BaseModel):
    id: int
    pairing_id: int
    child_id: int
    branch_id: int
    visited_on: date
    mode: VisitMode
    done: str | None
    study: ChildState | None
    health: ChildState | None
    mood: ChildState | None
    problems: str | None
    rights_issue: bool
    ticket_id: int | None = Field(description="权益问题登记的 12338 工单")
    photo_count: int
    created_by_name: str | None
    created_at: datetime


class VisitList(Page[VisitPublic]):
    pass


class VisitPhotoPublic(BaseModel):
    id: int
    visit_id: int
    content_type: str
    size: int
    width: int
    height: int
    sha256: str
    caption: str | None
    url: str
    thumbnail_url: str
    created_at: datetime


class Rate(BaseModel):
    numerator: int
    denominator: int
    rate: float | None = Field(description="numerator / denominator,分母为 0 时为 null")


class CountByCategory(BaseModel):
    category: ChildCategory
    count: int


class CountByStatus(BaseModel):
    status: ChildStatus
    count: int


class CountByPairingStatus(BaseModel):
    status: PairingStatus
    count: int


class HomeFigures(BaseModel):
    total: int
    broken: int
    needs_repair: int
    per_1000_left_behind: float | None = Field(
        description="每千名在册留守儿童(单亲或双亲外出)拥有的儿童之家数"
    )


class CallFigures(BaseModel):
    sessions: int
    minutes: int


class ChildrenStats(BaseModel):
    period: PeriodOut
    branch_id: int
    children_total: int = Field(description="在档儿童(任何状态,不含已删除)")
    by_status: list[CountByStatus]
    active_by_category: list[CountByCategory] = Field(description="在册(active)儿童按类别")
    pairings_by_status: list[CountByPairingStatus]
    overdue_pairings: int
    pairing_coverage: Rate = Field(description="有进行中结对的在册儿童 / 在册儿童")
    visits_in_period: int
    visits_on_time: Rate = Field(
        description="期内到期的走访中按时完成的:分母是应走访日期落在期内的次数(期内到期的走访,加上应走访日期已过、"
        "至今仍未走访的进行中结对),分子是其中走访日期不晚于应走访日期的。每次走访的应走访日期 = 该结对上一次走访"
        "日期(第一次为结对开始日期)+ 走访频次天数。"
    )
    homes: HomeFigures
    schools_with_home: Rate = Field(
        description="在册儿童就读学校(按名称去重)中,有依托该校(host=school,school_name 相同)的儿童之家的 / 全部学校"
    )
    family_calls: CallFigures = Field(description="期内在本组织及下级儿童之家的亲情通话")
