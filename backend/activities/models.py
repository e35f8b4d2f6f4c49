from datetime import datetime
from decimal import Decimal
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import JSON, Field, SQLModel

from backend.core.db import UTCDateTime, utcnow
from backend.core.scope import BranchScoped, SoftDelete, Timestamped, scope_indexes


class ActivityType(StrEnum):
    training = "training"
    rights_publicity = "rights_publicity"
    jinguo_jiangong = "jinguo_jiangong"
    family_campaign = "family_campaign"
    family_education = "family_education"
    left_behind_children = "left_behind_children"
    health_talk = "health_talk"
    volunteer_service = "volunteer_service"
    culture_sport = "culture_sport"
    other = "other"


class ActivityStatus(StrEnum):
    planned = "planned"
    held = "held"
    verified = "verified"


class Activity(BranchScoped, SoftDelete, Timestamped, table=True):
    """What a branch did (or plans to do); branch_id is the organiser, co-organisers are named beside it."""

    __label__ = "活动"
    __table_args__ = (
        *scope_indexes("activity", soft_delete=True),
        *scope_indexes("activity", "starts_at", soft_delete=True),
        sa.Index("ix_activity_branch_id_starts_at", "branch_id", "starts_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    type: ActivityType = Field(sa_type=sa.String(32), index=True)
    title: str = Field(max_length=200)
    theme: str | None = Field(default=None, max_length=200)
    venue: str | None = Field(default=None, max_length=200)
    starts_at: datetime = Field(sa_type=UTCDateTime)
    ends_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    status: ActivityStatus = Field(default=ActivityStatus.planned, sa_type=sa.String(32), index=True)
    co_organisers: list[str] = Field(default_factory=list, sa_type=JSON)
    plan: str | None = Field(default=None, max_length=4000)
    participants: int | None = None
    households: int | None = None
    target_group: str | None = Field(default=None, max_length=100)
    funds: Decimal | None = Field(default=None, max_digits=12, decimal_places=2)
    funds_source: str | None = Field(default=None, max_length=100)
    outcome: str | None = Field(default=None, max_length=4000)
    photo_count: int = 0
    signed_in: int = Field(default=0, description="签到人数合计")
    cover_photo_id: int | None = None
    # An activity of type left_behind_children may name the children's home it was held at.
    home_id: int | None = Field(default=None, foreign_key="children_home.id", index=True)
    created_by: str | None = Field(default=None, max_length=64)
    held_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    verified_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    verified_by: str | None = Field(default=None, max_length=64)
    verified_by_name: str | None = Field(default=None, max_length=100)
    verify_note: str | None = Field(default=None, max_length=500)


class ActivityPhoto(SQLModel, table=True):
    """A photo of an activity; the file lives under media_dir by its SHA-256, shared by identical uploads."""

    __tablename__ = "activity_photo"
    __label__ = "活动照片"
    __table_args__ = (sa.UniqueConstraint("activity_id", "sha256", name="uq_activity_photo_content"),)

    id: int | None = Field(default=None, primary_key=True)
    activity_id: int = Field(foreign_key="activity.id", index=True)
    sha256: str = Field(max_length=64)
    content_type: str = Field(max_length=32)
    size: int
    width: int
    height: int
    thumb_sha256: str = Field(max_length=64)
    caption: str | None = Field(default=None, max_length=200)
    uploaded_by: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class ActivitySignIn(SQLModel, table=True):
    """One sign-in sheet: a list of names (optional phones) or just a head count."""

    __tablename__ = "activity_sign_in"
    __label__ = "签到记录"
    # Attendees' phones stay out of the audit trail.
    __audit_exclude__ = ("names",)

    id: int | None = Field(default=None, primary_key=True)
    activity_id: int = Field(foreign_key="activity.id", index=True)
    head_count: int
    names: list[dict] | None = Field(default=None, sa_type=JSON)
    created_by: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
