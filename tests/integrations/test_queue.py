"""The SQLite runner: periodic runs are one row per (task, period) whoever schedules them; a claim is one runner's."""

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import select

from backend.core import queue
from backend.core.queue_models import TaskRun


@pytest.fixture
def sqlite_only(db):
    if db.dialect != "sqlite":
        pytest.skip("the task_run runner is SQLite's; PostgreSQL runs procrastinate")


def test_two_runners_schedule_each_periodic_task_once_per_period(sqlite_only, db, session):
    at = datetime(2026, 12, 1, 8, 0, 30, tzinfo=UTC)
    for runner in (queue.SqliteRunner(db, threads=0), queue.SqliteRunner(db, threads=0)):
        runner.schedule_periodic(at)
        runner.schedule_periodic(at + timedelta(seconds=20))  # same minute: same periods
    rows = session.exec(select(TaskRun.task, sa.func.count()).group_by(TaskRun.task)).all()
    periodic = {d.name for d in queue.TASKS.values() if d.every_minutes}
    assert dict(rows) == {name: 1 for name in periodic}
    queue.SqliteRunner(db, threads=0).schedule_periodic(at + timedelta(minutes=1))
    assert (
        session.exec(
            select(sa.func.count()).select_from(TaskRun).where(TaskRun.task == "webhooks.dispatch")
        ).one()
        == 2
    )  # every minute: a new period, a new run


def test_a_claimed_run_is_not_claimed_again_until_its_lease_runs_out(sqlite_only, db, session, monkeypatch):
    queue.defer(session, "webhooks.dispatch")
    session.commit()
    first, second = queue.SqliteRunner(db, threads=0), queue.SqliteRunner(db, threads=0)
    claimed = first.claim()
    assert claimed is not None and claimed[1] == "webhooks.dispatch"
    assert second.claim() is None
    session.execute(sa.update(TaskRun).values(lease_until=datetime.now(UTC) - timedelta(seconds=1)))
    session.commit()
    again = second.claim()
    assert again is not None and again[0] == claimed[0] and again[3] == 2  # the same run, a second attempt


def test_a_failing_task_is_retried_with_backoff_then_failed(sqlite_only, db, session, monkeypatch):
    calls = []

    def boom(db):
        calls.append(1)
        raise ValueError("receiver exploded")

    monkeypatch.setitem(queue.TASKS, "test.boom", queue.TaskDef("test.boom", boom, max_attempts=2))
    queue.defer(session, "test.boom")
    session.commit()
    assert queue.run_due_now(db) == 1
    run = session.exec(select(TaskRun).where(TaskRun.task == "test.boom")).one()
    assert run.status == "todo" and run.run_at > datetime.now(UTC) and run.error == "receiver exploded"
    session.execute(sa.update(TaskRun).where(TaskRun.id == run.id).values(run_at=datetime.now(UTC)))
    session.commit()
    assert queue.run_due_now(db) == 1
    session.expire_all()
    assert session.get(TaskRun, run.id).status == "failed" and len(calls) == 2
