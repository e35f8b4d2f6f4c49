"""The audit trail and the error contract."""

import pytest
import sqlalchemy as sa
from sqlmodel import select

from backend.core import audit
from backend.core.audit_models import AuditLog


def test_every_write_is_audited_with_before_and_after(admin, tree, session):
    admin.patch(f"/api/v1/branches/{tree.village_a1.id}", json={"chair_name": "新主席"})
    entry = session.exec(
        select(AuditLog).where(
            AuditLog.entity == "branch",
            AuditLog.action == "update",
            AuditLog.entity_id == str(tree.village_a1.id),
            AuditLog.actor == f"user:{admin.account.id}",
        )
    ).one()
    assert entry.before == {"chair_name": None} and entry.after == {"chair_name": "新主席"}
    assert entry.actor == f"user:{admin.account.id}" and entry.branch_id == tree.village_a1.id
    assert entry.a2 == tree.town_a.id


def test_audit_list_is_scoped_and_filterable(login, tree, session):
    county = login("county_admin", tree.county)
    county.patch(f"/api/v1/branches/{tree.village_b1.id}", json={"chair_name": "乙"})
    county.patch(f"/api/v1/branches/{tree.village_a1.id}", json={"chair_name": "甲"})
    town_admin = login("county_admin", tree.town_a)
    seen = town_admin.get("/api/v1/audit", params={"entity": "branch", "action": ["update"]}).json()["items"]
    assert [e["entity_id"] for e in seen] == [str(tree.village_a1.id)]
    assert county.get("/api/v1/audit", params={"entity": "branch"}).json()["total"] >= 2
    assert login("cadre", tree.town_a).get("/api/v1/audit").status_code == 403


def test_failed_logins_of_unknown_usernames_reach_the_root_admin(admin, anon, tree):
    anon.post(
        "/api/v1/auth/token", data={"grant_type": "password", "username": "ghost", "password": "x" * 10}
    )
    rows = admin.get("/api/v1/audit", params={"action": ["login_failed"]}).json()["items"]
    assert rows and rows[0]["actor"] == "username:ghost"


def test_reveals_are_recorded(session, tree, admin):
    from tests.conftest import principal_for

    audit.record_reveal(session, principal_for(admin.account, tree.county), tree.village_a1, ["chair_phone"])
    session.commit()
    row = session.exec(select(AuditLog).where(AuditLog.action == "reveal")).one()
    assert row.field == "chair_phone" and row.entity == "branch" and row.branch_id == tree.village_a1.id


def test_the_trail_cannot_be_edited_or_deleted(session, admin, tree):
    admin.patch(f"/api/v1/branches/{tree.village_a1.id}", json={"chair_name": "x"})
    row_id = session.exec(select(AuditLog.id)).first()
    with pytest.raises(sa.exc.DatabaseError), session.begin_nested():
        session.execute(sa.update(AuditLog).where(AuditLog.id == row_id).values(action="nothing"))
    with pytest.raises(sa.exc.DatabaseError), session.begin_nested():
        session.execute(sa.delete(AuditLog).where(AuditLog.id == row_id))


def test_errors_are_problem_json(admin, anon):
    r = anon.get("/api/v1/branches")
    assert r.status_code == 401 and r.headers["content-type"] == "application/problem+json"
    assert (
        r.json()["type"] == "urn:halfsky:problem:unauthorized" and r.headers["www-authenticate"] == "Bearer"
    )
    r = admin.get("/api/v1/branches/not-a-number")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "branch_id"
    r = admin.post("/api/v1/branches", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 422
    r = admin.get("/api/v1/no-such-thing")
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"


def test_an_unexpected_failure_is_a_500_problem_without_details(app, db, tree, session):
    from fastapi import APIRouter
    from fastapi.testclient import TestClient

    from backend.core.deps import Public

    router = APIRouter()

    @router.get("/api/v1/boom", dependencies=[Public])
    def boom():
        raise RuntimeError("secret internals")

    app.include_router(router)
    app.router.routes.insert(0, app.router.routes.pop())
    r = TestClient(app, raise_server_exceptions=False).get("/api/v1/boom")
    assert r.status_code == 500 and "secret" not in r.text and r.json()["type"].endswith("internal-error")


def test_large_lists_report_at_least_n(admin, tree, monkeypatch):
    from backend.core import paging

    monkeypatch.setattr(paging, "COUNT_CAP", 3)
    page = admin.get("/api/v1/branches", params={"limit": 2}).json()
    assert page["total"] == 3 and page["total_exact"] is False and len(page["items"]) == 2


def test_ids_beyond_the_database_range_are_a_422_not_a_500(admin):
    for path in ("/api/v1/branches/99999999999999999999999", "/api/v1/users/9223372036854775808"):
        r = admin.get(path)
        assert r.status_code == 422, (path, r.status_code, r.text)
        assert r.json()["type"].endswith("validation-error")


def test_an_id_within_the_database_range_that_names_nothing_is_a_404(admin):
    # The largest id a 32-bit integer column holds, so both databases look it up rather than refuse it.
    r = admin.get("/api/v1/users/2147483647")
    assert r.status_code == 404 and r.json()["type"].endswith("not-found"), r.text


def test_oversized_bodies_are_refused_before_they_are_read(admin, tree):
    from backend.main import MAX_BODY_BYTES

    r = admin.post(
        "/api/v1/branches",
        content=b"x" * (MAX_BODY_BYTES + 1),
        headers={"content-type": "application/json", "Idempotency-Key": "big"},
    )
    assert r.status_code == 413 and r.headers["content-type"] == "application/problem+json"


def test_oversized_streamed_bodies_are_refused_too(admin):
    from backend.main import MAX_BODY_BYTES

    def chunks():
        for _ in range(MAX_BODY_BYTES // 65536 + 2):
            yield b"x" * 65536

    r = admin.post(
        "/api/v1/branches",
        content=chunks(),
        headers={"content-type": "application/json", "Idempotency-Key": "stream"},
    )
    assert r.status_code == 413 and r.json()["type"].endswith("payload-too-large")
