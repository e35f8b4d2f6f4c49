from typing import Annotated

from fastapi import Query
from fastapi.responses import Response
from sqlmodel import select

from backend.core.deps import SessionDep, perm
from backend.core.errors import NotFound
from backend.core.paging import LIST_RESPONSES, XLSX_FILE_RESPONSES, Column, PageDep, xlsx_file
from backend.core.scope import get_scoped, scoped
from backend.core.uow import Router
from backend.jobs import service as jobs
from backend.jobs.models import Job, JobStatus
from backend.jobs.schemas import JobList, JobPublic

router = Router(prefix="/jobs", tags=["jobs"])
JobsRead = perm("jobs:read")


def job_public(job) -> JobPublic:
    data = JobPublic.model_validate(job, from_attributes=True)
    data.has_failed_rows = bool(job.rows_failed) and job.status == JobStatus.done
    return data


@router.get("", response_model=JobList, responses=LIST_RESPONSES)
def list_jobs(
    session: SessionDep,
    principal: JobsRead,
    page: PageDep,
    kind: Annotated[str | None, Query(max_length=64)] = None,
    status: JobStatus | None = None,
    mine: bool = False,
):
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
        job_public,
        sortable={"created_at": Job.created_at, "id": Job.id},
        columns=[
            Column("kind", "任务"),
            Column("status", "状态", "job_status"),
            Column("filename", "文件"),
            Column("rows_done", "已处理"),
            Column("rows_failed", "失败"),
            Column("created_at", "创建时间"),
        ],
        filename="jobs",
    )


@router.get("/{job_id}", response_model=JobPublic)
def get_job(session: SessionDep, principal: JobsRead, job_id: int):
    """Progress of a job: status, rows done and failed, and where to download the failed rows."""
    return job_public(get_scoped(session, Job, job_id, principal))


@router.get("/{job_id}/failed-rows", response_class=Response, responses=XLSX_FILE_RESPONSES)
def download_failed_rows(session: SessionDep, principal: JobsRead, job_id: int):
    """The rows that could not be imported, each with the reason, as an Excel sheet to fix and upload again."""
    job = get_scoped(session, Job, job_id, principal)
    if not job.failed_sheet:
        raise NotFound("这个任务没有未导入的行")
    return xlsx_file(jobs.unseal(job.failed_sheet), f"未导入的行-任务{job.id}.xlsx")
