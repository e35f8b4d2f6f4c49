from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from backend.children.models import (
    CallWith,
    ChildCategory,
    ChildStatus,
    GuardianRelation,
    HomeCondition,
    HomeHost,
    HomeLevel,
    Sex,
    WorkPlace,
)
from backend.core.paging import Page
from backend.core.schemas import RequestModel
from backend.screenings.schemas import PHONE_PATTERN, IdNumberMixin

Name = Annotated[str, Field(min_length=1, max_length=50)]
Phone = Annotated[str, Field(max_length=20, pattern=PHONE_PATTERN, description="联系电话")]
City = Annotated[str, Field(max_length=50, description="务工城市")]
Note = Annotated[str, Field(max_length=1000)]


# ---- children


class ChildFields(RequestModel):
    """What a form says about a child, her guardian and her parents (everything but name and ID number)."""

    school: str | None = Field(default=None, max_length=100)
    grade: str | None = Field(default=None, max_length=20)
    guardian_relation: GuardianRelation | None = None
    guardian_name: Name | None = None
    guardian_phone: Phone | None = None
    father_work_place: WorkPlace | None = None
    father_city: City | None = None
    father_phone: Phone | None = None
    mother_work_place: WorkPlace | None = None
    mother_city: City | None = None
    mother_phone: Phone | None = None
    disability: bool = False
    serious_illness: bool = False
    out_of_school: bool = Field(default=False, description="失学辍学")
    note: Note | None = None


class ChildCreate(IdNumberMixin, ChildFields):
    name: Name
    sex: Sex | None = Field(default=None, description="不填按身份证号第 17 位")
    category: ChildCategory
    branch_id: int | None = Field(default=None, description="所在村(社区),默认为登记人所在组织")


class ChildUpdate(RequestModel):
    name: Name | None = None
    id_number: str | None = Field(default=None, max_length=30, description="更正身份证号")
    sex: Sex | None = None
    category: ChildCategory | None = None
    branch_id: int | None = Field(default=None, description="迁到另一个村(社区)")
    school: str | None = Field(default=None, max_length=100)
    grade: str | None = Field(default=None, max_length=20)
    guardian_relation: GuardianRelation | None = None
    guardian_name: Name | None = None
    guardian_phone: Phone | None = None
    father_work_place: WorkPlace | None = None
    father_city: City | None = None
    father_phone: Phone | None = None
    mother_work_place: WorkPlace | None = None
    mother_city: City | None = None
    mother_phone: Phone | None = None
    disability: bool | None = None
    serious_illness: bool | None = None
    out_of_school: bool | None = None
    status: ChildStatus | None = None
    status_changed_on: date | None = Field(default=None, description="状态变化的日期,默认今天")
    note: Note | None = None


class ChildPublic(BaseModel):
    id: int
    name: str
    sex: Sex
    id_number: str = Field(description="已脱敏;查看原文请调用 /children/{id}/pii")
    birth_date: date
    age: int
    branch_id: int
    branch_name: str | None = Field(default=None, description="所在村(社区)")
    school: str | None
    grade: str | None
    guardian_relation: GuardianRelation | None
    guardian_name: str | None
    guardian_phone: str | None = Field(description="已脱敏")
    father_work_place: WorkPlace | None
    father_city: str | None
    father_phone: str | None = Field(description="已脱敏")
    mother_work_place: WorkPlace | None
    mother_city: str | None
    mother_phone: str | None = Field(description="已脱敏")
    category: ChildCategory
    disability: bool
    serious_illness: bool
    out_of_school: bool
    status: ChildStatus
    status_changed_on: date | None
    note: str | None
    created_at: datetime
    updated_at: datetime


class ChildList(Page[ChildPublic]):
    pass


class ChildPii(BaseModel):
    id: int
    name: str
    id_number: str
    guardian_phone: str | None
    father_phone: str | None
    mother_phone: str | None


class CarerChildPublic(BaseModel):
    """A paired child as her carer sees her: what a visit needs, no ID number and no parents' phones."""

    id: int
    name: str
    age: int
    guardian_first_name: str | None = Field(description="监护人名字(不含姓)")
    village: str
    pairing_id: int
    last_visit_on: date | None
    next_visit_due_on: date | None


class CarerChildList(Page[CarerChildPublic]):
    pass


# ---- homes


class HomeFields(RequestModel):
    opening_hours: str | None = Field(
        default=None, max_length=200, description="开放时间,如「周六、周日 9:00–17:00」"
    )
    manager_member_id: int | None = Field(default=None, description="管理员(会员)")
    supervisor_member_id: int | None = Field(default=None, description="督导员(会员)")
    books_count: int = Field(default=0, ge=0, le=1_000_000, description="图书(册)")
    has_tv: bool = False
    has_phone: bool = Field(default=False, description="亲情电话")
    has_computer: bool = False
    has_video_call: bool = Field(default=False, description="视频通话设备")
    desks: int = Field(default=0, ge=0, le=10_000, description="桌椅(套)")
    note: Note | None = None


class HomeCreate(HomeFields):
    name: str = Field(min_length=1, max_length=100)
    branch_id: int | None = Field(default=None, description="所在组织,默认为当前用户所在组织")
    host: HomeHost
    school_name: str | None = Field(default=None, max_length=100, description="依托学校时必填")
    level: HomeLevel = HomeLevel.none
    condition: HomeCondition = HomeCondition.good


class HomeUpdate(RequestModel):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    host: HomeHost | None = None
    school_name: str | None = Field(default=None, max_length=100)
    level: HomeLevel | None = None
    opening_hours: str | None = Field(default=None, max_length=200)
    manager_member_id: int | None = None
    supervisor_member_id: int | None = None
    books_count: int | None = Field(default=None, ge=0, le=1_000_000)
    has_tv: bool | None = None
    has_phone: bool | None = None
    has_computer: bool | None = None
    has_video_call: bool | None = None
    desks: int | None = Field(default=None, ge=0, le=10_000)
    note: Note | None = None


class HomePublic(BaseModel):
    id: int
    name: str
    branch_id: int
    branch_name: str
    host: HomeHost
    school_name: str | None
    level: HomeLevel
    opening_hours: str | None
    manager_member_id: int | None
    manager_name: str | None
    supervisor_member_id: int | None
    supervisor_name: str | None
    books_count: int
    has_tv: bool
    has_phone: bool
    has_computer: bool
    has_video_call: bool
    desks: int
    condition: HomeCondition
    last_inspected_on: date | None
    note: str | None
    created_at: datetime
    updated_at: datetime


class HomeList(Page[HomePublic]):
    pass


class InspectionCreate(RequestModel):
    inspected_on: date | None = Field(default=None, description="督查日期,默认今天")
    inspector_name: str | None = Field(
        default=None, min_length=1, max_length=100, description="默认为当前用户"
    )
    findings: str | None = Field(default=None, max_length=2000)
    condition: HomeCondition


class InspectionPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    home_id: int
    inspected_on: date
    inspector_name: str
    inspector_user_id: int | None
    findings: str | None
    condition: HomeCondition
    created_at: datetime


class InspectionList(Page[InspectionPublic]):
    pass


class CallCreate(RequestModel):
    child_id: int
    held_on: date | None = Field(default=None, description="日期,默认今天")
    minutes: int = Field(ge=1, le=600)
    with_whom: CallWith
    note: str | None = Field(default=None, max_length=500)


class CallPublic(BaseModel):
    id: int
    home_id: int
    child_id: int
    child_name: str
    held_on: date
    minutes: int
    with_whom: CallWith
    note: str | None
    created_at: datetime


class CallList(Page[CallPublic]):
    pass
