"""Background tasks: one definition of each task, two runners.

A task is a plain function `func(db, **kwargs)` registered with `@task(name)` (periodic ones with
`every_minutes=`). `defer(session, name, ...)` queues a run in the caller's transaction, so a run exists exactly
when the change that asked for it commits.

- PostgreSQL: procrastinate. `halfsky worker` (any number, anywhere) or the worker embedded in `halfsky serve`
  runs the tasks; procrastinate's periodic support defers each periodic task once per period across all workers,
  retries with backoff, and the `queue.retry_stalled` task re-queues the jobs of a worker whose heartbeat stopped.
- SQLite (the embedded default): `SqliteRunner` runs the same functions from `task_run` rows in the same database,
  claimed atomically under a renewed lease; periodic runs are one row per (task, period).
"""

import asyncio
import contextlib
import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm
from sqlmodel import Session

from backend.core.db import Database, insert_ignore_conflicts, utcnow
from backend.core.queue_models import TaskRun

log = logging.getLogger("halfsky.queue")

QUEUE = "halfsky"


def _env_float(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


# A runner renews its lease on a run every LEASE/3 seconds; a run whose lease ran out belonged to a dead runner.
LEASE_SECONDS = _env_float("HALFSKY_TASK_LEASE_SECONDS", 30)
POLL_SECONDS = _env_float("HALFSKY_TASK_POLL_SECONDS", 0.5)


@dataclass(frozen=True)
class TaskDef:
    name: str
    func: Callable[..., Any]
    every_minutes: int | None = None
    max_attempts: int = 5

    @property
    def cron(self) -> str:
        return "* * * * *" if self.every_minutes == 1 else f"*/{self.every_minutes} * * * *"


TASKS: dict[str, TaskDef] = {}


def task(name: str, *, every_minutes: int | None = None, max_attempts: int = 5):
    """Register a task; with `every_minutes` (a divisor of 60) it also runs once per period."""
    if every_minutes is not None and 60 % every_minutes:
        raise ValueError("every_minutes must divide 60")

    def register(func: Callable[..., Any]):
        TASKS[name] = TaskDef(name, func, every_minutes, max_attempts)
        return func

    return register


def backoff_seconds(attempts: int) -> float:
    return min(2.0**attempts, 600.0)


def defer(
    session: Session,
    name: str,
    *,
    run_at: datetime | None = None,
    queueing_lock: str | None = None,
    **kwargs: Any,
) -> None:
    """Queue a run of `name` in the session's transaction. With `queueing_lock`, at most one such run waits."""
    if name not in TASKS:
        raise KeyError(f"unknown task {name}")
    dialect = session.get_bind().dialect.name
    try:
        with session.begin_nested():
            if dialect == "postgresql":
                session.execute(
                    sa.text(
                        "SELECT procrastinate_defer_jobs_v1(ARRAY[ROW(:queue, :task, 0, NULL, :qlock,"
                        " CAST(:args AS jsonb), :at)::procrastinate_job_to_defer_v1])"
                    ),
                    {
                        "queue": QUEUE,
                        "task": name,
                        "qlock": queueing_lock,
                        "args": json.dumps(kwargs),
                        "at": run_at,
                    },
                )
            else:
                session.add(
                    TaskRun(task=name, args=kwargs, run_at=run_at or utcnow(), queueing_lock=queueing_lock)
                )
                session.flush()
                session.info["task_deferred"] = True
    except sa.exc.IntegrityError:
        # The same queueing lock already waits: that run will do this work too.
        pass


_RUNNERS: "set[SqliteRunner]" = set()


@sa.event.listens_for(sa.orm.Session, "after_commit")
def _wake_runners(session) -> None:
    if session.info.pop("task_deferred", False):
        for runner in list(_RUNNERS):
            runner.wake.set()


def run_task(db: Database, name: str, kwargs: dict[str, Any]) -> Any:
    return TASKS[name].func(db, **kwargs)


# ---------------------------------------------------------------- SQLite runner


class SqliteRunner:
    """Runs tasks from `task_run` rows in threads of this process (the embedded default)."""

    def __init__(self, db: Database, *, threads: int = 2):
        self.db, self.threads = db, threads
        self.owner = uuid.uuid4().hex
        self.stop_event = threading.Event()
        self.wake = threading.Event()
        self.running: set[int] = set()
        self.lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        workers = [
            threading.Thread(target=self._work, name=f"halfsky-task-{i}", daemon=True)
            for i in range(self.threads)
        ]
        workers.append(threading.Thread(target=self._keep, name="halfsky-task-schedule", daemon=True))
        _RUNNERS.add(self)
        for thread in workers:
            thread.start()
        self._threads = workers

    def stop(self, timeout: float = 10.0) -> None:
        _RUNNERS.discard(self)
        self.stop_event.set()
        self.wake.set()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def schedule_periodic(self, now: datetime | None = None) -> None:
        now = now or utcnow()
        rows = []
        for definition in TASKS.values():
            if definition.every_minutes:
                period = definition.every_minutes * 60
                key = int(now.timestamp() // period)
                rows.append(
                    {
                        "task": definition.name,
                        "args": {},
                        "status": "todo",
                        "attempts": 0,
                        "run_at": now,
                        "period_key": key,
                        "created_at": now,
                    }
                )
        with self.db.session(write=True) as session:
            insert_ignore_conflicts(session, TaskRun.__table__, rows, ["task", "period_key"])

    def claim(self) -> tuple[int, str, dict[str, Any], int] | None:
        now = utcnow()
        with self.db.session(write=True) as session:
            row = session.execute(
                sa.text(
                    "UPDATE task_run SET status = 'doing', attempts = attempts + 1, lease_until = :lease "
                    "WHERE id = (SELECT id FROM task_run WHERE (status = 'todo' AND run_at <= :now) "
                    "OR (status = 'doing' AND lease_until < :now) ORDER BY run_at, id LIMIT 1) "
                    "RETURNING id, task, args, attempts"
                ),
                {"now": _naive(now), "lease": _naive(now + timedelta(seconds=LEASE_SECONDS))},
            ).first()
        if row is None:
            return None
        args = row.args if isinstance(row.args, dict) else json.loads(row.args or "{}")
        return row.id, row.task, args, row.attempts

    def run_one(self) -> bool:
        claimed = self.claim()
        if claimed is None:
            return False
        run_id, name, args, attempts = claimed
        with self.lock:
            self.running.add(run_id)
        try:
            run_task(self.db, name, args)
        except Exception as exc:
            log.warning("task %s (run %s) failed", name, run_id, exc_info=exc)
            definition = TASKS.get(name)
            retry = definition is not None and attempts < definition.max_attempts
            values: dict[str, Any] = {"error": str(exc)[:1000], "lease_until": None}
            if retry:
                values.update(status="todo", run_at=utcnow() + timedelta(seconds=backoff_seconds(attempts)))
            else:
                values.update(status="failed", finished_at=utcnow())
            self._finish(run_id, values)
        else:
            self._finish(run_id, {"status": "done", "finished_at": utcnow(), "lease_until": None})
        finally:
            with self.lock:
                self.running.discard(run_id)
        return True

    def _finish(self, run_id: int, values: dict[str, Any]) -> None:
        with self.db.session(write=True) as session:
            try:
                with session.begin_nested():
                    session.execute(sa.update(TaskRun).where(TaskRun.id == run_id).values(**values))
            except sa.exc.IntegrityError:
                # A newer run with the same queueing lock waits already: this one is done.
                session.execute(
                    sa.update(TaskRun)
                    .where(TaskRun.id == run_id)
                    .values(status="done", finished_at=utcnow(), lease_until=None)
                )

    def _work(self) -> None:
        while not self.stop_event.is_set():
            try:
                if self.run_one():
                    continue
            except Exception:
                log.exception("task runner error")
            self.wake.wait(POLL_SECONDS)
            self.wake.clear()

    def _keep(self) -> None:
        """Periodic runs and lease renewal for the runs of this process."""
        while not self.stop_event.is_set():
            try:
                self.schedule_periodic()
                with self.lock:
                    ids = list(self.running)
                if ids:
                    with self.db.session(write=True) as session:
                        session.execute(
                            sa.update(TaskRun)
                            .where(TaskRun.id.in_(ids), TaskRun.status == "doing")
                            .values(lease_until=utcnow() + timedelta(seconds=LEASE_SECONDS))
                        )
            except Exception:
                log.exception("task scheduler error")
            self.stop_event.wait(max(1.0, LEASE_SECONDS / 3))


def _naive(value: datetime) -> datetime:
    # Raw SQL on SQLite compares the stored naive UTC text.
    return value.replace(tzinfo=None)


def run_pending_sqlite(db: Database, *, limit: int = 1000) -> int:
    """Run due tasks in this thread until none is left (tests, `halfsky sweep`)."""
    runner = SqliteRunner(db, threads=0)
    count = 0
    while count < limit and runner.run_one():
        count += 1
    return count


# ---------------------------------------------------------------- procrastinate (PostgreSQL)


STALLED_SECONDS = _env_float("HALFSKY_STALLED_WORKER_SECONDS", 30)
HEARTBEAT_SECONDS = max(0.5, STALLED_SECONDS / 3)
# How often (seconds, a divisor of 60) one worker of the cluster looks for jobs of dead workers.
STALLED_CHECK_SECONDS = _env_float("HALFSKY_STALLED_CHECK_SECONDS", 10)


def procrastinate_conninfo(url: str) -> str:
    url = sa.make_url(url)
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def procrastinate_app(db: Database, conninfo: str):
    """A procrastinate App with every registered task, wrapped to run in a thread with our Database."""
    import procrastinate

    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=conninfo))

    def wrap(definition: TaskDef):
        async def run(**kwargs: Any) -> None:
            kwargs.pop("timestamp", None)  # added by procrastinate to periodic runs
            await asyncio.to_thread(run_task, db, definition.name, kwargs)

        run.__name__ = definition.name.replace(".", "_")
        registered = app.task(
            name=definition.name,
            queue=QUEUE,
            retry=procrastinate.RetryStrategy(max_attempts=definition.max_attempts, exponential_wait=2),
        )(run)
        if definition.every_minutes:
            app.periodic(cron=definition.cron, periodic_id=definition.name)(registered)

    for definition in TASKS.values():
        wrap(definition)

    @app.periodic(cron=f"* * * * * */{int(STALLED_CHECK_SECONDS)}", periodic_id="queue.retry_stalled")
    @app.task(name="queue.retry_stalled", queue=QUEUE, pass_context=True)
    async def retry_stalled(context, timestamp: int) -> None:
        """A worker killed mid-job stops its heartbeat: its jobs go back to the queue."""
        from procrastinate.exceptions import UniqueViolation
        from procrastinate.jobs import Status

        manager = context.app.job_manager
        for job in await manager.get_stalled_jobs(seconds_since_heartbeat=STALLED_SECONDS):
            log.warning("re-queueing job %s (%s) of a stalled worker", job.id, job.task_name)
            try:
                await manager.retry_job(job)
            except UniqueViolation:
                # A run with the same queueing lock already waits and will do this work: end this one, or it
                # would stay `doing` and fail every check (and the jobs after it) for as long as that one waits.
                log.warning("job %s (%s): a run with its queueing lock already waits", job.id, job.task_name)
                await manager.finish_job(job, status=Status.ABORTED, delete_job=False)

    @app.periodic(cron="17 * * * *", periodic_id="queue.remove_old_jobs")
    @app.task(name="queue.remove_old_jobs", queue=QUEUE, pass_context=True)
    async def remove_old_jobs(context, timestamp: int) -> None:
        await context.app.job_manager.delete_old_jobs(nb_hours=72, include_failed=True)

    return app


async def run_procrastinate_worker(
    db: Database, conninfo: str, *, concurrency: int = 4, install_signal_handlers: bool = True
) -> None:
    app = procrastinate_app(db, conninfo)
    async with app.open_async():
        await app.run_worker_async(
            queues=[QUEUE],
            concurrency=concurrency,
            name=f"halfsky-{os.getpid()}",
            install_signal_handlers=install_signal_handlers,
            update_heartbeat_interval=HEARTBEAT_SECONDS,
            stalled_worker_timeout=STALLED_SECONDS,
            fetch_job_polling_interval=_env_float("HALFSKY_TASK_POLL_SECONDS", 5),
            shutdown_graceful_timeout=10,
        )


# ---------------------------------------------------------------- one entry for serve and worker


# Tasks at once in a `halfsky serve` process: they share its connections with the requests
# (core.config.SIDE_CONNECTIONS counts them); `halfsky worker` processes run more.
EMBEDDED_CONCURRENCY = 2


class EmbeddedRunner:
    """What `halfsky serve` starts in its lifespan: the SQLite runner, or an embedded procrastinate worker."""

    def __init__(self, db: Database, conninfo: str | None):
        self.db, self.conninfo = db, conninfo
        self.sqlite: SqliteRunner | None = None
        self.task: asyncio.Task | None = None

    async def start(self) -> None:
        if self.db.dialect == "sqlite":
            self.sqlite = SqliteRunner(self.db)
            self.sqlite.start()
        else:
            self.task = asyncio.create_task(
                run_procrastinate_worker(
                    self.db, self.conninfo, concurrency=EMBEDDED_CONCURRENCY, install_signal_handlers=False
                )
            )

    async def stop(self) -> None:
        if self.sqlite:
            await asyncio.to_thread(self.sqlite.stop)
        if self.task:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.task


def run_worker(db: Database, url: str, *, concurrency: int = 4) -> None:
    """`halfsky worker`: procrastinate on PostgreSQL, the task_run runner on SQLite; runs until a signal."""
    if db.dialect == "postgresql":
        asyncio.run(run_procrastinate_worker(db, procrastinate_conninfo(url), concurrency=concurrency))
        return
    import signal

    runner = SqliteRunner(db, threads=concurrency)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    runner.start()
    stop.wait()
    runner.stop()


def run_periodic_once(db: Database) -> dict[str, object]:
    """Run every periodic task once now, here (`halfsky sweep`, tests); each is safe to run twice."""
    results: dict[str, object] = {}
    for definition in TASKS.values():
        if definition.every_minutes:
            try:
                results[definition.name] = definition.func(db)
            except Exception:
                log.exception("periodic task %s failed", definition.name)
                results[definition.name] = "failed"
    return results


def run_due_now(db: Database, *, limit: int = 1000) -> int:
    """Run the queued tasks that are due, here in this thread, until none is left (tests, one-off runs)."""
    if db.dialect == "sqlite":
        return run_pending_sqlite(db, limit=limit)
    count = 0
    while count < limit:
        with db.session(write=True) as session:
            row = session.execute(
                sa.text(
                    "UPDATE procrastinate_jobs SET status = 'succeeded' WHERE id = (SELECT id FROM procrastinate_jobs "
                    "WHERE status = 'todo' AND queue_name = :queue AND (scheduled_at IS NULL OR scheduled_at <= clock_timestamp()) "
                    "AND task_name = ANY(:names) ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING task_name, args"
                ),
                {"queue": QUEUE, "names": list(TASKS)},
            ).first()
        if row is None:
            return count
        try:
            run_task(db, row.task_name, dict(row.args))
        except Exception:
            log.exception("task %s failed", row.task_name)
        count += 1
    return count
