"""The org tree: create, read, list, subtree, move, soft delete, terms, 妇女之家."""

from datetime import timedelta

import pytest
from sqlmodel import select

from backend.auth.models import User
from backend.branches.models import Branch
from backend.core.audit_models import AuditLog
from backend.core.clock import today_in_china
from tests.conftest import make_branch, make_user

B = "/api/v1/branches"


def test_create_places_the_branch_in_the_tree(admin, tree, session):
    r = admin.post(
        B,
        json={
            "name": "甲三村",
            "kind": "village",
            "parent_id": tree.town_a.id,
            "code": "T1",
            "chair_name": "孙月娥",
            "term_started_on": "2024-01-10",
            "term_due_on": "2029-01-10",
            "womens_home": {"venue": "村部", "has_venue": True, "has_rules": True},
        },
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["depth"] == 3 and body["path"] == f"{tree.town_a.path}{body['id']}/"
    assert body["womens_home"]["six_have_count"] == 2 and body["term_status"] == "ok"
    stored = session.get(Branch, body["id"])
    assert (stored.a1, stored.a2, stored.a3) == (tree.county.id, tree.town_a.id, body["id"])


def test_create_validates_in_chinese(admin, tree):
    r = admin.post(
        B,
        json={
            "name": "x",
            "kind": "village",
            "parent_id": tree.town_a.id,
            "term_started_on": "2024-01-10",
            "term_due_on": "2023-01-10",
        },
    )
    assert r.status_code == 422 and "换届" in r.json()["errors"][0]["message"]
    r = admin.post(
        B, json={"name": "x", "kind": "village", "parent_id": tree.town_a.id, "code": tree.village_a1.code}
    )
    assert r.status_code == 409 and r.json()["errors"][0]["field"] == "code"
    r = admin.post(B, json={"name": "x", "kind": "planet", "parent_id": tree.town_a.id})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "kind"


def test_children_and_subtree(admin, tree):
    kids = admin.get(f"{B}/{tree.town_a.id}/children").json()
    assert [k["name"] for k in kids["items"]] == ["甲一村", "甲二村"]
    sub = admin.get(f"{B}/{tree.town_b.id}/subtree").json()
    assert sorted(k["name"] for k in sub["items"]) == ["乙一村", "乙二村", "乙镇"] and sub["total"] == 3


@pytest.mark.parametrize("who", ["cadre", "village_rep", "leader"])
def test_scope_matrix_for_branches(login, tree, who):
    """Own branch and children visible; sibling and parent answer 404."""
    if who == "village_rep":
        api, own, child, sibling, parent = (
            login(who, tree.village_a1),
            tree.village_a1,
            None,
            tree.village_a2,
            tree.town_a,
        )
    elif who == "cadre":
        api, own, child, sibling, parent = (
            login(who, tree.town_a),
            tree.town_a,
            tree.village_a1,
            tree.town_b,
            tree.county,
        )
    else:
        api, own, child, sibling, parent = login(who, tree.county), tree.county, tree.town_b, None, None
    assert api.get(f"{B}/{own.id}").status_code == 200
    if child:
        assert api.get(f"{B}/{child.id}").status_code == 200
    for hidden in (sibling, parent):
        if hidden:
            r = api.get(f"{B}/{hidden.id}")
            assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
            assert api.get(f"{B}/{hidden.id}/children").status_code == 404
    listed = {b["id"] for b in api.get(B, params={"limit": 200}).json()["items"]}
    assert own.id in listed
    for hidden in (sibling, parent):
        if hidden:
            assert hidden.id not in listed


def test_only_branch_writers_change_the_tree(login, tree):
    cadre = login("cadre", tree.town_a)
    assert cadre.patch(f"{B}/{tree.village_a1.id}", json={"name": "改名"}).status_code == 403
    assert (
        cadre.post(B, json={"name": "x", "kind": "village", "parent_id": tree.town_a.id}).status_code == 403
    )


def test_update_womens_home_and_terms(admin, tree):
    r = admin.patch(
        f"{B}/{tree.village_a1.id}",
        json={
            "term_due_on": (today_in_china() - timedelta(days=3)).isoformat(),
            "womens_home": {
                "venue": "村委会",
                "has_organisation": True,
                "has_team": True,
                "has_venue": True,
                "has_rules": True,
                "has_funding": True,
                "has_activities": True,
            },
        },
    )
    assert r.status_code == 200
    assert r.json()["term_status"] == "overdue" and r.json()["womens_home"]["six_have_count"] == 6


def test_overdue_and_due_soon_terms_are_listable(admin, tree, session):
    today = today_in_china()
    tree.village_a1.term_due_on = today - timedelta(days=400)
    tree.village_b1.term_due_on = today + timedelta(days=30)
    tree.town_b.term_due_on = today + timedelta(days=500)
    session.commit()
    overdue = admin.get(B, params={"term_status": "overdue"}).json()["items"]
    assert [b["name"] for b in overdue] == ["甲一村"]
    soon = admin.get(B, params={"term_status": "due_soon"}).json()["items"]
    assert [b["name"] for b in soon] == ["乙一村"]
    within = admin.get(B, params={"term_due_within": 90}).json()["items"]
    assert {b["name"] for b in within} == {"甲一村", "乙一村"}


def test_move_subtree_rewrites_every_ancestor_column(admin, tree, session):
    rep = make_user(session, tree.village_a1, "village_rep")
    deep = make_branch(session, tree.village_a1, "甲一村三组", "other")
    r = admin.post(f"{B}/{tree.village_a1.id}/actions/move", json={"parent_id": tree.town_b.id})
    assert r.status_code == 200, r.text
    assert (
        r.json()["path"] == f"{tree.town_b.path}{tree.village_a1.id}/"
        and r.json()["parent_id"] == tree.town_b.id
    )
    session.expire_all()
    moved_deep = session.get(Branch, deep.id)
    assert moved_deep.path == f"{tree.town_b.path}{tree.village_a1.id}/{deep.id}/"
    assert (moved_deep.a2, moved_deep.a3, moved_deep.a4) == (tree.town_b.id, tree.village_a1.id, deep.id)
    moved_rep = session.get(User, rep.id)
    assert (moved_rep.a1, moved_rep.a2, moved_rep.a3) == (tree.county.id, tree.town_b.id, tree.village_a1.id)
    assert (
        session.exec(select(AuditLog).where(AuditLog.action == "move")).one().after["to_parent_id"]
        == tree.town_b.id
    )


def test_move_changes_depth_when_hanging_a_township_under_a_village(admin, tree, session):
    r = admin.post(f"{B}/{tree.town_b.id}/actions/move", json={"parent_id": tree.village_a2.id})
    assert r.status_code == 200
    session.expire_all()
    b1 = session.get(Branch, tree.village_b1.id)
    assert b1.depth == 5 and (b1.a3, b1.a4, b1.a5) == (tree.village_a2.id, tree.town_b.id, b1.id)
    assert b1.path == f"{tree.village_a2.path}{tree.town_b.id}/{b1.id}/"
    # Back up one level: columns shift the other way and the deepest one is cleared.
    r = admin.post(f"{B}/{tree.town_b.id}/actions/move", json={"parent_id": tree.county.id})
    session.expire_all()
    b1 = session.get(Branch, tree.village_b1.id)
    assert b1.depth == 3 and (b1.a2, b1.a3, b1.a4, b1.a5) == (tree.town_b.id, b1.id, None, None)


def test_move_under_itself_is_refused(admin, tree):
    r = admin.post(f"{B}/{tree.town_a.id}/actions/move", json={"parent_id": tree.village_a1.id})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "parent_id"
    r = admin.post(f"{B}/{tree.town_a.id}/actions/move", json={"parent_id": tree.town_a.id})
    assert r.status_code == 422


def test_move_out_of_scope_answers_404(login, tree):
    town_admin = login("county_admin", tree.town_a)
    r = town_admin.post(f"{B}/{tree.village_a1.id}/actions/move", json={"parent_id": tree.town_b.id})
    assert r.status_code == 404


def test_delete_is_soft_and_refused_with_children_or_records(admin, tree, session):
    assert admin.delete(f"{B}/{tree.town_a.id}").status_code == 409
    make_user(session, tree.village_a2, "village_rep")
    r = admin.delete(f"{B}/{tree.village_a2.id}")
    assert r.status_code == 409 and "记录" in r.json()["detail"]
    assert admin.delete(f"{B}/{tree.village_a1.id}").status_code == 204
    assert admin.get(f"{B}/{tree.village_a1.id}").status_code == 404
    session.expire_all()
    assert session.get(Branch, tree.village_a1.id).deleted_at is not None
    assert tree.village_a1.id not in {b["id"] for b in admin.get(B).json()["items"]}


def test_list_paging_sort_search_and_export(admin, tree):
    page = admin.get(B, params={"limit": 2, "offset": 2, "sort": "code"}).json()
    assert page["total"] == 7 and page["limit"] == 2 and page["offset"] == 2 and len(page["items"]) == 2
    assert [b["code"] for b in page["items"]] == ["T430725101001", "T430725101002"]
    assert admin.get(B, params={"q": "乙"}).json()["total"] == 3
    assert admin.get(B, params={"kind": ["village"], "under": tree.town_a.id}).json()["total"] == 2
    bad = admin.get(B, params={"sort": "password"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "sort"
    assert admin.get(B, params={"limit": 500}).status_code == 422
    x = admin.get(B, params={"format": "xlsx", "kind": ["village"]})
    from io import BytesIO

    from openpyxl import load_workbook

    rows = list(load_workbook(BytesIO(x.content)).active.values)
    assert rows[0][:3] == ("组织代码", "名称", "类型") and len(rows) == 5 and rows[1][2] == "村"


def test_has_womens_home_filter(admin, tree):
    admin.patch(f"{B}/{tree.village_a1.id}", json={"womens_home": {"venue": "村部", "has_venue": True}})
    admin.patch(f"{B}/{tree.village_a2.id}", json={"womens_home": {"venue": "村部"}})
    admin.patch(f"{B}/{tree.village_a2.id}", json={"womens_home": None})
    with_home = admin.get(B, params={"has_womens_home": True}).json()["items"]
    assert [b["name"] for b in with_home] == ["甲一村"]
    assert admin.get(B, params={"has_womens_home": False}).json()["total"] == 6
