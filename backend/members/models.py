from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import JSON, Field, SQLModel

from backend.core.db import UTCDateTime, utcnow
from backend.core.scope import BranchScoped, SoftDelete, Timestamped, scope_indexes


class MemberTitle(StrEnum):
    chair = "chair"
    vice_chair = "vice_chair"
    executive_member = "executive_member"
    womens_affairs_officer = "womens_affairs_officer"
    village_chair = "village_chair"
    information_officer = "information_officer"


class Gender(StrEnum):
    female = "female"
    male = "male"


class PoliticalStatus(StrEnum):
    cpc_member = "cpc_member"
    cpc_probationary = "cpc_probationary"
    cyl_member = "cyl_member"
    democratic_party = "democratic_party"
    masses = "masses"


class Education(StrEnum):
    primary = "primary"
    junior_high = "junior_high"
    senior_high = "senior_high"
    college = "college"
    bachelor = "bachelor"
    postgraduate = "postgraduate"


class ConcurrentPost(StrEnum):
    family_planning = "family_planning"
    civil_affairs = "civil_affairs"
    statistics = "statistics"
    office = "office"
    other = "other"


class TrainingKind(StrEnum):
    online = "online"
    offline = "offline"
    study_tour = "study_tour"


class RecommendationOutcome(StrEnum):
    pending = "pending"
    adopted = "adopted"
    not_adopted = "not_adopted"


class Member(BranchScoped, SoftDelete, Timestamped, table=True):
    """A person of the federation (chair, 执委, 妇女干事…), kept in the branch she belongs to."""

    __label__ = "会员"
    __table_args__ = (*scope_indexes("member", soft_delete=True),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=50)
    gender: Gender = Field(default=Gender.female, sa_type=sa.String(32))
    birth_date: date | None = None
    phone: str | None = Field(default=None, max_length=20)
    ethnicity: str | None = Field(default=None, max_length=20)
    political_status: PoliticalStatus | None = Field(default=None, sa_type=sa.String(32))
    education: Education | None = Field(default=None, sa_type=sa.String(32))
    talent_pool: bool = Field(default=False, index=True)
    note: str | None = Field(default=None, max_length=500)


class MemberPosition(BranchScoped, Timestamped, table=True):
    """A post held in a branch; the branch is the post's, which may differ from where the member lives."""

    __tablename__ = "member_position"
    __label__ = "职务"
    __table_args__ = (*scope_indexes("member_position"),)

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    title: MemberTitle = Field(sa_type=sa.String(32), index=True)
    part_time: bool = False
    concurrent_posts: list[str] = Field(default_factory=list, sa_type=JSON)
    started_on: date | None = None
    ended_on: date | None = None


class MemberTraining(SQLModel, table=True):
    __tablename__ = "member_training"
    __label__ = "培训记录"

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    course: str = Field(max_length=200)
    organiser: str | None = Field(default=None, max_length=100)
    kind: TrainingKind = Field(default=TrainingKind.offline, sa_type=sa.String(32))
    hours: Decimal = Field(default=Decimal("0"), max_digits=6, decimal_places=1)
    trained_on: date = Field(index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class MemberRecommendation(SQLModel, table=True):
    """A talent-pool (后备人才) recommendation, e.g. to the organisation department."""

    __tablename__ = "member_recommendation"
    __label__ = "推荐记录"

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    recommended_to: str = Field(max_length=100)
    recommended_on: date
    outcome: RecommendationOutcome = Field(default=RecommendationOutcome.pending, sa_type=sa.String(32))
    note: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
