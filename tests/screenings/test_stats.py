from datetime import date

import pytest

from backend.core.clock import today_in_china
from tests.screenings.conftest import record_body

YEAR = date.today().year


def whole(year: int) -> str:
    """The query for a whole calendar year."""
    return f"from={year}-01-01&to={year}-12-31"


@pytest.fixture
def figures(cadre_a, register, login, tree):
    """Town A: plan 4 (village A1 has its own plan of 2 inside it); 3 women screened, 5 records."""
    admin = login("county_admin", tree.county)
    assert (
        admin.post(
            "/api/v1/screening-plans", json={"year": YEAR, "branch_id": tree.town_a.id, "target_count": 4}
        ).status_code
        == 201
    )
    admin.post(
        "/api/v1/screening-plans", json={"year": YEAR, "branch_id": tree.village_a1.id, "target_count": 2}
    )
    admin.post(
        "/api/v1/screening-plans", json={"year": YEAR, "branch_id": tree.town_b.id, "target_count": 10}
    )
    admin.post(
        "/api/v1/screening-plans", json={"year": YEAR - 1, "branch_id": tree.town_a.id, "target_count": 99}
    )
    w1, w2, w3 = register(301), register(302), register(303)
    w4 = register(304, branch=tree.village_b1, client=admin)
    post = cadre_a.post
    post("/api/v1/screenings", json=record_body(w1["id"]))
    post(
        "/api/v1/screenings",
        json=record_body(w1["id"], kind="breast", method="ultrasound", tbs=None, birads=1),
    )
    cancer = post("/api/v1/screenings", json=record_body(w2["id"], result="abnormal", tbs="HSIL")).json()
    lost = post(
        "/api/v1/screenings",
        json=record_body(
            w3["id"], kind="breast", method="mammography", tbs=None, birads=4, result="suspected_positive"
        ),
    ).json()
    post("/api/v1/screenings", json=record_body(w3["id"], screened_on=date(YEAR - 1, 6, 1).isoformat()))
    admin.post("/api/v1/screenings", json=record_body(w4["id"], result="abnormal", tbs="LSIL"))
    fu = cancer["follow_up_id"]
    for action, body in (
        ("notify", {}),
        ("recheck", {}),
        ("diagnose", {"diagnosis": "cancer"}),
        ("treat", {}),
        ("close", {}),
    ):
        assert post(f"/api/v1/follow-ups/{fu}/actions/{action}", json=body).status_code == 200
    post(f"/api/v1/follow-ups/{lost['follow_up_id']}/actions/lose", json={"reason": "搬走了"})
    return admin


def test_township_figures_are_counted_from_rows(figures, tree):
    s = figures.get(f"/api/v1/screenings/stats?under={tree.town_a.id}&{whole(YEAR)}").json()
    assert s["target"] == 4  # the village's plan is inside the township's, not added to it
    assert s["screened"] == 3  # distinct women, not 4 records
    assert s["coverage"] == 0.75 and s["coverage_above_target"] is False
    assert s["by_kind"]["cervical"] == {
        "records": 2,
        "women": 2,
        "abnormal": 1,
        "abnormal_rate": 0.5,
        "confirmed_cancers": 1,
    }
    assert s["by_kind"]["breast"]["records"] == 2 and s["by_kind"]["breast"]["abnormal"] == 1
    fu = s["follow_up"]
    assert fu["total"] == 2 and fu["completed"] == 1 and fu["completion_rate"] == 0.5
    assert fu["lost"] == 1 and fu["lost_rate"] == 0.5 and fu["by_status"]["closed"] == 1
    assert s["confirmed_cancers"] == 1


def test_coverage_above_100_percent_is_shown_and_flagged(figures, tree):
    s = figures.get(f"/api/v1/screenings/stats?under={tree.village_a1.id}&{whole(YEAR)}").json()
    assert s["target"] == 2 and s["screened"] == 3
    assert s["coverage"] == 1.5 and s["coverage_above_target"] is True


def test_figures_by_unit_below(figures, tree):
    s = figures.get(f"/api/v1/screenings/stats?under={tree.town_a.id}&{whole(YEAR)}").json()
    assert s["children"] == [
        {
            "branch_id": tree.village_a1.id,
            "name": "甲一村",
            "target": 2,
            "screened": 3,
            "coverage": 1.5,
            "coverage_above_target": True,
            "abnormal": 2,
            "lost": 1,
        },
        {
            "branch_id": tree.village_a2.id,
            "name": "甲二村",
            "target": 0,
            "screened": 0,
            "coverage": None,
            "coverage_above_target": False,
            "abnormal": 0,
            "lost": 0,
        },
    ]
    county = figures.get(f"/api/v1/screenings/stats?{whole(YEAR)}").json()["children"]
    assert [(c["name"], c["target"], c["screened"]) for c in county] == [("甲镇", 4, 3), ("乙镇", 10, 1)]


def test_county_adds_up_townships_and_other_years_stay_out(figures, tree):
    s = figures.get(f"/api/v1/screenings/stats?{whole(YEAR)}").json()
    assert s["target"] == 14 and s["screened"] == 4
    last = figures.get(f"/api/v1/screenings/stats?{whole(YEAR - 1)}").json()
    assert last["target"] == 99 and last["screened"] == 1 and last["follow_up"]["total"] == 0


def test_figures_respect_scope(figures, login, tree):
    b = login("cadre", tree.town_b)
    assert b.get(f"/api/v1/screenings/stats?under={tree.town_a.id}").status_code == 404
    own = b.get(f"/api/v1/screenings/stats?{whole(YEAR)}").json()
    assert own["screened"] == 1 and own["target"] == 10
    leader = login("leader", tree.county)
    assert leader.get(f"/api/v1/screenings/stats?{whole(YEAR)}").json()["screened"] == 4
    assert login("village_rep", tree.village_a1).get("/api/v1/screenings/stats").status_code == 403


def test_empty_subtree_has_no_rates(login, tree):
    s = login("cadre", tree.town_b).get(f"/api/v1/screenings/stats?{whole(2001)}").json()
    assert s["coverage"] is None and s["screened"] == 0 and s["by_kind"]["cervical"]["abnormal_rate"] is None


def test_a_period_across_two_years_takes_both_years_plans(figures, tree):
    s = figures.get(
        f"/api/v1/screenings/stats?under={tree.town_a.id}&from={YEAR - 1}-06-01&to={YEAR}-12-31"
    ).json()
    assert s["period"] == {"from": f"{YEAR - 1}-06-01", "to": f"{YEAR}-12-31"}
    assert s["plan_years"] == [YEAR - 1, YEAR]
    assert s["target"] == 99 + 4  # each year's topmost plans, added up
    assert s["screened"] == 3 and s["by_kind"]["cervical"]["records"] == 3
    # Without a period: this year so far.
    default = figures.get(f"/api/v1/screenings/stats?under={tree.town_a.id}").json()
    assert default["period"] == {"from": f"{YEAR}-01-01", "to": today_in_china().isoformat()}
    assert default["plan_years"] == [YEAR] and default["target"] == 4
    # A record screened before the period starts stays out.
    late = figures.get(
        f"/api/v1/screenings/stats?under={tree.town_a.id}&from={YEAR - 1}-07-01&to={YEAR}-12-31"
    )
    assert late.json()["by_kind"]["cervical"]["records"] == 2
    assert figures.get("/api/v1/screenings/stats?from=2026-02-01&to=2026-01-01").status_code == 422
