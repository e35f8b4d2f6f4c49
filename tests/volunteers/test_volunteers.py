from datetime import timedelta

import pytest

from backend.core.clock import today_in_china

TEAMS = "/api/v1/volunteer-teams"
VOLUNTEERS = "/api/v1/volunteers"
RECORDS = "/api/v1/service-records"


@pytest.fixture
def team_a1(login, tree):
    """A village team whose leader has a village-rep login; a volunteer in it."""
    leader = login("village_rep", tree.village_a1, display_name="队长刘玉梅")
    cadre = login("cadre", tree.town_a)
    team = cadre.post(
        TEAMS,
        json={
            "name": "甲一村巾帼志愿服务队",
            "type": "elderly_care",
            "leader_name": "刘玉梅",
            "leader_phone": "13700001111",
            "leader_user_id": leader.account.id,
            "branch_id": tree.village_a1.id,
        },
    )
    assert team.status_code == 201, team.text
    vol = cadre.post(
        VOLUNTEERS,
        json={
            "team_id": team.json()["id"],
            "name": "陈海燕",
            "phone": "13612345678",
            "skills": ["理发", "陪护"],
        },
    )
    assert vol.status_code == 201, vol.text
    assert team.json()["branch_id"] == vol.json()["branch_id"] == tree.village_a1.id
    return {"team": team.json(), "volunteer": vol.json(), "leader": leader, "cadre": cadre}


def _report(api, volunteer_id, hours="2.5", **fields):
    body = {"volunteer_id": volunteer_id, "hours": hours, "target_group": "empty_nest_elderly"} | fields
    r = api.post(RECORDS, json=body)
    assert r.status_code == 201, r.text
    return r.json()


def test_team_always_has_a_leader_and_roster(login, tree, team_a1):
    cadre = team_a1["cadre"]
    assert cadre.post(TEAMS, json={"name": "无队长的队"}).status_code == 422
    team = cadre.get(f"{TEAMS}/{team_a1['team']['id']}").json()
    assert team["leader_name"] == "刘玉梅" and team["volunteers"] == 1 and team["branch_name"] == "甲一村"
    other = login("cadre", tree.town_b)
    assert (
        cadre.post(
            TEAMS, json={"name": "x", "leader_name": "y", "leader_user_id": other.account.id}
        ).status_code
        == 422
    )
    assert cadre.delete(f"{TEAMS}/{team['id']}").status_code == 409  # still has volunteers


def test_visibility_of_teams_volunteers_and_records(login, tree, team_a1):
    rep = team_a1["leader"]
    record = _report(rep, team_a1["volunteer"]["id"])
    town_team = (
        team_a1["cadre"]
        .post(TEAMS, json={"name": "甲镇家庭教育讲师团", "type": "family_education", "leader_name": "王老师"})
        .json()
    )
    urls = [
        f"{TEAMS}/{team_a1['team']['id']}",
        f"{VOLUNTEERS}/{team_a1['volunteer']['id']}",
        f"{RECORDS}/{record['id']}",
    ]
    for url in urls:
        assert rep.get(url).status_code == 200  # own village
        assert team_a1["cadre"].get(url).status_code == 200  # child, from the township
        assert login("village_rep", tree.village_a2).get(url).status_code == 404  # sibling village
        assert login("cadre", tree.town_b).get(url).status_code == 404  # sibling township
    assert rep.get(f"{TEAMS}/{town_team['id']}").status_code == 404  # parent's team
    sibling = login("village_rep", tree.village_a2)
    for url in (TEAMS, VOLUNTEERS, RECORDS):
        assert sibling.get(url).json()["total"] == 0
    assert {t["id"] for t in rep.get(TEAMS).json()["items"]} == {team_a1["team"]["id"]}
    assert team_a1["cadre"].get(TEAMS).json()["total"] == 2
    assert (
        sibling.post(
            RECORDS, json={"volunteer_id": team_a1["volunteer"]["id"], "hours": 1, "target_group": "other"}
        ).status_code
        == 422
    )


def test_volunteer_phone_is_masked_without_pii_read(team_a1):
    vid = team_a1["volunteer"]["id"]
    assert team_a1["cadre"].get(f"{VOLUNTEERS}/{vid}").json()["phone"] == "13612345678"
    seen = team_a1["leader"].get(f"{VOLUNTEERS}/{vid}").json()
    assert seen["phone"] == "136****5678" and seen["phone_masked"] is True
    assert team_a1["leader"].get(VOLUNTEERS).json()["items"][0]["phone"] == "136****5678"


def test_hours_reported_from_a_phone_with_defaults(team_a1):
    r = _report(team_a1["leader"], team_a1["volunteer"]["id"])
    assert r["status"] == "pending" and r["date"] == today_in_china().isoformat()
    assert r["branch_id"] == team_a1["team"]["branch_id"]
    assert r["volunteer_name"] == "陈海燕" and r["reported_by_name"] == "队长刘玉梅"
    vid = team_a1["volunteer"]["id"]
    rep = team_a1["leader"]
    tomorrow = (today_in_china() + timedelta(days=1)).isoformat()
    assert (
        rep.post(
            RECORDS, json={"volunteer_id": vid, "hours": 1, "target_group": "other", "date": tomorrow}
        ).status_code
        == 422
    )
    too_many = rep.post(RECORDS, json={"volunteer_id": vid, "hours": 22, "target_group": "other"})
    assert too_many.status_code == 422 and too_many.json()["errors"][0]["field"] == "hours"
    assert (
        rep.post(RECORDS, json={"volunteer_id": vid, "hours": 0, "target_group": "other"}).status_code == 422
    )
    assert (
        rep.post(RECORDS, json={"volunteer_id": vid, "hours": 2, "target_group": "pets"}).status_code == 422
    )
    assert (
        rep.post(RECORDS, json={"volunteer_id": vid, "hours": "1.25", "target_group": "other"}).status_code
        == 422
    )


def test_idempotent_service_record(team_a1):
    body = {"volunteer_id": team_a1["volunteer"]["id"], "hours": 3, "target_group": "left_behind_children"}
    r1 = team_a1["leader"].post(RECORDS, json=body, headers={"Idempotency-Key": "hours-0308"})
    r2 = team_a1["leader"].post(RECORDS, json=body, headers={"Idempotency-Key": "hours-0308"})
    assert r1.status_code == r2.status_code == 201 and r1.json()["id"] == r2.json()["id"]
    assert team_a1["leader"].get(RECORDS).json()["total"] == 1


def test_approval_by_leader_or_cadre_never_by_the_reporter(login, tree, team_a1):
    vid = team_a1["volunteer"]["id"]
    leader, cadre = team_a1["leader"], team_a1["cadre"]
    other_rep = login("village_rep", tree.village_a1)

    by_rep = _report(other_rep, vid, hours="2")
    assert (
        other_rep.post(f"{RECORDS}/{by_rep['id']}/actions/approve").status_code == 403
    )  # not leader, no right
    ok = leader.post(f"{RECORDS}/{by_rep['id']}/actions/approve", json={})
    assert ok.status_code == 200 and ok.json()["status"] == "approved"
    assert ok.json()["decided_by_name"] == "队长刘玉梅"
    again = cadre.post(f"{RECORDS}/{by_rep['id']}/actions/reject", json={"reason": "重复"})
    assert again.status_code == 409
    assert other_rep.delete(f"{RECORDS}/{by_rep['id']}").status_code == 409
    assert other_rep.patch(f"{RECORDS}/{by_rep['id']}", json={"hours": 5}).status_code == 409

    by_leader = _report(leader, vid, hours="1.5")
    own = leader.post(f"{RECORDS}/{by_leader['id']}/actions/approve")
    assert own.status_code == 403 and "自己" in own.json()["detail"]
    assert cadre.post(f"{RECORDS}/{by_leader['id']}/actions/approve").status_code == 200

    by_cadre = _report(cadre, vid, hours="4")
    assert cadre.post(f"{RECORDS}/{by_cadre['id']}/actions/reject", json={"reason": "x"}).status_code == 403
    assert leader.post(f"{RECORDS}/{by_cadre['id']}/actions/reject", json={}).status_code == 422
    rejected = leader.post(f"{RECORDS}/{by_cadre['id']}/actions/reject", json={"reason": "当天未参加服务"})
    assert rejected.status_code == 200 and rejected.json()["reject_reason"] == "当天未参加服务"
    assert login("cadre", tree.town_b).post(f"{RECORDS}/{by_leader['id']}/actions/approve").status_code == 404

    # Only approved hours count.
    team = cadre.get(f"{TEAMS}/{team_a1['team']['id']}").json()
    assert team["approved_hours"] == "3.5"
    assert {r["status"] for r in cadre.get(RECORDS, params={"status": "approved"}).json()["items"]} == {
        "approved"
    }


def test_volunteer_figures_count_only_approved_hours(login, tree, team_a1):
    cadre, leader = team_a1["cadre"], team_a1["leader"]
    vid = team_a1["volunteer"]["id"]
    admin = login("county_admin", tree.county)
    team_b = admin.post(
        TEAMS,
        json={
            "name": "乙二村关爱队",
            "type": "left_behind_children",
            "leader_name": "孙",
            "branch_id": tree.village_b2.id,
        },
    ).json()
    vb = admin.post(VOLUNTEERS, json={"team_id": team_b["id"], "name": "周"}).json()
    for hours, group in (("2", "empty_nest_elderly"), ("3", "poor_women")):
        rec = _report(leader, vid, hours=hours, target_group=group)
        cadre.post(f"{RECORDS}/{rec['id']}/actions/approve")
    _report(leader, vid, hours="5", target_group="disabled")  # pending: not counted
    rec_b = _report(admin, vb["id"], hours="6", target_group="left_behind_children")
    login("cadre", tree.town_b).post(f"{RECORDS}/{rec_b['id']}/actions/approve")
    old = _report(
        admin,
        vb["id"],
        hours="1",
        target_group="other",
        date=(today_in_china() - timedelta(days=400)).isoformat(),
    )
    login("cadre", tree.town_b).post(f"{RECORDS}/{old['id']}/actions/approve")

    month_ago = (today_in_china() - timedelta(days=30)).isoformat()
    s = admin.get(f"{TEAMS}/stats", params={"from": month_ago})
    assert s.status_code == 200, s.text
    s = s.json()
    assert s["period"] == {"from": month_ago, "to": today_in_china().isoformat()}
    assert (s["teams"], s["volunteers"]) == (2, 2)
    assert (s["approved_hours"], s["approved_records"]) == ("11.0", 3)
    assert (s["pending_hours"], s["pending_records"]) == ("5.0", 1)
    assert [(t["team_name"], t["hours"]) for t in s["by_team"]] == [
        ("乙二村关爱队", "6.0"),
        ("甲一村巾帼志愿服务队", "5.0"),
    ]
    assert {g["target_group"]: g["hours"] for g in s["by_target_group"]} == {
        "empty_nest_elderly": "2.0",
        "poor_women": "3.0",
        "left_behind_children": "6.0",
    }
    assert [(b["branch_name"], b["hours"]) for b in s["by_branch"]] == [("乙镇", "6.0"), ("甲镇", "5.0")]

    mine = cadre.get(f"{TEAMS}/stats").json()
    assert mine["approved_hours"] == "5.0" and [b["branch_name"] for b in mine["by_branch"]] == ["甲一村"]
    assert cadre.get(f"{TEAMS}/stats", params={"under": tree.town_b.id}).status_code == 404
    assert leader.get(f"{TEAMS}/stats").json()["teams"] == 1

    # The service-hours list takes the same from/to, days inclusive.
    last_year = (today_in_china() - timedelta(days=400)).isoformat()
    dates = lambda **p: [r["date"] for r in admin.get(RECORDS, params=p).json()["items"]]  # noqa: E731
    assert dates(to=last_year) == [last_year]
    assert dates(**{"from": last_year, "to": last_year}) == [last_year]
    assert last_year not in dates(**{"from": month_ago}) and len(dates(**{"from": month_ago})) == 4


def test_volunteer_update_and_leaving(team_a1):
    cadre, leader = team_a1["cadre"], team_a1["leader"]
    vid = team_a1["volunteer"]["id"]
    r = cadre.patch(f"{VOLUNTEERS}/{vid}", json={"status": "left"})
    assert r.status_code == 200 and r.json()["status"] == "left"
    refused = leader.post(RECORDS, json={"volunteer_id": vid, "hours": 1, "target_group": "other"})
    assert refused.status_code == 422 and "退出" in refused.json()["detail"]
    assert cadre.get(VOLUNTEERS, params={"status": "active"}).json()["total"] == 0
    assert cadre.delete(f"{TEAMS}/{team_a1['team']['id']}").status_code == 204
    x = cadre.get(RECORDS, params={"format": "xlsx"})
    assert x.status_code == 200 and x.content[:2] == b"PK"


def test_record_can_link_an_activity_in_scope(login, tree, team_a1):
    leader = team_a1["leader"]
    act = leader.post("/api/v1/activities", json={"type": "volunteer_service", "title": "敬老院义剪"}).json()
    r = _report(leader, team_a1["volunteer"]["id"], activity_id=act["id"])
    assert r["activity_id"] == act["id"]
    assert leader.get(RECORDS, params={"activity_id": act["id"]}).json()["total"] == 1
    other = (
        login("village_rep", tree.village_a2)
        .post("/api/v1/activities", json={"type": "other", "title": "别村"})
        .json()
    )
    bad = leader.post(
        RECORDS,
        json={
            "volunteer_id": team_a1["volunteer"]["id"],
            "hours": 1,
            "target_group": "other",
            "activity_id": other["id"],
        },
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "activity_id"
