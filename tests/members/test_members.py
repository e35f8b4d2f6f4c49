from datetime import date, timedelta

from sqlmodel import select

from backend.core.audit_models import AuditLog
from backend.core.clock import today_in_china

BASE = "/api/v1/members"


def _chair(api, branch, **fields):
    body = {
        "name": "王秀英",
        "branch_id": branch.id,
        "phone": "13912345678",
        "birth_date": "1978-03-08",
        "political_status": "cpc_member",
        "education": "senior_high",
        "ethnicity": "汉族",
        "positions": [
            {
                "title": "village_chair",
                "part_time": True,
                "concurrent_posts": ["family_planning"],
                "started_on": "2021-06-01",
            }
        ],
    } | fields
    r = api.post(BASE, json=body)
    assert r.status_code == 201, r.text
    return r.json()


def test_cadre_records_a_member_with_her_posts(login, tree):
    cadre = login("cadre", tree.town_a)
    m = _chair(cadre, tree.village_a1)
    assert m["branch_name"] == "甲一村" and m["gender"] == "female"
    assert m["title"] == "village_chair" and m["part_time"] is True
    assert (
        m["positions"][0]["concurrent_posts"] == ["family_planning"] and m["positions"][0]["current"] is True
    )
    assert m["phone"] == "13912345678" and m["phone_masked"] is False  # cadre holds pii:read
    # A second, township-level post held by the same woman.
    p = cadre.post(
        f"{BASE}/{m['id']}/positions", json={"title": "executive_member", "branch_id": tree.town_a.id}
    )
    assert p.status_code == 201 and p.json()["branch_id"] == tree.town_a.id
    assert (
        cadre.post(
            f"{BASE}/{m['id']}/positions", json={"title": "chair", "branch_id": tree.town_b.id}
        ).status_code
        == 422
    )
    bad = cadre.post(
        f"{BASE}/{m['id']}/positions",
        json={"title": "chair", "started_on": "2022-01-01", "ended_on": "2021-01-01"},
    )
    assert bad.status_code == 422
    ended = cadre.patch(f"{BASE}/{m['id']}/positions/{p.json()['id']}", json={"ended_on": "2022-01-01"})
    assert ended.status_code == 200 and ended.json()["current"] is False
    detail = cadre.get(f"{BASE}/{m['id']}").json()
    assert len(detail["positions"]) == 2


def test_member_visibility_own_child_sibling_parent(login, tree):
    admin = login("county_admin", tree.county)
    in_a1 = _chair(admin, tree.village_a1)
    in_town_a = _chair(admin, tree.town_a, name="刘玉梅", positions=[{"title": "chair"}])
    rep_a1 = login("village_rep", tree.village_a1)
    rep_a2 = login("village_rep", tree.village_a2)
    cadre_a = login("cadre", tree.town_a)
    cadre_b = login("cadre", tree.town_b)

    def ids(api):
        r = api.get(BASE)
        assert r.status_code == 200, r.text
        return {m["id"] for m in r.json()["items"]}

    assert rep_a1.get(f"{BASE}/{in_a1['id']}").status_code == 200
    assert cadre_a.get(f"{BASE}/{in_a1['id']}").status_code == 200
    assert rep_a2.get(f"{BASE}/{in_a1['id']}").status_code == 404
    assert cadre_b.get(f"{BASE}/{in_a1['id']}").status_code == 404
    assert rep_a1.get(f"{BASE}/{in_town_a['id']}").status_code == 404
    assert ids(rep_a1) == {in_a1["id"]}
    assert ids(cadre_a) == {in_a1["id"], in_town_a["id"]}
    assert ids(rep_a2) == set() and ids(cadre_b) == set()
    assert cadre_b.patch(f"{BASE}/{in_a1['id']}", json={"name": "x"}).status_code == 404
    assert cadre_b.post(f"{BASE}/{in_a1['id']}/trainings", json={"course": "x"}).status_code == 404


def test_village_rep_reads_members_with_masked_phones_and_cannot_write(login, tree):
    cadre = login("cadre", tree.town_a)
    m = _chair(cadre, tree.village_a1)
    rep = login("village_rep", tree.village_a1)
    seen = rep.get(f"{BASE}/{m['id']}").json()
    assert seen["phone"] == "139****5678" and seen["phone_masked"] is True
    assert rep.get(BASE).json()["items"][0]["phone"] == "139****5678"
    leader = login("leader", tree.county)
    assert leader.get(f"{BASE}/{m['id']}").json()["phone_masked"] is True
    assert rep.post(BASE, json={"name": "新人"}).status_code == 403
    assert rep.patch(f"{BASE}/{m['id']}", json={"name": "改"}).status_code == 403
    assert rep.post(f"{BASE}/{m['id']}/trainings", json={"course": "x"}).status_code == 403


def test_filters_by_title_part_time_and_training(login, tree):
    cadre = login("cadre", tree.town_a)
    chair = _chair(cadre, tree.village_a1)
    officer = _chair(
        cadre,
        tree.village_a2,
        name="赵丽华",
        positions=[{"title": "womens_affairs_officer", "part_time": False}],
    )
    former = _chair(
        cadre,
        tree.village_a2,
        name="孙凤英",
        positions=[{"title": "village_chair", "started_on": "2015-01-01", "ended_on": "2020-12-31"}],
    )
    t = cadre.post(
        f"{BASE}/{chair['id']}/trainings",
        json={"course": "基层妇联执委培训", "organiser": "县妇联", "kind": "offline", "hours": 16},
    )
    assert t.status_code == 201 and t.json()["trained_on"] == today_in_china().isoformat()
    last_year = date(today_in_china().year - 1, 6, 1).isoformat()
    cadre.post(f"{BASE}/{officer['id']}/trainings", json={"course": "旧培训", "trained_on": last_year})

    def names(**params):
        r = cadre.get(BASE, params=params)
        assert r.status_code == 200, r.text
        return sorted(m["name"] for m in r.json()["items"])

    assert names(title="village_chair") == ["王秀英"]  # a post that ended does not count
    assert names(part_time="true") == ["王秀英"]
    assert names(part_time="false") == ["赵丽华"]
    assert names(trained_this_year="true") == ["王秀英"]
    assert names(trained_this_year="false") == ["孙凤英", "赵丽华"]
    assert names(under=tree.village_a2.id) == ["孙凤英", "赵丽华"]
    assert names(q="丽华") == ["赵丽华"]
    assert cadre.get(BASE, params={"title": "boss"}).status_code == 422
    items = {m["name"]: m for m in cadre.get(BASE).json()["items"]}
    assert items["王秀英"]["trained_this_year"] is True and items["赵丽华"]["last_trained_on"] == last_year
    assert items["孙凤英"]["title"] is None
    future = (today_in_china() + timedelta(days=2)).isoformat()
    assert (
        cadre.post(f"{BASE}/{former['id']}/trainings", json={"course": "x", "trained_on": future}).status_code
        == 422
    )
    x = cadre.get(BASE, params={"format": "xlsx"})
    assert x.status_code == 200 and x.content[:2] == b"PK"


def test_talent_pool_and_recommendations(login, tree):
    cadre = login("cadre", tree.town_a)
    m = _chair(cadre, tree.village_a1)
    assert m["talent_pool"] is False
    r = cadre.post(f"{BASE}/{m['id']}/recommendations", json={"recommended_to": "县委组织部"})
    assert r.status_code == 201 and r.json()["outcome"] == "pending"
    assert cadre.get(f"{BASE}/{m['id']}").json()["talent_pool"] is True
    u = cadre.patch(f"{BASE}/{m['id']}/recommendations/{r.json()['id']}", json={"outcome": "adopted"})
    assert u.status_code == 200 and u.json()["outcome"] == "adopted"
    assert [x["name"] for x in cadre.get(BASE, params={"talent_pool": "true"}).json()["items"]] == ["王秀英"]
    other = _chair(cadre, tree.village_a2, name="别人")
    assert (
        cadre.patch(
            f"{BASE}/{other['id']}/recommendations/{r.json()['id']}", json={"outcome": "adopted"}
        ).status_code
        == 404
    )


def test_update_move_and_delete(login, tree, session):
    cadre = login("cadre", tree.town_a)
    m = _chair(cadre, tree.village_a1)
    assert cadre.patch(f"{BASE}/{m['id']}", json={"branch_id": tree.village_b1.id}).status_code == 404
    moved = cadre.patch(f"{BASE}/{m['id']}", json={"branch_id": tree.village_a2.id, "phone": "13800001111"})
    assert moved.status_code == 200 and moved.json()["branch_id"] == tree.village_a2.id
    assert cadre.patch(f"{BASE}/{m['id']}", json={"name": None}).status_code == 422
    assert cadre.patch(f"{BASE}/{m['id']}", json={"phone": "abc"}).status_code == 422
    assert cadre.delete(f"{BASE}/{m['id']}").status_code == 204
    assert cadre.get(f"{BASE}/{m['id']}").status_code == 404
    assert cadre.get(BASE).json()["total"] == 0
    actions = session.exec(
        select(AuditLog.action)
        .where(AuditLog.entity == "member", AuditLog.entity_id == str(m["id"]))
        .order_by(AuditLog.id)
    ).all()
    assert actions == ["create", "update", "delete"]


def test_idempotent_member_create(login, tree):
    cadre = login("cadre", tree.town_a)
    body = {"name": "周桂兰", "branch_id": tree.village_a1.id}
    r1 = cadre.post(BASE, json=body, headers={"Idempotency-Key": "m-1"})
    r2 = cadre.post(BASE, json=body, headers={"Idempotency-Key": "m-1"})
    assert r1.json()["id"] == r2.json()["id"]
    assert cadre.get(BASE).json()["total"] == 1
