"""A domestic-violence call from intake to close, and every step the state machine refuses."""

import re

import sqlalchemy as sa

from backend.core.audit_models import AuditLog
from backend.tickets.models import Ticket, TicketEvent
from tests.tickets.conftest import DV_CALL, ok, step


def test_domestic_violence_case_from_call_to_close_via_police(operator, login, tree, new_ticket, session):
    cadre = login("cadre", tree.town_a, display_name="王干部")
    rep = login("village_rep", tree.village_a1, display_name="张主席")

    t = new_ticket(operator, sealed=True)
    assert re.fullmatch(r"12338-\d{4}-\d{6}", t["number"])
    assert t["status"] == "new" and t["first_responder_id"] == operator.account.id
    assert t["owner_branch_id"] == tree.county.id and t["branch_id"] == tree.village_a1.id
    assert t["caller_phone"] == "139****5678" and t["caller_name"] == "李**"
    assert t["urgency"] == "critical" and t["sealed"] is True
    assert t["allowed_actions"][:2] == ["assign", "accept"]
    tid = t["id"]

    # Routed down to the township cadre by name (a sealed case must go to a person).
    t = ok(operator, tid, "assign", {"branch_id": tree.town_a.id, "assignee_id": cadre.account.id})
    assert t["status"] == "assigned" and t["owner_branch_id"] == tree.town_a.id
    t = ok(cadre, tid, "accept")
    assert t["status"] == "in_progress" and t["first_responded_at"] is not None
    t = ok(cadre, tid, "counselling", {"text": "电话安抚,告知可申请人身安全保护令"})
    t = ok(cadre, tid, "refer", {"to": "police", "note": "请派出所出警并出具告诫书"})
    assert t["status"] == "referred"
    t = ok(cadre, tid, "referral_answer", {"note": "派出所已出警,对施暴人出具家庭暴力告诫书"})
    assert t["status"] == "in_progress"
    t = ok(cadre, tid, "mediation", {"text": "村妇联、村委会上门调解"})
    t = ok(cadre, tid, "reply", {"method": "phone", "content": "已告知处理结果和保护令申请方式"})
    t = ok(cadre, tid, "resolve", {"resolution": "施暴人被告诫,来电人暂住娘家,已申请保护令"})
    assert t["status"] == "resolved" and t["resolved_at"]
    t = ok(cadre, tid, "callback", {"reached": True, "satisfaction": "satisfied"})
    t = ok(cadre, tid, "close")
    assert t["status"] == "closed" and t["closed_at"] and t["allowed_actions"] == ["reopen"]

    kinds = [e["kind"] for e in t["events"]]
    assert kinds == [
        "create",
        "assign",
        "accept",
        "counselling",
        "refer",
        "referral_answer",
        "mediation",
        "reply",
        "resolve",
        "callback",
        "close",
    ]
    refer = t["events"][4]
    assert refer["referral_to"] == "police" and refer["author_name"] == "王干部" and "派出所" in refer["text"]
    assert t["events"][1]["author_id"] == operator.account.id
    assert t["version"] == 11

    # The village rep never had it assigned to her: a sealed case stays hidden from her.
    assert rep.get(f"/api/v1/tickets/{tid}").status_code == 404
    # The timeline is stored as it was shown, one row per step.
    assert session.scalar(sa.select(sa.func.count()).where(TicketEvent.ticket_id == tid)) == 11


def test_numbers_are_sequential_and_unique(operator, new_ticket):
    numbers = [new_ticket(operator)["number"] for _ in range(3)]
    seqs = [int(n.rsplit("-", 1)[1]) for n in numbers]
    assert seqs == [seqs[0], seqs[0] + 1, seqs[0] + 2]
    assert len(set(numbers)) == 3


def _walk_to(client, tid, tree, status):
    if status == "new":
        return
    ok(client, tid, "assign", {"branch_id": tree.town_a.id})
    if status == "assigned":
        return
    ok(client, tid, "accept")
    if status == "in_progress":
        return
    if status == "referred":
        ok(client, tid, "refer", {"to": "court", "note": ""})
        return
    ok(client, tid, "reply", {"method": "phone", "content": "已答复"})
    ok(client, tid, "resolve", {"resolution": "已办结"})
    if status == "resolved":
        return
    ok(client, tid, "callback", {"reached": True, "satisfaction": "basically"})
    ok(client, tid, "close")


BODIES = {
    "assign": lambda tree: {"branch_id": tree.town_a.id},
    "accept": lambda tree: {},
    "refer": lambda tree: {"to": "police", "note": "x"},
    "referral_answer": lambda tree: {"note": "x"},
    "note": lambda tree: {"text": "x"},
    "mediation": lambda tree: {"text": "x"},
    "counselling": lambda tree: {"text": "x"},
    "reply": lambda tree: {"method": "phone", "content": "x"},
    "resolve": lambda tree: {"resolution": "x"},
    "callback": lambda tree: {"reached": False},
    "close": lambda tree: {},
    "reopen": lambda tree: {"reason": "x"},
    "escalate": lambda tree: {"reason": "x"},
}

# What the state table must refuse, state by state.
REFUSED = {
    "new": {"refer", "referral_answer", "resolve", "callback", "close", "reopen"},
    "assigned": {"refer", "referral_answer", "resolve", "callback", "close", "reopen"},
    "in_progress": {"accept", "referral_answer", "callback", "close", "reopen", "resolve"},
    "referred": {"assign", "accept", "callback", "close", "reopen", "resolve"},
    "resolved": {
        "assign",
        "accept",
        "refer",
        "referral_answer",
        "mediation",
        "counselling",
        "reply",
        "resolve",
        "escalate",
        "close",
    },
    "closed": {
        "assign",
        "accept",
        "refer",
        "referral_answer",
        "note",
        "mediation",
        "counselling",
        "reply",
        "resolve",
        "callback",
        "close",
        "escalate",
    },
}


def test_every_refused_step_answers_409_with_allowed_steps(operator, tree, new_ticket):
    for status, refused in REFUSED.items():
        tid = new_ticket(operator, sealed=False, urgency="normal")["id"]
        _walk_to(operator, tid, tree, status)
        before = operator.get(f"/api/v1/tickets/{tid}").json()
        assert before["status"] == status
        for action in sorted(refused):
            r = step(operator, tid, action, BODIES[action](tree))
            assert r.status_code == 409, (status, action, r.text)
            body = r.json()
            assert body["type"].endswith("invalid-transition") and body["status"] == 409
            assert body["ticket_status"] == status
            assert body["allowed"] == before["allowed_actions"], (status, action)
            assert action not in body["allowed"]
        after = operator.get(f"/api/v1/tickets/{tid}").json()
        assert after["version"] == before["version"] and len(after["events"]) == len(before["events"])


def test_resolve_needs_a_reply_and_close_needs_a_callback(operator, tree, new_ticket):
    tid = new_ticket(operator, sealed=False)["id"]
    _walk_to(operator, tid, tree, "in_progress")
    r = step(operator, tid, "resolve", {"resolution": "办完了"})
    assert r.status_code == 409 and "答复" in r.json()["detail"]
    assert "reply" in r.json()["allowed"] and "resolve" not in r.json()["allowed"]
    ok(operator, tid, "reply", {"method": "sms", "content": "已短信告知"})
    ok(operator, tid, "resolve", {"resolution": "办完了"})
    r = step(operator, tid, "close")
    assert r.status_code == 409 and "回访" in r.json()["detail"] and "callback" in r.json()["allowed"]
    # A call-back attempt that does not reach the caller still counts as the attempt.
    t = ok(operator, tid, "callback", {"reached": False})
    assert t["callback_reached"] is False and "close" in t["allowed_actions"]


def test_unsatisfied_callback_offers_reopen_and_reopen_needs_a_fresh_reply(operator, tree, new_ticket):
    tid = new_ticket(operator, sealed=False)["id"]
    _walk_to(operator, tid, tree, "resolved")
    t = ok(operator, tid, "callback", {"reached": True, "satisfaction": "unsatisfied"})
    assert t["allowed_actions"][0] == "reopen"
    t = ok(operator, tid, "reopen", {"reason": "来电人不满意,继续协调"})
    assert t["status"] == "in_progress" and t["resolved_at"] is None and t["satisfaction"] is None
    r = step(operator, tid, "resolve", {"resolution": "again"})
    assert r.status_code == 409


def test_reopen_only_within_30_days_of_resolution(operator, tree, new_ticket, session):
    from datetime import timedelta

    from backend.core.db import utcnow

    tid = new_ticket(operator, sealed=False)["id"]
    _walk_to(operator, tid, tree, "closed")
    session.execute(
        sa.update(Ticket).where(Ticket.id == tid).values(resolved_at=utcnow() - timedelta(days=31))
    )
    session.flush()
    r = step(operator, tid, "reopen", {"reason": "又被打了"})
    assert r.status_code == 409 and "30 天" in r.json()["detail"] and r.json()["allowed"] == []


def test_escalate_moves_to_parent_with_reason_and_stops_at_the_root(operator, tree, new_ticket, login):
    cadre = login("cadre", tree.town_a)
    tid = new_ticket(operator, sealed=False)["id"]
    ok(operator, tid, "assign", {"branch_id": tree.town_a.id, "assignee_id": cadre.account.id})
    ok(cadre, tid, "accept")
    t = ok(cadre, tid, "escalate", {"reason": "涉及跨镇财产纠纷,需县妇联协调"})
    assert t["owner_branch_id"] == tree.county.id and t["assignee_id"] is None
    assert t["status"] == "in_progress" and t["escalation_level"] == 1
    assert "跨镇" in t["events"][-1]["text"]
    # Owned by the county now: the township no longer sees it.
    assert cadre.get(f"/api/v1/tickets/{tid}").status_code == 404
    r = step(operator, tid, "escalate", {"reason": "再上报"})
    assert r.status_code == 409 and "最上级" in r.json()["detail"] and "escalate" not in r.json()["allowed"]


def test_bad_bodies_name_the_field(operator, tree, new_ticket, login):
    tid = new_ticket(operator, sealed=True)["id"]
    r = step(operator, tid, "assign", {"branch_id": tree.town_a.id})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "assignee_id"  # sealed needs a person
    other_rep = login("village_rep", tree.village_b1)
    r = step(operator, tid, "assign", {"branch_id": tree.town_a.id, "assignee_id": other_rep.account.id})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "assignee_id"
    r = step(operator, tid, "refer", {"to": "mars"})
    assert r.status_code == 422
    r = step(operator, tid, "callback", {"reached": True})
    assert r.status_code == 422
    assert step(operator, tid, "fly").status_code in (404, 405)
    r = operator.post("/api/v1/tickets", json={**DV_CALL, "branch_id": tree.village_a1.id, "urgency": "soon"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "urgency"


def test_stale_if_match_answers_412_and_etag_is_returned(operator, tree, new_ticket):
    tid = new_ticket(operator, sealed=False)["id"]
    r = operator.get(f"/api/v1/tickets/{tid}")
    assert r.headers["etag"] == '"1"'
    r = step(operator, tid, "note", {"text": "第一条"}, headers={"If-Match": '"1"'})
    assert r.status_code == 200 and r.headers["etag"] == '"2"'
    r = step(operator, tid, "note", {"text": "基于旧版本"}, headers={"If-Match": '"1"'})
    assert r.status_code == 412 and r.json()["current_version"] == 2
    assert len(operator.get(f"/api/v1/tickets/{tid}").json()["events"]) == 2


def test_idempotency_key_on_create_gives_one_ticket(operator, tree, session):
    body = {**DV_CALL, "branch_id": tree.village_a1.id}
    headers = {"Idempotency-Key": "call-7f3a"}
    first = operator.post("/api/v1/tickets", json=body, headers=headers)
    again = operator.post("/api/v1/tickets", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.headers.get("idempotent-replayed") == "true"
    assert again.json()["number"] == first.json()["number"]
    assert session.scalar(sa.select(sa.func.count()).select_from(Ticket)) == 1


def test_caller_is_masked_and_reveal_is_audited(operator, tree, new_ticket, session, login):
    t = new_ticket(operator, sealed=False)
    raw = session.get(Ticket, t["id"])
    assert "13912345678" not in (raw.caller_phone_enc or "") and raw.caller_phone_hash
    r = operator.get(f"/api/v1/tickets/{t['id']}/caller")
    assert r.status_code == 200 and r.json() == {"caller_name": "李秀英", "caller_phone": "13912345678"}
    entry = (
        session.execute(sa.select(AuditLog).where(AuditLog.action == "reveal", AuditLog.entity == "ticket"))
        .scalars()
        .one()
    )
    assert entry.actor == f"user:{operator.account.id}" and entry.entity_id == str(t["id"])
    assert entry.field == "caller_name,caller_phone"
    # No audit entry carries the phone in clear.
    dumped = " ".join(str(a.after) for a in session.execute(sa.select(AuditLog)).scalars())
    assert "13912345678" not in dumped
    rep = login("village_rep", tree.village_a1)  # no pii:read
    assert rep.get(f"/api/v1/tickets/{t['id']}/caller").status_code == 403


def test_same_caller_within_30_days_is_a_possible_duplicate_and_can_be_linked(operator, tree, new_ticket):
    first = new_ticket(operator, sealed=False)
    other = new_ticket(operator, sealed=False, caller_phone="13800000000")
    second = new_ticket(operator, sealed=False, caller_phone="139 1234 5678", summary="又来电")
    assert [d["id"] for d in second["possible_duplicates"]] == [first["id"]]
    assert other["possible_duplicates"] == []
    t = ok(operator, second["id"], "link", {"ticket_id": first["id"]})
    assert t["linked_to_id"] == first["id"] and t["possible_duplicates"] == []
    assert t["events"][-1]["kind"] == "link" and first["number"] in t["events"][-1]["text"]
