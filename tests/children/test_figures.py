"""`GET /children/stats`: every figure checked against rows the test makes, for one subtree and one period."""

from datetime import timedelta

from backend.core.clock import today_in_china
from tests.children.pairing_support import P, activate, make_member, propose, visit_body

S = "/api/v1/children/stats"
H = "/api/v1/children-homes"


def _day(offset: int) -> str:
    return (today_in_china() + timedelta(days=offset)).isoformat()


def _home(client, branch, name: str, **extra) -> dict:
    body = {"name": name, "branch_id": branch.id, "host": "village_room", "has_phone": True, **extra}
    r = client.post(H, json=body)
    assert r.status_code == 201, r.text
    return r.json()


def _visit(client, pairing_id: int, offset: int) -> None:
    r = client.post(f"{P}/{pairing_id}/visits", json=visit_body(today_in_china() + timedelta(days=offset)))
    assert r.status_code == 201, r.text


def _build(cadre_a, register, session, tree, login):
    cadre_b = login("cadre", tree.town_b)
    member_a = make_member(session, tree.village_a1)
    member_b = make_member(session, tree.village_b1)
    # Township A: five active children and one whose parents came back.
    c1 = register(301)
    c2 = register(302)
    c3 = register(303, category="hardship")
    c4 = register(304, category="orphan")
    c5 = register(305)
    cadre_a.patch(f"/api/v1/children/{c5['id']}", json={"status": "parents_returned"})
    c6 = register(306, branch=tree.village_a2, category="left_behind_one_parent", school="甲二村小学")
    # Township B: one child, paired and visited, a school home of the same name as c6's school.
    b1 = register(307, branch=tree.village_b1, client=cadre_b, school="甲二村小学")

    # X: every 30 days from day -100; visits on -75 (due -70), -40 (due -45, late), -20 (due -10, on time).
    x = activate(cadre_a, propose(cadre_a, c1["id"], member_a.id, starts_on=_day(-100))["id"])
    for offset in (-75, -40, -20):
        _visit(cadre_a, x["id"], offset)
    # Y: from day -50, never visited: due on -20, missed.
    activate(cadre_a, propose(cadre_a, c2["id"], member_a.id, starts_on=_day(-50))["id"])
    propose(cadre_a, c4["id"], member_a.id)
    z = activate(cadre_b, propose(cadre_b, b1["id"], member_b.id, starts_on=_day(-40))["id"])
    _visit(cadre_b, z["id"], -30)

    school_home = _home(
        cadre_a, tree.town_a, "甲镇中心小学儿童之家", host="school", school_name="桃源县第一小学"
    )
    broken = _home(cadre_a, tree.village_a1, "甲一村儿童之家")
    repair = _home(cadre_a, tree.village_a2, "甲二村儿童之家")
    for home, condition in ((broken, "broken"), (repair, "needs_repair")):
        r = cadre_a.post(f"{H}/{home['id']}/inspections", json={"condition": condition, "findings": "见记录"})
        assert r.status_code == 201, r.text
    _home(cadre_b, tree.village_b1, "乙一村儿童之家", host="school", school_name="甲二村小学")
    calls = f"{H}/{school_home['id']}/calls"
    for minutes, offset in ((10, -5), (15, -59), (20, -90)):
        r = cadre_a.post(
            calls,
            json={"child_id": c3["id"], "minutes": minutes, "with_whom": "both", "held_on": _day(offset)},
        )
        assert r.status_code == 201, r.text
    return {"c6": c6, "x": x}


def test_every_figure_counts_the_rows_of_the_subtree_and_period(cadre_a, register, session, tree, login):
    _build(cadre_a, register, session, tree, login)
    r = cadre_a.get(S, params={"from": _day(-60), "to": _day(0)})
    assert r.status_code == 200, r.text
    s = r.json()
    assert s["period"] == {"from": _day(-60), "to": _day(0)}
    assert s["branch_id"] == tree.town_a.id
    assert s["children_total"] == 6
    by_status = {x["status"]: x["count"] for x in s["by_status"]}
    assert by_status == {"active": 5, "parents_returned": 1, "aged_out": 0, "moved_away": 0}
    by_category = {x["category"]: x["count"] for x in s["active_by_category"]}
    assert by_category == {
        "left_behind_both_parents": 2,
        "left_behind_one_parent": 1,
        "hardship": 1,
        "de_facto_unsupported": 0,
        "orphan": 1,
    }
    assert {x["status"]: x["count"] for x in s["pairings_by_status"]} == {
        "proposed": 1,
        "active": 2,
        "ended": 0,
    }
    assert s["overdue_pairings"] == 1
    # c1 and c2 of the five active children have an active pairing.
    assert s["pairing_coverage"] == {"numerator": 2, "denominator": 5, "rate": 0.4}
    assert s["visits_in_period"] == 2
    # Due in the period: X's visits due on -45 (late) and -10 (on time), and Y's missed -20.
    assert s["visits_on_time"] == {"numerator": 1, "denominator": 3, "rate": 0.3333}
    # Three homes for three left-behind children (c1, c2 both parents away; c6 one).
    assert s["homes"] == {"total": 3, "broken": 1, "needs_repair": 1, "per_1000_left_behind": 1000.0}
    # Schools of active children: 桃源县第一小学 (has a home at it), 甲二村小学 (its home is in township B).
    assert s["schools_with_home"] == {"numerator": 1, "denominator": 2, "rate": 0.5}
    assert s["family_calls"] == {"sessions": 2, "minutes": 25}


def test_the_subtree_and_the_period_move_the_figures(cadre_a, register, session, tree, login):
    _build(cadre_a, register, session, tree, login)
    admin = login("county_admin", tree.county)
    county = admin.get(S, params={"from": _day(-60), "to": _day(0)}).json()
    assert county["branch_id"] == tree.county.id
    assert county["children_total"] == 7
    assert county["pairing_coverage"] == {"numerator": 3, "denominator": 6, "rate": 0.5}
    # Z's visit on −30 was due on −10 (its start −40 + 30 days): on time.
    assert county["visits_on_time"] == {"numerator": 2, "denominator": 4, "rate": 0.5}
    # In the county both schools have a home at them.
    assert county["schools_with_home"] == {"numerator": 2, "denominator": 2, "rate": 1.0}
    assert county["homes"]["total"] == 4
    village = admin.get(S, params={"under": tree.village_a2.id, "from": _day(-60)}).json()
    assert village["children_total"] == 1
    assert village["pairing_coverage"] == {"numerator": 0, "denominator": 1, "rate": 0.0}
    assert village["homes"] == {"total": 1, "broken": 0, "needs_repair": 1, "per_1000_left_behind": 1000.0}
    assert village["visits_on_time"] == {"numerator": 0, "denominator": 0, "rate": None}
    # A longer period takes the older call and X's first visit (due on −70, on time) in.
    longer = cadre_a.get(S, params={"from": _day(-100), "to": _day(0)}).json()
    assert longer["family_calls"] == {"sessions": 3, "minutes": 45}
    assert longer["visits_in_period"] == 3
    assert longer["visits_on_time"] == {"numerator": 2, "denominator": 4, "rate": 0.5}


def test_stats_are_scoped_and_need_the_registry_permission(cadre_a, tree, login):
    cadre_b = login("cadre", tree.town_b)
    assert cadre_b.get(S, params={"under": tree.town_a.id}).status_code == 404
    assert login("carer", tree.village_a1).get(S).status_code == 403
    assert login("leader", tree.county).get(S).status_code == 200
    assert cadre_a.get(S, params={"from": _day(0), "to": _day(-1)}).status_code == 422
