"""两癌 screening API: women, plans, records (and the bureau batch), follow-ups, aid, imports, figures."""

from datetime import date
from typing import Annotated

from fastapi import File, Form, Query, UploadFile
from fastapi.responses import Response
from sqlmodel import select

import backend.screenings.tasks  # noqa: F401  (registers the overdue sweep)
from backend.branches.models import Branch
from backend.core import audit
from backend.core.deps import SessionDep, perm
from backend.core.paging import (
    LIST_RESPONSES,
    XLSX_FILE_RESPONSES,
    Column,
    PageDep,
    today_in_china,
    xlsx_file,
)
from backend.core.scope import Principal, get_scoped, scoped, within
from backend.core.security import decrypt_field
from backend.core.uow import Router, writes
from backend.jobs import service as jobs
from backend.jobs.routes import job_public
from backend.jobs.schemas import JobPublic
from backend.screenings import imports, service
from backend.screenings.models import (
    AidApplication,
    AidStatus,
    Diagnosis,
    FollowUp,
    FollowUpEvent,
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
    AidApproveBody,
    AidCreate,
    AidList,
    AidPayBody,
    AidPublic,
    AidRejectBody,
    AidVerifyBody,
    BatchIn,
    BatchOut,
    CloseBody,
    DiagnoseBody,
    FollowUpDetail,
    FollowUpEventPublic,
    FollowUpList,
    FollowUpPublic,
    IdNumberMixin,
    LoseBody,
    NotifyBody,
    PlanCreate,
    PlanList,
    PlanPublic,
    PlanUpdate,
    RecheckBody,
    RecordCreate,
    RecordList,
    RecordPublic,
    RecordUpdate,
    ScreeningStats,
    TreatBody,
    VisitBody,
    WomanCreate,
    WomanList,
    WomanPii,
    WomanPublic,
    WomanUpdate,
    woman_public,
)

WomenRead, WomenWrite = perm("women:read"), perm("women:write")
ScreeningsRead, ScreeningsWrite = perm("screenings:read"), perm("screenings:write")
ScreeningsBatch, ScreeningsStats = perm("screenings:batch"), perm("screenings:stats")
FollowUpsRead, FollowUpsWrite = perm("followups:read"), perm("followups:write")
AidRead, AidWrite, AidVerify, AidApprove = (
    perm("aid:read"),
    perm("aid:write"),
    perm("aid:verify"),
    perm("aid:approve"),
)
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

WOMAN_COLUMNS = [
    Column("name", "姓名"),
    Column("id_number", "身份证号(脱敏)"),
    Column("phone", "联系电话(脱敏)"),
    Column("birth_date", "出生日期"),
    Column("age", "年龄"),
    Column("hardship_status", "困难类型", "hardship_status"),
    Column("hardship_verified_by", "核实人"),
]


@women_router.get("", response_model=WomanList, responses=LIST_RESPONSES)
def list_women(
    session: SessionDep,
    principal: WomenRead,
    page: PageDep,
    under: Under = None,
    hardship_status: HardshipStatus | None = None,
    born_from: date | None = None,
    born_to: date | None = None,
):
    stmt = within(session, principal, scoped(select(Woman), principal), Woman, under)
    if hardship_status:
        stmt = stmt.where(Woman.hardship_status == hardship_status)
    if born_from:
        stmt = stmt.where(Woman.birth_date >= born_from)
    if born_to:
        stmt = stmt.where(Woman.birth_date <= born_to)
    return page.respond(
        session,
        stmt,
        woman_public,
        search=[Woman.name],
        columns=WOMAN_COLUMNS,
        filename="women",
        sortable={
            "created_at": Woman.created_at,
            "name": Woman.name,
            "birth_date": Woman.birth_date,
            "id": Woman.id,
        },
    )


@women_router.post("", response_model=WomanPublic, status_code=201)
def register_woman(session: SessionDep, principal: WomenWrite, body: WomanCreate):
    branch = _branch_or_own(session, principal, body.branch_id)
    return woman_public(service.register_woman(session, principal, body, branch))


class IdNumberLookup(IdNumberMixin):
    """Find a registered woman by her ID number (sent in the body, never in a URL)."""


@women_router.post("/lookup", response_model=WomanPublic)
def lookup_woman(session: SessionDep, principal: WomenRead, body: IdNumberLookup):
    stmt = scoped(
        select(Woman).where(Woman.id_number_hash.in_(service.id_number_hashes(body.id_number))), principal
    )
    woman = session.exec(stmt).first()
    if woman is None:
        from backend.core.errors import NotFound

        raise NotFound("没有找到这个身份证号的登记(或不在您的管辖范围内)")
    return woman_public(woman)


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
    return woman_public(get_scoped(session, Woman, woman_id, principal))


@women_router.get("/{woman_id}/pii", response_model=WomanPii)
@writes
def reveal_woman(session: SessionDep, principal: PiiRead, woman_id: int):
    """Her ID number and phone in clear; every call is written to the audit trail."""
    if not principal.can("women:read"):
        from backend.core.errors import Forbidden

        raise Forbidden("当前角色没有「women:read」权限")
    woman = get_scoped(session, Woman, woman_id, principal)
    audit.record_reveal(session, principal, woman, ["id_number", "phone"])
    return WomanPii(
        id=woman.id,
        name=woman.name,
        id_number=decrypt_field(woman.id_number_enc),
        phone=decrypt_field(woman.phone_enc) if woman.phone_enc else None,
    )


@women_router.patch("/{woman_id}", response_model=WomanPublic)
def update_woman(session: SessionDep, principal: WomenWrite, woman_id: int, body: WomanUpdate):
    woman = get_scoped(session, Woman, woman_id, principal)
    return woman_public(service.update_woman(session, principal, woman, body))


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
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
):
    stmt = within(session, principal, scoped(select(ScreeningPlan), principal), ScreeningPlan, under)
    if year:
        stmt = stmt.where(ScreeningPlan.year == year)
    return page.respond(
        session,
        stmt,
        PlanPublic,
        search=[ScreeningPlan.name],
        filename="screening-plans",
        sortable={"created_at": ScreeningPlan.created_at, "year": ScreeningPlan.year, "id": ScreeningPlan.id},
        columns=[
            Column("year", "年度"),
            Column("name", "名称"),
            Column("branch_id", "组织"),
            Column("target_count", "计划人数"),
            Column("budget", "预算(元)"),
        ],
    )


@plans_router.post("", response_model=PlanPublic, status_code=201)
def create_plan(session: SessionDep, principal: ScreeningsWrite, body: PlanCreate):
    return service.create_plan(session, principal, body, _branch_or_own(session, principal, body.branch_id))


@plans_router.get("/{plan_id}", response_model=PlanPublic)
def get_plan(session: SessionDep, principal: ScreeningsRead, plan_id: int):
    return get_scoped(session, ScreeningPlan, plan_id, principal)


@plans_router.patch("/{plan_id}", response_model=PlanPublic)
def update_plan(session: SessionDep, principal: ScreeningsWrite, plan_id: int, body: PlanUpdate):
    return service.update_plan(session, get_scoped(session, ScreeningPlan, plan_id, principal), body)


@plans_router.delete("/{plan_id}", status_code=204)
def delete_plan(session: SessionDep, principal: ScreeningsWrite, plan_id: int):
    from backend.core.db import utcnow

    get_scoped(session, ScreeningPlan, plan_id, principal).deleted_at = utcnow()


# ---- records

RECORD_COLUMNS = [
    Column("woman_id", "妇女编号"),
    Column("kind", "筛查类型", "screening_kind"),
    Column("screened_on", "筛查日期"),
    Column("institution", "筛查机构"),
    Column("method", "检查方法", "screening_method"),
    Column("result", "结果", "screening_result"),
    Column("tbs", "TBS 分级"),
    Column("birads", "BI-RADS"),
    Column("consent", "知情同意"),
    Column("source", "来源", "screening_source"),
    Column("external_id", "外部编号"),
]


def _record_public(row, principal: Principal) -> RecordPublic:
    """A result is health data: shown only to those who may read personal data (follow-ups carry the work)."""
    record, follow_up_id = row
    data = RecordPublic.model_validate(record, from_attributes=True)
    data.follow_up_id = follow_up_id
    if not principal.can("pii:read"):
        data.result = data.tbs = data.birads = None
        data.result_masked = True
    return data


def _with_follow_up(stmt):
    return stmt.add_columns(FollowUp.id).outerjoin(FollowUp, FollowUp.record_id == ScreeningRecord.id)


@records_router.get("", response_model=RecordList, responses=LIST_RESPONSES)
def list_records(
    session: SessionDep,
    principal: ScreeningsRead,
    page: PageDep,
    under: Under = None,
    kind: ScreeningKind | None = None,
    result: list[ScreeningResult] | None = Query(default=None),
    source: ScreeningSource | None = None,
    woman_id: int | None = None,
    plan_id: int | None = None,
    screened_from: date | None = None,
    screened_to: date | None = None,
):
    stmt = within(session, principal, scoped(select(ScreeningRecord), principal), ScreeningRecord, under)
    for col, value in (
        (ScreeningRecord.kind, kind),
        (ScreeningRecord.source, source),
        (ScreeningRecord.woman_id, woman_id),
        (ScreeningRecord.plan_id, plan_id),
    ):
        if value is not None:
            stmt = stmt.where(col == value)
    if result:
        stmt = stmt.where(ScreeningRecord.result.in_([r.value for r in result]))
    if screened_from:
        stmt = stmt.where(ScreeningRecord.screened_on >= screened_from)
    if screened_to:
        stmt = stmt.where(ScreeningRecord.screened_on <= screened_to)
    return page.respond(
        session,
        _with_follow_up(stmt),
        lambda row: _record_public(row, principal),
        scalars=False,
        columns=RECORD_COLUMNS,
        filename="screenings",
        search=[ScreeningRecord.institution, ScreeningRecord.external_id],
        sortable={
            "created_at": ScreeningRecord.created_at,
            "screened_on": ScreeningRecord.screened_on,
            "id": ScreeningRecord.id,
        },
    )


@records_router.post("", response_model=RecordPublic, status_code=201)
def create_record(session: SessionDep, principal: ScreeningsWrite, body: RecordCreate):
    record = service.create_record_from(session, principal, body)
    return _one_record(session, principal, record.id)


def _one_record(session, principal, record_id: int) -> RecordPublic:
    get_scoped(session, ScreeningRecord, record_id, principal)
    row = session.execute(
        _with_follow_up(select(ScreeningRecord).where(ScreeningRecord.id == record_id))
    ).first()
    return _record_public(row, principal)


@records_router.post("/batch", response_model=BatchOut)
def batch(session: SessionDep, principal: ScreeningsBatch, body: BatchIn):
    """The health bureau's batch: each row applied on its own by `external_id`; the answer lists every row."""
    return service.apply_batch(session, principal, body.rows)


@records_router.get("/stats", response_model=ScreeningStats)
def screening_stats(
    session: SessionDep,
    principal: ScreeningsStats,
    under: Under = None,
    year: Annotated[int | None, Query(ge=2000, le=2100, description="默认今年")] = None,
):
    """Figures for a subtree and a year, counted from the rows."""
    root = _branch_or_own(session, principal, under)
    return service.stats(session, root, year or today_in_china().year)


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
    return _one_record(session, principal, record_id)


@records_router.patch("/{record_id}", response_model=RecordPublic)
def update_record(session: SessionDep, principal: ScreeningsWrite, record_id: int, body: RecordUpdate):
    record = get_scoped(session, ScreeningRecord, record_id, principal)
    service.update_record(session, principal, record, body.model_dump(exclude_unset=True))
    return _one_record(session, principal, record_id)


@records_router.delete("/{record_id}", status_code=204)
def delete_record(session: SessionDep, principal: ScreeningsWrite, record_id: int):
    service.soft_delete_record(session, get_scoped(session, ScreeningRecord, record_id, principal))


# ---- follow-ups


def follow_up_public(fu: FollowUp) -> FollowUpPublic:
    data = FollowUpPublic.model_validate(fu, from_attributes=True)
    data.overdue, data.due_on, data.allowed_actions = (
        service.is_overdue(fu),
        service.due_on(fu),
        service.allowed_actions(fu),
    )
    return data


FOLLOW_UP_COLUMNS = [
    Column("woman_id", "妇女编号"),
    Column("kind", "筛查类型", "screening_kind"),
    Column("status", "状态", "follow_up_status"),
    Column("due_on", "当前期限"),
    Column("overdue", "已逾期"),
    Column("notified_by", "告知人"),
    Column("notice_method", "告知方式", "notice_method"),
    Column("diagnosis", "诊断", "diagnosis"),
    Column("lost_reason", "失访原因"),
    Column("visit_count", "走访次数"),
]


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
    stmt = within(session, principal, scoped(select(FollowUp), principal), FollowUp, under)
    if status:
        stmt = stmt.where(FollowUp.status.in_([s.value for s in status]))
    if kind:
        stmt = stmt.where(FollowUp.kind == kind)
    if diagnosis:
        stmt = stmt.where(FollowUp.diagnosis == diagnosis)
    if woman_id is not None:
        stmt = stmt.where(FollowUp.woman_id == woman_id)
    if overdue is not None:
        condition = service.overdue_condition(today_in_china())
        stmt = stmt.where(condition if overdue else ~condition)
    return page.respond(
        session,
        stmt,
        follow_up_public,
        columns=FOLLOW_UP_COLUMNS,
        filename="follow-ups",
        sortable={
            "created_at": FollowUp.created_at,
            "notice_due_on": FollowUp.notice_due_on,
            "recheck_due_on": FollowUp.recheck_due_on,
            "id": FollowUp.id,
        },
    )


def _detail(session, fu: FollowUp) -> FollowUpDetail:
    events = session.exec(
        select(FollowUpEvent)
        .where(FollowUpEvent.follow_up_id == fu.id)
        .order_by(FollowUpEvent.at, FollowUpEvent.id)
    ).all()
    return FollowUpDetail(
        **follow_up_public(fu).model_dump(), events=[FollowUpEventPublic.model_validate(e) for e in events]
    )


@follow_ups_router.get("/{follow_up_id}", response_model=FollowUpDetail)
def get_follow_up(session: SessionDep, principal: FollowUpsRead, follow_up_id: int):
    return _detail(session, get_scoped(session, FollowUp, follow_up_id, principal))


def _act(session, principal, follow_up_id: int, action: str, body) -> FollowUpDetail:
    fu = get_scoped(session, FollowUp, follow_up_id, principal, for_update=True)
    return _detail(session, service.act(session, principal, fu, action, body))


@follow_ups_router.post("/{follow_up_id}/actions/notify", response_model=FollowUpDetail)
def notify(session: SessionDep, principal: FollowUpsWrite, follow_up_id: int, body: NotifyBody):
    """She has been told of the result: who told her, how and when (in person, the same day, is the rule)."""
    return _act(session, principal, follow_up_id, "notify", body)


@follow_ups_router.post("/{follow_up_id}/actions/recheck", response_model=FollowUpDetail)
def recheck(session: SessionDep, principal: FollowUpsWrite, follow_up_id: int, body: RecheckBody):
    return _act(session, principal, follow_up_id, "recheck", body)


@follow_ups_router.post("/{follow_up_id}/actions/diagnose", response_model=FollowUpDetail)
def diagnose(session: SessionDep, principal: FollowUpsWrite, follow_up_id: int, body: DiagnoseBody):
    return _act(session, principal, follow_up_id, "diagnose", body)


@follow_ups_router.post("/{follow_up_id}/actions/treat", response_model=FollowUpDetail)
def treat(session: SessionDep, principal: FollowUpsWrite, follow_up_id: int, body: TreatBody):
    return _act(session, principal, follow_up_id, "treat", body)


@follow_ups_router.post("/{follow_up_id}/actions/close", response_model=FollowUpDetail)
def close(session: SessionDep, principal: FollowUpsWrite, follow_up_id: int, body: CloseBody):
    return _act(session, principal, follow_up_id, "close", body)


@follow_ups_router.post("/{follow_up_id}/actions/lose", response_model=FollowUpDetail)
def lose(session: SessionDep, principal: FollowUpsWrite, follow_up_id: int, body: LoseBody):
    """Lost to follow-up, with the reason."""
    return _act(session, principal, follow_up_id, "lose", body)


@follow_ups_router.post("/{follow_up_id}/actions/visit", response_model=FollowUpDetail)
def visit(session: SessionDep, principal: FollowUpsWrite, follow_up_id: int, body: VisitBody):
    """A village rep's home visit, from a phone; the state does not change."""
    return _act(session, principal, follow_up_id, "visit", body)


# ---- aid

AID_COLUMNS = [
    Column("woman_id", "妇女编号"),
    Column("amount", "金额(元)"),
    Column("status", "状态", "aid_status"),
    Column("verified_hardship", "民政核实", "hardship_status"),
    Column("verified_by", "核实人"),
    Column("paid_at", "发放时间"),
    Column("rejected_reason", "驳回原因"),
]


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
    stmt = within(session, principal, scoped(select(AidApplication), principal), AidApplication, under)
    if status:
        stmt = stmt.where(AidApplication.status.in_([s.value for s in status]))
    if woman_id is not None:
        stmt = stmt.where(AidApplication.woman_id == woman_id)
    return page.respond(
        session,
        stmt,
        AidPublic,
        columns=AID_COLUMNS,
        filename="aid-applications",
        sortable={
            "created_at": AidApplication.created_at,
            "amount": AidApplication.amount,
            "id": AidApplication.id,
        },
    )


@aid_router.post("", response_model=AidPublic, status_code=201)
def create_aid(session: SessionDep, principal: AidWrite, body: AidCreate):
    return service.create_aid(session, principal, body)


@aid_router.get("/{aid_id}", response_model=AidPublic)
def get_aid(session: SessionDep, principal: AidRead, aid_id: int):
    return get_scoped(session, AidApplication, aid_id, principal)


def _aid_act(session, principal, aid_id: int, action: str, body):
    app = get_scoped(session, AidApplication, aid_id, principal, for_update=True)
    return service.aid_act(session, principal, app, action, body)


@aid_router.post("/{aid_id}/actions/verify", response_model=AidPublic)
def verify_aid(session: SessionDep, principal: AidVerify, aid_id: int, body: AidVerifyBody):
    """Civil affairs records her hardship status (低保/特困) as it verified it."""
    return _aid_act(session, principal, aid_id, "verify", body)


@aid_router.post("/{aid_id}/actions/approve", response_model=AidPublic)
def approve_aid(session: SessionDep, principal: AidApprove, aid_id: int, body: AidApproveBody):
    return _aid_act(session, principal, aid_id, "approve", body)


@aid_router.post("/{aid_id}/actions/pay", response_model=AidPublic)
def pay_aid(session: SessionDep, principal: AidApprove, aid_id: int, body: AidPayBody):
    return _aid_act(session, principal, aid_id, "pay", body)


@aid_router.post("/{aid_id}/actions/reject", response_model=AidPublic)
def reject_aid(session: SessionDep, principal: AidApprove, aid_id: int, body: AidRejectBody):
    return _aid_act(session, principal, aid_id, "reject", body)


for _sub in routers:
    router.include_router(_sub)
