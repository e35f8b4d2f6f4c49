"""GET /reports/overview: one subtree's figures in one call, scoped like every other read."""

from datetime import timedelta

from backend.core.clock import today_in_china

URL = "/api/v1/reports/overview"


def test_branch_figures_of_the_callers_subtree_and_of_a_chosen_branch(admin, tree, session):
    tree.village_a1.term_due_on = today_in_china() - timedelta(days=3)
    tree.village_a2.term_due_on = today_in_china() + timedelta(days=30)
    tree.village_b1.womens_home = {"venue": "村部", "has_venue": True}
    session.add_all([tree.village_a1, tree.village_a2, tree.village_b1])
    session.commit()

    whole = admin.get(URL)
    assert whole.status_code == 200, whole.text
    body = whole.json()
    assert body["branch"] == {"id": tree.county.id, "name": "测试县", "kind": "county"}
    assert body["branches"] == {
        "total": 7,
        "villages": 4,
        "womens_homes": 1,
        "terms_overdue": 1,
        "terms_due_soon": 1,
    }
    assert body["period"]["from"].endswith("-01-01") and body["period"]["to"] == today_in_china().isoformat()

    town_a = admin.get(URL, params={"under": tree.town_a.id}).json()
    assert town_a["branch"]["name"] == "甲镇"
    assert town_a["branches"]["total"] == 3
    assert town_a["branches"]["womens_homes"] == 0


def test_a_sibling_township_cannot_read_another_ones_figures(login, tree):
    cadre_b = login("cadre", tree.town_b)
    assert cadre_b.get(URL, params={"under": tree.town_a.id}).status_code == 404
    own = cadre_b.get(URL).json()
    assert own["branch"]["id"] == tree.town_b.id
    assert own["branches"]["total"] == 3


def test_sections_follow_the_callers_permissions(login, tree):
    leader = login("leader", tree.county).get(URL).json()
    assert leader["tickets"] is not None and leader["screening"] is not None
    assert leader["activities"] is not None and leader["volunteers"] is not None
    rep = login("village_rep", tree.village_a1).get(URL).json()
    assert rep["tickets"] is None  # village reps have no tickets:stats
    assert rep["screening"] is None
    assert rep["branches"]["total"] == 1


def test_tickets_and_activities_are_counted_in_their_subtree_and_period(login, tree):
    operator = login("hotline_operator", tree.county)
    created = operator.post(
        "/api/v1/tickets",
        json={
            "channel": "phone",
            "branch_id": tree.village_a1.id,
            "category": "consultation",
            "summary": "咨询离婚财产分割",
        },
    )
    assert created.status_code == 201, created.text
    # Tickets count where they are handled (the owning branch), so route it to the township.
    assigned = operator.post(
        f"/api/v1/tickets/{created.json()['id']}/actions/assign", json={"branch_id": tree.town_a.id}
    )
    assert assigned.status_code == 200, assigned.text
    rep = login("village_rep", tree.village_a1)
    activity = rep.post(
        "/api/v1/activities", json={"type": "health_talk", "title": "两癌知识讲座", "participants": 30}
    )
    assert activity.status_code == 201, activity.text

    admin = login("county_admin", tree.county)
    town_a = admin.get(URL, params={"under": tree.town_a.id}).json()
    town_b = admin.get(URL, params={"under": tree.town_b.id}).json()
    assert town_a["tickets"]["total"] == 1 and town_b["tickets"]["total"] == 0
    assert town_a["activities"]["activities"] == 1 and town_b["activities"]["activities"] == 0

    last_year = today_in_china().replace(month=1, day=1) - timedelta(days=1)
    old = admin.get(
        URL,
        params={
            "under": tree.town_a.id,
            "from": last_year.replace(month=1, day=1).isoformat(),
            "to": last_year.isoformat(),
        },
    ).json()
    assert old["tickets"]["total"] == 0 and old["activities"]["activities"] == 0


def test_a_period_that_ends_before_it_starts_is_refused_at_the_field(admin):
    answer = admin.get(URL, params={"from": "2026-05-01", "to": "2026-04-01"})
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == "from"


def test_only_readers_of_reports_may_ask(anon):
    assert anon.get(URL).status_code == 401
