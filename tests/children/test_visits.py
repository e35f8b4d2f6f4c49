"""Visits: the schedule they restart, the rights issue that opens a 12338 ticket, the carer's own pairings only,
photos within scope, Idempotency-Key, and the overdue sweep with its `pairing.overdue` event."""

import io
from datetime import timedelta

import sqlalchemy as sa
from PIL import Image

from backend.children import pairings
from backend.children.models import Pairing, PairingEvent, Visit
from backend.core.clock import today_in_china
from backend.integrations.models import Event
from backend.tickets.models import Category, Status, Ticket
from tests.children.pairing_support import P, activate, make_member, propose, visit_body


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 120, 40)).save(out, "PNG")
    return out.getvalue()


def _active(cadre_a, register, session, tree, seq: int, **extra) -> dict:
    child = register(seq)
    member = make_member(session, tree.village_a1)
    return activate(cadre_a, propose(cadre_a, child["id"], member.id, **extra)["id"])


def test_a_visit_restarts_the_schedule_and_clears_the_overdue_flag(cadre_a, register, session, tree):
    started = (today_in_china() - timedelta(days=60)).isoformat()
    pairing = _active(cadre_a, register, session, tree, 201, visit_every_days=30, starts_on=started)
    session.execute(
        sa.update(Pairing)
        .where(Pairing.id == pairing["id"])
        .values(next_visit_due_on=today_in_china() - timedelta(days=5))
    )
    session.commit()
    assert pairings.flag_overdue(session) == 1
    session.commit()
    assert cadre_a.get(f"{P}/{pairing['id']}").json()["overdue"] is True

    on = today_in_china() - timedelta(days=1)
    r = cadre_a.post(f"{P}/{pairing['id']}/visits", json=visit_body(on, problems="作业没人辅导"))
    assert r.status_code == 201, r.text
    visit = r.json()
    assert visit["visited_on"] == on.isoformat()
    assert visit["ticket_id"] is None and visit["rights_issue"] is False
    assert visit["created_by_name"] == "cadre"
    shown = cadre_a.get(f"{P}/{pairing['id']}").json()
    assert shown["last_visit_on"] == on.isoformat()
    assert shown["next_visit_due_on"] == (on + timedelta(days=30)).isoformat()
    assert shown["overdue"] is False
    assert shown["events"][-1]["action"] == "visit"
    session.expire_all()
    assert session.get(Pairing, pairing["id"]).overdue_flagged_at is None
    # An older visit recorded late does not move the schedule back.
    cadre_a.post(f"{P}/{pairing['id']}/visits", json=visit_body(on - timedelta(days=10)))
    assert cadre_a.get(f"{P}/{pairing['id']}").json()["last_visit_on"] == on.isoformat()
    listed = cadre_a.get(f"{P}/{pairing['id']}/visits").json()
    assert listed["total"] == 2
    assert [v["visited_on"] for v in listed["items"]] == [
        on.isoformat(),
        (on - timedelta(days=10)).isoformat(),
    ]


def test_visit_dates_and_states_are_checked(cadre_a, register, session, tree):
    pairing = _active(cadre_a, register, session, tree, 202)
    tomorrow = today_in_china() + timedelta(days=1)
    r = cadre_a.post(f"{P}/{pairing['id']}/visits", json=visit_body(tomorrow))
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "visited_on"
    before_start = today_in_china() - timedelta(days=1)
    assert cadre_a.post(f"{P}/{pairing['id']}/visits", json=visit_body(before_start)).status_code == 422
    assert cadre_a.post(f"{P}/{pairing['id']}/visits", json=visit_body(mode="letter")).status_code == 422
    r = cadre_a.post(f"{P}/{pairing['id']}/visits", json=visit_body(rights_issue=True))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "problems"
    # A proposed or ended pairing takes no visits.
    proposed = propose(cadre_a, register(203)["id"], make_member(session, tree.village_a1).id)
    assert cadre_a.post(f"{P}/{proposed['id']}/visits", json=visit_body()).status_code == 409
    assert session.scalar(sa.select(sa.func.count()).select_from(Visit)) == 0


def test_a_rights_issue_opens_a_12338_ticket_linked_to_the_child(cadre_a, register, session, tree, login):
    pairing = _active(cadre_a, register, session, tree, 204)
    body = visit_body(rights_issue=True, problems="孩子身上有伤,说是被监护人打的")
    r = cadre_a.post(f"{P}/{pairing['id']}/visits", json=body)
    assert r.status_code == 201, r.text
    ticket_id = r.json()["ticket_id"]
    assert ticket_id is not None
    ticket = session.get(Ticket, ticket_id)
    assert ticket.child_id == pairing["child_id"]
    assert ticket.category == Category.children
    assert ticket.status == Status.new
    assert ticket.location_branch_id == tree.village_a1.id
    assert "孩子身上有伤" in ticket.description
    # It is in the 12338 list and in the ticket workflow like any other.
    tickets = cadre_a.get("/api/v1/tickets").json()
    assert ticket_id in {t["id"] for t in tickets["items"]}
    detail = cadre_a.get(f"/api/v1/tickets/{ticket_id}").json()
    assert "accept" in detail["allowed_actions"]
    assert detail["events"][0]["kind"] == "create"
    assert cadre_a.post(f"/api/v1/tickets/{ticket_id}/actions/accept").status_code == 200
    assert (
        session.scalar(sa.select(sa.func.count()).select_from(Event).where(Event.type == "ticket.created"))
        == 1
    )


def test_a_carer_records_visits_only_for_her_own_pairings(cadre_a, register, session, tree, login):
    carer = login("carer", tree.village_a1, display_name="李爱心")
    other_carer = login("carer", tree.village_a1)
    member = make_member(session, tree.village_a1)
    mine = activate(
        cadre_a, propose(cadre_a, register(205)["id"], member.id, carer_user_id=carer.account.id)["id"]
    )
    hers = activate(
        cadre_a, propose(cadre_a, register(206)["id"], member.id, carer_user_id=other_carer.account.id)["id"]
    )
    r = carer.post(f"{P}/{mine['id']}/visits", json=visit_body(mode="phone_video"))
    assert r.status_code == 201, r.text
    assert r.json()["created_by_name"] == "李爱心"
    assert carer.get(f"{P}/{mine['id']}/visits").json()["total"] == 1
    # Another carer's pairing does not exist for her.
    assert carer.post(f"{P}/{hers['id']}/visits", json=visit_body()).status_code == 404
    assert carer.get(f"{P}/{hers['id']}/visits").status_code == 404
    # She takes no workflow steps and has no pairing list; her home is /children/mine.
    assert carer.get(P).status_code == 403
    assert carer.post(f"{P}/{mine['id']}/actions/end", json={"reason": "x"}).status_code == 403
    mine_home = carer.get("/api/v1/children/mine").json()
    assert [c["pairing_id"] for c in mine_home["items"]] == [mine["id"]]
    assert mine_home["items"][0]["last_visit_on"] == today_in_china().isoformat()
    # A rights issue she finds opens the ticket too, under her village.
    r = carer.post(f"{P}/{mine['id']}/visits", json=visit_body(rights_issue=True, problems="长期无人照看"))
    assert r.status_code == 201, r.text
    assert session.get(Ticket, r.json()["ticket_id"]).child_id == mine["child_id"]


def test_a_sibling_branch_gets_404_for_visits_and_photos(cadre_a, register, session, tree, login):
    pairing = _active(cadre_a, register, session, tree, 207)
    visit = cadre_a.post(f"{P}/{pairing['id']}/visits", json=visit_body()).json()
    base = f"{P}/{pairing['id']}/visits/{visit['id']}/photos"
    r = cadre_a.post(base, files={"file": ("v.png", _png(), "image/png")}, data={"caption": "辅导作业"})
    assert r.status_code == 201, r.text
    photo = r.json()
    assert photo["url"] == f"/api/v1{base[len('/api/v1') :]}/{photo['id']}"
    assert cadre_a.get(photo["url"]).status_code == 200
    assert cadre_a.get(photo["thumbnail_url"]).headers["content-type"] == "image/jpeg"
    assert cadre_a.get(f"{P}/{pairing['id']}/visits").json()["items"][0]["photo_count"] == 1
    # The county above sees it; the village of the child too.
    assert login("county_admin", tree.county).get(photo["url"]).status_code == 200
    assert login("village_rep", tree.village_a1).get(base).json()[0]["id"] == photo["id"]
    for role, branch in (("cadre", tree.town_b), ("village_rep", tree.village_a2)):
        other = login(role, branch)
        assert other.get(f"{P}/{pairing['id']}/visits").status_code == 404
        assert other.post(f"{P}/{pairing['id']}/visits", json=visit_body()).status_code == 404
        assert other.get(base).status_code == 404
        assert other.get(photo["url"]).status_code == 404
        assert other.get(photo["thumbnail_url"]).status_code == 404
    # A visit of another pairing is not reachable through this one.
    second = _active(cadre_a, register, session, tree, 208)
    assert cadre_a.get(f"{P}/{second['id']}/visits/{visit['id']}/photos").status_code == 404


def test_a_retried_visit_with_the_same_idempotency_key_is_stored_once(cadre_a, register, session, tree):
    pairing = _active(cadre_a, register, session, tree, 209)
    headers = {"Idempotency-Key": "visit-209-1"}
    first = cadre_a.post(f"{P}/{pairing['id']}/visits", json=visit_body(), headers=headers)
    again = cadre_a.post(f"{P}/{pairing['id']}/visits", json=visit_body(), headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    stored = sa.select(sa.func.count()).select_from(Visit).where(Visit.pairing_id == pairing["id"])
    assert session.scalar(stored) == 1


def test_the_sweep_flags_each_overdue_pairing_once_with_an_event_of_ids_only(
    cadre_a, register, session, tree
):
    late = _active(cadre_a, register, session, tree, 210)
    due_today = _active(cadre_a, register, session, tree, 211)
    today = today_in_china()
    session.execute(
        sa.update(Pairing).where(Pairing.id == late["id"]).values(next_visit_due_on=today - timedelta(days=3))
    )
    session.execute(sa.update(Pairing).where(Pairing.id == due_today["id"]).values(next_visit_due_on=today))
    session.commit()

    assert pairings.flag_overdue(session) == 1
    assert pairings.flag_overdue(session) == 0, "flagged once"
    session.commit()
    events = session.scalars(sa.select(Event).where(Event.type == "pairing.overdue")).all()
    assert len(events) == 1
    assert events[0].data == {
        "pairing_id": late["id"],
        "child_id": late["child_id"],
        "carer_kind": "member",
        "next_visit_due_on": (today - timedelta(days=3)).isoformat(),
        "days_overdue": 3,
    }
    assert events[0].branch_id == tree.village_a1.id
    text = str(events[0].data)
    for personal in ("小明", "王爱心", "张桂英", "139"):
        assert personal not in text
    timeline = session.scalars(
        sa.select(PairingEvent.action).where(PairingEvent.pairing_id == late["id"])
    ).all()
    assert timeline.count("overdue") == 1
    # The township cadre's overdue list.
    overdue = cadre_a.get(P, params={"overdue": "true"}).json()
    assert [p["id"] for p in overdue["items"]] == [late["id"]]
    # The next day the other one falls due, and only it is flagged.
    assert pairings.flag_overdue(session, today + timedelta(days=1)) == 1
    assert (
        session.scalar(sa.select(sa.func.count()).select_from(Event).where(Event.type == "pairing.overdue"))
        == 2
    )
    # A visit clears the flag; falling behind again is a new event (the other one stays flagged once).
    cadre_a.post(f"{P}/{late['id']}/visits", json=visit_body())
    session.expire_all()
    assert pairings.flag_overdue(session, today + timedelta(days=31)) == 1
    latest = session.scalars(
        sa.select(Event).where(Event.type == "pairing.overdue").order_by(Event.id.desc())
    ).first()
    assert latest.data["pairing_id"] == late["id"]


def test_the_sweep_runs_as_a_periodic_task(db, cadre_a, register, session, tree):
    from backend.core.queue import TASKS, run_periodic_once
    from backend.integrations.service import EVENT_TYPES

    assert TASKS["children.pairings_overdue"].every_minutes == 60
    assert EVENT_TYPES["pairing.overdue"] == "pairings:read"
    late = _active(cadre_a, register, session, tree, 213)
    session.execute(
        sa.update(Pairing)
        .where(Pairing.id == late["id"])
        .values(next_visit_due_on=today_in_china() - timedelta(days=2))
    )
    session.commit()
    assert run_periodic_once(db)["children.pairings_overdue"] == 1
    assert run_periodic_once(db)["children.pairings_overdue"] == 0
    actions = [e["action"] for e in cadre_a.get(f"{P}/{late['id']}").json()["events"]]
    assert actions == ["propose", "activate", "overdue"]


def test_civil_affairs_subscribes_to_overdue_pairings_and_gets_a_delivery(
    app, cadre_a, register, session, tree
):
    from backend.integrations.models import WebhookDelivery
    from tests.conftest import Api, make_client_account

    civil = Api(
        app, make_client_account(session, tree.county, "civil_affairs", "civil-pairings"), tree.county
    )
    health = Api(
        app, make_client_account(session, tree.county, "health_bureau", "health-pairings"), tree.county
    )
    body = {"url": "https://bureau.example/halfsky/events", "events": ["pairing.overdue"]}
    r = civil.post("/api/v1/webhooks/subscriptions", json=body)
    assert r.status_code == 201, r.text
    assert health.post("/api/v1/webhooks/subscriptions", json=body).status_code == 422
    late = _active(cadre_a, register, session, tree, 212)
    session.execute(
        sa.update(Pairing)
        .where(Pairing.id == late["id"])
        .values(next_visit_due_on=today_in_china() - timedelta(days=1))
    )
    assert pairings.flag_overdue(session) == 1
    session.commit()
    deliveries = session.scalars(
        sa.select(WebhookDelivery).where(WebhookDelivery.subscription_id == r.json()["id"])
    ).all()
    assert len(deliveries) == 1
    # The bureau reads the pairing it was told of with its own token.
    assert civil.get(f"{P}/{late['id']}").json()["overdue"] is True
