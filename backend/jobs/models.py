from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import JSON, Field

from backend.core.db import UTCDateTime
from backend.core.scope import BranchScoped, Timestamped, scope_indexes


class JobStatus(StrEnum):
    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"


class Job(BranchScoped, Timestamped, table=True):
    """A long piece of work (an Excel import…) run outside the request; its progress is polled."""

    __label__ = "后台任务"
    __table_args__ = scope_indexes("job")
    # The uploaded file and the failed-rows sheet are blobs; progress counters are bookkeeping.
    __audit_exclude__ = (
        "payload",
        "failed_sheet",
        "rows_done",
        "rows_failed",
        "total_rows",
        "attempts",
        "failed_so_far",
    )
    __encrypted_fields__ = {"payload": None, "failed_sheet": None, "failed_so_far": None}

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=64, index=True)
    status: JobStatus = Field(default=JobStatus.queued, sa_type=sa.String(32), index=True)
    filename: str | None = Field(default=None, max_length=255)
    created_by: str = Field(max_length=64)
    created_by_name: str | None = Field(default=None, max_length=100)
    options: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    total_rows: int | None = None
    # Times a worker started or resumed it; past a few, a job that keeps dying is failed instead.
    attempts: int = 0
    rows_done: int = 0
    rows_failed: int = 0
    result: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    error: str | None = Field(default=None, max_length=1000)
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    payload: bytes | None = Field(default=None, sa_type=sa.LargeBinary)
    failed_sheet: bytes | None = Field(default=None, sa_type=sa.LargeBinary)
    # While running: the failed rows so far (sealed), committed with each chunk so a resumed job keeps them.
    failed_so_far: bytes | None = Field(default=None, sa_type=sa.LargeBinary)
