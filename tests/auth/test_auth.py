"""Logins, tokens, refresh rotation, lockout, deactivation, logout."""

from datetime import timedelta

import pytest
from jose import jwt
from sqlmodel import select

from backend.auth.models import RefreshToken, User
from backend.core.audit_models import AuditLog
from backend.core.config import get_settings
from backend.core.db import utcnow
from tests.conftest import TEST_PASSWORD, make_client_account, make_user

TOKEN = "/api/v1/auth/token"


@pytest.fixture
def user(session, tree, password_hash):
    return make_user(
        session,
        tree.town_a,
        "cadre",
        username="wang.xiuying",
        password_hash=password_hash,
        display_name="王秀英",
    )


def _login(client, username, password=TEST_PASSWORD):
    return client.post(TOKEN, data={"grant_type": "password", "username": username, "password": password})


def test_password_login_gives_access_and_refresh_token_with_claims(anon, user, tree):
    r = _login(anon, "wang.xiuying")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 30 * 60 and body["refresh_token"]
    claims = jwt.get_unverified_claims(body["access_token"])
    assert (
        claims["sub"] == f"user:{user.id}"
        and claims["role"] == "cadre"
        and claims["branch"] == tree.town_a.id
    )
    assert {"jti", "iat", "exp", "iss", "aud"} <= claims.keys()
    me = anon.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"}).json()
    assert me["user"]["username"] == "wang.xiuying"
    assert me["role"] == "cadre"
    assert me["branch"] == {
        "id": tree.town_a.id,
        "name": "甲镇",
        "kind": "township",
        "path": tree.town_a.path,
        "code": tree.town_a.code,
        "depth": 2,
    }
    assert "tickets:write" in me["permissions"] and "users:admin" not in me["permissions"]


def test_refresh_tokens_are_stored_hashed(anon, user, session):
    refresh = _login(anon, "wang.xiuying").json()["refresh_token"]
    stored = session.exec(select(RefreshToken).where(RefreshToken.user_id == user.id)).all()
    assert len(stored) == 1 and refresh not in stored[0].token_hash


def test_wrong_password_and_unknown_user_answer_the_same(anon, user):
    wrong = _login(anon, "wang.xiuying", "nope-nope-123")
    unknown = _login(anon, "nobody.here", "nope-nope-123")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.headers["content-type"] == "application/problem+json"


def test_five_failures_lock_the_account_for_fifteen_minutes(anon, user, session):
    for _ in range(5):
        assert _login(anon, "wang.xiuying", "wrong-password-1").status_code == 401
    locked = _login(anon, "wang.xiuying")  # the right password no longer works
    assert locked.status_code == 401
    assert locked.json() == _login(anon, "nobody.here").json()
    session.expire_all()
    stored = session.get(User, user.id)
    assert stored.locked_until > utcnow() + timedelta(minutes=14)
    stored.locked_until = utcnow() - timedelta(seconds=1)
    session.commit()
    assert _login(anon, "wang.xiuying").status_code == 200
    reasons = [
        a.after["reason"]
        for a in session.exec(
            select(AuditLog)
            .where(AuditLog.action == "login_failed", AuditLog.entity_id == str(user.id))
            .order_by(AuditLog.id)
        )
    ]
    assert reasons == ["password"] * 4 + ["locked_now", "locked"]


def test_a_success_resets_the_failure_count(anon, user, session):
    for _ in range(4):
        _login(anon, "wang.xiuying", "wrong-password-1")
    assert _login(anon, "wang.xiuying").status_code == 200
    for _ in range(4):
        _login(anon, "wang.xiuying", "wrong-password-1")
    assert _login(anon, "wang.xiuying").status_code == 200


def test_refresh_rotates_and_reuse_revokes_the_family(anon, user):
    first = _login(anon, "wang.xiuying").json()["refresh_token"]
    second = anon.post("/api/v1/auth/refresh", json={"refresh_token": first})
    assert second.status_code == 200
    second_token = second.json()["refresh_token"]
    assert second_token != first
    reuse = anon.post("/api/v1/auth/refresh", json={"refresh_token": first})
    assert reuse.status_code == 401
    # The thief's replay also kills the legitimate newer token of the same family.
    assert anon.post("/api/v1/auth/refresh", json={"refresh_token": second_token}).status_code == 401


def test_deactivated_user_tokens_stop_at_once(app, anon, user, admin):
    access = _login(anon, "wang.xiuying").json()
    headers = {"Authorization": f"Bearer {access['access_token']}"}
    assert anon.get("/api/v1/auth/me", headers=headers).status_code == 200
    assert admin.post(f"/api/v1/users/{user.id}/actions/deactivate").status_code == 200
    assert anon.get("/api/v1/auth/me", headers=headers).status_code == 401
    assert (
        anon.post("/api/v1/auth/refresh", json={"refresh_token": access["refresh_token"]}).status_code == 401
    )
    assert _login(anon, "wang.xiuying").status_code == 401


def test_logout_revokes_the_access_token_and_refresh_family(anon, user):
    tokens = _login(anon, "wang.xiuying").json()
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    r = anon.post("/api/v1/auth/logout", json={"refresh_token": tokens["refresh_token"]}, headers=headers)
    assert r.status_code == 204
    assert anon.get("/api/v1/auth/me", headers=headers).status_code == 401
    assert (
        anon.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}).status_code == 401
    )


def test_only_the_signing_algorithm_is_accepted(anon, user):
    settings = get_settings()
    claims = jwt.get_unverified_claims(_login(anon, "wang.xiuying").json()["access_token"])
    forged_none = jwt.encode(claims, "", algorithm="HS256").rsplit(".", 1)[0]
    import base64
    import json

    header = (
        base64.urlsafe_b64encode(json.dumps({"alg": "none", "typ": "JWT"}).encode()).rstrip(b"=").decode()
    )
    unsigned = header + "." + forged_none.split(".", 1)[1] + "."
    other_alg = jwt.encode(claims, settings.secret_key, algorithm="HS512")
    wrong_key = jwt.encode(claims, "another-key-" * 4, algorithm="HS256")
    for token in (unsigned, other_alg, wrong_key, "garbage"):
        assert anon.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_expired_and_wrong_audience_tokens_are_refused(anon, user):
    settings = get_settings()
    now = int(utcnow().timestamp())
    base = {
        "sub": f"user:{user.id}",
        "role": "cadre",
        "branch": user.branch_id,
        "jti": "j1",
        "iat": now - 100,
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "exp": now - 10,
    }
    expired = jwt.encode(base, settings.secret_key, algorithm="HS256")
    wrong_aud = jwt.encode(
        {**base, "exp": now + 100, "aud": "someone-else"}, settings.secret_key, algorithm="HS256"
    )
    for token in (expired, wrong_aud):
        assert anon.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_client_credentials_grant_scopes_the_machine_client(anon, session, tree, password_hash):
    client = make_client_account(
        session, tree.county, "health_bureau", "health-bureau", secret_hash=password_hash
    )
    r = anon.post(
        TOKEN,
        data={
            "grant_type": "client_credentials",
            "client_id": "health-bureau",
            "client_secret": TEST_PASSWORD,
        },
    )
    assert r.status_code == 200, r.text
    assert r.json()["refresh_token"] is None
    headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
    me = anon.get("/api/v1/auth/me", headers=headers).json()
    assert me["role"] == "health_bureau" and me["user"]["kind"] == "client"
    assert "tickets:read" not in me["permissions"] and "members:read" not in me["permissions"]
    bad = anon.post(
        TOKEN,
        data={"grant_type": "client_credentials", "client_id": "health-bureau", "client_secret": "wrong"},
    )
    assert bad.status_code == 401
    client.is_active = False
    session.commit()
    assert anon.get("/api/v1/auth/me", headers=headers).status_code == 401


def test_a_role_change_invalidates_old_tokens(anon, user, admin):
    headers = {"Authorization": f"Bearer {_login(anon, 'wang.xiuying').json()['access_token']}"}
    assert admin.patch(f"/api/v1/users/{user.id}", json={"role": "village_rep"}).status_code == 200
    assert anon.get("/api/v1/auth/me", headers=headers).status_code == 401


def test_token_endpoint_validates_its_form(anon):
    r = anon.post(TOKEN, data={"grant_type": "implicit"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "grant_type"
    r = anon.post(TOKEN, data={"grant_type": "password", "username": "x"})
    assert r.status_code == 400
