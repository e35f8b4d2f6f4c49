from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import JSON, Field, SQLModel

from backend.core.db import UTCDateTime, utcnow


class TaskRun(SQLModel, table=True):
    """A task waiting, running or done, for the SQLite runner (PostgreSQL installations use procrastinate's tables).

    A run is claimed by one runner at a time under a lease it renews; a dead runner's lease runs out and
    another claims it. `period_key` makes each periodic task one run per period whoever schedules it.
    """

    __tablename__ = "task_run"
    __table_args__ = (
        sa.UniqueConstraint("task", "period_key", name="uq_task_run_period"),
        sa.Index("ix_task_run_due", "status", "run_at"),
        sa.Index(
            "uq_task_run_queueing_lock",
            "queueing_lock",
            unique=True,
            sqlite_where=sa.text("status = 'todo'"),
            postgresql_where=sa.text("status = 'todo'"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    task: str = Field(max_length=100)
    args: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    status: str = Field(default="todo", max_length=16)
    run_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    attempts: int = 0
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    queueing_lock: str | None = Field(default=None, max_length=200)
    period_key: int | None = None
    error: str | None = Field(default=None, max_length=1000)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
