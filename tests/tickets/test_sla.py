"""Deadlines, the China working-day calendar with county overrides, and the SLA sweep."""

from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa

from backend.core.clock import CHINA_TZ
from backend.core.db import utcnow
from backend.core.queue import run_periodic_once
from backend.tickets.models import DayKind, SlaUnit, Ticket
from backend.tickets.service import sla_sweep
from backend.tickets.sla import Deadline, WorkCalendar, due_at
from tests.tickets.conftest import ok


def china(y, m, d, h=0, mi=0):
    return datetime(y, m, d, h, mi, tzinfo=CHINA_TZ)


def test_calendar_knows_state_holidays_and_swapped_working_weekends():
    cal = WorkCalendar()
    assert cal.is_working_day(date(2026, 2, 14))  # Saturday worked for the Spring Festival
    assert not cal.is_working_day(date(2026, 2, 16)) and not cal.is_working_day(date(2026, 2, 20))
    assert not cal.is_working_day(date(2026, 10, 1)) and cal.is_working_day(date(2026, 10, 10))
    assert not cal.is_working_day(date(2026, 3, 7)) and cal.is_working_day(date(2026, 3, 9))
    local = WorkCalendar({date(2026, 3, 9): DayKind.holiday, date(2026, 3, 7): DayKind.workday})
    assert not local.is_working_day(date(2026, 3, 9)) and local.is_working_day(date(2026, 3, 7))


def test_working_day_deadlines_skip_the_spring_festival_and_hours_do_not():
    cal = WorkCalendar()
    one_day = Deadline(1, SlaUnit.working_days)
    # Friday 2026-02-13 afternoon: Saturday the 14th is a working day.
    assert due_at(china(2026, 2, 13, 15).astimezone(UTC), one_day, cal) == china(2026, 2, 15)
    # From the working Saturday: 15th Sunday, 16th-20th holiday, 21st/22nd weekend, 23rd day off → end of the 24th.
    assert due_at(china(2026, 2, 14, 10).astimezone(UTC), one_day, cal) == china(2026, 2, 25)
    assert due_at(china(2026, 3, 6, 9).astimezone(UTC), Deadline(3, SlaUnit.working_days), cal) == china(
        2026, 3, 12
    )
    start = china(2026, 2, 16, 23, 30).astimezone(UTC)
    assert due_at(start, Deadline(1, SlaUnit.hours), cal) == start + timedelta(hours=1)


def test_default_deadlines_per_urgency_at_intake(operator, new_ticket):
    t = new_ticket(operator, urgency="critical", sealed=False)
    created = datetime.fromisoformat(t["created_at"])
    assert datetime.fromisoformat(t["first_response_due_at"]) - created == timedelta(hours=1)
    assert datetime.fromisoformat(t["resolution_due_at"]) - created == timedelta(hours=24)
    t = new_ticket(operator, urgency="urgent", sealed=False)
    created = datetime.fromisoformat(t["created_at"])
    assert datetime.fromisoformat(t["first_response_due_at"]) - created == timedelta(hours=4)
    assert datetime.fromisoformat(t["resolution_due_at"]) - created >= timedelta(days=3)
    assert 0 < t["seconds_left"] <= 4 * 3600 and t["overdue"] is False


def test_county_admin_edits_sla_and_calendar(admin, login, tree, operator, new_ticket):
    r = admin.get("/api/v1/tickets/sla")
    assert {i["urgency"]: i["first_response"] for i in r.json()["items"]}["urgent"] == {
        "amount": 4,
        "unit": "hours",
    }
    body = {
        "items": [
            {
                "urgency": "urgent",
                "first_response": {"amount": 2, "unit": "hours"},
                "resolution": {"amount": 5, "unit": "working_days"},
            }
        ]
    }
    cadre = login("cadre", tree.town_a)
    assert cadre.put("/api/v1/tickets/sla", json=body).status_code == 403
    r = admin.put("/api/v1/tickets/sla", json=body)
    assert r.status_code == 200
    t = new_ticket(operator, urgency="urgent", sealed=False)
    created = datetime.fromisoformat(t["created_at"])
    assert datetime.fromisoformat(t["first_response_due_at"]) - created == timedelta(hours=2)
    bad = {
        "items": [
            {
                "urgency": "urgent",
                "first_response": {"amount": 0, "unit": "hours"},
                "resolution": {"amount": 5, "unit": "weeks"},
            }
        ]
    }
    assert admin.put("/api/v1/tickets/sla", json=bad).status_code == 422

    assert cadre.put("/api/v1/tickets/calendar/2026-03-09", json={"kind": "holiday"}).status_code == 403
    r = admin.put("/api/v1/tickets/calendar/2026-03-09", json={"kind": "holiday", "note": "县庆放假"})
    assert r.status_code == 200 and r.json()["kind"] == "holiday"
    days = {d["day"]: d for d in admin.get("/api/v1/tickets/calendar", params={"year": 2026}).json()["days"]}
    assert days["2026-03-09"]["source"] == "local" and days["2026-03-09"]["kind"] == "holiday"
    assert days["2026-02-14"] == {"day": "2026-02-14", "kind": "workday", "source": "state", "note": ""}
    assert days["2026-10-01"]["kind"] == "holiday"
    assert admin.delete("/api/v1/tickets/calendar/2026-03-09").status_code == 204
    assert admin.delete("/api/v1/tickets/calendar/2026-03-09").status_code == 404
    days = {d["day"] for d in admin.get("/api/v1/tickets/calendar", params={"year": 2026}).json()["days"]}
    assert "2026-03-09" not in days


def _overdue(session, tid, **deadlines):
    past = utcnow() - timedelta(minutes=5)
    session.execute(sa.update(Ticket).where(Ticket.id == tid).values({k: past for k in deadlines}))
    session.flush()


def test_sweep_escalates_overdue_tickets_one_level_once(operator, login, tree, new_ticket, session, db):
    rep = login("village_rep", tree.village_a1)
    cadre_a = login("cadre", tree.town_a)
    late = new_ticket(operator, sealed=False)["id"]
    fine = new_ticket(operator, sealed=False)["id"]
    for tid in (late, fine):
        ok(operator, tid, "assign", {"branch_id": tree.village_a1.id, "assignee_id": rep.account.id})
    _overdue(session, late, first_response_due_at=True)

    assert _ids(operator, overdue="true") == {late}
    listed = {t["id"]: t for t in operator.get("/api/v1/tickets").json()["items"]}
    assert listed[late]["overdue"] is True and listed[late]["seconds_left"] < 0
    assert listed[fine]["seconds_left"] > 0

    assert sla_sweep(db) == 1
    t = operator.get(f"/api/v1/tickets/{late}").json()
    assert t["owner_branch_id"] == tree.town_a.id and t["escalation_level"] == 1 and t["assignee_id"] is None
    event = t["events"][-1]
    assert event["kind"] == "sla_escalate" and event["author_id"] is None
    assert "首次响应超时" in event["text"] and tree.town_a.name in event["text"]
    assert _sees(cadre_a, late) and not _sees(rep, late)
    version = t["version"]

    # A second run changes nothing more.
    assert sla_sweep(db) == 0
    t = operator.get(f"/api/v1/tickets/{late}").json()
    assert t["version"] == version and t["owner_branch_id"] == tree.town_a.id
    assert operator.get(f"/api/v1/tickets/{fine}").json()["owner_branch_id"] == tree.village_a1.id

    # A later breach of the resolution deadline moves it one more level, to the county, and stops there.
    _overdue(session, late, resolution_due_at=True)
    assert run_periodic_once(db)["tickets.sla_sweep"] == 1
    t = operator.get(f"/api/v1/tickets/{late}").json()
    assert t["owner_branch_id"] == tree.county.id and t["escalation_level"] == 2
    assert "办结超时" in t["events"][-1]["text"]
    assert sla_sweep(db) == 0


def test_sweep_leaves_resolved_tickets_and_flags_county_level_ones_in_place(
    operator, tree, new_ticket, session, db
):
    at_county = new_ticket(operator, sealed=False)["id"]
    done = new_ticket(operator, sealed=False)["id"]
    ok(operator, done, "accept")
    ok(operator, done, "reply", {"method": "phone", "content": "已答复"})
    ok(operator, done, "resolve", {"resolution": "咨询已解答"})
    for tid in (at_county, done):
        _overdue(session, tid, first_response_due_at=True, resolution_due_at=True)
    assert sla_sweep(db) == 0
    t = operator.get(f"/api/v1/tickets/{at_county}").json()
    assert t["owner_branch_id"] == tree.county.id and t["events"][-1]["kind"] == "sla_escalate"
    assert "请督办" in t["events"][-1]["text"]
    assert operator.get(f"/api/v1/tickets/{done}").json()["events"][-1]["kind"] == "resolve"
    events = len(operator.get(f"/api/v1/tickets/{at_county}").json()["events"])
    sla_sweep(db)
    assert len(operator.get(f"/api/v1/tickets/{at_county}").json()["events"]) == events


def _ids(client, **params):
    return {t["id"] for t in client.get("/api/v1/tickets", params=params).json()["items"]}


def _sees(client, tid):
    return client.get(f"/api/v1/tickets/{tid}").status_code == 200
