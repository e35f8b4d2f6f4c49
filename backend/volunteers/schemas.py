import datetime as dt
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from backend.core.clock import PeriodOut
from backend.core.paging import Page
from backend.volunteers.models import ServiceRecordStatus, TargetGroup, TeamType, VolunteerStatus

PHONE_PATTERN = r"^[0-9+\- ]{5,20}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TeamFields(_Strict):
    leader_phone: str | None = Field(default=None, max_length=20, pattern=PHONE_PATTERN)
    leader_user_id: int | None = Field(default=None, description="队长的登录账号(可审核本队服务时长)")
    founded_on: dt.date | None = None
    note: str | None = Field(default=None, max_length=500)


class TeamCreate(TeamFields):
    name: str = Field(min_length=1, max_length=100)
    type: TeamType = TeamType.general
    leader_name: str = Field(min_length=1, max_length=50, description="队长姓名(每支队伍必须有负责人)")
    branch_id: int | None = Field(default=None, description="所属组织,默认为填报人所在组织")


class TeamUpdate(TeamFields):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    type: TeamType | None = None
    leader_name: str | None = Field(default=None, min_length=1, max_length=50)


class TeamPublic(BaseModel):
    id: int
    branch_id: int
    branch_name: str | None = None
    name: str
    type: TeamType
    leader_name: str
    leader_phone: str | None
    leader_user_id: int | None
    founded_on: dt.date | None
    note: str | None
    volunteers: int = Field(default=0, description="在岗志愿者人数")
    approved_hours: Decimal = Field(default=Decimal("0"), description="累计已审核通过的服务时长")
    created_at: dt.datetime
    updated_at: dt.datetime


class TeamList(Page[TeamPublic]):
    pass


class VolunteerCreate(_Strict):
    team_id: int
    name: str = Field(min_length=1, max_length=50)
    phone: str | None = Field(default=None, max_length=20, pattern=PHONE_PATTERN)
    skills: list[str] = Field(default_factory=list, max_length=10)
    joined_on: dt.date | None = Field(default=None, description="默认今天")
    status: VolunteerStatus = VolunteerStatus.active


class VolunteerUpdate(_Strict):
    name: str | None = Field(default=None, min_length=1, max_length=50)
    phone: str | None = Field(default=None, max_length=20, pattern=PHONE_PATTERN)
    skills: list[str] | None = Field(default=None, max_length=10)
    joined_on: dt.date | None = None
    status: VolunteerStatus | None = None


class VolunteerPublic(BaseModel):
    id: int
    team_id: int
    team_name: str | None = None
    branch_id: int
    name: str
    phone: str | None = Field(description="无 pii:read 权限时为脱敏号码")
    phone_masked: bool
    skills: list[str]
    joined_on: dt.date | None
    status: VolunteerStatus
    created_at: dt.datetime
    updated_at: dt.datetime


class VolunteerList(Page[VolunteerPublic]):
    pass


class ServiceRecordCreate(_Strict):
    volunteer_id: int
    date: dt.date | None = Field(default=None, description="服务日期,默认今天")
    hours: Decimal = Field(gt=0, le=24, decimal_places=1, description="服务时长(小时),最多一位小数")
    target_group: TargetGroup
    activity_id: int | None = Field(default=None, description="关联的活动")
    note: str | None = Field(default=None, max_length=500)


class ServiceRecordUpdate(_Strict):
    date: dt.date | None = None
    hours: Decimal | None = Field(default=None, gt=0, le=24, decimal_places=1)
    target_group: TargetGroup | None = None
    activity_id: int | None = None
    note: str | None = Field(default=None, max_length=500)


class RejectAction(_Strict):
    reason: str = Field(min_length=1, max_length=500)


class ApproveAction(_Strict):
    note: str | None = Field(default=None, max_length=500)


class ServiceRecordPublic(BaseModel):
    id: int
    volunteer_id: int
    volunteer_name: str | None = None
    team_id: int
    team_name: str | None = None
    branch_id: int
    date: dt.date
    hours: Decimal
    target_group: TargetGroup
    activity_id: int | None
    note: str | None
    status: ServiceRecordStatus
    reported_by_name: str | None
    decided_by_name: str | None
    decided_at: dt.datetime | None
    reject_reason: str | None
    created_at: dt.datetime


class ServiceRecordList(Page[ServiceRecordPublic]):
    pass


class TeamHours(BaseModel):
    team_id: int
    team_name: str
    branch_id: int
    records: int
    hours: Decimal


class TargetGroupHours(BaseModel):
    target_group: TargetGroup
    records: int
    hours: Decimal


class BranchHours(BaseModel):
    branch_id: int
    branch_name: str
    hours: Decimal


class VolunteerStats(BaseModel):
    branch_id: int
    branch_name: str
    period: PeriodOut
    teams: int
    volunteers: int = Field(description="在岗志愿者人数")
    approved_hours: Decimal = Field(description="期内已审核通过的服务时长(只有通过的才计入)")
    approved_records: int
    pending_hours: Decimal = Field(description="待审核的时长(不计入合计)")
    pending_records: int
    by_team: list[TeamHours]
    by_target_group: list[TargetGroupHours]
    by_branch: list[BranchHours] = Field(description="按直属下级组织汇总的已通过时长")
