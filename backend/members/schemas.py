from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from backend.core.paging import Page
from backend.members.models import (
    ConcurrentPost,
    Education,
    Gender,
    MemberTitle,
    PoliticalStatus,
    RecommendationOutcome,
    TrainingKind,
)

PHONE_PATTERN = r"^[0-9+\- ]{5,20}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _check_dates(start: date | None, end: date | None) -> None:
    if start and end and end < start:
        raise ValueError("任职结束日期不能早于开始日期")


class PositionCreate(_Strict):
    branch_id: int | None = Field(default=None, description="任职组织,默认为会员所在组织")
    title: MemberTitle
    part_time: bool = False
    concurrent_posts: list[ConcurrentPost] = Field(
        default_factory=list, max_length=5, description="兼任的其他职务:计生、民政、统计…"
    )
    started_on: date | None = None
    ended_on: date | None = None

    @model_validator(mode="after")
    def _order(self):
        _check_dates(self.started_on, self.ended_on)
        return self


class PositionUpdate(_Strict):
    title: MemberTitle | None = None
    part_time: bool | None = None
    concurrent_posts: list[ConcurrentPost] | None = Field(default=None, max_length=5)
    started_on: date | None = None
    ended_on: date | None = None


class PositionPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    member_id: int
    branch_id: int
    title: MemberTitle
    part_time: bool
    concurrent_posts: list[ConcurrentPost]
    started_on: date | None
    ended_on: date | None
    current: bool = True


class TrainingCreate(_Strict):
    course: str = Field(min_length=1, max_length=200)
    organiser: str | None = Field(default=None, max_length=100)
    kind: TrainingKind = TrainingKind.offline
    hours: Decimal = Field(default=Decimal("0"), ge=0, le=1000, decimal_places=1)
    trained_on: date | None = Field(default=None, description="默认今天")


class TrainingPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    member_id: int
    course: str
    organiser: str | None
    kind: TrainingKind
    hours: Decimal
    trained_on: date


class RecommendationCreate(_Strict):
    recommended_to: str = Field(min_length=1, max_length=100, description="推荐给谁,如县委组织部")
    recommended_on: date | None = Field(default=None, description="默认今天")
    outcome: RecommendationOutcome = RecommendationOutcome.pending
    note: str | None = Field(default=None, max_length=500)


class RecommendationUpdate(_Strict):
    outcome: RecommendationOutcome | None = None
    note: str | None = Field(default=None, max_length=500)


class RecommendationPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    member_id: int
    recommended_to: str
    recommended_on: date
    outcome: RecommendationOutcome
    note: str | None


class MemberFields(_Strict):
    gender: Gender | None = None
    birth_date: date | None = None
    phone: str | None = Field(default=None, max_length=20, pattern=PHONE_PATTERN)
    ethnicity: str | None = Field(default=None, max_length=20)
    political_status: PoliticalStatus | None = None
    education: Education | None = None
    talent_pool: bool | None = None
    note: str | None = Field(default=None, max_length=500)


class MemberCreate(MemberFields):
    name: str = Field(min_length=1, max_length=50)
    branch_id: int | None = Field(default=None, description="所在组织,默认为填报人所在组织")
    gender: Gender = Gender.female
    talent_pool: bool = False
    positions: list[PositionCreate] = Field(default_factory=list, max_length=10)


class MemberUpdate(MemberFields):
    name: str | None = Field(default=None, min_length=1, max_length=50)
    branch_id: int | None = None


class MemberPublic(BaseModel):
    id: int
    branch_id: int
    branch_name: str | None = None
    name: str
    gender: Gender
    birth_date: date | None
    phone: str | None = Field(description="无 pii:read 权限时为脱敏号码")
    phone_masked: bool
    ethnicity: str | None
    political_status: PoliticalStatus | None
    education: Education | None
    talent_pool: bool
    note: str | None
    title: MemberTitle | None = Field(default=None, description="当前主要职务")
    part_time: bool | None = None
    last_trained_on: date | None = None
    trained_this_year: bool = False
    created_at: datetime
    updated_at: datetime


class MemberDetail(MemberPublic):
    positions: list[PositionPublic] = []
    trainings: list[TrainingPublic] = []
    recommendations: list[RecommendationPublic] = []


class MemberList(Page[MemberPublic]):
    pass
