"""12338 hotline tickets, their append-only timeline, the per-year number counter and the SLA settings."""

from datetime import date, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import JSON, Field, SQLModel

from backend.core.db import UTCDateTime, utcnow
from backend.core.scope import BranchScoped, Principal, Timestamped, scope_indexes


class Channel(StrEnum):
    phone = "phone"
    walk_in = "walk_in"
    letter = "letter"
    online = "online"
    referred_in = "referred_in"


class Category(StrEnum):
    marriage_family = "marriage_family"
    domestic_violence = "domestic_violence"
    personal_rights = "personal_rights"
    property_land = "property_land"
    labour_social_security = "labour_social_security"
    children = "children"
    consultation = "consultation"
    other = "other"


class Urgency(StrEnum):
    normal = "normal"
    urgent = "urgent"
    critical = "critical"


class Status(StrEnum):
    new = "new"
    assigned = "assigned"
    in_progress = "in_progress"
    referred = "referred"
    resolved = "resolved"
    closed = "closed"


OPEN_STATUSES = (Status.new, Status.assigned, Status.in_progress, Status.referred)


class Action(StrEnum):
    assign = "assign"
    accept = "accept"
    refer = "refer"
    referral_answer = "referral_answer"
    note = "note"
    mediation = "mediation"
    counselling = "counselling"
    reply = "reply"
    resolve = "resolve"
    callback = "callback"
    close = "close"
    reopen = "reopen"
    escalate = "escalate"
    link = "link"


EventKind = StrEnum(
    "EventKind",
    [("create", "create"), *((a.name, a.value) for a in Action), ("sla_escalate", "sla_escalate")],
)
EventKind.__doc__ = (
    "What a timeline entry records: every action, plus the intake and the sweep's escalations."
)


class ReferralTarget(StrEnum):
    police = "police"
    court = "court"
    procuratorate = "procuratorate"
    justice_bureau = "justice_bureau"
    legal_aid = "legal_aid"
    labour_bureau = "labour_bureau"
    civil_affairs = "civil_affairs"
    health = "health"
    other = "other"


class ReplyMethod(StrEnum):
    phone = "phone"
    in_person = "in_person"
    letter = "letter"
    sms = "sms"
    other = "other"


class Satisfaction(StrEnum):
    satisfied = "satisfied"
    basically = "basically"
    unsatisfied = "unsatisfied"


class SlaUnit(StrEnum):
    hours = "hours"
    working_days = "working_days"


class DayKind(StrEnum):
    holiday = "holiday"
    workday = "workday"


class Ticket(BranchScoped, Timestamped, table=True):
    """One call or visit to 12338. `branch_id` (with a1..a8) is the owning branch; `location_branch_id` where it happened."""

    __label__ = "12338 工单"
    __table_args__ = (
        *scope_indexes("ticket"),
        sa.Index("ix_ticket_phone_hash_created", "caller_phone_hash", "created_at"),
        sa.Index("ix_ticket_status_due", "status", "resolution_due_at"),
    )
    __audit_exclude__ = ("caller_name_enc", "caller_phone_enc", "caller_phone_hash")
    __encrypted_fields__ = {
        "caller_name_enc": None,
        "caller_phone_enc": ("caller_phone_hash", "ticket-caller-phone"),
    }

    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(max_length=20, unique=True)
    channel: Channel = Field(sa_type=sa.String(32))
    caller_name_enc: str | None = Field(default=None, max_length=200)
    caller_name_masked: str | None = Field(default=None, max_length=50)
    caller_phone_enc: str | None = Field(default=None, max_length=200)
    caller_phone_masked: str | None = Field(default=None, max_length=20)
    caller_phone_hash: str | None = Field(default=None, max_length=64)
    location_branch_id: int = Field(foreign_key="branch.id", index=True)
    category: Category = Field(sa_type=sa.String(32), index=True)
    urgency: Urgency = Field(sa_type=sa.String(32))
    summary: str = Field(max_length=200)
    description: str = Field(default="", sa_type=sa.Text)
    sealed: bool = Field(default=False)
    status: Status = Field(default=Status.new, sa_type=sa.String(32))
    version: int = Field(default=1)
    first_responder_id: int = Field(foreign_key="user.id", index=True)
    assignee_id: int | None = Field(default=None, foreign_key="user.id", index=True)
    linked_to_id: int | None = Field(default=None, foreign_key="ticket.id")
    # A child's rights issue found on a visit opens a ticket linked to the child.
    child_id: int | None = Field(default=None, foreign_key="child.id", index=True)
    escalation_level: int = Field(default=0)
    first_response_due_at: datetime = Field(sa_type=UTCDateTime)
    resolution_due_at: datetime = Field(sa_type=UTCDateTime)
    first_responded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    replied_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    resolved_on_time: bool | None = Field(default=None)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reopened_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    callback_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    callback_reached: bool | None = Field(default=None)
    satisfaction: Satisfaction | None = Field(default=None, sa_type=sa.String(32))
    # Which breaches the SLA sweep already escalated, so a second run changes nothing.
    first_response_escalated: bool = Field(default=False)
    resolution_escalated: bool = Field(default=False)

    @classmethod
    def __visibility__(cls, stmt: Any, principal: Principal) -> Any:
        """Row rules on top of the subtree: village reps see cases assigned to them (or that they took); sealed
        cases only their handlers (first responder, assignee, anyone who wrote on the timeline) and county admins."""
        # Figures count every ticket of the subtree: counts reveal no case (see service.ticket_stats).
        if stmt.get_execution_options().get("ticket_figures"):
            return stmt
        if principal.role == "village_rep":
            stmt = stmt.where(sa.or_(cls.assignee_id == principal.id, cls.first_responder_id == principal.id))
        if principal.role != "county_admin":
            acted = (
                sa.select(TicketEvent.id)
                .where(TicketEvent.ticket_id == cls.id, TicketEvent.author_id == principal.id)
                .exists()
            )
            handler = sa.or_(cls.first_responder_id == principal.id, cls.assignee_id == principal.id, acted)
            if principal.kind != "user":
                handler = sa.false()
            stmt = stmt.where(sa.or_(cls.sealed.is_(False), handler))
        return stmt


class TicketEvent(SQLModel, table=True):
    """One line of a ticket's timeline. Append-only: nothing here is ever updated or deleted."""

    __tablename__ = "ticket_event"
    __label__ = "工单记录"
    __table_args__ = (
        sa.Index("ix_ticket_event_ticket_at", "ticket_id", "at"),
        sa.Index("ix_ticket_event_author_ticket", "author_id", "ticket_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id")
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    kind: EventKind = Field(sa_type=sa.String(32))
    author_id: int | None = Field(default=None, foreign_key="user.id")
    author_name: str = Field(max_length=100)
    text: str = Field(default="", sa_type=sa.Text)
    from_status: str | None = Field(default=None, max_length=32)
    to_status: str | None = Field(default=None, max_length=32)
    referral_to: ReferralTarget | None = Field(default=None, sa_type=sa.String(32), index=True)
    data: dict[str, Any] | None = Field(default=None, sa_type=JSON)


class TicketCounter(SQLModel, table=True):
    """The last number handed out per year; bumped inside the intake transaction so numbers never repeat."""

    __tablename__ = "ticket_counter"
    __audit__ = False

    year: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    last: int = Field(default=0)


class TicketSla(SQLModel, table=True):
    """Deadlines per urgency, edited by a county admin; tickets keep the deadlines they were given at intake."""

    __tablename__ = "ticket_sla"
    __label__ = "12338 时限设置"

    urgency: str = Field(primary_key=True, max_length=32)
    first_response_amount: int
    first_response_unit: SlaUnit = Field(sa_type=sa.String(32))
    resolution_amount: int
    resolution_unit: SlaUnit = Field(sa_type=sa.String(32))
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_by: str | None = Field(default=None, max_length=100)


class CalendarDay(SQLModel, table=True):
    """A county admin's local change to the State Council calendar: an extra holiday or an extra working day."""

    __tablename__ = "ticket_calendar_day"
    __label__ = "工作日历调整"

    day: date = Field(primary_key=True)
    kind: DayKind = Field(sa_type=sa.String(32))
    note: str = Field(default="", max_length=200)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_by: str | None = Field(default=None, max_length=100)
