"""Webhook delivery: tasks only, so a slow or dead receiver never slows a request.

One loop per subscription at a time (a lease on the subscription row, renewed as it goes; a killed worker's lease
runs out), taking its pending deliveries in event order. A failure stops the loop there, so later events wait
behind it (in order), and the retry is deferred with exponential backoff. A delivery is marked only after the
receiver answered, so a worker killed mid-send sends it again: at least once, with the same `webhook-id`.
"""

import json
import logging
import os
import time
import uuid
from datetime import timedelta

import httpx
import sqlalchemy as sa
from sqlmodel import select
from standardwebhooks.webhooks import Webhook

from backend.core.db import Database, utcnow
from backend.core.queue import task
from backend.integrations.models import DeliveryStatus, Event, WebhookDelivery, WebhookSubscription
from backend.integrations.service import DELIVER_TASK, RETRY_FOR, defer_delivery, signing_secrets

log = logging.getLogger("halfsky.webhooks")

TIMEOUT = httpx.Timeout(float(os.environ.get("HALFSKY_WEBHOOK_TIMEOUT_SECONDS", 5)), connect=3.0)
LEASE = timedelta(seconds=float(os.environ.get("HALFSKY_WEBHOOK_LEASE_SECONDS", 60)))
BATCH = 100
FIRST_RETRY_SECONDS = 5
MAX_RETRY_SECONDS = 3600


def retry_delay(attempts: int) -> timedelta:
    """5 s, 10 s, 20 s … capped at an hour: about 30 attempts within the first day."""
    return timedelta(seconds=min(FIRST_RETRY_SECONDS * 2 ** (attempts - 1), MAX_RETRY_SECONDS))


def event_body(event: Event) -> str:
    return json.dumps(
        {
            "id": event.id,
            "type": event.type,
            "occurred_at": event.occurred_at.isoformat(),
            "branch_id": event.branch_id,
            "data": event.data,
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )


def webhook_id(event_id: int) -> str:
    # The same for every attempt and replay of an event, so receivers can drop duplicates.
    return f"evt_{event_id}"


def sign(secrets: list[str], msg_id: str, body: str, now) -> dict[str, str]:
    signatures = " ".join(Webhook(secret).sign(msg_id, now, body) for secret in secrets)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signatures,
        "content-type": "application/json",
        "user-agent": "HalfSky-Webhooks/1",
    }


def _acquire(db: Database, sub_id: int, owner: str) -> bool:
    now = utcnow()
    with db.session(write=True) as session:
        got = session.execute(
            sa.update(WebhookSubscription)
            .where(
                WebhookSubscription.id == sub_id,
                sa.or_(
                    WebhookSubscription.lease_until.is_(None),
                    WebhookSubscription.lease_until < now,
                    WebhookSubscription.lease_owner == owner,
                ),
            )
            .values(lease_owner=owner, lease_until=now + LEASE)
        )
        return got.rowcount == 1


def _release(db: Database, sub_id: int, owner: str) -> None:
    with db.session(write=True) as session:
        session.execute(
            sa.update(WebhookSubscription)
            .where(WebhookSubscription.id == sub_id, WebhookSubscription.lease_owner == owner)
            .values(lease_owner=None, lease_until=None)
        )


@task(DELIVER_TASK)
def deliver_subscription(db: Database, subscription_id: int) -> int:
    """Deliver a subscription's due events in order; returns how many were delivered."""
    owner = uuid.uuid4().hex
    delivered = 0
    with httpx.Client(timeout=TIMEOUT, follow_redirects=False) as client:
        while _acquire(db, subscription_id, owner):
            try:
                done, more = _deliver_batch(db, client, subscription_id, owner)
                delivered += done
            finally:
                _release(db, subscription_id, owner)
            # Look again after letting go: an event committed while we held the lease may have found it taken.
            if not more and not _has_due(db, subscription_id):
                return delivered
    _come_back_after_lease(db, subscription_id)
    return delivered


def _come_back_after_lease(db: Database, sub_id: int) -> None:
    """Another loop holds the subscription, alive or dead: if work is due, try again when its lease runs out."""
    if not _has_due(db, sub_id):
        return
    with db.session(write=True) as session:
        lease_until = session.execute(
            select(WebhookSubscription.lease_until).where(WebhookSubscription.id == sub_id)
        ).scalar_one_or_none()
        # Its own queueing lock, so new events still queue an immediate run meanwhile.
        defer_delivery(
            session, sub_id, run_at=(lease_until or utcnow()) + timedelta(seconds=1), lock=":lease"
        )


def _has_due(db: Database, sub_id: int) -> bool:
    """Whether the head of the subscription's line is due (the rest wait behind it, in order)."""
    with db.session() as session:
        head = session.execute(
            select(WebhookDelivery.next_attempt_at)
            .where(
                WebhookDelivery.subscription_id == sub_id, WebhookDelivery.status == DeliveryStatus.pending
            )
            .order_by(WebhookDelivery.event_id, WebhookDelivery.id)
            .limit(1)
        ).first()
        return head is not None and (head.next_attempt_at is None or head.next_attempt_at <= utcnow())


def _deliver_batch(db: Database, client: httpx.Client, sub_id: int, owner: str) -> tuple[int, bool]:
    """Send up to BATCH due deliveries; (delivered, whether more may be due)."""
    now = utcnow()
    with db.session() as session:
        sub = session.get(WebhookSubscription, sub_id)
        if sub is None or not sub.is_active or sub.deleted_at is not None:
            return 0, False
        url, secrets = sub.url, signing_secrets(sub, now)
        head = session.execute(
            select(WebhookDelivery, Event)
            .join(Event, Event.id == WebhookDelivery.event_id)
            .where(
                WebhookDelivery.subscription_id == sub_id, WebhookDelivery.status == DeliveryStatus.pending
            )
            .order_by(WebhookDelivery.event_id, WebhookDelivery.id)
            .limit(BATCH)
        ).all()
    if not head:
        return 0, False
    results: list[dict] = []
    stop_at = None
    started, cut_short = time.monotonic(), False
    for delivery, event in head:
        if time.monotonic() - started > LEASE.total_seconds() / 2:
            cut_short = True  # a slow receiver: write down what is done while the lease surely still holds
            break
        if delivery.next_attempt_at and delivery.next_attempt_at > utcnow():
            stop_at = delivery.next_attempt_at  # the head of the line waits for its retry; the rest behind it
            break
        body = event_body(event)
        started = time.monotonic()
        code, error = None, None
        try:
            response = client.post(
                url, content=body.encode(), headers=sign(secrets, webhook_id(event.id), body, utcnow())
            )
            code = response.status_code
            ok = 200 <= code < 300
            if not ok:
                error = f"HTTP {code}"
        except httpx.HTTPError as exc:
            ok, error = False, f"{type(exc).__name__}: {exc}"[:500]
        duration = int((time.monotonic() - started) * 1000)
        attempts = delivery.attempts + 1
        if ok:
            results.append(
                {
                    "id": delivery.id,
                    "status": DeliveryStatus.delivered,
                    "attempts": attempts,
                    "last_status_code": code,
                    "last_duration_ms": duration,
                    "last_error": None,
                    "next_attempt_at": None,
                    "delivered_at": utcnow(),
                }
            )
            continue
        if utcnow() - delivery.created_at >= RETRY_FOR:
            results.append(
                {
                    "id": delivery.id,
                    "status": DeliveryStatus.failed,
                    "attempts": attempts,
                    "last_status_code": code,
                    "last_duration_ms": duration,
                    "last_error": error,
                    "next_attempt_at": None,
                    "delivered_at": None,
                }
            )
            continue  # given up: the events behind it go on
        stop_at = utcnow() + retry_delay(attempts)
        results.append(
            {
                "id": delivery.id,
                "status": DeliveryStatus.pending,
                "attempts": attempts,
                "last_status_code": code,
                "last_duration_ms": duration,
                "last_error": error,
                "next_attempt_at": stop_at,
                "delivered_at": None,
            }
        )
        break
    with db.session(write=True) as session:
        if results:
            session.execute(sa.update(WebhookDelivery), results)  # by primary key, one executemany
        if stop_at is not None:
            defer_delivery(session, sub_id, run_at=stop_at)
    delivered = sum(1 for r in results if r["status"] == DeliveryStatus.delivered)
    return delivered, stop_at is None and (cut_short or len(head) == BATCH)


@task("webhooks.dispatch", every_minutes=1)
def dispatch_due(db: Database) -> int:
    """Safety net: queue the delivery task of every subscription with due deliveries (after a crash, a lost run)."""
    with db.session(write=True) as session:
        due = (
            session.execute(
                select(WebhookDelivery.subscription_id)
                .where(
                    WebhookDelivery.status == DeliveryStatus.pending,
                    WebhookDelivery.next_attempt_at <= utcnow(),
                )
                .distinct()
            )
            .scalars()
            .all()
        )
        for sub_id in due:
            defer_delivery(session, sub_id)
    return len(due)
