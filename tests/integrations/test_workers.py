"""Real `halfsky worker` processes on a database of their own: kill -9 mid-delivery loses nothing; on PostgreSQL
two workers run each periodic task once per period."""

import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from backend.branches.models import Branch, BranchKind
from backend.branches.service import place_under
from backend.core.db import Database, make_engine
from backend.core.migrate import upgrade
from backend.core.security import encrypt_field
from backend.integrations.models import WebhookDelivery, WebhookSubscription
from backend.integrations.service import new_secret, record_event
from tests.conftest import _postgres_url

ROOT = Path(__file__).resolve().parents[2]
FAST = {
    "HALFSKY_TASK_LEASE_SECONDS": "2",
    "HALFSKY_WEBHOOK_LEASE_SECONDS": "2",
    "HALFSKY_TASK_POLL_SECONDS": "0.2",
    "HALFSKY_STALLED_WORKER_SECONDS": "3",
    "HALFSKY_STALLED_CHECK_SECONDS": "1",
    "HALFSKY_WEBHOOK_TIMEOUT_SECONDS": "30",
}


@pytest.fixture(scope="module")
def own_url():
    """A database the worker processes share with the test, committed for real."""
    pg = _postgres_url()
    if pg:
        admin = make_engine(pg, isolation_level="AUTOCOMMIT", pool_size=1)
        name = f"halfsky_workers_{uuid.uuid4().hex[:8]}"
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        url = sa.make_url(make_engine(pg).url).set(database=name).render_as_string(hide_password=False)
        upgrade(url)
        yield url
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()
        return
    url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='halfsky-workers-')) / 'w.db'}"
    upgrade(url)
    yield url


def start_worker(url: str) -> subprocess.Popen:
    env = {**os.environ, **FAST, "DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "backend.cli", "worker", "--concurrency", "2"],
        env=env,
        cwd=tempfile.mkdtemp(prefix="halfsky-worker-"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_for(check, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return False


def test_kill_9_of_a_worker_in_the_middle_of_a_delivery_loses_nothing(own_url, receiver):
    db = Database(make_engine(own_url))
    held, release = threading.Event(), threading.Event()
    original = receiver.server.RequestHandlerClass.do_POST

    def hold_the_first(handler):
        if not held.is_set():
            held.set()
            release.wait(20)  # the worker is killed while it waits for this answer, which never comes
            handler.close_connection = True
            return
        original(handler)

    receiver.server.RequestHandlerClass.do_POST = hold_the_first
    with db.session(write=True) as session:
        county = Branch(name="县", kind=BranchKind.county)
        place_under(county, None)
        session.add(county)
        session.flush()
        sub = WebhookSubscription(
            url=receiver.url, events=["ticket.created"], secret=encrypt_field(new_secret()), created_by="test"
        )
        sub.place_in(county)
        session.add(sub)
        session.flush()
        for n in range(5):
            record_event(session, "ticket.created", county.id, {"ticket_id": n})
        sub_id = sub.id

    first = start_worker(own_url)
    try:
        assert held.wait(20), "the worker never started the delivery"
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    finally:
        stop(first)
    release.set()
    second = start_worker(own_url)
    try:

        def all_delivered() -> bool:
            with db.session() as session:
                return (
                    session.execute(
                        sa.select(sa.func.count()).where(
                            WebhookDelivery.subscription_id == sub_id, WebhookDelivery.status != "delivered"
                        )
                    ).scalar_one()
                    == 0
                )

        assert wait_for(all_delivered, 30), "deliveries still pending after a new worker started"
    finally:
        stop(second)
    import json

    got = [json.loads(body)["data"]["ticket_id"] for _, body in receiver.received]
    assert set(got) == set(range(5))  # at least once each
    assert sorted(got) == got  # and in order
    db.engine.dispose()


def test_two_workers_run_each_periodic_task_once_per_period(own_url):
    if not own_url.startswith("postgresql"):
        pytest.skip(
            "procrastinate's periodic tasks run on PostgreSQL; SQLite's runner dedupes by (task, period) rows"
        )
    workers = [start_worker(own_url), start_worker(own_url)]
    engine = make_engine(own_url)
    try:

        def ran(task: str):
            with engine.connect() as conn:
                return (
                    conn.execute(
                        sa.text(
                            "SELECT count(*) FROM procrastinate_jobs WHERE task_name = :t AND status = 'succeeded'"
                        ),
                        {"t": task},
                    ).scalar_one()
                    > 0
                )

        assert wait_for(lambda: ran("tickets.sla_sweep") and ran("webhooks.dispatch"), 30)
        time.sleep(4)  # a few periods of the per-second stalled-job check, with both workers polling
        with engine.connect() as conn:
            per_period = conn.execute(
                sa.text(
                    "SELECT task_name, args->>'timestamp' AS period, count(*) FROM procrastinate_jobs "
                    "WHERE args ? 'timestamp' GROUP BY 1, 2"
                )
            ).all()
        alive = [w.poll() is None for w in workers]
    finally:
        for w in workers:
            stop(w)
        engine.dispose()
    assert alive == [True, True]
    assert {t for t, _, _ in per_period} >= {"tickets.sla_sweep", "webhooks.dispatch", "queue.retry_stalled"}
    assert [
        row for row in per_period if row[2] != 1
    ] == []  # one run per task and period, whoever deferred it
    assert len({p for t, p, _ in per_period if t == "queue.retry_stalled"}) >= 2


def test_an_import_whose_worker_is_killed_part_way_resumes_in_another_worker(own_url):
    from backend.auth.models import User
    from backend.jobs import service as jobs
    from backend.jobs.models import Job
    from backend.screenings import imports
    from backend.screenings.models import Woman
    from tests.conftest import principal_for
    from tests.integrations.test_resume import _women_file

    db = Database(make_engine(own_url))
    rows = 3000
    with db.session(write=True) as session:
        county = Branch(name="县", kind=BranchKind.county)
        place_under(county, None)
        session.add(county)
        session.flush()
        cadre = User(
            username=f"c-{uuid.uuid4().hex[:6]}", display_name="c", role="county_admin", password_hash="x"
        )
        cadre.place_in(county)
        session.add(cadre)
        session.flush()
        job_id = jobs.create_job(
            session, principal_for(cadre, county), imports.WOMEN_JOB, payload=_women_file(rows)
        ).id

    def progress() -> tuple[str, int]:
        with db.session() as session:
            job = session.get(Job, job_id)
            return job.status, job.rows_done

    first = start_worker(own_url)
    try:
        assert wait_for(lambda: progress()[1] >= imports.CHUNK, 60), "the import never committed a chunk"
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    finally:
        stop(first)
    status, done_at_kill = progress()
    assert status == "running" and done_at_kill < rows, "the import finished before it could be killed"
    second = start_worker(own_url)
    try:
        assert wait_for(lambda: progress()[0] == "done", 60), f"not resumed: {progress()}"
    finally:
        stop(second)
    with db.session() as session:
        job = session.get(Job, job_id)
        women = session.execute(sa.select(sa.func.count()).select_from(Woman)).scalar_one()
    assert (job.rows_done, job.rows_failed) == (rows, 1) and job.attempts >= 2
    assert women == rows - 1  # every valid row exactly once
    db.engine.dispose()
