"""Subscriptions, signed in-order delivery to a real local receiver, retries, rotation, replay."""

import json
import time
from datetime import timedelta

import sqlalchemy as sa
from standardwebhooks.webhooks import Webhook

from backend.core.db import utcnow
from backend.core.queue import run_due_now
from backend.integrations.models import WebhookDelivery
from backend.integrations.tasks import deliver_subscription
from tests.conftest import Api, make_client_account

TICKET_EVENTS = ["ticket.created", "ticket.escalated"]


def subscribe(client, url: str, events=None, **fields) -> dict:
    r = client.post(
        "/api/v1/webhooks/subscriptions", json={"url": url, "events": events or TICKET_EVENTS, **fields}
    )
    assert r.status_code == 201, r.text
    assert r.json()["secret"].startswith("whsec_")
    return r.json()


def deliveries(client, sub_id: int) -> list[dict]:
    r = client.get(f"/api/v1/webhooks/subscriptions/{sub_id}/deliveries", params={"sort": "id"})
    assert r.status_code == 200, r.text
    return r.json()["items"]


def make_due(session) -> None:
    """Time passes: every waiting retry is due now."""
    session.execute(
        sa.update(WebhookDelivery).where(WebhookDelivery.status == "pending").values(next_attempt_at=utcnow())
    )
    session.commit()


def test_subscriptions_crud_with_the_secret_shown_once(admin, tree):
    sub = subscribe(admin, "https://bureau.example/hook", branch_id=tree.town_a.id, description="卫健局")
    got = admin.get(f"/api/v1/webhooks/subscriptions/{sub['id']}").json()
    assert got["secret"] is None and got["branch_id"] == tree.town_a.id
    assert [s["id"] for s in admin.get("/api/v1/webhooks/subscriptions").json()["items"]] == [sub["id"]]
    changed = admin.patch(
        f"/api/v1/webhooks/subscriptions/{sub['id']}", json={"events": ["ticket.closed"]}
    ).json()
    assert changed["events"] == ["ticket.closed"] and changed["secret"] is None
    rotated = admin.patch(f"/api/v1/webhooks/subscriptions/{sub['id']}", json={"rotate_secret": True}).json()
    assert rotated["secret"] not in (None, sub["secret"])
    assert rotated["previous_secret_expires_at"] is not None
    bad = admin.post("/api/v1/webhooks/subscriptions", json={"url": "https://x.example", "events": ["nope"]})
    assert bad.status_code == 422
    assert admin.delete(f"/api/v1/webhooks/subscriptions/{sub['id']}").status_code == 204
    assert admin.get(f"/api/v1/webhooks/subscriptions/{sub['id']}").status_code == 404


def test_subscriptions_are_held_to_the_creators_subtree(login, tree):
    town_admin = login("county_admin", tree.town_a)
    r = town_admin.post(
        "/api/v1/webhooks/subscriptions",
        json={"url": "https://x.example/h", "events": TICKET_EVENTS, "branch_id": tree.town_b.id},
    )
    assert r.status_code == 404
    assert login("cadre", tree.county).get("/api/v1/webhooks/subscriptions").status_code == 403


def test_a_machine_client_manages_only_its_own_subscriptions(app, admin, tree, session):
    health = Api(app, make_client_account(session, tree.county, "health_bureau", "hb-1"), tree.county)
    other = Api(app, make_client_account(session, tree.county, "health_bureau", "hb-2"), tree.county)
    sub = subscribe(health, "https://health.example/hook", ["screening.abnormal", "followup.overdue"])
    assert other.get(f"/api/v1/webhooks/subscriptions/{sub['id']}").status_code == 404
    assert other.get("/api/v1/webhooks/subscriptions").json()["items"] == []
    assert admin.get(f"/api/v1/webhooks/subscriptions/{sub['id']}").status_code == 200
    denied = health.post(
        "/api/v1/webhooks/subscriptions",
        json={"url": "https://health.example/h", "events": ["ticket.created"]},
    )
    assert denied.status_code == 422  # not hers to receive


def test_a_receiver_down_for_a_while_gets_every_event_in_order_signed(
    admin, login, tree, session, db, receiver, new_ticket
):
    sub = subscribe(admin, receiver.url)
    operator = login("hotline_operator", tree.county)
    receiver.status = 503
    tickets = [new_ticket(operator) for _ in range(3)]
    run_due_now(db)
    log = deliveries(admin, sub["id"])
    assert [d["attempts"] for d in log] == [1, 0, 0]  # in order: the others wait behind the first
    assert log[0]["last_status_code"] == 503 and log[0]["next_attempt_at"] and log[0]["status"] == "pending"
    run_due_now(db)
    assert receiver.received == []
    receiver.status = 204  # back up
    make_due(session)
    deliver_subscription(db, sub["id"])
    got = [json.loads(body) for _, body in receiver.received]
    assert [g["data"]["ticket_id"] for g in got] == [t["id"] for t in tickets]
    for headers, body in receiver.received:
        payload = Webhook(sub["secret"]).verify(body, headers)
        assert headers["webhook-id"] == f"evt_{payload['id']}" and payload["type"] == "ticket.created"
        assert set(payload) == {"id", "type", "occurred_at", "branch_id", "data"}
    log = deliveries(admin, sub["id"])
    assert [(d["status"], d["attempts"]) for d in log] == [
        ("delivered", 2),
        ("delivered", 1),
        ("delivered", 1),
    ]
    assert all(d["last_duration_ms"] is not None and d["next_attempt_at"] is None for d in log)


def test_a_rotated_secret_signs_with_both_for_a_day(admin, login, tree, db, receiver, new_ticket):
    sub = subscribe(admin, receiver.url)
    new = admin.patch(f"/api/v1/webhooks/subscriptions/{sub['id']}", json={"rotate_secret": True}).json()[
        "secret"
    ]
    new_ticket(login("hotline_operator", tree.county))
    run_due_now(db)
    [(headers, body)] = receiver.received
    assert len(headers["webhook-signature"].split(" ")) == 2
    Webhook(sub["secret"]).verify(body, headers)
    Webhook(new).verify(body, headers)


def test_a_delivery_failing_for_a_day_is_given_up_and_the_next_goes_on(
    admin, login, tree, session, db, receiver, new_ticket
):
    sub = subscribe(admin, receiver.url)
    operator = login("hotline_operator", tree.county)
    receiver.status = 500
    new_ticket(operator)
    run_due_now(db)
    session.execute(sa.update(WebhookDelivery).values(created_at=utcnow() - timedelta(hours=25)))
    session.commit()
    make_due(session)
    receiver.status = 200
    second = new_ticket(operator)
    receiver.status = 500
    deliver_subscription(db, sub["id"])  # the first fails once more, past its day: given up
    log = deliveries(admin, sub["id"])
    assert log[0]["status"] == "failed" and log[0]["attempts"] == 2
    receiver.status = 200
    make_due(session)
    deliver_subscription(db, sub["id"])
    assert [json.loads(b)["data"]["ticket_id"] for _, b in receiver.received] == [second["id"]]


def test_replay_one_delivery_or_everything_since(admin, login, tree, db, receiver, new_ticket):
    sub = subscribe(admin, receiver.url)
    started = utcnow() - timedelta(seconds=1)
    new_ticket(login("hotline_operator", tree.county))
    run_due_now(db)
    [first] = deliveries(admin, sub["id"])
    r = admin.post(f"/api/v1/webhooks/deliveries/{first['id']}/actions/replay")
    assert r.status_code == 202 and r.json()["status"] == "pending"
    run_due_now(db)
    ids = [h["webhook-id"] for h, _ in receiver.received]
    assert len(ids) == 2 and ids[0] == ids[1]  # the same webhook-id, so the receiver can drop it
    r = admin.post(
        f"/api/v1/webhooks/subscriptions/{sub['id']}/actions/replay", json={"since": started.isoformat()}
    )
    assert r.json() == {"queued": 1}
    run_due_now(db)
    assert len(receiver.received) == 3


def test_a_slow_receiver_never_slows_a_request(admin, login, tree, receiver, new_ticket):
    subscribe(admin, receiver.url)
    receiver.delay = 5
    operator = login("hotline_operator", tree.county)
    started = time.monotonic()
    new_ticket(operator)
    assert time.monotonic() - started < 2 and receiver.received == []


def test_a_fixed_url_is_tried_at_once_not_at_the_end_of_its_backoff(
    admin, login, tree, db, receiver, new_ticket
):
    sub = subscribe(admin, "http://127.0.0.1:9/nothing-listens-here")
    new_ticket(login("hotline_operator", tree.county))
    run_due_now(db)
    [waiting] = deliveries(admin, sub["id"])
    assert waiting["attempts"] == 1 and waiting["next_attempt_at"]
    r = admin.patch(f"/api/v1/webhooks/subscriptions/{sub['id']}", json={"url": receiver.url})
    assert r.status_code == 200
    run_due_now(db)
    assert len(receiver.received) == 1
    assert deliveries(admin, sub["id"])[0]["status"] == "delivered"
