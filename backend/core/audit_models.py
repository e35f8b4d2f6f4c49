"""The audit trail's table; the `audit` domain serves it, the core writes it (backend.core.audit)."""

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import JSON, Field

from backend.core.db import UTCDateTime, utcnow
from backend.core.scope import ANCESTOR_COLUMNS, Ancestors


class AuditLog(Ancestors, table=True):
    """Append-only: who did what, when, to which record, with the values before and after."""

    __label__ = "审计记录"
    __tablename__ = "audit_log"
    __table_args__ = tuple(sa.Index(f"ix_audit_log_{a}_at", a, "at") for a in ANCESTOR_COLUMNS)
    # Failed logins for unknown usernames belong to no branch; root-level admins see them.
    __include_unplaced__ = True

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    actor: str | None = Field(default=None, max_length=64, index=True)
    actor_name: str | None = Field(default=None, max_length=100)
    action: str = Field(max_length=32, index=True)
    entity: str | None = Field(default=None, max_length=64, index=True)
    entity_id: str | None = Field(default=None, max_length=64)
    field: str | None = Field(default=None, max_length=64)
    before: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    after: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    ip: str | None = Field(default=None, max_length=64)
    branch_id: int | None = Field(default=None, index=True)
