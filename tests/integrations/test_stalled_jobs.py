"""A dead worker's job is queued again, unless a run with its queueing lock already waits: then it is ended,
since that run does the same work (a webhook delivery run per subscription)."""

import asyncio
import uuid
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from backend.core.db import Database, make_engine
from backend.core.migrate import upgrade
from backend.core.queue import QUEUE, procrastinate_app, procrastinate_conninfo
from tests.conftest import _postgres_url


@pytest.fixture
def pg_url():
    pg = _postgres_url()
    if not pg:
        pytest.skip("procrastinate's stalled jobs live on PostgreSQL")
    admin = make_engine(pg, isolation_level="AUTOCOMMIT", pool_size=1)
    name = f"halfsky_stalled_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = sa.make_url(make_engine(pg).url).set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    yield url
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


def test_a_stalled_run_whose_queueing_lock_waits_again_is_ended_and_the_others_are_requeued(pg_url):
    engine = make_engine(pg_url)
    job = (
        "INSERT INTO procrastinate_jobs (queue_name, task_name, queueing_lock, args, status, worker_id) "
        "VALUES (:q, :task, :qlock, CAST(:args AS jsonb), :status, :worker) RETURNING id"
    )
    with engine.begin() as conn:
        dead = conn.execute(
            sa.text(
                "INSERT INTO procrastinate_workers (last_heartbeat) "
                "VALUES (now() - interval '1 hour') RETURNING id"
            )
        ).scalar_one()
        lock = "webhooks.deliver:1"
        stalled = conn.execute(
            sa.text(job),
            {
                "q": QUEUE,
                "task": "webhooks.deliver",
                "qlock": lock,
                "args": '{"subscription_id": 1}',
                "status": "doing",
                "worker": dead,
            },
        ).scalar_one()
        also_stalled = conn.execute(
            sa.text(job),
            {
                "q": QUEUE,
                "task": "tickets.sla_sweep",
                "qlock": None,
                "args": "{}",
                "status": "doing",
                "worker": dead,
            },
        ).scalar_one()
        waiting = conn.execute(
            sa.text(job),
            {
                "q": QUEUE,
                "task": "webhooks.deliver",
                "qlock": lock,
                "args": '{"subscription_id": 1}',
                "status": "todo",
                "worker": None,
            },
        ).scalar_one()
    db = Database(engine)
    app = procrastinate_app(db, procrastinate_conninfo(pg_url))

    async def check_once():
        async with app.open_async():
            await app.tasks["queue.retry_stalled"].func(SimpleNamespace(app=app), timestamp=0)

    asyncio.run(check_once())
    with engine.connect() as conn:
        status = dict(conn.execute(sa.text("SELECT id, status FROM procrastinate_jobs")).all())
    engine.dispose()
    assert status == {stalled: "aborted", also_stalled: "todo", waiting: "todo"}
