from datetime import timedelta

import pytest

from backend.core.clock import today_in_china
from tests.activities.conftest import ago, ahead

BASE = "/api/v1/activities"
INACTIVE = "/api/v1/branches/inactive"


@pytest.fixture
def village_work(login, tree, report):
    rep_a1 = login("village_rep", tree.village_a1)
    rep_a2 = login("village_rep", tree.village_a2)
    rep_b1 = login("village_rep", tree.village_b1)
    cadre_a = login("cadre", tree.town_a)
    report(rep_a1, type="training", title="家政培训", starts_at=ago(days=10), participants=30, households=25)
    talk = report(rep_a1, type="health_talk", title="两癌讲座", starts_at=ago(days=2))
    rep_a1.post(f"{BASE}/{talk['id']}/sign-ins", json={"head_count": 12})
    rep_a2.post(BASE, json={"type": "training", "title": "下月培训", "starts_at": ahead(days=20)})
    gone = report(rep_a2, type="other", title="删掉的", starts_at=ago(days=3))
    rep_a2.delete(f"{BASE}/{gone['id']}")
    report(rep_b1, type="culture_sport", title="老活动", starts_at=ago(days=200), participants=80)
    report(cadre_a, type="family_education", title="家长学校", starts_at=ago(days=5), participants=100)
    return rep_a1


def _names(r):
    assert r.status_code == 200, r.text
    return [b["name"] for b in r.json()["items"]]


def test_inactive_villages_for_each_level(login, tree, village_work):
    admin = login("county_admin", tree.county)
    assert _names(admin.get(INACTIVE, params={"days": 90})) == ["甲二村", "乙一村", "乙二村"]
    assert _names(admin.get(INACTIVE)) == ["甲二村", "乙一村", "乙二村"]  # 90 by default
    assert _names(admin.get(INACTIVE, params={"days": 365})) == ["甲二村", "乙二村"]
    assert _names(admin.get(INACTIVE, params={"sort": "last_held_at"})) == ["甲二村", "乙二村", "乙一村"]
    assert _names(admin.get(INACTIVE, params={"sort": "-last_held_at"})) == ["乙一村", "乙二村", "甲二村"]
    assert _names(admin.get(INACTIVE, params={"under": tree.town_b.id})) == ["乙一村", "乙二村"]
    rows = {b["name"]: b for b in admin.get(INACTIVE).json()["items"]}
    assert rows["乙一村"]["last_held_at"] is not None and rows["乙一村"]["parent_name"] == "乙镇"
    assert rows["甲二村"]["last_held_at"] is None  # planned and deleted do not count
    assert _names(login("cadre", tree.town_a).get(INACTIVE)) == ["甲二村"]
    assert _names(login("village_rep", tree.village_a2).get(INACTIVE)) == ["甲二村"]
    assert _names(village_work.get(INACTIVE)) == []
    assert login("cadre", tree.town_a).get(INACTIVE, params={"under": tree.town_b.id}).status_code == 404
    assert admin.get(INACTIVE, params={"days": 0}).status_code == 422
    assert admin.get(INACTIVE, params={"format": "xlsx"}).content[:2] == b"PK"
    # The route is not mistaken for a branch id.
    assert admin.get(f"/api/v1/branches/{tree.town_a.id}").json()["name"] == "甲镇"


def test_activity_figures_for_a_subtree_and_period(login, tree, session, village_work):
    today = today_in_china()
    tree.town_b.term_due_on = today - timedelta(days=400)
    tree.village_a1.term_due_on = today + timedelta(days=30)
    tree.village_a2.term_due_on = today + timedelta(days=300)
    session.add_all([tree.town_b, tree.village_a1, tree.village_a2])
    session.commit()
    admin = login("county_admin", tree.county)
    m1 = admin.post("/api/v1/members", json={"name": "王秀英", "branch_id": tree.village_a1.id}).json()
    admin.post("/api/v1/members", json={"name": "李桂兰", "branch_id": tree.village_b1.id})
    admin.post(f"/api/v1/members/{m1['id']}/trainings", json={"course": "基层妇联干部培训", "hours": 8})

    start = today - timedelta(days=60)
    r = admin.get(f"{BASE}/stats", params={"from": start.isoformat(), "to": today.isoformat()})
    assert r.status_code == 200, r.text
    s = r.json()
    assert s["branch_id"] == tree.county.id
    assert s["period"] == {"from": start.isoformat(), "to": today.isoformat()}
    assert s["activities"] == 3 and s["held"] == 3 and s["planned"] == 0
    assert s["participants"] == 30 + 12 + 100  # the talk counts its sign-ins
    assert s["households"] == 25
    assert {t["type"]: (t["activities"], t["participants"]) for t in s["by_type"]} == {
        "training": (1, 30),
        "health_talk": (1, 12),
        "family_education": (1, 100),
    }
    months = s["by_month"]
    assert months[0]["month"] == start.strftime("%Y-%m") and months[-1]["month"] == today.strftime("%Y-%m")
    assert sum(m["activities"] for m in months) == 3
    assert (s["villages"], s["villages_active"], s["villages_active_share"]) == (4, 1, 0.25)
    assert (s["members"], s["members_trained_this_year"]) == (2, 1)
    assert (s["terms_overdue"], s["terms_due_soon"]) == (1, 1)

    year = admin.get(f"{BASE}/stats", params={"from": (today - timedelta(days=300)).isoformat()}).json()
    assert year["activities"] == 4 and year["villages_active"] == 2

    town_b = login("cadre", tree.town_b).get(f"{BASE}/stats", params={"from": start.isoformat()}).json()
    assert (town_b["activities"], town_b["villages"], town_b["villages_active"]) == (0, 2, 0)
    assert (town_b["members"], town_b["terms_overdue"]) == (1, 1)
    village = village_work.get(f"{BASE}/stats", params={"from": start.isoformat()}).json()
    assert (village["branch_id"], village["activities"], village["villages_active_share"]) == (
        tree.village_a1.id,
        2,
        1.0,
    )


def test_figures_are_scoped_and_checked(login, tree):
    cadre_a = login("cadre", tree.town_a)
    assert cadre_a.get(f"{BASE}/stats", params={"under": tree.town_b.id}).status_code == 404
    assert cadre_a.get(f"{BASE}/stats", params={"under": tree.county.id}).status_code == 404
    bad = cadre_a.get(f"{BASE}/stats", params={"from": "2026-05-01", "to": "2026-04-01"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "from"
    assert cadre_a.get(f"{BASE}/stats", params={"from": "2020-01-01", "to": "2026-01-01"}).status_code == 422
    assert login("hotline_operator", tree.county).get(f"{BASE}/stats").status_code == 403
    assert login("leader", tree.county).get(f"{BASE}/stats").status_code == 200
