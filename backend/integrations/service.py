"""The outbox and webhook subscriptions: events written with the change, fanned out to deliveries. No HTTP.

`record_event(session, type, branch_id, data)` is the one call a service makes where a change happens: it writes
the event, one delivery per matching subscription, and defers their delivery task, all in the caller's
transaction, so an event exists exactly when its change commits.
"""

import base64
import secrets
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from backend.branches.models import Branch
from backend.core import queue
from backend.core.db import utcnow
from backend.core.errors import Forbidden, ValidationFailed
from backend.core.paging import Column, ListParams
from backend.core.scope import ANCESTOR_COLUMNS, Principal, get_scoped, scoped, subtree_filter
from backend.core.security import decrypt_field, encrypt_field
from backend.integrations.models import DeliveryStatus, Event, WebhookDelivery, WebhookSubscription
from backend.integrations.schemas import (
    EventPublic,
    WebhookDeliveryPublic,
    WebhookSubscriptionCreate,
    WebhookSubscriptionPublic,
    WebhookSubscriptionUpdate,
)

# type → the permission needed to receive it (labels: the `event_type` dictionary)
EVENT_TYPES: dict[str, str] = {
    "screening.abnormal": "followups:read",
    "followup.overdue": "followups:read",
    "followup.closed": "followups:read",
    "aid.submitted": "aid:read",
    "aid.verified": "aid:read",
    "aid.approved": "aid:read",
    "aid.paid": "aid:read",
    "aid.rejected": "aid:read",
    "ticket.created": "tickets:read",
    "ticket.referred": "tickets:read",
    "ticket.escalated": "tickets:read",
    "ticket.resolved": "tickets:read",
    "ticket.closed": "tickets:read",
    "activity.verified": "activities:read",
    "job.finished": "jobs:read",
    "pairing.overdue": "pairings:read",
}
DELIVER_TASK = "webhooks.deliver"
SECRET_OVERLAP = timedelta(hours=24)
# Past this age a delivery that still fails is given up (the spec asks for at least a day of retries).
RETRY_FOR = timedelta(hours=24)


def record_event(session: Session, type: str, branch_id: int, data: dict[str, Any]) -> Event:
    """Write an event (ids and masked values only) and its deliveries in the caller's transaction."""
    if type not in EVENT_TYPES:
        raise KeyError(f"unknown event type {type}")
    branch = session.get(Branch, branch_id)
    event = Event(type=type, data=data)
    event.place_in(branch)
    session.add(event)
    session.flush()
    ancestors = [getattr(branch, a) for a in ANCESTOR_COLUMNS if getattr(branch, a) is not None]
    subscriptions = session.execute(
        select(WebhookSubscription.id, WebhookSubscription.events).where(
            WebhookSubscription.branch_id.in_(ancestors),
            WebhookSubscription.is_active.is_(True),
            WebhookSubscription.deleted_at.is_(None),
        )
    ).all()
    targets = [sub_id for sub_id, events in subscriptions if type in (events or ())]
    if targets:
        now = utcnow()
        session.execute(
            sa.insert(WebhookDelivery),
            [
                {
                    "subscription_id": sub_id,
                    "event_id": event.id,
                    "status": DeliveryStatus.pending,
                    "attempts": 0,
                    "next_attempt_at": now,
                    "created_at": now,
                }
                for sub_id in targets
            ],
        )
        # One delivery run per subscription and transaction is enough: it delivers everything due.
        deferred = session.info.setdefault("webhook_runs_deferred", set())
        for sub_id in targets:
            if sub_id not in deferred:
                defer_delivery(session, sub_id)
                deferred.add(sub_id)
    return event


def defer_delivery(
    session: Session, subscription_id: int, run_at: datetime | None = None, *, lock: str = ""
) -> None:
    """Queue the subscription's delivery run; at most one waits per `lock` (a retry waits apart from new work)."""
    queue.defer(
        session,
        DELIVER_TASK,
        run_at=run_at,
        queueing_lock=f"{DELIVER_TASK}:{subscription_id}{lock}",
        subscription_id=subscription_id,
    )


def readable_types(principal: Principal) -> list[str]:
    return [t for t, permission in EVENT_TYPES.items() if principal.can(permission)]


# On PostgreSQL ids are taken before commit, so a slower transaction can commit a smaller id after a poller
# moved past it; the poll shows events once they are this old, longer than any transaction that writes events.
# SQLite has one writer at a time: its ids commit in order.
POLL_SETTLE = timedelta(seconds=5)


def event_to_public(event: Event) -> EventPublic:
    return EventPublic.model_validate(event)


def list_events(
    session: Session, principal: Principal, *, after: int, types: list[str] | None, limit: int
) -> list[Event]:
    allowed = readable_types(principal)
    wanted = [t for t in (types or allowed) if t in allowed]
    stmt = scoped(select(Event), principal).where(Event.id > after, Event.type.in_(wanted))
    if session.get_bind().dialect.name == "postgresql" and POLL_SETTLE:
        stmt = stmt.where(Event.occurred_at <= utcnow() - POLL_SETTLE)
    return list(session.exec(stmt.order_by(Event.id).limit(limit)).all())


# ---------------------------------------------------------------- subscriptions


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def _check_events(principal: Principal, events: list[str]) -> list[str]:
    unknown = [e for e in events if e not in EVENT_TYPES]
    if unknown:
        raise ValidationFailed("events", f"未知的事件类型:{'、'.join(unknown)}")
    denied = [e for e in events if not principal.can(EVENT_TYPES[e])]
    if denied:
        raise ValidationFailed("events", f"无权接收这些事件:{'、'.join(denied)}")
    return list(dict.fromkeys(events))


def create_subscription(
    session: Session, principal: Principal, data: WebhookSubscriptionCreate
) -> WebhookSubscriptionPublic:
    branch = get_scoped(session, Branch, data.branch_id or principal.branch_id, principal)
    secret = new_secret()
    sub = WebhookSubscription(
        url=str(data.url),
        events=_check_events(principal, data.events),
        description=data.description,
        secret=encrypt_field(secret),
        created_by=principal.subject,
        client_id=principal.id if principal.kind == "client" else None,
    )
    sub.place_in(branch)
    session.add(sub)
    session.flush()
    return to_public(session, sub, secret=secret)


def update_subscription(
    session: Session, principal: Principal, sub_id: int, data: WebhookSubscriptionUpdate
) -> WebhookSubscriptionPublic:
    sub = get_scoped(session, WebhookSubscription, sub_id, principal, for_update=True)
    changes = data.model_dump(exclude_unset=True, exclude={"rotate_secret"})
    if "events" in changes:
        changes["events"] = _check_events(principal, changes["events"])
    if "url" in changes:
        changes["url"] = str(changes["url"])
    for key, value in changes.items():
        if value is not None:
            setattr(sub, key, value)
    secret = None
    if data.rotate_secret:
        secret = new_secret()
        sub.previous_secret, sub.secret = sub.secret, encrypt_field(secret)
        sub.previous_secret_expires_at = utcnow() + SECRET_OVERLAP
    sub.updated_at = utcnow()
    session.flush()
    if sub.is_active and ("url" in changes or changes.get("is_active")):
        # A fixed address or a subscription switched back on is tried now, not at the end of its backoff.
        session.execute(
            sa.update(WebhookDelivery)
            .where(
                WebhookDelivery.subscription_id == sub.id, WebhookDelivery.status == DeliveryStatus.pending
            )
            .values(next_attempt_at=utcnow())
        )
        defer_delivery(session, sub.id, lock=":now")
    return to_public(session, sub, secret=secret)


def delete_subscription(session: Session, principal: Principal, sub_id: int) -> None:
    sub = get_scoped(session, WebhookSubscription, sub_id, principal, for_update=True)
    sub.soft_delete()
    sub.updated_at = sub.deleted_at
    sub.is_active = False
    session.execute(
        sa.update(WebhookDelivery)
        .where(WebhookDelivery.subscription_id == sub.id, WebhookDelivery.status == DeliveryStatus.pending)
        .values(status=DeliveryStatus.failed, next_attempt_at=None, last_error="订阅已删除")
    )
    session.flush()


def to_public(
    session: Session, sub: WebhookSubscription, *, secret: str | None = None
) -> WebhookSubscriptionPublic:
    counts = dict(
        session.execute(
            select(WebhookDelivery.status, sa.func.count())
            .where(
                WebhookDelivery.subscription_id == sub.id, WebhookDelivery.status != DeliveryStatus.delivered
            )
            .group_by(WebhookDelivery.status)
        ).all()
    )
    return WebhookSubscriptionPublic(
        id=sub.id,
        url=sub.url,
        events=sub.events,
        branch_id=sub.branch_id,
        description=sub.description,
        is_active=sub.is_active,
        created_at=sub.created_at,
        updated_at=sub.updated_at,
        previous_secret_expires_at=sub.previous_secret_expires_at,
        pending=counts.get(DeliveryStatus.pending, 0),
        failed=counts.get(DeliveryStatus.failed, 0),
        secret=secret,
    )


def signing_secrets(sub: WebhookSubscription, now: datetime) -> list[str]:
    """The current secret, and the previous one while its 24 hours of overlap last (the spec allows several)."""
    keys = [decrypt_field(sub.secret)]
    if sub.previous_secret and sub.previous_secret_expires_at and sub.previous_secret_expires_at > now:
        keys.append(decrypt_field(sub.previous_secret))
    return keys


# ---------------------------------------------------------------- delivery log and replay


SUBSCRIPTION_COLUMNS = [
    Column("url", "地址"),
    Column("events", "事件"),
    Column("is_active", "启用"),
    Column("pending", "待投递"),
    Column("failed", "已放弃"),
]
DELIVERY_COLUMNS = [
    Column("event_id", "事件"),
    Column("event_type", "类型"),
    Column("status", "状态"),
    Column("attempts", "次数"),
    Column("last_status_code", "状态码"),
    Column("next_attempt_at", "下次重试"),
]


def list_subscriptions(session: Session, principal: Principal, page: ListParams) -> Any:
    return page.respond(
        session,
        scoped(select(WebhookSubscription), principal),
        lambda sub: to_public(session, sub),
        sortable={"created_at": WebhookSubscription.created_at, "id": WebhookSubscription.id},
        search=[WebhookSubscription.url, WebhookSubscription.description],
        columns=SUBSCRIPTION_COLUMNS,
        filename="webhook-subscriptions",
    )


def _deliveries(session: Session, principal: Principal, sub_id: int) -> Any:
    sub = get_scoped(session, WebhookSubscription, sub_id, principal)
    return (
        select(
            WebhookDelivery.id,
            WebhookDelivery.subscription_id,
            WebhookDelivery.event_id,
            Event.type.label("event_type"),
            WebhookDelivery.status,
            WebhookDelivery.attempts,
            WebhookDelivery.last_status_code,
            WebhookDelivery.last_duration_ms,
            WebhookDelivery.last_error,
            WebhookDelivery.next_attempt_at,
            WebhookDelivery.created_at,
            WebhookDelivery.delivered_at,
        )
        .join(Event, Event.id == WebhookDelivery.event_id)
        .where(WebhookDelivery.subscription_id == sub.id)
    )


def _delivery_from_row(row: Any) -> WebhookDeliveryPublic:
    return WebhookDeliveryPublic.model_validate(row, from_attributes=True)


def delivery_to_public(
    session: Session, principal: Principal, delivery: WebhookDelivery
) -> WebhookDeliveryPublic:
    """A delivery as its log shows it, with its event's type."""
    row = session.execute(
        _deliveries(session, principal, delivery.subscription_id).where(WebhookDelivery.id == delivery.id)
    ).one()
    return _delivery_from_row(row)


def list_deliveries(
    session: Session,
    principal: Principal,
    page: ListParams,
    *,
    subscription_id: int,
    status: str | None = None,
) -> Any:
    """The delivery log of one subscription: event, attempts, last status code and duration, next try."""
    stmt = _deliveries(session, principal, subscription_id)
    if status:
        stmt = stmt.where(WebhookDelivery.status == status)
    return page.respond(
        session,
        stmt,
        _delivery_from_row,
        scalars=False,
        default_sort="-id",
        sortable={"id": WebhookDelivery.id, "created_at": WebhookDelivery.created_at},
        columns=DELIVERY_COLUMNS,
        filename="webhook-deliveries",
    )


def replay_delivery(session: Session, principal: Principal, delivery_id: int) -> WebhookDelivery:
    """Send a delivery's event again, as a new delivery with the same webhook-id (receivers dedupe on it)."""
    original = session.get(WebhookDelivery, delivery_id)
    if original is None:
        from backend.core.errors import NotFound

        raise NotFound("投递记录不存在或无权查看")
    sub = get_scoped(session, WebhookSubscription, original.subscription_id, principal)
    _require_active(sub)
    again = WebhookDelivery(subscription_id=sub.id, event_id=original.event_id)
    session.add(again)
    session.flush()
    defer_delivery(session, sub.id)
    return again


def replay_since(session: Session, principal: Principal, sub_id: int, since: datetime) -> int:
    sub = get_scoped(session, WebhookSubscription, sub_id, principal, for_update=True)
    _require_active(sub)
    depth = sum(1 for a in ANCESTOR_COLUMNS if getattr(sub, a) is not None)
    now = utcnow()
    events = (
        select(
            sa.literal(sub.id),
            Event.id,
            sa.literal(DeliveryStatus.pending.value),
            sa.literal(0),
            sa.literal(now, type_=WebhookDelivery.__table__.c.next_attempt_at.type),
            sa.literal(now, type_=WebhookDelivery.__table__.c.created_at.type),
        )
        .where(
            subtree_filter(Event, sub.branch_id, depth),
            Event.type.in_(sub.events),
            Event.occurred_at >= since,
        )
        .order_by(Event.id)
    )
    table = WebhookDelivery.__table__
    queued = session.execute(
        table.insert()
        .from_select(
            ["subscription_id", "event_id", "status", "attempts", "next_attempt_at", "created_at"], events
        )
        .returning(table.c.id)
    ).all()
    defer_delivery(session, sub.id)
    return len(queued)


def _require_active(sub: WebhookSubscription) -> None:
    if not sub.is_active:
        raise Forbidden("订阅已停用,请先启用")


@sa.event.listens_for(Session, "after_transaction_end")
def _forget_deferred_runs(session, transaction) -> None:
    # A savepoint rolled back may have taken its deferral with it: defer again rather than trust the note.
    session.info.pop("webhook_runs_deferred", None)


# The delivery task is registered wherever events can be written (it imports the names above).
from backend.integrations import tasks as _tasks  # noqa: E402, F401, I001
