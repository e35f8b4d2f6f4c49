"""Background jobs: created in a request, run outside it, polled for progress.

The request commits the job and its `jobs.run` task together and answers 202; a task runner (a `halfsky worker`,
or the one in `halfsky serve`) runs it. The handler is looked up by `kind`, so any domain can register one with
`@job_handler("kind")`. Handlers commit in chunks with their progress; a job whose worker died is picked up
again and resumes after its last committed chunk, and one that keeps dying ends `failed` with the reason.
"""

import base64
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from backend.core.db import Database, utcnow
from backend.core.paging import Column, ListParams, xlsx_bytes
from backend.core.queue import defer, task
from backend.core.scope import Principal, scoped
from backend.core.security import decrypt_field, encrypt_field
from backend.jobs.models import Job, JobStatus
from backend.jobs.schemas import JobPublic

log = logging.getLogger("halfsky.jobs")


@dataclass
class JobOutcome:
    result: dict[str, Any] = field(default_factory=dict)
    failed_rows: list[dict[str, Any]] = field(default_factory=list)
    failed_columns: list[Column] = field(default_factory=list)


Handler = Callable[[Database, Job, Principal], JobOutcome]
JOB_TASK = "jobs.run"
# A job started this many times without finishing (its worker died each time) is failed, not tried again.
MAX_JOB_ATTEMPTS = 3
JOB_HANDLERS: dict[str, Handler] = {}


COLUMNS = [
    Column("kind", "任务"),
    Column("status", "状态", "job_status"),
    Column("filename", "文件"),
    Column("rows_done", "已处理"),
    Column("rows_failed", "失败"),
    Column("created_at", "创建时间"),
]


def to_public(job: Job) -> JobPublic:
    data = JobPublic.model_validate(job, from_attributes=True)
    data.has_failed_rows = bool(job.rows_failed) and job.status == JobStatus.done
    return data


def list_jobs(
    session: Session,
    principal: Principal,
    page: ListParams,
    *,
    kind: str | None = None,
    status: JobStatus | None = None,
    mine: bool = False,
) -> Any:
    stmt = scoped(select(Job), principal)
    if kind:
        stmt = stmt.where(Job.kind == kind)
    if status:
        stmt = stmt.where(Job.status == status)
    if mine:
        stmt = stmt.where(Job.created_by == principal.subject)
    return page.respond(
        session,
        stmt,
        to_public,
        sortable={"created_at": Job.created_at, "id": Job.id},
        columns=COLUMNS,
        filename="jobs",
    )


def job_handler(kind: str):
    def register(func: Handler) -> Handler:
        JOB_HANDLERS[kind] = func
        return func

    return register


def seal(data: bytes | None) -> bytes | None:
    """Uploaded files and failed-row sheets hold ID numbers and phones: they are encrypted at rest too."""
    if data is None:
        return None
    return encrypt_field(base64.b64encode(data).decode()).encode()


def unseal(stored: bytes | None) -> bytes | None:
    if stored is None:
        return None
    return base64.b64decode(decrypt_field(stored.decode()))


def create_job(
    session: Session,
    principal: Principal,
    kind: str,
    *,
    filename: str | None = None,
    payload: bytes | None = None,
    options: dict[str, Any] | None = None,
) -> Job:
    from backend.branches.models import Branch

    job = Job(
        kind=kind,
        filename=filename,
        payload=seal(payload),
        options=options or {},
        created_by=principal.subject,
        created_by_name=principal.name,
    )
    job.place_in(session.get(Branch, principal.branch_id))
    session.add(job)
    session.flush()
    defer(session, JOB_TASK, job_id=job.id)
    return job


def principal_of(session: Session, subject: str) -> Principal:
    """The principal a job acts for, rebuilt from the account (role and branch as they are now)."""
    from backend.auth.models import ApiClient, User
    from backend.auth.roles import permissions_for
    from backend.branches.models import Branch

    kind, _, raw_id = subject.partition(":")
    model = {"user": User, "client": ApiClient}[kind]
    account = session.get(model, int(raw_id))
    if account is None or not account.is_active:
        raise RuntimeError("账号不存在或已停用")
    branch = session.get(Branch, account.branch_id)
    return Principal(
        kind=kind,
        id=account.id,
        name=getattr(account, "display_name", None) or account.name,
        role=account.role,
        branch_id=branch.id,
        branch_depth=branch.depth,
        branch_path=branch.path,
        permissions=permissions_for(account.role),
    )


class Superseded(Exception):
    """A later run of the same job took it over (this run's lease ran out while it was slow): stop, write nothing."""


def report_progress(
    session: Session,
    job_id: int,
    *,
    done: int,
    failed: int,
    total: int | None = None,
    attempt: int | None = None,
    **extra: Any,
) -> None:
    """Commit progress with the chunk. `attempt` fences the run: if another run has started since, raise
    Superseded so this chunk rolls back and the newer run carries on alone."""
    values: dict[str, Any] = {"rows_done": done, "rows_failed": failed, "updated_at": utcnow(), **extra}
    if total is not None:
        values["total_rows"] = total
    stmt = sa.update(Job).where(Job.id == job_id)
    if attempt is not None:
        stmt = stmt.where(Job.attempts == attempt, Job.status == JobStatus.running)
    if session.execute(stmt.values(**values)).rowcount == 0 and attempt is not None:
        raise Superseded(job_id)


@task(JOB_TASK, max_attempts=1)
def run_job(db: Database, job_id: int) -> None:
    """Run (or resume) one job to its end; never raises (a failure is written on the job).

    Each start counts an attempt, and the attempt fences every write of this run: if a later run of the same job
    starts meanwhile (this run was taken for dead), this one stops at its next chunk and writes nothing more."""
    attempt = None
    try:
        with db.session(write=True) as session:
            job = session.get(Job, job_id)
            if job is None or job.status not in (JobStatus.queued, JobStatus.running):
                return
            if job.attempts >= MAX_JOB_ATTEMPTS:
                raise RuntimeError(
                    f"任务中断了 {job.attempts} 次,未能完成(已处理 {job.rows_done} 行),请重新上传"
                )
            principal = principal_of(session, job.created_by)
            job.status, job.attempts = JobStatus.running, job.attempts + 1
            attempt = job.attempts
            job.started_at = job.started_at or utcnow()
            session.info["principal"] = principal
        handler = JOB_HANDLERS[job.kind]
        outcome = handler(db, job, principal)
        sheet = None
        if outcome.failed_rows:
            sheet = xlsx_bytes(outcome.failed_rows, outcome.failed_columns, "未导入的行")
        with db.session(write=True) as session:
            finished = session.execute(
                sa.update(Job)
                .where(Job.id == job_id, Job.attempts == attempt, Job.status == JobStatus.running)
                .values(
                    status=JobStatus.done,
                    finished_at=utcnow(),
                    updated_at=utcnow(),
                    result=outcome.result,
                    failed_sheet=seal(sheet),
                    failed_so_far=None,
                    payload=None,
                )
            )
            if finished.rowcount == 0:
                raise Superseded(job_id)
            _finished_event(session, job_id)
    except Superseded:
        log.warning("job %s: a later run took it over; this one stops", job_id)
    except Exception as exc:
        log.warning("job %s failed", job_id, exc_info=exc)
        from backend.core.errors import AppError

        if isinstance(exc, AppError):
            message = exc.detail
        elif isinstance(exc, RuntimeError | ValueError):
            message = str(exc)
        else:
            message = "任务执行出错,已记录,请稍后重试"
        stmt = sa.update(Job).where(Job.id == job_id, Job.status.in_((JobStatus.queued, JobStatus.running)))
        if attempt is not None:
            stmt = stmt.where(Job.attempts == attempt)
        with db.session(write=True) as session:
            failed = session.execute(
                stmt.values(
                    status=JobStatus.failed,
                    finished_at=utcnow(),
                    updated_at=utcnow(),
                    error=message[:1000],
                    failed_so_far=None,
                )
            )
            if failed.rowcount:
                _finished_event(session, job_id)


def _finished_event(session: Session, job_id: int) -> None:
    from backend.integrations.service import record_event

    job = session.get(Job, job_id, populate_existing=True)
    if job is not None:
        record_event(
            session,
            "job.finished",
            job.branch_id,
            {
                "job_id": job.id,
                "kind": job.kind,
                "status": job.status,
                "rows_done": job.rows_done,
                "rows_failed": job.rows_failed,
            },
        )
