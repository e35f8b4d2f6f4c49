"""Events are written in the transaction of their change, scoped like every list, with no clear personal data."""

import json

import pytest
import sqlalchemy as sa
from sqlmodel import select

from backend.integrations.models import Event
from backend.tickets import service as tickets
from backend.tickets.schemas import TicketCreate
from tests.conftest import principal_for
from tests.tickets.conftest import DV_CALL


def _events(session, type_: str) -> list[Event]:
    return list(session.exec(select(Event).where(Event.type == type_).order_by(Event.id)).all())


def test_a_ticket_writes_its_event_with_the_change_and_no_personal_data(login, tree, session, new_ticket):
    operator = login("hotline_operator", tree.town_a)
    t = new_ticket(operator)
    [event] = _events(session, "ticket.created")
    assert event.data["ticket_id"] == t["id"] and event.data["number"] == t["number"]
    assert event.branch_id == tree.town_a.id and event.a2 == tree.town_a.id and event.a1 == tree.county.id
    text = json.dumps(event.data, ensure_ascii=False)
    for secret in (DV_CALL["caller_phone"], DV_CALL["caller_name"], DV_CALL["summary"]):
        assert secret not in text


def test_a_rolled_back_change_leaves_no_event(login, tree, session):
    operator = login("hotline_operator", tree.county)
    principal = principal_for(operator.account, tree.county)
    with pytest.raises(RuntimeError), session.begin_nested():
        tickets.create_ticket(session, principal, TicketCreate(**DV_CALL, branch_id=tree.village_a1.id))
        assert len(_events(session, "ticket.created")) == 1  # written with the change…
        raise RuntimeError("the request failed after the change")
    assert _events(session, "ticket.created") == []  # …and gone with it
    assert session.execute(sa.text("SELECT count(*) FROM webhook_delivery")).scalar_one() == 0


def test_a_refused_step_writes_no_event(login, tree, session, new_ticket):
    operator = login("hotline_operator", tree.county)
    t = new_ticket(operator)
    r = operator.post(f"/api/v1/tickets/{t['id']}/actions/resolve", json={"resolution": "已调解"})
    assert r.status_code == 409
    assert _events(session, "ticket.resolved") == []


def test_events_poll_is_scoped_filtered_and_paged_by_cursor(login, tree, new_ticket, monkeypatch):
    from datetime import timedelta

    from backend.integrations import service

    monkeypatch.setattr(service, "POLL_SETTLE", timedelta(0))
    new_ticket(login("hotline_operator", tree.town_a))
    new_ticket(login("hotline_operator", tree.town_b), branch_id=tree.village_b1.id)
    county, town_a = login("county_admin", tree.county), login("county_admin", tree.town_a)
    all_events = county.get("/api/v1/events", params={"types": "ticket.created"}).json()
    assert len(all_events["items"]) == 2
    mine = town_a.get("/api/v1/events").json()["items"]
    assert [e["branch_id"] for e in mine] == [tree.town_a.id]  # the sibling township's event is not there
    first = county.get("/api/v1/events", params={"limit": 1}).json()
    rest = county.get("/api/v1/events", params={"after": first["next_after"]}).json()
    assert [e["id"] for e in first["items"] + rest["items"]] == [e["id"] for e in all_events["items"]]
    assert county.get("/api/v1/events", params={"after": rest["next_after"]}).json()["items"] == []
    assert county.get("/api/v1/events", params={"types": "aid.paid"}).json()["items"] == []


def test_events_are_only_for_those_who_may_read_them(app, login, tree, session, new_ticket, monkeypatch):
    from datetime import timedelta

    from backend.integrations import service

    monkeypatch.setattr(service, "POLL_SETTLE", timedelta(0))
    from tests.conftest import Api, make_client_account

    new_ticket(login("hotline_operator", tree.county))
    assert login("leader", tree.county).get("/api/v1/events").status_code == 403
    assert login("cadre", tree.county).get("/api/v1/events").status_code == 403
    health = Api(app, make_client_account(session, tree.county, "health_bureau", "hb-events"), tree.county)
    r = health.get("/api/v1/events", params={"types": "ticket.created"})
    assert r.status_code == 200 and r.json()["items"] == []  # tickets are not the health bureau's business


def test_screening_events_carry_ids_and_no_personal_data(login, tree, session, db):
    from datetime import date, timedelta

    from backend.screenings.service import flag_overdue
    from tests.screenings.conftest import idn, record_body, woman_body

    cadre = login("cadre", tree.town_a)
    woman = cadre.post("/api/v1/women", json=woman_body(901, tree.village_a1)).json()
    r = cadre.post(
        "/api/v1/screenings", json=record_body(woman["id"], result="suspected_positive", tbs="HSIL")
    )
    fu_id = r.json()["follow_up_id"]
    [abnormal] = _events(session, "screening.abnormal")
    assert abnormal.data["follow_up_id"] == fu_id and abnormal.data["woman_id"] == woman["id"]
    assert abnormal.branch_id == tree.village_a1.id
    assert flag_overdue(session, date.today() + timedelta(days=30)) == 1
    [overdue] = _events(session, "followup.overdue")
    assert overdue.data["follow_up_id"] == fu_id
    text = json.dumps([abnormal.data, overdue.data], ensure_ascii=False)
    for secret in (idn(901), "测试901", "13900000901"):
        assert secret not in text


def test_on_postgresql_the_poll_waits_for_slower_transactions(login, tree, new_ticket, db):
    if db.dialect != "postgresql":
        pytest.skip("SQLite commits one writer at a time, so its event ids commit in order")
    new_ticket(login("hotline_operator", tree.county))
    county = login("county_admin", tree.county)
    assert county.get("/api/v1/events").json()["items"] == []  # not yet: a smaller id may still commit
