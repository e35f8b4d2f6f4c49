from datetime import date, timedelta

import pytest
from sqlmodel import select

from backend.core.db import Database
from backend.screenings.models import FollowUp
from backend.screenings.tasks import flag_overdue_follow_ups
from tests.conftest import Api, make_client_account
from tests.screenings.conftest import record_body


@pytest.fixture
def positive(cadre_a, register):
    """A woman in village A1 with a suspected cervical result: her follow-up id."""

    def _positive(seq: int = 200, **extra) -> int:
        woman = register(seq)
        body = record_body(woman["id"], result="suspected_positive", tbs="HSIL", **extra)
        r = cadre_a.post("/api/v1/screenings", json=body)
        assert r.status_code == 201, r.text
        return r.json()["follow_up_id"]

    return _positive


def test_positive_result_followed_through_to_aid_paid(cadre_a, login, positive, app, session, tree):
    fu = positive(201)
    rep = login("village_rep", tree.village_a1)
    base = f"/api/v1/follow-ups/{fu}/actions"
    r = rep.post(f"{base}/notify", json={"method": "in_person"})
    assert r.status_code == 200, r.text
    notified = r.json()
    assert notified["status"] == "notified" and notified["notified_by"] == "village_rep"
    assert (
        notified["recheck_due_on"] == (date.today() + timedelta(days=30)).isoformat()
        or notified["recheck_due_on"]
    )
    assert rep.post(f"{base}/visit", json={"note": "陪同预约复查"}).json()["visit_count"] == 1
    assert (
        cadre_a.post(f"{base}/recheck", json={"institution": "市中心医院", "result": "活检"}).json()["status"]
        == "rechecked"
    )
    assert cadre_a.post(f"{base}/diagnose", json={"diagnosis": "cancer"}).json()["status"] == "diagnosed"
    # Cancer needs treatment before the case closes.
    early = cadre_a.post(f"{base}/close", json={})
    assert early.status_code == 409 and "close" not in early.json()["allowed"]
    detail = cadre_a.post(f"{base}/treat", json={"treatment": "手术"}).json()
    assert detail["status"] == "treated"
    assert [e["action"] for e in detail["events"]] == ["notify", "visit", "recheck", "diagnose", "treat"]

    aid = cadre_a.post(
        "/api/v1/aid-applications",
        json={"follow_up_id": fu, "amount": "10000.00", "documents": ["诊断证明", "低保证"]},
    )
    assert aid.status_code == 201, aid.text
    aid_id = aid.json()["id"]
    assert aid.json()["status"] == "submitted"
    assert (
        cadre_a.post("/api/v1/aid-applications", json={"follow_up_id": fu, "amount": "1.00"}).status_code
        == 409
    )
    civil = Api(app, make_client_account(session, tree.county, "civil_affairs", "civil-flow"), tree.county)
    pending = civil.get("/api/v1/aid-applications?status=submitted").json()
    assert [a["id"] for a in pending["items"]] == [aid_id]
    # Approval before verification is refused with what may be done.
    admin = login("county_admin", tree.county)
    refused = admin.post(f"/api/v1/aid-applications/{aid_id}/actions/approve", json={})
    assert refused.status_code == 409 and refused.json()["allowed"] == ["verify", "reject"]
    verified = civil.post(
        f"/api/v1/aid-applications/{aid_id}/actions/verify", json={"hardship_status": "dibao"}
    )
    assert verified.status_code == 200 and verified.json()["verified_by"] == "civil-flow"
    woman = cadre_a.get(f"/api/v1/women/{verified.json()['woman_id']}").json()
    assert woman["hardship_status"] == "dibao" and woman["hardship_verified_by"] == "civil-flow"
    assert cadre_a.post(f"/api/v1/aid-applications/{aid_id}/actions/approve", json={}).status_code == 403
    assert (
        admin.post(f"/api/v1/aid-applications/{aid_id}/actions/approve", json={}).json()["status"]
        == "approved"
    )
    paid = admin.post(f"/api/v1/aid-applications/{aid_id}/actions/pay", json={"payment_reference": "PZ-001"})
    assert paid.json()["status"] == "paid" and paid.json()["paid_at"]
    assert (
        admin.post(f"/api/v1/aid-applications/{aid_id}/actions/reject", json={"reason": "晚了"}).status_code
        == 409
    )
    assert cadre_a.post(f"{base}/close", json={"note": "治疗结束"}).json()["status"] == "closed"
    stats = admin.get(f"/api/v1/screenings/stats?from={date.today().year}-01-01").json()
    assert stats["aid_paid_count"] == 1 and stats["aid_paid_amount"] == "10000.00"


def test_aid_only_for_cancer_and_refused_when_not_poor(cadre_a, login, positive, tree):
    fu = positive(202)
    base = f"/api/v1/follow-ups/{fu}/actions"
    no = cadre_a.post("/api/v1/aid-applications", json={"follow_up_id": fu, "amount": "100"})
    assert no.status_code == 422 and no.json()["errors"][0]["field"] == "follow_up_id"
    for action, body in (("notify", {}), ("recheck", {}), ("diagnose", {"diagnosis": "cancer"})):
        assert cadre_a.post(f"{base}/{action}", json=body).status_code == 200
    aid_id = cadre_a.post("/api/v1/aid-applications", json={"follow_up_id": fu, "amount": "100"}).json()["id"]
    admin = login("county_admin", tree.county)
    admin.post(f"/api/v1/aid-applications/{aid_id}/actions/verify", json={"hardship_status": "none"})
    refused = admin.post(f"/api/v1/aid-applications/{aid_id}/actions/approve", json={})
    assert refused.status_code == 409 and refused.json()["allowed"] == ["reject"]
    rejected = admin.post(
        f"/api/v1/aid-applications/{aid_id}/actions/reject", json={"reason": "不属于低保特困"}
    )
    assert rejected.json()["status"] == "rejected" and rejected.json()["rejected_reason"] == "不属于低保特困"


def test_refused_steps_answer_409_with_what_is_allowed(cadre_a, positive):
    fu = positive(203)
    r = cadre_a.post(f"/api/v1/follow-ups/{fu}/actions/diagnose", json={"diagnosis": "benign"})
    assert r.status_code == 409
    assert r.json()["allowed"] == ["notify", "lose", "visit"]
    lost = cadre_a.post(f"/api/v1/follow-ups/{fu}/actions/lose", json={"reason": "外出务工,联系不上"})
    assert lost.json()["status"] == "lost" and lost.json()["lost_reason"] == "外出务工,联系不上"
    again = cadre_a.post(f"/api/v1/follow-ups/{fu}/actions/notify", json={})
    assert again.status_code == 409 and again.json()["allowed"] == []
    assert cadre_a.post(f"/api/v1/follow-ups/{fu}/actions/lose", json={}).status_code == 422


def test_benign_diagnosis_may_close_without_treatment(cadre_a, positive):
    fu = positive(204)
    for action, body in (
        ("notify", {"method": "phone"}),
        ("recheck", {}),
        ("diagnose", {"diagnosis": "benign"}),
        ("close", {}),
    ):
        r = cadre_a.post(f"/api/v1/follow-ups/{fu}/actions/{action}", json=body)
        assert r.status_code == 200, (action, r.text)
    assert r.json()["status"] == "closed" and r.json()["closed_at"]


def _age(session, fu_id: int, days: int) -> None:
    fu = session.get(FollowUp, fu_id)
    fu.notice_due_on = date.today() - timedelta(days=days)
    if fu.recheck_due_on:
        fu.recheck_due_on = date.today() - timedelta(days=days)
    session.add(fu)
    session.commit()


def test_overdue_filter_and_alert_sweep(cadre_a, positive, session, db: Database, login, tree):
    late_notice, on_time, late_recheck = positive(205), positive(206), positive(207)
    cadre_a.post(f"/api/v1/follow-ups/{late_recheck}/actions/notify", json={})
    _age(session, late_notice, 2)
    _age(session, late_recheck, 1)
    overdue = cadre_a.get("/api/v1/follow-ups?overdue=true").json()
    assert sorted(i["id"] for i in overdue["items"]) == sorted([late_notice, late_recheck])
    assert all(i["overdue"] for i in overdue["items"])
    assert [i["id"] for i in cadre_a.get("/api/v1/follow-ups?overdue=false").json()["items"]] == [on_time]
    assert flag_overdue_follow_ups(db) == 2
    assert flag_overdue_follow_ups(db) == 0  # a second run changes nothing
    session.expire_all()
    assert session.get(FollowUp, late_notice).overdue_flagged_at is not None
    assert session.get(FollowUp, on_time).overdue_flagged_at is None
    # The next step clears the alert.
    cadre_a.post(f"/api/v1/follow-ups/{late_notice}/actions/notify", json={})
    session.expire_all()
    assert session.get(FollowUp, late_notice).overdue_flagged_at is None
    assert login("cadre", tree.town_b).get("/api/v1/follow-ups?overdue=true").json()["total"] == 0
    assert cadre_a.get("/api/v1/screenings/stats").json()["follow_up"]["overdue"] == 1


def test_follow_up_visibility(positive, login, tree, app, session):
    fu = positive(208)
    path = f"/api/v1/follow-ups/{fu}"
    assert login("village_rep", tree.village_a1).get(path).status_code == 200
    assert login("village_rep", tree.village_a2).get(path).status_code == 404
    assert login("cadre", tree.town_b).get(path).status_code == 404
    assert login("cadre", tree.town_b).post(f"{path}/actions/visit", json={}).status_code == 404
    assert login("county_admin", tree.county).get(path).status_code == 200
    assert login("leader", tree.county).post(f"{path}/actions/visit", json={}).status_code == 403
    bureau = Api(app, make_client_account(session, tree.county, "health_bureau", "hb-fu"), tree.county)
    assert bureau.get(path).status_code == 200
    assert bureau.post(f"{path}/actions/notify", json={}).status_code == 403
    rep_b = login("village_rep", tree.village_b1)
    assert rep_b.get("/api/v1/follow-ups").json()["total"] == 0


def test_village_rep_visit_from_a_phone_is_idempotent(positive, login, tree, session):
    fu = positive(209)
    rep = login("village_rep", tree.village_a1)
    headers = {"Idempotency-Key": "visit-1"}
    for _ in range(2):
        r = rep.post(f"/api/v1/follow-ups/{fu}/actions/visit", json={"note": "已上门"}, headers=headers)
        assert r.status_code == 200
    assert r.json()["visit_count"] == 1
    assert session.exec(select(FollowUp.visit_count).where(FollowUp.id == fu)).one() == 1


def test_aid_visibility(cadre_a, positive, login, tree):
    fu = positive(210)
    for action, body in (("notify", {}), ("recheck", {}), ("diagnose", {"diagnosis": "cancer"})):
        cadre_a.post(f"/api/v1/follow-ups/{fu}/actions/{action}", json=body)
    aid_id = cadre_a.post("/api/v1/aid-applications", json={"follow_up_id": fu, "amount": "500"}).json()["id"]
    assert login("cadre", tree.town_b).get(f"/api/v1/aid-applications/{aid_id}").status_code == 404
    assert login("cadre", tree.town_b).get("/api/v1/aid-applications").json()["total"] == 0
    assert login("county_admin", tree.county).get(f"/api/v1/aid-applications/{aid_id}").status_code == 200
    assert login("village_rep", tree.village_a1).get(f"/api/v1/aid-applications/{aid_id}").status_code == 403


def test_times_without_a_timezone_are_refused_not_crashed(cadre_a, positive):
    fu = positive(211)
    r = cadre_a.post(f"/api/v1/follow-ups/{fu}/actions/notify", json={"notified_at": "2026-01-02T10:00:00"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "notified_at"
    future = cadre_a.post(
        f"/api/v1/follow-ups/{fu}/actions/notify", json={"notified_at": "2099-01-02T10:00:00+08:00"}
    )
    assert future.status_code == 422 and future.json()["errors"][0]["field"] == "notified_at"


def test_machine_clients_see_their_own_subtree_only(cadre_a, positive, app, session, tree):
    fu = positive(212)
    for action, body in (("notify", {}), ("recheck", {}), ("diagnose", {"diagnosis": "cancer"})):
        cadre_a.post(f"/api/v1/follow-ups/{fu}/actions/{action}", json=body)
    aid_id = cadre_a.post("/api/v1/aid-applications", json={"follow_up_id": fu, "amount": "500"}).json()["id"]
    civil_b = Api(app, make_client_account(session, tree.town_b, "civil_affairs", "civil-b"), tree.town_b)
    assert civil_b.get("/api/v1/aid-applications?status=submitted").json()["total"] == 0
    assert civil_b.get(f"/api/v1/aid-applications/{aid_id}").status_code == 404
    assert (
        civil_b.post(
            f"/api/v1/aid-applications/{aid_id}/actions/verify", json={"hardship_status": "dibao"}
        ).status_code
        == 404
    )
    bureau_b = Api(app, make_client_account(session, tree.town_b, "health_bureau", "hb-b"), tree.town_b)
    assert bureau_b.get(f"/api/v1/follow-ups/{fu}").status_code == 404
    assert bureau_b.get("/api/v1/screenings").json()["total"] == 0
    civil_a = Api(app, make_client_account(session, tree.town_a, "civil_affairs", "civil-a"), tree.town_a)
    assert [a["id"] for a in civil_a.get("/api/v1/aid-applications?status=submitted").json()["items"]] == [
        aid_id
    ]


def test_follow_up_list_carries_her_name_without_a_call_per_woman(cadre_a, positive, login, tree, register):
    fu = positive(213)
    items = cadre_a.get("/api/v1/follow-ups").json()["items"]
    assert [(i["id"], i["woman_name"]) for i in items] == [(fu, "测试213")]
    assert cadre_a.get(f"/api/v1/follow-ups/{fu}").json()["woman_name"] == "测试213"
    # As the women list shows it, to a role without pii:read too.
    leader = login("leader", tree.county)
    woman_id = items[0]["woman_id"]
    assert leader.get(f"/api/v1/women/{woman_id}").json()["name"] == "测试213"
    led = leader.get("/api/v1/follow-ups").json()["items"]
    assert [(i["woman_name"], i["allowed_actions"]) for i in led] == [("测试213", [])]
    renamed = cadre_a.patch(f"/api/v1/women/{woman_id}", json={"name": "改名213"})
    assert renamed.status_code == 200
    assert cadre_a.get("/api/v1/follow-ups").json()["items"][0]["woman_name"] == "改名213"
    assert cadre_a.post(f"/api/v1/follow-ups/{fu}/actions/visit", json={}).json()["woman_name"] == "改名213"


def test_aid_records_carry_the_callers_allowed_actions(cadre_a, positive, login, tree, app, session):
    fu = positive(214)
    for action, body in (("notify", {}), ("recheck", {}), ("diagnose", {"diagnosis": "cancer"})):
        cadre_a.post(f"/api/v1/follow-ups/{fu}/actions/{action}", json=body)
    created = cadre_a.post("/api/v1/aid-applications", json={"follow_up_id": fu, "amount": "500"})
    assert created.json()["allowed_actions"] == []  # a cadre submits; others verify and approve
    aid_id = created.json()["id"]
    admin = login("county_admin", tree.county)
    civil = Api(app, make_client_account(session, tree.county, "civil_affairs", "civil-allowed"), tree.county)

    def allowed(client) -> list[str]:
        listed = client.get("/api/v1/aid-applications").json()["items"]
        one = client.get(f"/api/v1/aid-applications/{aid_id}").json()
        assert listed[0]["allowed_actions"] == one["allowed_actions"]
        return one["allowed_actions"]

    assert allowed(admin) == ["verify", "reject"]
    assert allowed(civil) == ["verify"]
    assert allowed(cadre_a) == []
    verified = civil.post(
        f"/api/v1/aid-applications/{aid_id}/actions/verify", json={"hardship_status": "tekun"}
    )
    assert verified.json()["allowed_actions"] == []
    assert allowed(admin) == ["approve", "reject"]
    approved = admin.post(f"/api/v1/aid-applications/{aid_id}/actions/approve", json={})
    assert approved.json()["allowed_actions"] == ["pay", "reject"]


def test_aid_not_in_hardship_offers_only_reject(cadre_a, positive, login, tree):
    fu = positive(215)
    for action, body in (("notify", {}), ("recheck", {}), ("diagnose", {"diagnosis": "cancer"})):
        cadre_a.post(f"/api/v1/follow-ups/{fu}/actions/{action}", json=body)
    aid_id = cadre_a.post("/api/v1/aid-applications", json={"follow_up_id": fu, "amount": "100"}).json()["id"]
    admin = login("county_admin", tree.county)
    verified = admin.post(
        f"/api/v1/aid-applications/{aid_id}/actions/verify", json={"hardship_status": "none"}
    )
    assert verified.json()["allowed_actions"] == ["reject"]
    refused = admin.post(f"/api/v1/aid-applications/{aid_id}/actions/approve", json={})
    assert refused.status_code == 409 and "不属于低保或特困" in refused.json()["detail"]


def test_paid_in_the_future_is_refused(cadre_a, positive, login, tree):
    fu = positive(216)
    for action, body in (("notify", {}), ("recheck", {}), ("diagnose", {"diagnosis": "cancer"})):
        cadre_a.post(f"/api/v1/follow-ups/{fu}/actions/{action}", json=body)
    aid_id = cadre_a.post("/api/v1/aid-applications", json={"follow_up_id": fu, "amount": "100"}).json()["id"]
    admin = login("county_admin", tree.county)
    base = f"/api/v1/aid-applications/{aid_id}/actions"
    admin.post(f"{base}/verify", json={"hardship_status": "dibao"})
    admin.post(f"{base}/approve", json={})
    future = admin.post(f"{base}/pay", json={"paid_at": "2099-01-02T10:00:00+08:00"})
    assert future.status_code == 422 and future.json()["errors"][0]["field"] == "paid_at"
    assert admin.get(f"/api/v1/aid-applications/{aid_id}").json()["status"] == "approved"


def test_precancer_must_be_treated_before_close(cadre_a, positive):
    fu = positive(217)
    base = f"/api/v1/follow-ups/{fu}/actions"
    for action, body in (("notify", {}), ("recheck", {}), ("diagnose", {"diagnosis": "precancer"})):
        assert cadre_a.post(f"{base}/{action}", json=body).status_code == 200
    assert cadre_a.get(f"/api/v1/follow-ups/{fu}").json()["allowed_actions"] == ["treat", "lose", "visit"]
    early = cadre_a.post(f"{base}/close", json={})
    assert early.status_code == 409 and early.json()["allowed"] == ["treat", "lose", "visit"]
    assert "先治疗" in early.json()["detail"]
