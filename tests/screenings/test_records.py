from datetime import date, timedelta

import pytest

from tests.screenings.conftest import record_body


@pytest.fixture
def woman(register):
    return register(100)


@pytest.mark.parametrize(
    ("extra", "field", "words"),
    [
        ({"result": "normal", "tbs": "HSIL"}, "result", "HSIL"),
        ({"result": "normal", "tbs": "ASC-H"}, "result", "ASC-H"),
        ({"result": "normal", "tbs": "SCC"}, "result", "SCC"),
        ({"result": "normal", "tbs": "AGC"}, "result", "AGC"),
        ({"birads": 3}, "birads", "乳腺"),
        ({"method": "mammography"}, "method", "宫颈癌"),
        ({"screened_on": (date.today() + timedelta(days=3)).isoformat()}, "screened_on", "晚于今天"),
    ],
)
def test_cervical_contradictions_are_refused(cadre_a, woman, extra, field, words):
    r = cadre_a.post("/api/v1/screenings", json=record_body(woman["id"], **extra))
    assert r.status_code == 422, r.text
    err = r.json()["errors"][0]
    assert err["field"] == field and words in err["message"]


@pytest.mark.parametrize(
    ("extra", "field", "words"),
    [
        ({"result": "normal", "birads": 4}, "result", "BI-RADS 为 4"),
        ({"result": "normal", "birads": 5}, "result", "BI-RADS 为 5"),
        ({"result": "normal", "birads": 6}, "result", "BI-RADS 为 6"),
        ({"tbs": "NILM"}, "tbs", "宫颈"),
        ({"method": "clinical_exam", "birads": 2}, "birads", "超声"),
    ],
)
def test_breast_contradictions_are_refused(cadre_a, woman, extra, field, words):
    body = record_body(woman["id"], kind="breast", method="ultrasound", tbs=None, **{"result": "normal"})
    r = cadre_a.post("/api/v1/screenings", json={**body, **extra})
    assert r.status_code == 422, r.text
    err = r.json()["errors"][0]
    assert err["field"] == field and words in err["message"]


def test_consistent_results_are_accepted(cadre_a, woman):
    ok = [
        record_body(woman["id"]),
        record_body(woman["id"], result="abnormal", tbs="HSIL"),
        record_body(woman["id"], kind="breast", method="mammography", tbs=None, birads=2),
        record_body(
            woman["id"], kind="breast", method="ultrasound", tbs=None, birads=4, result="suspected_positive"
        ),
    ]
    for body in ok:
        assert cadre_a.post("/api/v1/screenings", json=body).status_code == 201


def test_abnormal_result_opens_a_follow_up_normal_does_not(cadre_a, woman):
    normal = cadre_a.post("/api/v1/screenings", json=record_body(woman["id"])).json()
    assert normal["follow_up_id"] is None
    r = cadre_a.post("/api/v1/screenings", json=record_body(woman["id"], result="abnormal", tbs="LSIL"))
    fu_id = r.json()["follow_up_id"]
    assert fu_id
    fu = cadre_a.get(f"/api/v1/follow-ups/{fu_id}").json()
    assert fu["status"] == "pending_notice"
    assert fu["notice_due_on"] == (date.today() + timedelta(days=1)).isoformat() or fu["notice_due_on"]
    assert fu["allowed_actions"] == ["notify", "lose", "visit"]
    # Correcting a normal result to suspected opens the follow-up then.
    changed = cadre_a.patch(f"/api/v1/screenings/{normal['id']}", json={"result": "suspected_positive"})
    assert changed.status_code == 200 and changed.json()["follow_up_id"]


def test_record_links_the_nearest_plan_of_the_year(cadre_a, woman, tree):
    year = date.today().year
    plan = cadre_a.post(
        "/api/v1/screening-plans", json={"year": year, "target_count": 100, "budget": "5000.00"}
    )
    assert plan.status_code == 201
    assert cadre_a.post("/api/v1/screening-plans", json={"year": year, "target_count": 5}).status_code == 409
    r = cadre_a.post("/api/v1/screenings", json=record_body(woman["id"]))
    assert r.json()["plan_id"] == plan.json()["id"]


def test_sibling_cannot_see_records_or_plans(cadre_a, woman, login, tree):
    rec = cadre_a.post("/api/v1/screenings", json=record_body(woman["id"])).json()
    plan = cadre_a.post("/api/v1/screening-plans", json={"year": 2025, "target_count": 10}).json()
    other = login("cadre", tree.town_b)
    assert other.get(f"/api/v1/screenings/{rec['id']}").status_code == 404
    assert other.get(f"/api/v1/screening-plans/{plan['id']}").status_code == 404
    assert other.get("/api/v1/screenings").json()["total"] == 0
    assert other.get("/api/v1/screening-plans").json()["total"] == 0
    assert other.post("/api/v1/screenings", json=record_body(woman["id"])).status_code == 404
    rep = login("village_rep", tree.village_a1)
    assert rep.get(f"/api/v1/screenings/{rec['id']}").status_code == 200
    assert login("village_rep", tree.village_a2).get(f"/api/v1/screenings/{rec['id']}").status_code == 404
    # A village rep registers women but does not enter results.
    assert rep.post("/api/v1/screenings", json=record_body(woman["id"])).status_code == 403


def test_records_list_filters(cadre_a, woman):
    cadre_a.post("/api/v1/screenings", json=record_body(woman["id"]))
    cadre_a.post("/api/v1/screenings", json=record_body(woman["id"], result="abnormal", tbs="HSIL"))
    assert cadre_a.get("/api/v1/screenings?result=abnormal").json()["total"] == 1
    assert cadre_a.get(f"/api/v1/screenings?woman_id={woman['id']}&kind=cervical").json()["total"] == 2
    assert cadre_a.get("/api/v1/screenings?kind=breast").json()["total"] == 0
    assert cadre_a.get("/api/v1/screenings?format=xlsx").content[:2] == b"PK"


def test_records_list_takes_a_from_to_period(cadre_a, woman):
    year = date.today().year
    cadre_a.post("/api/v1/screenings", json=record_body(woman["id"], screened_on=f"{year - 1}-06-30"))
    cadre_a.post("/api/v1/screenings", json=record_body(woman["id"], screened_on=f"{year - 1}-07-01"))
    cadre_a.post("/api/v1/screenings", json=record_body(woman["id"]))

    def screened(query: str) -> list[str]:
        return sorted(r["screened_on"] for r in cadre_a.get(f"/api/v1/screenings?{query}").json()["items"])

    assert screened(f"from={year - 1}-07-01") == [f"{year - 1}-07-01", date.today().isoformat()]
    assert screened(f"to={year - 1}-07-01") == [
        f"{year - 1}-06-30",
        f"{year - 1}-07-01",
    ]  # both ends inclusive
    assert screened(f"from={year - 1}-06-30&to={year - 1}-06-30") == [f"{year - 1}-06-30"]


def test_manual_create_is_idempotent_with_a_key(cadre_a, woman):
    headers = {"Idempotency-Key": "phone-retry-1"}
    first = cadre_a.post("/api/v1/screenings", json=record_body(woman["id"]), headers=headers)
    second = cadre_a.post("/api/v1/screenings", json=record_body(woman["id"]), headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] == second.json()["id"]
    assert second.headers.get("idempotent-replayed") == "true"
    assert cadre_a.get(f"/api/v1/screenings?woman_id={woman['id']}").json()["total"] == 1


def test_moving_a_woman_takes_her_history_along(cadre_a, woman, login, tree):
    rec = cadre_a.post(
        "/api/v1/screenings", json=record_body(woman["id"], result="abnormal", tbs="LSIL")
    ).json()
    moved = cadre_a.patch(f"/api/v1/women/{woman['id']}", json={"branch_id": tree.village_a2.id})
    assert moved.status_code == 200 and moved.json()["branch_id"] == tree.village_a2.id
    rep_a2 = login("village_rep", tree.village_a2)
    assert rep_a2.get(f"/api/v1/screenings/{rec['id']}").status_code == 200
    assert rep_a2.get(f"/api/v1/follow-ups/{rec['follow_up_id']}").status_code == 200
    assert (
        login("village_rep", tree.village_a1).get(f"/api/v1/follow-ups/{rec['follow_up_id']}").status_code
        == 404
    )
    # Not into a branch outside the caller's subtree.
    assert (
        cadre_a.patch(f"/api/v1/women/{woman['id']}", json={"branch_id": tree.village_b1.id}).status_code
        == 404
    )


def test_delete_rules(cadre_a, woman, register):
    rec = cadre_a.post("/api/v1/screenings", json=record_body(woman["id"])).json()
    assert cadre_a.delete(f"/api/v1/women/{woman['id']}").status_code == 409
    assert cadre_a.delete(f"/api/v1/screenings/{rec['id']}").status_code == 204
    assert cadre_a.get(f"/api/v1/screenings/{rec['id']}").status_code == 404
    assert cadre_a.delete(f"/api/v1/women/{woman['id']}").status_code == 204
    assert cadre_a.get(f"/api/v1/women/{woman['id']}").status_code == 404
    other = register(101)
    followed = cadre_a.post(
        "/api/v1/screenings", json=record_body(other["id"], result="abnormal", tbs="HSIL")
    ).json()
    cadre_a.post(f"/api/v1/follow-ups/{followed['follow_up_id']}/actions/notify", json={})
    assert cadre_a.delete(f"/api/v1/screenings/{followed['id']}").status_code == 409


def test_plan_update_and_delete(cadre_a, login, tree):
    plan = cadre_a.post("/api/v1/screening-plans", json={"year": 2030, "target_count": 10}).json()
    assert plan["branch_id"] == tree.town_a.id
    r = cadre_a.patch(f"/api/v1/screening-plans/{plan['id']}", json={"target_count": 12, "budget": "800.50"})
    assert r.json()["target_count"] == 12 and r.json()["budget"] == "800.50"
    assert (
        login("cadre", tree.town_b)
        .patch(f"/api/v1/screening-plans/{plan['id']}", json={"target_count": 1})
        .status_code
        == 404
    )
    assert cadre_a.delete(f"/api/v1/screening-plans/{plan['id']}").status_code == 204
    assert cadre_a.post("/api/v1/screening-plans", json={"year": 2030, "target_count": 3}).status_code == 201
    assert (
        login("village_rep", tree.village_a1)
        .post("/api/v1/screening-plans", json={"year": 2031, "target_count": 3})
        .status_code
        == 403
    )
