from datetime import timedelta

from backend.core.clock import today_in_china
from backend.members.models import Member


def home_body(branch, **extra) -> dict:
    return {
        "name": "甲一村留守儿童之家",
        "branch_id": branch.id,
        "host": "village_room",
        "level": "township_demo",
        "opening_hours": "周六、周日 9:00-17:00",
        "books_count": 800,
        "has_tv": True,
        "has_phone": True,
        "has_video_call": True,
        "desks": 12,
        **extra,
    }


def _member(session, branch, name: str) -> Member:
    member = Member(name=name)
    member.place_in(branch)
    session.add(member)
    session.commit()
    return member


def test_homes_crud_with_manager_and_supervisor(cadre_a, tree, session):
    manager, supervisor = _member(session, tree.village_a1, "王秀兰"), _member(session, tree.town_a, "刘芳")
    r = cadre_a.post(
        "/api/v1/children-homes",
        json=home_body(tree.village_a1, manager_member_id=manager.id, supervisor_member_id=supervisor.id),
    )
    assert r.status_code == 201, r.text
    home = r.json()
    assert (
        home["manager_name"] == "王秀兰" and home["supervisor_name"] == "刘芳" and home["condition"] == "good"
    )
    assert home["branch_name"] == "甲一村" and home["last_inspected_on"] is None
    path = f"/api/v1/children-homes/{home['id']}"
    r = cadre_a.patch(path, json={"books_count": 950, "has_computer": True})
    assert r.status_code == 200 and r.json()["books_count"] == 950 and r.json()["has_computer"] is True
    assert cadre_a.patch(path, json={"condition": "good"}).status_code == 422  # only an inspection sets it
    assert cadre_a.delete(path).status_code == 204
    assert cadre_a.get(path).status_code == 404


def test_a_school_home_names_its_school_and_members_must_be_in_scope(cadre_a, tree, session):
    r = cadre_a.post("/api/v1/children-homes", json=home_body(tree.village_a1, host="school"))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "school_name"
    stranger = _member(session, tree.village_b1, "赵敏")
    r = cadre_a.post("/api/v1/children-homes", json=home_body(tree.village_a1, manager_member_id=stranger.id))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "manager_member_id"
    r = cadre_a.post(
        "/api/v1/children-homes", json=home_body(tree.village_a1, host="school", school_name="甲镇中心小学")
    )
    assert r.status_code == 201 and r.json()["school_name"] == "甲镇中心小学"


def test_inspections_set_the_condition_and_broken_homes_come_first(cadre_a, rep_a1, tree):
    good = cadre_a.post("/api/v1/children-homes", json=home_body(tree.village_a1, name="A 之家")).json()
    bad = cadre_a.post("/api/v1/children-homes", json=home_body(tree.village_a2, name="B 之家")).json()
    worn = cadre_a.post("/api/v1/children-homes", json=home_body(tree.village_a2, name="C 之家")).json()
    today = today_in_china()
    r = cadre_a.post(
        f"/api/v1/children-homes/{bad['id']}/inspections",
        json={"condition": "broken", "findings": "屋顶漏雨,电话停机"},
    )
    assert r.status_code == 201, r.text
    assert r.json()["inspected_on"] == today.isoformat() and r.json()["inspector_name"] == "cadre"
    cadre_a.post(f"/api/v1/children-homes/{worn['id']}/inspections", json={"condition": "needs_repair"})
    # An older inspection entered late does not undo the latest one.
    older = (today - timedelta(days=30)).isoformat()
    cadre_a.post(
        f"/api/v1/children-homes/{bad['id']}/inspections", json={"condition": "good", "inspected_on": older}
    )
    home = cadre_a.get(f"/api/v1/children-homes/{bad['id']}").json()
    assert home["condition"] == "broken" and home["last_inspected_on"] == today.isoformat()
    listed = cadre_a.get(f"/api/v1/children-homes/{bad['id']}/inspections").json()
    assert [i["inspected_on"] for i in listed["items"]] == [today.isoformat(), older]

    names = [h["name"] for h in cadre_a.get("/api/v1/children-homes").json()["items"]]
    assert names == ["B 之家", "C 之家", "A 之家"]
    attention = cadre_a.get("/api/v1/children-homes", params={"needs_attention": True}).json()["items"]
    assert sorted(h["id"] for h in attention) == sorted([bad["id"], worn["id"]])
    assert [
        h["id"] for h in cadre_a.get("/api/v1/children-homes", params={"condition": "good"}).json()["items"]
    ] == [good["id"]]
    # A village rep records what her home has, but does not inspect it.
    mine = rep_a1.post("/api/v1/children-homes", json=home_body(tree.village_a1, name="D 之家")).json()
    assert (
        rep_a1.post(
            f"/api/v1/children-homes/{mine['id']}/inspections", json={"condition": "good"}
        ).status_code
        == 403
    )
    future = (today + timedelta(days=1)).isoformat()
    r = cadre_a.post(
        f"/api/v1/children-homes/{good['id']}/inspections", json={"condition": "good", "inspected_on": future}
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "inspected_on"


def test_family_calls_at_a_home(cadre_a, tree, register, login):
    home = cadre_a.post("/api/v1/children-homes", json=home_body(tree.village_a1)).json()
    child = register(41)
    path = f"/api/v1/children-homes/{home['id']}/calls"
    r = cadre_a.post(
        path, json={"child_id": child["id"], "minutes": 15, "with_whom": "mother", "note": "视频"}
    )
    assert r.status_code == 201, r.text
    assert r.json()["child_name"] == "小明41" and r.json()["held_on"] == today_in_china().isoformat()
    listed = cadre_a.get(path).json()
    assert listed["total"] == 1 and listed["items"][0]["with_whom"] == "mother"
    # A child the caller cannot see is not recorded at her home.
    far = register(42, branch=tree.village_b1, client=login("cadre", tree.town_b))
    r = cadre_a.post(path, json={"child_id": far["id"], "minutes": 5, "with_whom": "father"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "child_id"
    assert (
        cadre_a.post(path, json={"child_id": child["id"], "minutes": 0, "with_whom": "father"}).status_code
        == 422
    )


def test_a_sibling_branch_gets_404_for_homes(cadre_a, tree, login):
    home = cadre_a.post("/api/v1/children-homes", json=home_body(tree.village_a1)).json()
    path = f"/api/v1/children-homes/{home['id']}"
    for client in (login("cadre", tree.town_b), login("village_rep", tree.village_a2)):
        assert client.get(path).status_code == 404
        assert client.patch(path, json={"desks": 1}).status_code == 404
        assert client.get(f"{path}/inspections").status_code == 404
        assert client.get(f"{path}/calls").status_code == 404
        assert (
            client.post(
                f"{path}/calls", json={"child_id": 1, "minutes": 5, "with_whom": "father"}
            ).status_code
            == 404
        )
        assert client.get("/api/v1/children-homes").json()["items"] == []
    assert (
        login("cadre", tree.town_b).post(f"{path}/inspections", json={"condition": "good"}).status_code == 404
    )


def test_a_left_behind_childrens_activity_can_name_its_home(cadre_a, tree, login):
    home = cadre_a.post("/api/v1/children-homes", json=home_body(tree.village_a1)).json()
    body = {"type": "left_behind_children", "title": "暑期课业辅导", "branch_id": tree.village_a1.id}
    r = cadre_a.post("/api/v1/activities", json={**body, "home_id": home["id"]})
    assert r.status_code == 201, r.text
    assert r.json()["home_id"] == home["id"]
    assert cadre_a.get(f"/api/v1/activities/{r.json()['id']}").json()["home_id"] == home["id"]
    r = cadre_a.post("/api/v1/activities", json={**body, "type": "training", "home_id": home["id"]})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "home_id"
    other = login("cadre", tree.town_b)
    r = other.post(
        "/api/v1/activities", json={**body, "branch_id": tree.village_b1.id, "home_id": home["id"]}
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "home_id"
