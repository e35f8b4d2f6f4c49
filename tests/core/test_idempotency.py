"""Idempotency-Key: a retried POST replays the first answer and never creates a second record."""

from sqlmodel import func, select

from backend.branches.models import Branch
from backend.core import idempotency
from backend.core.idempotency_models import IdempotencyKey

B = "/api/v1/branches"


def _count(session, name):
    session.expire_all()
    return session.exec(select(func.count()).select_from(Branch).where(Branch.name == name)).one()


def test_same_key_same_body_replays_without_a_second_record(admin, tree, session):
    body = {"name": "重试村", "kind": "village", "parent_id": tree.town_a.id}
    first = admin.post(B, json=body, headers={"Idempotency-Key": "phone-1"})
    again = admin.post(B, json=body, headers={"Idempotency-Key": "phone-1"})
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json() and again.headers["idempotent-replayed"] == "true"
    assert _count(session, "重试村") == 1


def test_same_key_other_body_is_refused(admin, tree, session):
    admin.post(
        B,
        json={"name": "甲", "kind": "village", "parent_id": tree.town_a.id},
        headers={"Idempotency-Key": "k"},
    )
    r = admin.post(
        B,
        json={"name": "乙", "kind": "village", "parent_id": tree.town_a.id},
        headers={"Idempotency-Key": "k"},
    )
    assert r.status_code == 422 and r.json()["type"].endswith("idempotency-key-reused")
    assert _count(session, "乙") == 0


def test_keys_belong_to_one_principal(login, tree, session):
    a, b = login("county_admin", tree.county), login("county_admin", tree.county)
    a.post(
        B,
        json={"name": "甲", "kind": "village", "parent_id": tree.town_a.id},
        headers={"Idempotency-Key": "k"},
    )
    r = b.post(
        B,
        json={"name": "甲", "kind": "village", "parent_id": tree.town_a.id},
        headers={"Idempotency-Key": "k"},
    )
    assert r.status_code == 201 and "idempotent-replayed" not in r.headers
    assert _count(session, "甲") == 2


def test_a_repeat_while_the_first_is_running_gets_409(admin, tree, session, monkeypatch):
    monkeypatch.setattr(idempotency, "WAIT_SECONDS", 0.2)
    body = {"name": "并发村", "kind": "village", "parent_id": tree.town_a.id}
    # The first submission is still being handled: its key is claimed but has no answer yet.
    session.add(
        IdempotencyKey(
            subject=f"user:{admin.account.id}",
            key="busy",
            method="POST",
            path=B,
            request_hash=idempotency._request_hash(
                {"method": "POST", "path": B, "query_string": b""},
                admin.client.build_request("POST", B, json=body).content,
                b"application/json",
            ),
        )
    )
    session.commit()
    r = admin.post(B, json=body, headers={"Idempotency-Key": "busy"})
    assert r.status_code == 409 and r.json()["type"].endswith("idempotency-in-progress")
    assert _count(session, "并发村") == 0


def test_failed_validation_is_replayed_too_and_a_fixed_body_needs_a_new_key(admin, tree):
    bad = {"name": "", "kind": "village", "parent_id": tree.town_a.id}
    assert admin.post(B, json=bad, headers={"Idempotency-Key": "v"}).status_code == 422
    assert (
        admin.post(B, json=bad, headers={"Idempotency-Key": "v"}).headers.get("idempotent-replayed") == "true"
    )


def test_multipart_boundaries_do_not_change_the_hash():
    scope = {"method": "POST", "path": "/x", "query_string": b""}
    one = b'--AAA\r\nContent-Disposition: form-data; name="file"\r\n\r\nhello\r\n--AAA--\r\n'
    two = one.replace(b"AAA", b"BBB")
    assert idempotency._request_hash(
        scope, one, b"multipart/form-data; boundary=AAA"
    ) == idempotency._request_hash(scope, two, b"multipart/form-data; boundary=BBB")


def test_a_refused_login_is_not_replayed_after_the_token_is_renewed(admin, tree, session, anon):
    from datetime import timedelta

    from jose import jwt

    from backend.core.config import get_settings
    from backend.core.db import utcnow

    settings = get_settings()
    now = utcnow()
    expired = jwt.encode(
        {
            "sub": f"user:{admin.account.id}",
            "role": "county_admin",
            "branch": tree.county.id,
            "jti": "old",
            "iat": int((now - timedelta(hours=2)).timestamp()),
            "exp": int((now - timedelta(hours=1)).timestamp()),
            "iss": settings.jwt_issuer,
            "aud": settings.jwt_audience,
        },
        settings.secret_key,
        algorithm="HS256",
    )
    body = {"name": "离线村", "kind": "village", "parent_id": tree.town_a.id}
    first = anon.post(
        B, json=body, headers={"Authorization": f"Bearer {expired}", "Idempotency-Key": "offline-1"}
    )
    assert first.status_code == 401
    again = admin.post(B, json=body, headers={"Idempotency-Key": "offline-1"})
    assert again.status_code == 201 and "idempotent-replayed" not in again.headers
    assert _count(session, "离线村") == 1


def _claim_row(admin, session, key: str, body: dict, **fields) -> None:
    session.add(
        IdempotencyKey(
            subject=f"user:{admin.account.id}",
            key=key,
            method="POST",
            path=B,
            request_hash=idempotency._request_hash(
                {"method": "POST", "path": B, "query_string": b""},
                admin.client.build_request("POST", B, json=body).content,
                b"application/json",
            ),
            **fields,
        )
    )
    session.commit()


def test_a_claim_left_by_a_process_that_died_before_committing_is_taken_over(admin, tree, session):
    from datetime import timedelta

    from backend.core.config import get_settings
    from backend.core.db import utcnow

    body = {"name": "断电村", "kind": "village", "parent_id": tree.town_a.id}
    _claim_row(
        admin,
        session,
        "crashed",
        body,
        created_at=utcnow() - timedelta(seconds=get_settings().idempotency_lease_seconds + 60),
    )
    r = admin.post(B, json=body, headers={"Idempotency-Key": "crashed"})
    assert r.status_code == 201 and "idempotent-replayed" not in r.headers
    assert _count(session, "断电村") == 1
    again = admin.post(B, json=body, headers={"Idempotency-Key": "crashed"})
    assert again.status_code == 201 and again.headers["idempotent-replayed"] == "true"
    assert _count(session, "断电村") == 1


def test_writes_and_their_key_commit_together_so_a_lost_answer_is_never_run_twice(
    admin, tree, session, monkeypatch
):
    body = {"name": "回执丢失村", "kind": "village", "parent_id": tree.town_a.id}
    # The process stops after the request's transaction committed, before the answer was kept.
    monkeypatch.setattr(idempotency, "_store", lambda *args: None)
    assert admin.post(B, json=body, headers={"Idempotency-Key": "lost"}).status_code == 201
    monkeypatch.undo()
    session.expire_all()
    row = session.exec(select(IdempotencyKey).where(IdempotencyKey.key == "lost")).one()
    assert row.status == "committed"
    monkeypatch.setattr(idempotency, "WAIT_SECONDS", 0.3)
    r = admin.post(B, json=body, headers={"Idempotency-Key": "lost"})
    assert r.status_code == 409 and r.json()["type"].endswith("idempotency-completed")
    assert "已经保存" in r.json()["detail"]
    assert _count(session, "回执丢失村") == 1


def test_a_resend_that_overtakes_the_kept_answer_waits_for_it(admin, tree, session, monkeypatch):
    """Behind a load balancer the caller has its answer, and resends through another process, a moment before
    the first process has kept that answer: the resend replays it, not "saved without a receipt"."""
    import threading

    body = {"name": "抢先重发村", "kind": "village", "parent_id": tree.town_a.id}
    store = idempotency._store
    kept = threading.Event()

    def store_late(*args):
        threading.Timer(0.5, lambda: (store(*args), kept.set())).start()

    monkeypatch.setattr(idempotency, "_store", store_late)
    first = admin.post(B, json=body, headers={"Idempotency-Key": "overtaken"})
    assert first.status_code == 201
    monkeypatch.setattr(idempotency, "_store", store)
    r = admin.post(B, json=body, headers={"Idempotency-Key": "overtaken"})
    assert kept.wait(5)
    assert (
        r.status_code == 201
        and r.headers["idempotent-replayed"] == "true"
        and r.json()["id"] == first.json()["id"]
    )
    assert _count(session, "抢先重发村") == 1


def _key_status(session, key: str) -> str:
    session.expire_all()
    return session.exec(select(IdempotencyKey).where(IdempotencyKey.key == key)).one().status


def test_a_submission_refused_by_validation_leaves_its_key_unmarked(admin, tree, session):
    """A 4xx wrote nothing: its key is not marked committed (the refusal itself is what a resend replays)."""
    bad = {"name": "", "kind": "village", "parent_id": tree.town_a.id}
    r = admin.post(B, json=bad, headers={"Idempotency-Key": "refused"})
    assert r.status_code == 422 and [e["field"] for e in r.json()["errors"]] == ["name"]
    assert _key_status(session, "refused") == "done"


def test_a_submission_refused_for_an_unknown_parent_leaves_its_key_unmarked(admin, tree, session):
    bad = {"name": "重名", "kind": "village", "parent_id": 999_999}
    r = admin.post(B, json=bad, headers={"Idempotency-Key": "refused"})
    assert r.status_code == 404 and r.json()["type"].endswith("not-found")
    assert _key_status(session, "refused") == "done"
    assert _count(session, "重名") == 0
