from typing import Annotated

from fastapi import Query
from fastapi.responses import Response

from backend.core.deps import SessionDep, perm
from backend.core.errors import NotFound
from backend.core.paging import LIST_RESPONSES, XLSX_FILE_RESPONSES, PageDep, xlsx_file
from backend.core.scope import get_scoped
from backend.core.uow import Router
from backend.jobs import service as jobs
from backend.jobs.models import Job, JobStatus
from backend.jobs.schemas import JobList, JobPublic

router = Router(prefix="/jobs", tags=["jobs"])
JobsRead = perm("jobs:read")


@router.get("", response_model=JobList, responses=LIST_RESPONSES)
def list_jobs(
    session: SessionDep,
    principal: JobsRead,
    page: PageDep,
    kind: Annotated[str | None, Query(max_length=64)] = None,
    status: JobStatus | None = None,
    mine: bool = False,
):
    return jobs.list_jobs(session, principal, page, kind=kind, status=status, mine=mine)


@router.get("/{job_id}", response_model=JobPublic)
def get_job(session: SessionDep, principal: JobsRead, job_id: int):
    """Progress of a job: status, rows done and failed, and where to download the failed rows."""
    return jobs.to_public(get_scoped(session, Job, job_id, principal))


@router.get("/{job_id}/failed-rows", response_class=Response, responses=XLSX_FILE_RESPONSES)
def download_failed_rows(session: SessionDep, principal: JobsRead, job_id: int):
    """The rows that could not be imported, each with the reason, as an Excel sheet to fix and upload again."""
    job = get_scoped(session, Job, job_id, principal)
    if not job.failed_sheet:
        raise NotFound("这个任务没有未导入的行")
    return xlsx_file(jobs.unseal(job.failed_sheet), f"未导入的行-任务{job.id}.xlsx")
