from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import JSON, Field, SQLModel

from backend.core.db import UTCDateTime, utcnow
from backend.core.scope import BranchScoped, SoftDelete, Timestamped, scope_indexes


class Event(BranchScoped, table=True):
    """A domain event in the outbox, written in the transaction of the change it reports; `id` is the cursor."""

    __label__ = "事件"
    __table_args__ = (*scope_indexes("event", "id"), sa.Index("ix_event_type_id", "type", "id"))
    __audit_exclude__ = ("data",)

    id: int | None = Field(default=None, primary_key=True)
    type: str = Field(max_length=40)
    occurred_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # Ids and masked values only: a receiver reads details through the API with its own permissions.
    data: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)


class WebhookSubscription(BranchScoped, SoftDelete, Timestamped, table=True):
    """Where a bureau wants events of a subtree sent, signed per the Standard Webhooks spec."""

    __tablename__ = "webhook_subscription"
    __label__ = "事件订阅"
    __table_args__ = scope_indexes("webhook_subscription", soft_delete=True)
    __audit_exclude__ = ("secret", "previous_secret", "lease_until", "lease_owner")
    __encrypted_fields__ = {"secret": None, "previous_secret": None}

    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(max_length=500)
    events: list[str] = Field(default_factory=list, sa_type=JSON)
    description: str | None = Field(default=None, max_length=200)
    is_active: bool = True
    # Both encrypted at rest; the previous secret still signs until `previous_secret_expires_at`.
    secret: str = Field(max_length=500)
    previous_secret: str | None = Field(default=None, max_length=500)
    previous_secret_expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_by: str = Field(max_length=64)
    # A machine client's own subscription: only that client (or a county admin) manages it.
    client_id: int | None = Field(default=None, foreign_key="api_client.id")
    # One delivery loop per subscription at a time, in order; a dead worker's lease runs out.
    lease_owner: str | None = Field(default=None, max_length=64)
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)

    @classmethod
    def __visibility__(cls, stmt: Any, principal: Any) -> Any:
        """A machine client sees only the subscriptions it made; a county admin all of her subtree's."""
        if principal.kind == "client":
            return stmt.where(cls.client_id == principal.id)
        return stmt


class DeliveryStatus(StrEnum):
    pending = "pending"
    delivered = "delivered"
    failed = "failed"


class WebhookDelivery(SQLModel, table=True):
    """One event to one subscription: attempts until the receiver answers 2xx, or 24 hours have passed."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (
        sa.Index("ix_webhook_delivery_due", "subscription_id", "status", "event_id"),
        sa.Index("ix_webhook_delivery_log", "subscription_id", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    subscription_id: int = Field(foreign_key="webhook_subscription.id")
    event_id: int = Field(foreign_key="event.id", index=True)
    status: DeliveryStatus = Field(default=DeliveryStatus.pending, sa_type=sa.String(16))
    attempts: int = 0
    next_attempt_at: datetime | None = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_status_code: int | None = None
    last_duration_ms: int | None = None
    last_error: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    delivered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
