"""Periodic upkeep of the core (expired idempotency keys, finished task runs), run by the task runners.

Domains register their own periodic tasks with `backend.core.queue.task` (revoked tokens: backend.auth.service).
"""

from backend.core.db import Database
from backend.core.queue import task


@task("cleanup.idempotency_keys", every_minutes=60)
def purge_idempotency_keys(db: Database) -> int:
    from backend.core.idempotency import purge_expired

    return purge_expired(db)


@task("cleanup.task_runs", every_minutes=60)
def purge_task_runs(db: Database) -> int:
    """Finished runs of the SQLite runner are kept three days for inspection."""
    from datetime import timedelta

    import sqlalchemy as sa

    from backend.core.db import utcnow
    from backend.core.queue_models import TaskRun

    with db.session(write=True) as session:
        return session.execute(
            sa.delete(TaskRun).where(
                TaskRun.status.in_(("done", "failed")), TaskRun.finished_at < utcnow() - timedelta(days=3)
            )
        ).rowcount
