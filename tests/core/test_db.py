"""The database layer: aware UTC datetimes on both databases, SQLite's pragmas, expired idempotency keys."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from backend.core.db import UTCDateTime, make_engine, utcnow
from backend.core.idempotency_models import IdempotencyKey


def test_datetimes_come_back_aware_in_utc(session, tree):
    shanghai = timezone(timedelta(hours=8))
    tree.county.updated_at = datetime(2026, 3, 8, 9, 0, tzinfo=shanghai)
    session.commit()
    session.expire_all()
    back = session.get(type(tree.county), tree.county.id).updated_at
    assert back.tzinfo is not None and back.utcoffset() == timedelta(0)
    assert back == datetime(2026, 3, 8, 1, 0, tzinfo=UTC)


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError):
        UTCDateTime().process_bind_param(datetime(2026, 1, 1), sa.create_engine("sqlite://").dialect)


def test_sqlite_connections_are_set_up_for_concurrent_writers(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 3000
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
    engine.dispose()


def test_an_expired_idempotency_key_no_longer_replays(admin, tree, session):
    body = {"name": "旧村", "kind": "village", "parent_id": tree.town_a.id}
    admin.post("/api/v1/branches", json=body, headers={"Idempotency-Key": "old"})
    session.execute(sa.update(IdempotencyKey).values(created_at=utcnow() - timedelta(hours=49)))
    session.commit()
    again = admin.post("/api/v1/branches", json=body, headers={"Idempotency-Key": "old"})
    assert again.status_code == 201 and "idempotent-replayed" not in again.headers


def test_keys_are_kept_for_at_least_a_day(admin, tree, session, db):
    from backend.core.idempotency import purge_expired

    admin.post(
        "/api/v1/branches",
        json={"name": "x", "kind": "village", "parent_id": tree.town_a.id},
        headers={"Idempotency-Key": "day"},
    )
    session.execute(sa.update(IdempotencyKey).values(created_at=utcnow() - timedelta(hours=25)))
    session.commit()
    purge_expired(db)
    assert session.execute(sa.select(sa.func.count()).select_from(IdempotencyKey)).scalar_one() == 1
