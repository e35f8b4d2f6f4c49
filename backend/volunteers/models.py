from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import JSON, Field

from backend.core.db import UTCDateTime
from backend.core.scope import BranchScoped, SoftDelete, Timestamped, scope_indexes


class TeamType(StrEnum):
    rights_protection = "rights_protection"
    family_education = "family_education"
    left_behind_children = "left_behind_children"
    elderly_care = "elderly_care"
    health = "health"
    culture = "culture"
    general = "general"


class VolunteerStatus(StrEnum):
    active = "active"
    inactive = "inactive"
    left = "left"


class TargetGroup(StrEnum):
    empty_nest_elderly = "empty_nest_elderly"
    left_behind_children = "left_behind_children"
    poor_women = "poor_women"
    disabled = "disabled"
    other = "other"


class ServiceRecordStatus(StrEnum):
    pending = "pending"
    approved = "approved"
    rejected = "rejected"


class VolunteerTeam(BranchScoped, SoftDelete, Timestamped, table=True):
    """巾帼志愿服务队: always a named leader (and, when she has a login, the account that approves hours)."""

    __tablename__ = "volunteer_team"
    __label__ = "志愿服务队"
    __table_args__ = (*scope_indexes("volunteer_team", soft_delete=True),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100)
    type: TeamType = Field(sa_type=sa.String(32), index=True)
    leader_name: str = Field(max_length=50)
    leader_phone: str | None = Field(default=None, max_length=20)
    leader_user_id: int | None = Field(default=None, foreign_key="user.id")
    founded_on: date | None = None
    note: str | None = Field(default=None, max_length=500)


class Volunteer(BranchScoped, SoftDelete, Timestamped, table=True):
    """A registered volunteer of one team; placed in the team's branch."""

    __label__ = "志愿者"
    __table_args__ = (*scope_indexes("volunteer", soft_delete=True),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="volunteer_team.id", index=True)
    name: str = Field(max_length=50)
    phone: str | None = Field(default=None, max_length=20)
    skills: list[str] = Field(default_factory=list, sa_type=JSON)
    joined_on: date | None = None
    status: VolunteerStatus = Field(default=VolunteerStatus.active, sa_type=sa.String(32))


class ServiceRecord(BranchScoped, SoftDelete, Timestamped, table=True):
    """Hours a volunteer served on a day; they count only once approved by the team leader or a cadre."""

    __tablename__ = "service_record"
    __label__ = "志愿服务记录"
    __table_args__ = (
        *scope_indexes("service_record", soft_delete=True),
        *scope_indexes("service_record", "served_on", soft_delete=True),
    )

    id: int | None = Field(default=None, primary_key=True)
    volunteer_id: int = Field(foreign_key="volunteer.id", index=True)
    team_id: int = Field(foreign_key="volunteer_team.id", index=True)
    served_on: date
    hours: Decimal = Field(max_digits=4, decimal_places=1)
    target_group: TargetGroup = Field(sa_type=sa.String(32))
    activity_id: int | None = Field(default=None, foreign_key="activity.id")
    note: str | None = Field(default=None, max_length=500)
    status: ServiceRecordStatus = Field(
        default=ServiceRecordStatus.pending, sa_type=sa.String(32), index=True
    )
    reported_by: str | None = Field(default=None, max_length=64)
    reported_by_name: str | None = Field(default=None, max_length=100)
    decided_by: str | None = Field(default=None, max_length=64)
    decided_by_name: str | None = Field(default=None, max_length=100)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reject_reason: str | None = Field(default=None, max_length=500)
