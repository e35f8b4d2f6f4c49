"""The figures endpoint: counted from rows, for the caller's subtree and period."""

from datetime import timedelta

import sqlalchemy as sa

from backend.core.clock import CHINA_TZ
from backend.core.db import utcnow
from backend.tickets.models import Ticket
from tests.tickets.conftest import ok


def _close(client, tid, satisfaction, reply=True):
    ok(client, tid, "accept")
    if reply:
        ok(client, tid, "reply", {"method": "phone", "content": "已答复"})
    ok(client, tid, "resolve", {"resolution": "办结"})
    body = {"reached": True, "satisfaction": satisfaction} if satisfaction else {"reached": False}
    ok(client, tid, "callback", body)
    ok(client, tid, "close")


def test_figures_for_the_subtree_and_period(operator, login, tree, new_ticket, session, admin):
    cadre_a = login("cadre", tree.town_a)
    cadre_b = login("cadre", tree.town_b)
    leader = login("leader", tree.county)

    a1 = new_ticket(operator, category="domestic_violence", urgency="critical", channel="phone", sealed=True)[
        "id"
    ]
    a2 = new_ticket(operator, category="property_land", urgency="normal", channel="walk_in", sealed=False)[
        "id"
    ]
    a3 = new_ticket(operator, category="consultation", urgency="normal", channel="online", sealed=False)["id"]
    b1 = new_ticket(
        operator,
        category="labour_social_security",
        urgency="urgent",
        channel="letter",
        sealed=False,
        branch_id=tree.village_b1.id,
    )["id"]
    ok(operator, a1, "assign", {"branch_id": tree.town_a.id, "assignee_id": cadre_a.account.id})
    ok(operator, a2, "assign", {"branch_id": tree.town_a.id})
    ok(operator, a3, "assign", {"branch_id": tree.town_a.id})
    ok(operator, b1, "assign", {"branch_id": tree.town_b.id})

    ok(cadre_a, a1, "accept")
    ok(cadre_a, a1, "refer", {"to": "police", "note": ""})
    ok(cadre_a, a1, "refer", {"to": "legal_aid", "note": ""})
    ok(cadre_a, a1, "referral_answer", {"note": "已出警"})
    ok(cadre_a, a1, "reply", {"method": "phone", "content": "已告知"})
    ok(cadre_a, a1, "resolve", {"resolution": "办结"})
    ok(cadre_a, a1, "callback", {"reached": True, "satisfaction": "satisfied"})
    ok(cadre_a, a1, "close")
    _close(cadre_a, a2, "unsatisfied")
    _close(cadre_b, b1, None)
    ok(cadre_b, b1, "reopen", {"reason": "复查"})  # not replied again: counts as replied once, reopened
    # a3: never responded and past its first-response deadline.
    past = utcnow() - timedelta(hours=1)
    session.execute(sa.update(Ticket).where(Ticket.id == a3).values(first_response_due_at=past))
    session.flush()

    s = cadre_a.get("/api/v1/tickets/stats").json()
    assert s["total"] == 3  # township A's tickets, the sealed one included (counts reveal no case)
    assert s["by_category"]["domestic_violence"] == 1 and s["by_category"]["labour_social_security"] == 0
    assert s["by_channel"] == {"phone": 1, "walk_in": 1, "letter": 0, "online": 1, "referred_in": 0}
    assert s["by_urgency"] == {"normal": 2, "urgent": 0, "critical": 1}
    assert s["by_status"]["closed"] == 2 and s["by_status"]["assigned"] == 1
    assert s["first_response_on_time"] == {"numerator": 2, "denominator": 3, "rate": 0.6667}
    assert s["resolution_on_time"] == {"numerator": 2, "denominator": 2, "rate": 1.0}
    assert s["reply_rate"] == {"numerator": 2, "denominator": 3, "rate": 0.6667}
    assert s["callback"] == {"satisfied": 1, "basically": 0, "unsatisfied": 1, "not_reached": 0}
    assert s["satisfaction_rate"]["rate"] == 0.5
    assert s["referrals_by_department"]["police"] == 1 and s["referrals_by_department"]["legal_aid"] == 1
    assert s["referrals_by_department"]["court"] == 0
    assert s["average_hours_to_resolve"] is not None and s["average_hours_to_resolve"] >= 0
    assert s["overdue_open"] == 1 and s["sealed"] == 1

    county = leader.get("/api/v1/tickets/stats").json()
    assert county["total"] == 4 and county["by_status"]["in_progress"] == 1
    assert county["callback"]["not_reached"] == 0  # reopening cleared b1's call-back
    assert county["reply_rate"]["numerator"] == 3
    assert admin.get("/api/v1/tickets/stats", params={"under": tree.town_b.id}).json()["total"] == 1
    assert cadre_a.get("/api/v1/tickets/stats", params={"under": tree.town_b.id}).status_code == 404

    today = utcnow().astimezone(CHINA_TZ).date()
    before = {"from": str(today - timedelta(days=60)), "to": str(today - timedelta(days=1))}
    earlier = leader.get("/api/v1/tickets/stats", params=before).json()
    assert earlier["total"] == 0 and earlier["period"] == before
    r = leader.get("/api/v1/tickets/stats", params={"from": str(today), "to": str(today - timedelta(days=1))})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "from"
    rep = login("village_rep", tree.village_a1)
    assert rep.get("/api/v1/tickets/stats").status_code == 403
