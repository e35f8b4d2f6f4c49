"""User administration: only inside one's subtree, never above one's own role."""

from sqlmodel import select

from backend.auth.models import User
from backend.core.audit_models import AuditLog
from tests.conftest import make_user

NEW = {"username": "li.chunmei", "display_name": "李春梅", "role": "village_rep", "password": "Chunmei-2026x"}


def test_county_admin_creates_a_user_in_her_subtree(admin, tree, session):
    r = admin.post("/api/v1/users", json={**NEW, "branch_id": tree.village_a1.id})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["branch_id"] == tree.village_a1.id and "password" not in body and "password_hash" not in body
    stored = session.exec(select(User).where(User.username == "li.chunmei")).one()
    assert stored.a1 == tree.county.id and stored.a2 == tree.town_a.id and stored.a3 == tree.village_a1.id
    entry = session.exec(
        select(AuditLog).where(
            AuditLog.entity == "user", AuditLog.action == "create", AuditLog.entity_id == str(stored.id)
        )
    ).one()
    assert "password_hash" not in entry.after and entry.actor == f"user:{admin.account.id}"


def test_duplicate_username_is_a_conflict_naming_the_field(admin, tree):
    admin.post("/api/v1/users", json={**NEW, "branch_id": tree.village_a1.id})
    r = admin.post("/api/v1/users", json={**NEW, "branch_id": tree.village_a1.id})
    assert r.status_code == 409 and r.json()["errors"][0]["field"] == "username"


def test_weak_password_is_refused_in_chinese(admin, tree):
    r = admin.post("/api/v1/users", json={**NEW, "branch_id": tree.village_a1.id, "password": "short"})
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "password" and "密码" in r.json()["errors"][0]["message"]


def test_machine_roles_cannot_be_given_to_people(admin, tree):
    r = admin.post("/api/v1/users", json={**NEW, "branch_id": tree.county.id, "role": "health_bureau"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "role"


def test_township_admin_cannot_reach_outside_her_subtree(login, tree, session):
    town_admin = login("county_admin", tree.town_a)
    outsider = make_user(session, tree.town_b, "cadre")
    assert town_admin.post("/api/v1/users", json={**NEW, "branch_id": tree.village_b1.id}).status_code == 404
    assert town_admin.get(f"/api/v1/users/{outsider.id}").status_code == 404
    assert town_admin.patch(f"/api/v1/users/{outsider.id}", json={"display_name": "x"}).status_code == 404
    assert town_admin.post(f"/api/v1/users/{outsider.id}/actions/deactivate").status_code == 404
    usernames = [u["username"] for u in town_admin.get("/api/v1/users").json()["items"]]
    assert outsider.username not in usernames and town_admin.account.username in usernames
    # Moving her own user to the parent is also out of reach.
    inside = make_user(session, tree.village_a1, "village_rep")
    assert (
        town_admin.patch(f"/api/v1/users/{inside.id}", json={"branch_id": tree.county.id}).status_code == 404
    )


def test_no_role_above_ones_own(login, tree, session, monkeypatch):
    from backend.auth import roles

    # A cadre given user administration still cannot create or promote to county_admin.
    monkeypatch.setitem(
        roles.ROLE_PERMISSIONS, roles.Role.cadre, roles.ROLE_PERMISSIONS[roles.Role.cadre] | {"users:admin"}
    )
    cadre = login("cadre", tree.town_a)
    r = cadre.post("/api/v1/users", json={**NEW, "branch_id": tree.village_a1.id, "role": "county_admin"})
    assert r.status_code == 403
    rep = make_user(session, tree.village_a1, "village_rep")
    assert cadre.patch(f"/api/v1/users/{rep.id}", json={"role": "county_admin"}).status_code == 403
    assert cadre.patch(f"/api/v1/users/{rep.id}", json={"role": "cadre"}).status_code == 200


def test_users_admin_is_needed(login, tree):
    assert login("cadre", tree.town_a).get("/api/v1/users").status_code == 403
    assert (
        login("leader", tree.county)
        .post("/api/v1/users", json={**NEW, "branch_id": tree.county.id})
        .status_code
        == 403
    )


def test_reset_password_unlocks_and_revokes_sessions(admin, tree, session, anon):
    r = admin.post("/api/v1/users", json={**NEW, "branch_id": tree.village_a1.id})
    uid = r.json()["id"]
    login = {"grant_type": "password", "username": "li.chunmei", "password": NEW["password"]}
    refresh = anon.post("/api/v1/auth/token", data=login).json()["refresh_token"]
    r = admin.post(f"/api/v1/users/{uid}/actions/reset-password", json={"password": "Brand-new-2026"})
    assert r.status_code == 200
    assert anon.post("/api/v1/auth/refresh", json={"refresh_token": refresh}).status_code == 401
    assert anon.post("/api/v1/auth/token", data=login).status_code == 401
    assert anon.post("/api/v1/auth/token", data={**login, "password": "Brand-new-2026"}).status_code == 200


def test_admin_cannot_deactivate_herself(admin):
    r = admin.post(f"/api/v1/users/{admin.account.id}/actions/deactivate")
    assert r.status_code == 409


def test_user_list_filters_search_and_export(admin, tree, session):
    make_user(session, tree.village_a1, "village_rep", username="rep.one", display_name="赵春花")
    make_user(session, tree.village_b1, "village_rep", username="rep.two", display_name="钱秋菊")
    r = admin.get("/api/v1/users", params={"q": "春花"}).json()
    assert [u["username"] for u in r["items"]] == ["rep.one"]
    r = admin.get("/api/v1/users", params={"role": "village_rep", "under": tree.town_b.id}).json()
    assert [u["username"] for u in r["items"]] == ["rep.two"] and r["total"] == 1
    x = admin.get("/api/v1/users", params={"format": "xlsx", "role": "village_rep"})
    assert x.status_code == 200 and x.content[:2] == b"PK"
    from io import BytesIO

    from openpyxl import load_workbook

    ws = load_workbook(BytesIO(x.content)).active
    rows = list(ws.values)
    assert rows[0][0] == "用户名" and rows[0][3] == "角色"
    assert {r[0] for r in rows[1:]} == {"rep.one", "rep.two"} and rows[1][3] == "村(社区)妇联主席"
