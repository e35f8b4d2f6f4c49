"""Imports every table so `SQLModel.metadata` is complete (Alembic, tests, the app)."""

from backend.activities.models import Activity, ActivityPhoto, ActivitySignIn  # noqa: F401
from backend.auth.models import ApiClient, RefreshToken, RevokedToken, User
from backend.branches.models import Branch
from backend.children.models import Child, ChildrenHome, Pairing, Visit  # noqa: F401  (and the rest)
from backend.core.audit_models import AuditLog
from backend.core.idempotency_models import IdempotencyKey
from backend.core.queue_models import TaskRun  # noqa: F401
from backend.integrations.models import Event, WebhookDelivery, WebhookSubscription  # noqa: F401
from backend.jobs.models import Job  # noqa: F401
from backend.members.models import Member, MemberPosition, MemberRecommendation, MemberTraining  # noqa: F401
from backend.screenings.models import AidApplication, FollowUp, ScreeningRecord, Woman  # noqa: F401  (and the rest)
from backend.tickets.models import CalendarDay, Ticket, TicketCounter, TicketEvent, TicketSla  # noqa: F401
from backend.volunteers.models import ServiceRecord, Volunteer, VolunteerTeam  # noqa: F401

__all__ = ["ApiClient", "AuditLog", "Branch", "IdempotencyKey", "RefreshToken", "RevokedToken", "User"]
