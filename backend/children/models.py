"""Left-behind children (留守儿童): the registry, children's homes with inspections and family calls, 爱心妈妈
pairings and their visits."""

from datetime import date, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import JSON, Field, SQLModel

from backend.core.db import UTCDateTime, utcnow
from backend.core.scope import BranchScoped, SoftDelete, Timestamped, scope_indexes

CARER_ROLE = "carer"


class Sex(StrEnum):
    male = "male"
    female = "female"


class GuardianRelation(StrEnum):
    grandparent = "grandparent"
    other_relative = "other_relative"
    family_friend = "family_friend"
    other = "other"


class WorkPlace(StrEnum):
    in_county = "in_county"
    in_province = "in_province"
    out_of_province = "out_of_province"
    abroad = "abroad"


class ChildCategory(StrEnum):
    left_behind_one_parent = "left_behind_one_parent"
    left_behind_both_parents = "left_behind_both_parents"
    hardship = "hardship"
    de_facto_unsupported = "de_facto_unsupported"
    orphan = "orphan"


class ChildStatus(StrEnum):
    active = "active"
    parents_returned = "parents_returned"
    aged_out = "aged_out"
    moved_away = "moved_away"


class HomeHost(StrEnum):
    school = "school"
    village_room = "village_room"
    community_centre = "community_centre"


class HomeLevel(StrEnum):
    city_demo = "city_demo"
    county_demo = "county_demo"
    township_demo = "township_demo"
    none = "none"


class HomeCondition(StrEnum):
    good = "good"
    needs_repair = "needs_repair"
    broken = "broken"


class CallWith(StrEnum):
    father = "father"
    mother = "mother"
    both = "both"
    other = "other"


class CarerKind(StrEnum):
    volunteer = "volunteer"
    member = "member"


class ConsentRelation(StrEnum):
    father = "father"
    mother = "mother"
    guardian = "guardian"


class PairingStatus(StrEnum):
    proposed = "proposed"
    active = "active"
    ended = "ended"


class VisitMode(StrEnum):
    home = "home"
    phone_video = "phone_video"
    school = "school"


class ChildState(StrEnum):
    good = "good"
    fair = "fair"
    poor = "poor"


def _carer_children(principal: Any) -> Any:
    """The children a carer is actively paired with: the only ones she may see."""
    return sa.select(Pairing.child_id).where(
        Pairing.carer_user_id == principal.id,
        Pairing.status == PairingStatus.active,
        Pairing.deleted_at.is_(None),
    )


class Child(BranchScoped, Timestamped, SoftDelete, table=True):
    """A child on the village's list (摸底, 档案); one row per resident ID number in the whole installation."""

    __label__ = "儿童"
    __table_args__ = (
        *scope_indexes("child", soft_delete=True),
        sa.Index("ix_child_status_birth_date", "status", "birth_date"),
    )
    __audit_exclude__ = (
        "id_number_enc",
        "id_number_hash",
        "guardian_phone_enc",
        "father_phone_enc",
        "mother_phone_enc",
    )
    # Encrypted column -> (its blind index column, the index's purpose): re-keyed by `halfsky rotate-pii-key`.
    __encrypted_fields__ = {
        "id_number_enc": ("id_number_hash", "child_id_number"),
        "guardian_phone_enc": None,
        "father_phone_enc": None,
        "mother_phone_enc": None,
    }

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=50)
    sex: Sex = Field(sa_type=sa.String(16))
    id_number_enc: str = Field(max_length=255)
    id_number_hash: str = Field(max_length=64, unique=True)
    id_number_masked: str = Field(max_length=18)
    birth_date: date
    school: str | None = Field(default=None, max_length=100, index=True)
    grade: str | None = Field(default=None, max_length=20)
    guardian_relation: GuardianRelation | None = Field(default=None, sa_type=sa.String(32))
    guardian_name: str | None = Field(default=None, max_length=50)
    guardian_phone_enc: str | None = Field(default=None, max_length=255)
    guardian_phone_masked: str | None = Field(default=None, max_length=20)
    father_work_place: WorkPlace | None = Field(default=None, sa_type=sa.String(32))
    father_city: str | None = Field(default=None, max_length=50)
    father_phone_enc: str | None = Field(default=None, max_length=255)
    father_phone_masked: str | None = Field(default=None, max_length=20)
    mother_work_place: WorkPlace | None = Field(default=None, sa_type=sa.String(32))
    mother_city: str | None = Field(default=None, max_length=50)
    mother_phone_enc: str | None = Field(default=None, max_length=255)
    mother_phone_masked: str | None = Field(default=None, max_length=20)
    category: ChildCategory = Field(sa_type=sa.String(32), index=True)
    disability: bool = False
    serious_illness: bool = False
    out_of_school: bool = False
    status: ChildStatus = Field(default=ChildStatus.active, sa_type=sa.String(32), index=True)
    status_changed_on: date | None = None
    note: str | None = Field(default=None, max_length=1000)
    created_by: str | None = Field(default=None, max_length=64)

    @classmethod
    def __visibility__(cls, stmt: Any, principal: Any) -> Any:
        if principal.role == CARER_ROLE:
            stmt = stmt.where(cls.id.in_(_carer_children(principal)))
        return stmt


class ChildrenHome(BranchScoped, Timestamped, SoftDelete, table=True):
    """A children's home (儿童之家 / 留守儿童之家): where it is hosted, who runs it, what it has, what state it is in."""

    __label__ = "儿童之家"
    __tablename__ = "children_home"
    __table_args__ = (*scope_indexes("children_home", soft_delete=True),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100)
    host: HomeHost = Field(sa_type=sa.String(32))
    school_name: str | None = Field(default=None, max_length=100)
    level: HomeLevel = Field(default=HomeLevel.none, sa_type=sa.String(32))
    opening_hours: str | None = Field(default=None, max_length=200)
    manager_member_id: int | None = Field(default=None, foreign_key="member.id", index=True)
    supervisor_member_id: int | None = Field(default=None, foreign_key="member.id", index=True)
    books_count: int = 0
    has_tv: bool = False
    has_phone: bool = False
    has_computer: bool = False
    has_video_call: bool = False
    desks: int = 0
    condition: HomeCondition = Field(default=HomeCondition.good, sa_type=sa.String(32), index=True)
    last_inspected_on: date | None = None
    note: str | None = Field(default=None, max_length=1000)

    @classmethod
    def __visibility__(cls, stmt: Any, principal: Any) -> Any:
        # A carer's view is her children only; the homes' registry is the branches'.
        if principal.role == CARER_ROLE:
            stmt = stmt.where(sa.false())
        return stmt


class HomeInspection(SQLModel, table=True):
    """One inspection (督查) of a home; its condition becomes the home's."""

    __label__ = "儿童之家督查"
    __tablename__ = "home_inspection"
    __table_args__ = (sa.Index("ix_home_inspection_home_on", "home_id", "inspected_on"),)

    id: int | None = Field(default=None, primary_key=True)
    home_id: int = Field(foreign_key="children_home.id")
    inspected_on: date
    inspector_name: str = Field(max_length=100)
    inspector_user_id: int | None = Field(default=None, foreign_key="user.id")
    findings: str | None = Field(default=None, max_length=2000)
    condition: HomeCondition = Field(sa_type=sa.String(32))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class FamilyCallSession(BranchScoped, table=True):
    """A family call or video (亲情电话, 视频) held at a home; placed in the home's branch so figures count it by subtree."""

    __label__ = "亲情通话"
    __tablename__ = "family_call_session"
    __table_args__ = (
        *scope_indexes("family_call_session", "held_on"),
        sa.Index("ix_family_call_session_home_on", "home_id", "held_on"),
    )

    id: int | None = Field(default=None, primary_key=True)
    home_id: int = Field(foreign_key="children_home.id")
    child_id: int = Field(foreign_key="child.id", index=True)
    held_on: date
    minutes: int
    with_whom: CallWith = Field(sa_type=sa.String(16))
    note: str | None = Field(default=None, max_length=500)
    created_by: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class Pairing(BranchScoped, Timestamped, SoftDelete, table=True):
    """结对帮扶: a carer (a volunteer or a member) paired with a child, made with the parents' or guardian's consent."""

    __label__ = "结对"
    __table_args__ = (
        *scope_indexes("pairing", soft_delete=True),
        sa.Index("ix_pairing_status_due", "status", "next_visit_due_on"),
        # At most one active pairing per child, kept by the database whatever the service does.
        sa.Index(
            "uq_pairing_active_child",
            "child_id",
            unique=True,
            sqlite_where=sa.text("status = 'active'"),
            postgresql_where=sa.text("status = 'active'"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    child_id: int = Field(foreign_key="child.id", index=True)
    carer_kind: CarerKind = Field(sa_type=sa.String(16))
    volunteer_id: int | None = Field(default=None, foreign_key="volunteer.id", index=True)
    member_id: int | None = Field(default=None, foreign_key="member.id", index=True)
    carer_user_id: int | None = Field(default=None, foreign_key="user.id", index=True)
    carer_name: str = Field(max_length=50)
    consent_on: date
    consent_by_name: str = Field(max_length=50)
    consent_by_relation: ConsentRelation = Field(sa_type=sa.String(16))
    starts_on: date
    planned_end_on: date | None = None
    ended_on: date | None = None
    end_reason: str | None = Field(default=None, max_length=500)
    visit_every_days: int = 30
    status: PairingStatus = Field(default=PairingStatus.proposed, sa_type=sa.String(16), index=True)
    version: int = 1
    last_visit_on: date | None = None
    next_visit_due_on: date | None = None
    overdue_flagged_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_by: str | None = Field(default=None, max_length=64)

    @classmethod
    def __visibility__(cls, stmt: Any, principal: Any) -> Any:
        if principal.role == CARER_ROLE:
            stmt = stmt.where(cls.carer_user_id == principal.id)
        return stmt


class PairingEvent(SQLModel, table=True):
    """Each step of a pairing (proposed, activated, visited, overdue, ended), dated and signed."""

    __label__ = "结对记录"
    __tablename__ = "pairing_event"
    __audit__ = False  # the pairing's own audit entries already carry the change

    id: int | None = Field(default=None, primary_key=True)
    pairing_id: int = Field(foreign_key="pairing.id", index=True)
    action: str = Field(max_length=32)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    actor: str | None = Field(default=None, max_length=64)
    actor_name: str | None = Field(default=None, max_length=100)
    note: str | None = Field(default=None, max_length=1000)
    data: dict[str, Any] | None = Field(default=None, sa_type=JSON)


class Visit(BranchScoped, Timestamped, table=True):
    """A carer's visit to a paired child; placed in the child's branch."""

    __label__ = "走访"
    __table_args__ = (
        *scope_indexes("visit", "visited_on"),
        sa.Index("ix_visit_pairing_on", "pairing_id", "visited_on"),
    )

    id: int | None = Field(default=None, primary_key=True)
    pairing_id: int = Field(foreign_key="pairing.id")
    child_id: int = Field(foreign_key="child.id", index=True)
    visited_on: date
    mode: VisitMode = Field(sa_type=sa.String(16))
    done: str | None = Field(default=None, max_length=2000)
    study: ChildState | None = Field(default=None, sa_type=sa.String(16))
    health: ChildState | None = Field(default=None, sa_type=sa.String(16))
    mood: ChildState | None = Field(default=None, sa_type=sa.String(16))
    problems: str | None = Field(default=None, max_length=2000)
    rights_issue: bool = False
    ticket_id: int | None = Field(default=None, foreign_key="ticket.id", index=True)
    photo_count: int = 0
    created_by: str | None = Field(default=None, max_length=64)
    created_by_name: str | None = Field(default=None, max_length=100)

    @classmethod
    def __visibility__(cls, stmt: Any, principal: Any) -> Any:
        if principal.role == CARER_ROLE:
            stmt = stmt.where(
                cls.pairing_id.in_(
                    sa.select(Pairing.id).where(
                        Pairing.carer_user_id == principal.id, Pairing.deleted_at.is_(None)
                    )
                )
            )
        return stmt


class VisitPhoto(SQLModel, table=True):
    """A photo of a visit; the file lives in the media store by its SHA-256, as activity photos do."""

    __label__ = "走访照片"
    __tablename__ = "visit_photo"
    __table_args__ = (sa.UniqueConstraint("visit_id", "sha256", name="uq_visit_photo_content"),)

    id: int | None = Field(default=None, primary_key=True)
    visit_id: int = Field(foreign_key="visit.id", index=True)
    sha256: str = Field(max_length=64)
    content_type: str = Field(max_length=32)
    size: int
    width: int
    height: int
    thumb_sha256: str = Field(max_length=64)
    caption: str | None = Field(default=None, max_length=200)
    uploaded_by: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
