"""`halfsky backup` while the app writes, `halfsky restore` into a fresh database: every row committed before the
backup began is there, nothing that was never committed is, and the restored app starts and logs in."""

import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from backend.branches.models import Branch, BranchKind
from backend.core.db import Database, make_engine
from backend.core.migrate import upgrade
from backend.main import create_app
from tests.conftest import TEST_PASSWORD, _postgres_url, make_branch, make_user

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def fresh() -> Iterator:
    """`fresh()` → the URL of a new, empty database on the database under test; all dropped afterwards."""
    pg = _postgres_url()
    made: list[str] = []
    tmp = Path(tempfile.mkdtemp(prefix="halfsky-backup-"))
    admin = make_engine(pg, isolation_level="AUTOCOMMIT", pool_size=1) if pg else None

    def new() -> str:
        if admin is None:
            return f"sqlite:///{tmp / f'{uuid.uuid4().hex[:8]}.db'}"
        name = f"halfsky_backup_{uuid.uuid4().hex[:8]}"
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        made.append(name)
        return sa.make_url(make_engine(pg).url).set(database=name).render_as_string(hide_password=False)

    yield new
    if admin is not None:
        with admin.connect() as conn:
            for name in made:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def halfsky(*args: str, url: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "backend.cli", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(ROOT)},
        timeout=300,
    )


def test_backup_while_writing_restores_every_committed_row_and_the_app_logs_in(fresh, password_hash):
    source_url = fresh()
    upgrade(source_url)
    source = Database(make_engine(source_url))
    with Session(source.engine) as session:
        county = make_branch(session, None, "备份县", BranchKind.county, "B430725")
        make_user(session, county, "county_admin", username="backup.admin", password_hash=password_hash)
        county_id = county.id

    committed: list[int] = []
    stop = threading.Event()

    def write_villages() -> None:
        n = 0
        while not stop.is_set():
            n += 1
            with source.session(write=True) as session:
                parent = session.get(Branch, county_id)
                village = make_branch(session, parent, f"村{n}", BranchKind.village)
                village_id = village.id
            committed.append(village_id)  # only after the commit returned

    writer = threading.Thread(target=write_villages)
    writer.start()
    try:
        time.sleep(0.5)
        before = set(committed)
        file = Path(tempfile.mkdtemp(prefix="halfsky-backup-file-")) / "halfsky.backup"
        done = halfsky("backup", str(file), url=source_url)
        assert done.returncode == 0, done.stderr
        time.sleep(0.3)
    finally:
        stop.set()
        writer.join()
    assert len(before) >= 3 and len(committed) > len(before), "writes must go on before, during and after"
    assert not file.with_name(file.name + ".partial").exists()

    target_url = fresh()
    done = halfsky("restore", str(file), url=target_url)
    assert done.returncode == 0, done.stderr
    target = make_engine(target_url)
    with Session(target) as session:
        restored = set(session.exec(select(Branch.id).where(Branch.kind == BranchKind.village)).all())
    assert before <= restored, "a row committed before the backup began is missing"
    assert restored <= set(committed), "the backup holds a row that was never committed"
    assert restored == set(sorted(committed)[: len(restored)]), "the backup is not one consistent moment"

    with TestClient(create_app(Database(target))) as client:
        r = client.post(
            "/api/v1/auth/token",
            data={"grant_type": "password", "username": "backup.admin", "password": TEST_PASSWORD},
        )
        assert r.status_code == 200, r.text
        me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {r.json()['access_token']}"})
        assert me.status_code == 200 and me.json()["branch"]["name"] == "备份县"
    target.dispose()
    source.engine.dispose()

    again = halfsky("restore", str(file), url=target_url)
    assert again.returncode != 0 and "not empty" in again.stderr


def test_a_backup_of_the_other_database_kind_is_refused(fresh, tmp_path):
    url = fresh()
    wrong = tmp_path / "wrong.backup"
    wrong.write_bytes(
        b"PGDMP" + b"\0" * 64 if url.startswith("sqlite") else b"SQLite format 3\x00" + b"\0" * 64
    )
    done = halfsky("restore", str(wrong), url=url)
    assert done.returncode != 0 and "restores into" in done.stderr
