from datetime import datetime
from decimal import Decimal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from backend.activities.models import ActivityStatus, ActivityType
from backend.branches.models import BranchKind
from backend.core.clock import PeriodOut
from backend.core.paging import Page

PHONE_PATTERN = r"^[0-9+\- ]{5,20}$"
MAX_COUNT = 100_000


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ActivityFields(_Strict):
    theme: str | None = Field(default=None, max_length=200)
    venue: str | None = Field(default=None, max_length=200)
    ends_at: AwareDatetime | None = None
    co_organisers: list[str] | None = Field(
        default=None, max_length=10, description="协办单位名称,如县司法局、镇卫生院"
    )
    plan: str | None = Field(default=None, max_length=4000, description="活动方案")
    participants: int | None = Field(default=None, ge=0, le=MAX_COUNT, description="参与人次")
    households: int | None = Field(default=None, ge=0, le=MAX_COUNT, description="覆盖户数")
    target_group: str | None = Field(default=None, max_length=100)
    funds: Decimal | None = Field(
        default=None, ge=0, le=Decimal("9999999999.99"), decimal_places=2, description="经费(元)"
    )
    funds_source: str | None = Field(default=None, max_length=100)
    outcome: str | None = Field(default=None, max_length=4000, description="活动记录与成效")
    home_id: int | None = Field(default=None, description="举办地儿童之家(仅留守儿童关爱类活动)")

    @model_validator(mode="after")
    def _names(self):
        for name in self.co_organisers or []:
            if not name.strip() or len(name) > 100:
                raise ValueError("协办单位名称应为 1 到 100 个字符")
        return self


class ActivityCreate(ActivityFields):
    type: ActivityType
    title: str = Field(min_length=1, max_length=200)
    branch_id: int | None = Field(default=None, description="主办组织,默认为填报人所在组织")
    starts_at: AwareDatetime | None = Field(default=None, description="默认现在")
    status: ActivityStatus | None = Field(
        default=None, description="planned 或 held;不填时开始时间已过为 held,否则为 planned"
    )


class ActivityUpdate(ActivityFields):
    type: ActivityType | None = None
    title: str | None = Field(default=None, min_length=1, max_length=200)
    starts_at: AwareDatetime | None = None


class HoldAction(_Strict):
    participants: int | None = Field(default=None, ge=0, le=MAX_COUNT)
    households: int | None = Field(default=None, ge=0, le=MAX_COUNT)
    outcome: str | None = Field(default=None, max_length=4000)
    ends_at: AwareDatetime | None = None


class VerifyAction(_Strict):
    note: str | None = Field(default=None, max_length=500)


class Checklist(BaseModel):
    """有方案、有记录、有图片、有签到."""

    has_plan: bool
    has_record: bool
    has_photos: bool
    has_sign_in: bool


class ActivityPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    branch_id: int
    branch_name: str | None = None
    type: ActivityType
    title: str
    theme: str | None
    venue: str | None
    starts_at: datetime
    ends_at: datetime | None
    status: ActivityStatus
    co_organisers: list[str]
    plan: str | None
    participants: int | None
    households: int | None
    target_group: str | None
    home_id: int | None = None
    funds: Decimal | None
    funds_source: str | None
    outcome: str | None
    photo_count: int
    signed_in: int
    thumbnail_url: str | None = None
    checklist: Checklist | None = None
    allowed_actions: list[str] = Field(
        default_factory=list,
        description="当前用户现在可做的步骤(hold、verify),由服务端按状态、权限和规则算出",
    )
    held_at: datetime | None
    verified_at: datetime | None
    verified_by_name: str | None
    verify_note: str | None
    created_at: datetime
    updated_at: datetime


class ActivityList(Page[ActivityPublic]):
    pass


class PhotoPublic(BaseModel):
    id: int
    activity_id: int
    content_type: str
    size: int
    width: int
    height: int
    sha256: str
    caption: str | None
    url: str
    thumbnail_url: str
    created_at: datetime


class SignInName(_Strict):
    name: str = Field(min_length=1, max_length=50)
    phone: str | None = Field(default=None, max_length=20, pattern=PHONE_PATTERN)


class SignInCreate(_Strict):
    head_count: int | None = Field(default=None, ge=1, le=MAX_COUNT, description="只报人数")
    names: list[SignInName | str] | None = Field(
        default=None, min_length=1, max_length=2000, description="签到名单:姓名,或 {name, phone}"
    )

    @model_validator(mode="after")
    def _one_of(self):
        if (self.head_count is None) == (self.names is None):
            raise ValueError("请填写签到人数 head_count 或签到名单 names(二选一)")
        for item in self.names or []:
            if isinstance(item, str) and not (1 <= len(item.strip()) <= 50):
                raise ValueError("签到名单中的姓名应为 1 到 50 个字符")
        return self


class SignInNamePublic(BaseModel):
    name: str
    phone: str | None = Field(default=None, description="无 pii:read 权限时为脱敏号码")


class SignInPublic(BaseModel):
    id: int
    activity_id: int
    head_count: int
    names: list[SignInNamePublic] | None
    created_at: datetime


class InactiveBranch(BaseModel):
    id: int
    code: str | None
    name: str
    kind: BranchKind
    parent_id: int | None
    parent_name: str | None = None
    path: str
    last_held_at: datetime | None = Field(description="最近一次已开展活动的时间,从未开展为空")


class InactiveBranchList(Page[InactiveBranch]):
    pass


class TypeCount(BaseModel):
    type: ActivityType
    activities: int
    participants: int


class MonthCount(BaseModel):
    month: str = Field(description="YYYY-MM,中国时间")
    activities: int
    participants: int


class ActivityStats(BaseModel):
    branch_id: int
    branch_name: str
    period: PeriodOut
    activities: int = Field(description="期内已开展或已核验的活动数")
    planned: int
    held: int
    verified: int
    participants: int = Field(description="参与人次合计(未填人次时按签到人数)")
    households: int
    by_type: list[TypeCount]
    by_month: list[MonthCount]
    villages: int = Field(description="村、社区总数")
    villages_active: int = Field(description="期内开展过活动的村、社区数")
    villages_active_share: float | None = Field(description="开展过活动的村、社区占比,0–1")
    members: int
    members_trained_this_year: int = Field(description="本自然年(中国时间)参加过培训的会员数")
    terms_overdue: int = Field(description="换届已逾期的组织数")
    terms_due_soon: int = Field(description="90 天内到期换届的组织数")
