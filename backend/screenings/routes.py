"""两癌 screening API: women, plans, records (and the bureau batch), follow-ups, aid, imports, figures."""

from datetime import date
from typing import Annotated

from fastapi import Depends, File, Form, Query, UploadFile
from fastapi.responses import Response

import backend.screenings.tasks  # noqa: F401  (registers the overdue sweep)
from backend.branches.models import Branch
from backend.core.clock import BetweenDep, PeriodDep
from backend.core.deps import SessionDep, perm, require
from backend.core.paging import LIST_RESPONSES, XLSX_FILE_RESPONSES, PageDep, xlsx_file
from backend.core.scope import Principal, get_scoped
from backend.core.uow import Router, writes
from backend.core.workflow import action_routes
from backend.jobs import service as jobs
from backend.jobs.schemas import JobPublic
from backend.jobs.service import to_public as job_public
from backend.screenings import follow_ups, imports, service
from backend.screenings.models import (
    AidStatus,
    Diagnosis,
    FollowUpStatus,
    HardshipStatus,
    ScreeningKind,
    ScreeningPlan,
    ScreeningRecord,
    ScreeningResult,
    ScreeningSource,
    Woman,
)
from backend.screenings.schemas import (
    AidCreate,
    AidList,
    AidPublic,
    BatchIn,
    BatchOut,
    FollowUpDetail,
    FollowUpList,
    IdNumberMixin,
    PlanCreate,
    PlanList,
    PlanPublic,
    PlanUpdate,
    RecordCreate,
    RecordList,
    RecordPublic,
    RecordUpdate,
    ScreeningStats,
    WomanCreate,
    WomanList,
    WomanPii,
    WomanPublic,
    WomanUpdate,
)

WomenRead, WomenWrite = perm("women:read"), perm("women:write")
ScreeningsRead, ScreeningsWrite = perm("screenings:read"), perm("screenings:write")
ScreeningsBatch, ScreeningsStats = perm("screenings:batch"), perm("screenings:stats")
FollowUpsRead = perm("followups:read")
AidRead, AidWrite = perm("aid:read"), perm("aid:write")
PiiRead = perm("pii:read")
Under = Annotated[int | None, Query(description="只看某组织及其全部下级")]

women_router = Router(prefix="/women", tags=["women"])
plans_router = Router(prefix="/screening-plans", tags=["screening-plans"])
records_router = Router(prefix="/screenings", tags=["screenings"])
follow_ups_router = Router(prefix="/follow-ups", tags=["follow-ups"])
aid_router = Router(prefix="/aid-applications", tags=["aid-applications"])
routers = [women_router, plans_router, records_router, follow_ups_router, aid_router]
router = Router()


def _branch_or_own(session, principal: Principal, branch_id: int | None) -> Branch:
    return get_scoped(session, Branch, branch_id if branch_id is not None else principal.branch_id, principal)


def _start_import(
    response: Response, session, principal: Principal, file: UploadFile, kind: str, branch_id: int | None
) -> JobPublic:
    data = file.file.read(imports.MAX_UPLOAD_BYTES + 1)
    imports.check_upload(data, file.filename)
    imports.check_header(data, "women" if kind == imports.WOMEN_JOB else "results")
    options = {}
    if branch_id is not None:
        options["branch_id"] = get_scoped(session, Branch, branch_id, principal).id
    # Queued with the job in this transaction; a task runner picks it up once it commits.
    job = jobs.create_job(session, principal, kind, filename=file.filename, payload=data, options=options)
    response.headers["Location"] = f"/api/v1/jobs/{job.id}"
    return job_public(job)


# ---- women


@women_router.get("", response_model=WomanList, responses=LIST_RESPONSES)
def list_women(
    session: SessionDep,
    principal: WomenRead,
    page: PageDep,
    under: Under = None,
    hardship_status: HardshipStatus | None = None,
    born_from: Annotated[date | None, Query(description="出生日期不早于")] = None,
    born_to: Annotated[date | None, Query(description="出生日期不晚于")] = None,
):
    return service.list_women(
        session,
        principal,
        page,
        under=under,
        hardship_status=hardship_status,
        born_from=born_from,
        born_to=born_to,
    )


@women_router.post("", response_model=WomanPublic, status_code=201)
def register_woman(session: SessionDep, principal: WomenWrite, body: WomanCreate):
    branch = _branch_or_own(session, principal, body.branch_id)
    return service.woman_to_public(service.register_woman(session, principal, body, branch))


class IdNumberLookup(IdNumberMixin):
    """Find a registered woman by her ID number (sent in the body, never in a URL)."""


@women_router.post("/lookup", response_model=WomanPublic)
def lookup_woman(session: SessionDep, principal: WomenRead, body: IdNumberLookup):
    return service.find_woman(session, principal, body.id_number)


@women_router.get("/import-template", response_class=Response, responses=XLSX_FILE_RESPONSES)
def women_import_template(principal: WomenWrite):
    """The village list (摸底名册) template to fill in and upload."""
    return xlsx_file(imports.template_bytes("women"), "两癌筛查妇女名册模板.xlsx")


@women_router.post("/imports", response_model=JobPublic, status_code=202)
def import_women(
    response: Response,
    session: SessionDep,
    principal: WomenWrite,
    file: Annotated[UploadFile, File(description="按模板填写的 .xlsx")],
    branch_id: Annotated[int | None, Form(description="未填组织代码的行登记到这里")] = None,
):
    """Upload a village list; it is imported as a job (poll `GET /jobs/{id}`)."""
    return _start_import(response, session, principal, file, imports.WOMEN_JOB, branch_id)


@women_router.get("/{woman_id}", response_model=WomanPublic)
def get_woman(session: SessionDep, principal: WomenRead, woman_id: int):
    return service.woman_to_public(get_scoped(session, Woman, woman_id, principal))


@women_router.get("/{woman_id}/pii", response_model=WomanPii, dependencies=[Depends(require("women:read"))])
@writes
def reveal_woman(session: SessionDep, principal: PiiRead, woman_id: int):
    """Her ID number and phone in clear (needs `women:read` too); every call is written to the audit trail."""
    return service.reveal_woman(session, principal, woman_id)


@women_router.patch("/{woman_id}", response_model=WomanPublic)
def update_woman(session: SessionDep, principal: WomenWrite, woman_id: int, body: WomanUpdate):
    woman = get_scoped(session, Woman, woman_id, principal)
    return service.woman_to_public(service.update_woman(session, principal, woman, body))


@women_router.delete("/{woman_id}", status_code=204)
def delete_woman(session: SessionDep, principal: WomenWrite, woman_id: int):
    service.soft_delete_woman(session, get_scoped(session, Woman, woman_id, principal))


# ---- plans


@plans_router.get("", response_model=PlanList, responses=LIST_RESPONSES)
def list_plans(
    session: SessionDep,
    principal: ScreeningsRead,
    page: PageDep,
    under: Under = None,
    year: Annotated[int | None, Query(ge=2000, le=2100, description="计划年度")] = None,
):
    return service.list_plans(session, principal, page, under=under, year=year)


@plans_router.post("", response_model=PlanPublic, status_code=201)
def create_plan(session: SessionDep, principal: ScreeningsWrite, body: PlanCreate):
    branch = _branch_or_own(session, principal, body.branch_id)
    return service.plan_to_public(service.create_plan(session, principal, body, branch))


@plans_router.get("/{plan_id}", response_model=PlanPublic)
def get_plan(session: SessionDep, principal: ScreeningsRead, plan_id: int):
    return service.plan_to_public(get_scoped(session, ScreeningPlan, plan_id, principal))


@plans_router.patch("/{plan_id}", response_model=PlanPublic)
def update_plan(session: SessionDep, principal: ScreeningsWrite, plan_id: int, body: PlanUpdate):
    plan = get_scoped(session, ScreeningPlan, plan_id, principal)
    return service.plan_to_public(service.update_plan(session, plan, body))


@plans_router.delete("/{plan_id}", status_code=204)
def delete_plan(session: SessionDep, principal: ScreeningsWrite, plan_id: int):
    service.delete_plan(session, get_scoped(session, ScreeningPlan, plan_id, principal))


# ---- records


@records_router.get("", response_model=RecordList, responses=LIST_RESPONSES)
def list_records(
    session: SessionDep,
    principal: ScreeningsRead,
    page: PageDep,
    period: BetweenDep,
    under: Under = None,
    kind: ScreeningKind | None = None,
    result: list[ScreeningResult] | None = Query(default=None),
    source: ScreeningSource | None = None,
    woman_id: int | None = None,
    plan_id: int | None = None,
):
    return service.list_records(
        session,
        principal,
        page,
        under=under,
        kind=kind,
        result=result,
        source=source,
        woman_id=woman_id,
        plan_id=plan_id,
        period=period,
    )


@records_router.post("", response_model=RecordPublic, status_code=201)
def create_record(session: SessionDep, principal: ScreeningsWrite, body: RecordCreate):
    record = service.create_record_from(session, principal, body)
    return service.get_record(session, principal, record.id)


@records_router.post("/batch", response_model=BatchOut)
def batch(session: SessionDep, principal: ScreeningsBatch, body: BatchIn):
    """The health bureau's batch: each row applied on its own by `external_id`; the answer lists every row."""
    return service.apply_batch(session, principal, body.rows)


@records_router.get("/stats", response_model=ScreeningStats)
def screening_stats(session: SessionDep, principal: ScreeningsStats, period: PeriodDep, under: Under = None):
    """Figures for a subtree and a period (`from`/`to`, dates in China, inclusive; default this year so far),
    counted from the rows.

    Records count when screened in the period; follow-ups and paid aid when their record does. Plans are annual,
    so the target (and coverage) adds up the plans of every year the period touches (`plan_years`): a period
    from July to June counts both years' targets.
    """
    return service.stats(session, _branch_or_own(session, principal, under), period)


@records_router.get("/import-template", response_class=Response, responses=XLSX_FILE_RESPONSES)
def results_import_template(principal: ScreeningsWrite):
    """The hospital results template to fill in and upload."""
    return xlsx_file(imports.template_bytes("results"), "两癌筛查结果导入模板.xlsx")


@records_router.post("/imports", response_model=JobPublic, status_code=202)
def import_results(
    response: Response,
    session: SessionDep,
    principal: ScreeningsWrite,
    file: Annotated[UploadFile, File(description="按模板填写的 .xlsx")],
    branch_id: Annotated[int | None, Form(description="新登记妇女未填组织代码时的组织")] = None,
):
    """Upload hospital results; imported as a job (poll `GET /jobs/{id}`, then download the failed rows)."""
    return _start_import(response, session, principal, file, imports.RESULTS_JOB, branch_id)


@records_router.get("/{record_id}", response_model=RecordPublic)
def get_record(session: SessionDep, principal: ScreeningsRead, record_id: int):
    return service.get_record(session, principal, record_id)


@records_router.patch("/{record_id}", response_model=RecordPublic)
def update_record(session: SessionDep, principal: ScreeningsWrite, record_id: int, body: RecordUpdate):
    record = get_scoped(session, ScreeningRecord, record_id, principal)
    service.update_record(session, principal, record, body.model_dump(exclude_unset=True))
    return service.get_record(session, principal, record_id)


@records_router.delete("/{record_id}", status_code=204)
def delete_record(session: SessionDep, principal: ScreeningsWrite, record_id: int):
    service.soft_delete_record(session, get_scoped(session, ScreeningRecord, record_id, principal))


# ---- follow-ups


@follow_ups_router.get("", response_model=FollowUpList, responses=LIST_RESPONSES)
def list_follow_ups(
    session: SessionDep,
    principal: FollowUpsRead,
    page: PageDep,
    under: Under = None,
    status: list[FollowUpStatus] | None = Query(default=None),
    kind: ScreeningKind | None = None,
    overdue: Annotated[bool | None, Query(description="只看已过期限未完成当前步骤的")] = None,
    diagnosis: Diagnosis | None = None,
    woman_id: int | None = None,
):
    """Each follow-up carries the woman's name (`woman_name`) and the steps the caller may take now."""
    return follow_ups.list_follow_ups(
        session,
        principal,
        page,
        under=under,
        status=status,
        kind=kind,
        overdue=overdue,
        diagnosis=diagnosis,
        woman_id=woman_id,
    )


@follow_ups_router.get("/{follow_up_id}", response_model=FollowUpDetail)
def get_follow_up(session: SessionDep, principal: FollowUpsRead, follow_up_id: int):
    return follow_ups.get_follow_up(session, principal, follow_up_id)


# notify (who told her, how and when: in person, the same day, is the rule), recheck, diagnose, treat, close,
# lose (with the reason), visit (a village rep's home visit, from a phone; the state does not change).
action_routes(
    follow_ups_router,
    follow_ups.FOLLOW_UPS,
    id_name="follow_up_id",
    load=follow_ups.load,
    act=follow_ups.act,
    present=follow_ups.detail_to_public,
    response_model=FollowUpDetail,
    operation="{step}",
)


# ---- aid


@aid_router.get("", response_model=AidList, responses=LIST_RESPONSES)
def list_aid(
    session: SessionDep,
    principal: AidRead,
    page: PageDep,
    under: Under = None,
    status: list[AidStatus] | None = Query(default=None),
    woman_id: int | None = None,
):
    """Civil affairs lists what awaits its verification with `status=submitted`."""
    return follow_ups.list_aid(session, principal, page, under=under, status=status, woman_id=woman_id)


@aid_router.post("", response_model=AidPublic, status_code=201)
def create_aid(session: SessionDep, principal: AidWrite, body: AidCreate):
    return follow_ups.create_aid(session, principal, body)


@aid_router.get("/{aid_id}", response_model=AidPublic)
def get_aid(session: SessionDep, principal: AidRead, aid_id: int):
    return follow_ups.get_aid(session, principal, aid_id)


# verify (civil affairs records her hardship status, 低保/特困, as it verified it), approve, pay, reject.
action_routes(
    aid_router,
    follow_ups.AID,
    id_name="aid_id",
    load=follow_ups.load_aid,
    act=follow_ups.aid_act,
    present=lambda session, principal, app: follow_ups.aid_to_public(app, principal),
    response_model=AidPublic,
    operation="{step}_aid",
)


for _sub in routers:
    router.include_router(_sub)
