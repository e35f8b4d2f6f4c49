"""Follow-ups of abnormal results and the aid that may follow a cancer: two workflows, their lists and presenters.

`to_public` presents a follow-up, `aid_to_public` an aid application; each carries the steps its caller may take
now (`allowed_actions`), computed here from the same table that checks the steps.
"""

from datetime import date, datetime, timedelta
from typing import Any

from sqlmodel import Session, select

from backend.core.clock import china_date, today_in_china
from backend.core.errors import Conflict, ValidationFailed
from backend.core.paging import Column, ListParams
from backend.core.scope import Principal, get_scoped, scoped, within
from backend.core.workflow import StepContext, Workflow, step
from backend.integrations.service import record_event
from backend.meta.dictionaries import label
from backend.screenings.models import (
    OPEN_FOLLOW_UP,
    AidApplication,
    AidStatus,
    Diagnosis,
    FollowUp,
    FollowUpEvent,
    FollowUpStatus,
    HardshipStatus,
    ScreeningKind,
    Woman,
)
from backend.screenings.schemas import (
    AidApproveBody,
    AidCreate,
    AidPayBody,
    AidPublic,
    AidRejectBody,
    AidVerifyBody,
    CloseBody,
    DiagnoseBody,
    FollowUpDetail,
    FollowUpEventPublic,
    FollowUpPublic,
    LoseBody,
    NotifyBody,
    RecheckBody,
    TreatBody,
    VisitBody,
)
from backend.screenings.service import (
    due_on,
    is_overdue,
    overdue_condition,
    place_like,
    screening_settings,
    set_hardship,
)


def _attributes(record: Any, schema: type) -> dict[str, Any]:
    """The record's values of the schema's fields, to present along with what the record does not hold."""
    return {name: getattr(record, name) for name in schema.model_fields if hasattr(record, name)}


def _not_future(field: str, value: date | datetime | None) -> None:
    if value is None:
        return
    day = china_date(value) if isinstance(value, datetime) else value
    if day > today_in_china():
        raise ValidationFailed(field, "日期不能晚于今天")


# ---- the follow-up workflow: each step records what it did in `ctx.result["data"]` for the timeline


def _notify(ctx: StepContext[FollowUp]) -> None:
    fu, body = ctx.record, ctx.body
    _not_future("notified_at", body.notified_at)
    fu.notified_at = body.notified_at or ctx.now
    fu.notified_by = body.notified_by or ctx.principal.name
    fu.notice_method = body.method
    fu.recheck_due_on = china_date(fu.notified_at) + timedelta(days=screening_settings().recheck_days)
    ctx.result["data"] = {"method": body.method.value, "by": fu.notified_by, "at": fu.notified_at.isoformat()}


def _recheck(ctx: StepContext[FollowUp]) -> None:
    fu, body = ctx.record, ctx.body
    _not_future("rechecked_on", body.rechecked_on)
    fu.rechecked_on = body.rechecked_on or today_in_china()
    fu.recheck_institution, fu.recheck_result = body.institution, body.result
    ctx.result["data"] = {
        "on": fu.rechecked_on.isoformat(),
        "institution": body.institution,
        "result": body.result,
    }


def _diagnose(ctx: StepContext[FollowUp]) -> None:
    fu, body = ctx.record, ctx.body
    _not_future("diagnosed_on", body.diagnosed_on)
    fu.diagnosis, fu.diagnosed_on = body.diagnosis, body.diagnosed_on or today_in_china()
    ctx.result["data"] = {"diagnosis": body.diagnosis.value, "on": fu.diagnosed_on.isoformat()}


def _treat(ctx: StepContext[FollowUp]) -> None:
    fu, body = ctx.record, ctx.body
    _not_future("treated_on", body.treated_on)
    fu.treated_on, fu.treatment = body.treated_on or today_in_china(), body.treatment
    ctx.result["data"] = {"on": fu.treated_on.isoformat(), "treatment": body.treatment}


def _close(ctx: StepContext[FollowUp]) -> None:
    ctx.record.closed_at = ctx.now


def _treated_before_close(fu: FollowUp, _principal: Principal | None, _now: datetime) -> str | None:
    # Precancer and cancer need treatment before the case is closed.
    if fu.status == FollowUpStatus.diagnosed and fu.diagnosis != Diagnosis.benign:
        return "癌前病变和癌症须先治疗再结案"
    return None


def _lose(ctx: StepContext[FollowUp]) -> None:
    ctx.record.lost_at, ctx.record.lost_reason = ctx.now, ctx.body.reason
    ctx.result["data"] = {"reason": ctx.body.reason}


def _visit(ctx: StepContext[FollowUp]) -> None:
    fu, body = ctx.record, ctx.body
    _not_future("visited_at", body.visited_at)
    fu.visit_count += 1
    fu.last_visit_at = body.visited_at or ctx.now
    ctx.result["data"] = {"reached": body.reached, "at": fu.last_visit_at.isoformat()}


S = FollowUpStatus
FOLLOW_UPS = Workflow(
    "随访",
    [
        step(
            "notify",
            "告知",
            [S.pending_notice],
            S.notified,
            body=NotifyBody,
            apply=_notify,
            description="她已被告知结果:谁告知、以何种方式、何时告知(以当天当面告知为准)。",
        ),
        step("recheck", "复查", [S.notified], S.rechecked, body=RecheckBody, apply=_recheck),
        step("diagnose", "确诊", [S.rechecked], S.diagnosed, body=DiagnoseBody, apply=_diagnose),
        step("treat", "治疗", [S.diagnosed], S.treated, body=TreatBody, apply=_treat),
        step(
            "close",
            "结案",
            [S.rechecked, S.diagnosed, S.treated],
            S.closed,
            body=CloseBody,
            guard=_treated_before_close,
            apply=_close,
        ),
        step(
            "lose",
            "失访",
            OPEN_FOLLOW_UP,
            S.lost,
            body=LoseBody,
            apply=_lose,
            description="失访,须写明原因。",
        ),
        # A village rep's home visit, from a phone: the state does not change.
        step(
            "visit",
            "走访",
            OPEN_FOLLOW_UP,
            None,
            body=VisitBody,
            apply=_visit,
            description="村(社区)妇联执委用手机记录的一次入户走访;状态不变。",
        ),
    ],
    permission="followups:write",
    state_label=lambda s: label("follow_up_status", s),
)


def act(session: Session, principal: Principal, fu: FollowUp, action: str, body: Any) -> FollowUp:
    """Take one step and write it on her timeline; closing tells the subscribers."""
    ctx = FOLLOW_UPS.perform(session, principal, fu, action, body)
    if FOLLOW_UPS[action].target is not None:
        fu.overdue_flagged_at = None
    note = getattr(ctx.body, "note", None)
    if note:
        fu.note = note
    fu.updated_at = ctx.now
    session.add(
        FollowUpEvent(
            follow_up_id=fu.id,
            action=action,
            actor=principal.subject,
            actor_name=principal.name,
            note=note,
            data=ctx.result.get("data", {}),
        )
    )
    if action == "close":
        record_event(
            session,
            "followup.closed",
            fu.branch_id,
            {
                "follow_up_id": fu.id,
                "record_id": fu.record_id,
                "woman_id": fu.woman_id,
                "kind": fu.kind,
                "diagnosis": fu.diagnosis,
            },
        )
    session.flush()
    return fu


def load(session: Session, principal: Principal, follow_up_id: int) -> FollowUp:
    return get_scoped(session, FollowUp, follow_up_id, principal, for_update=True)


def to_public(fu: FollowUp, principal: Principal, woman_name: str) -> FollowUpPublic:
    return FollowUpPublic.model_validate(
        {
            **_attributes(fu, FollowUpPublic),
            "woman_name": woman_name,
            "overdue": is_overdue(fu),
            "due_on": due_on(fu),
            "allowed_actions": FOLLOW_UPS.allowed(fu, principal),
        }
    )


def detail_to_public(session: Session, principal: Principal, fu: FollowUp) -> FollowUpDetail:
    """One follow-up with her name and its timeline."""
    events = session.exec(
        select(FollowUpEvent)
        .where(FollowUpEvent.follow_up_id == fu.id)
        .order_by(FollowUpEvent.at, FollowUpEvent.id)
    ).all()
    woman = session.get(Woman, fu.woman_id)
    return FollowUpDetail(
        **to_public(fu, principal, woman.name).model_dump(),
        events=[FollowUpEventPublic.model_validate(e) for e in events],
    )


def get_follow_up(session: Session, principal: Principal, follow_up_id: int) -> FollowUpDetail:
    return detail_to_public(session, principal, get_scoped(session, FollowUp, follow_up_id, principal))


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


def list_follow_ups(
    session: Session,
    principal: Principal,
    page: ListParams,
    *,
    under: int | None = None,
    status: list[FollowUpStatus] | None = None,
    kind: ScreeningKind | None = None,
    overdue: bool | None = None,
    diagnosis: Diagnosis | None = None,
    woman_id: int | None = None,
) -> Any:
    """Each follow-up with the woman's name, joined in the same query (the board needs no call per woman)."""
    # Her name as the women list shows it: the register's names are not masked, her ID number and phone are.
    stmt = within(
        session,
        principal,
        scoped(
            select(FollowUp, Woman.name).outerjoin(Woman, Woman.id == FollowUp.woman_id), principal, FollowUp
        ),
        FollowUp,
        under,
    )
    if status:
        stmt = stmt.where(FollowUp.status.in_([s.value for s in status]))
    if kind:
        stmt = stmt.where(FollowUp.kind == kind)
    if diagnosis:
        stmt = stmt.where(FollowUp.diagnosis == diagnosis)
    if woman_id is not None:
        stmt = stmt.where(FollowUp.woman_id == woman_id)
    if overdue is not None:
        condition = overdue_condition(today_in_china())
        stmt = stmt.where(condition if overdue else ~condition)
    return page.respond(
        session,
        stmt,
        lambda row: to_public(row[0], principal, row[1]),
        scalars=False,
        columns=FOLLOW_UP_COLUMNS,
        filename="follow-ups",
        sortable={
            "created_at": FollowUp.created_at,
            "notice_due_on": FollowUp.notice_due_on,
            "recheck_due_on": FollowUp.recheck_due_on,
            "id": FollowUp.id,
        },
    )


# ---- aid


def create_aid(session: Session, principal: Principal, data: AidCreate) -> AidPublic:
    fu = get_scoped(session, FollowUp, data.follow_up_id, principal)
    if fu.diagnosis != Diagnosis.cancer:
        raise ValidationFailed("follow_up_id", "只有确诊为癌症的妇女可以申请两癌救助")
    if fu.status == FollowUpStatus.lost:
        raise ValidationFailed("follow_up_id", "该随访已失访,请先核实情况")
    open_app = session.exec(
        select(AidApplication.id).where(
            AidApplication.follow_up_id == fu.id,
            AidApplication.status != AidStatus.rejected,
            AidApplication.deleted_at.is_(None),
        )
    ).first()
    if open_app is not None:
        raise Conflict("她已有一份未驳回的救助申请", aid_application_id=open_app)
    app = AidApplication(
        woman_id=fu.woman_id,
        follow_up_id=fu.id,
        diagnosis=Diagnosis.cancer,
        amount=data.amount,
        documents=list(data.documents),
        note=data.note,
        submitted_by=principal.name,
    )
    place_like(app, fu)
    session.add(app)
    session.flush()
    record_event(session, "aid.submitted", app.branch_id, _aid_event_data(app))
    return aid_to_public(app, principal)


def _aid_event_data(app: AidApplication) -> dict[str, Any]:
    return {
        "aid_application_id": app.id,
        "follow_up_id": app.follow_up_id,
        "woman_id": app.woman_id,
        "status": app.status,
        "amount": str(app.amount) if app.amount is not None else None,
    }


def _verify(ctx: StepContext[AidApplication]) -> None:
    app, body, principal = ctx.record, ctx.body, ctx.principal
    app.verified_hardship, app.verification_note = body.hardship_status, body.note
    app.verified_by, app.verified_at = principal.name, ctx.now
    set_hardship(ctx.session.get(Woman, app.woman_id), body.hardship_status, principal.name)


def _in_hardship(app: AidApplication, _principal: Principal | None, _now: datetime) -> str | None:
    if app.verified_hardship not in (HardshipStatus.dibao, HardshipStatus.tekun):
        return "民政核实她不属于低保或特困,不能批准,请驳回"
    return None


def _approve(ctx: StepContext[AidApplication]) -> None:
    ctx.record.approved_by, ctx.record.approved_at = ctx.principal.name, ctx.now


def _pay(ctx: StepContext[AidApplication]) -> None:
    app, body = ctx.record, ctx.body
    _not_future("paid_at", body.paid_at)
    app.paid_by, app.paid_at, app.payment_reference = (
        ctx.principal.name,
        body.paid_at or ctx.now,
        body.payment_reference,
    )


def _reject(ctx: StepContext[AidApplication]) -> None:
    app = ctx.record
    app.rejected_by, app.rejected_at, app.rejected_reason = ctx.principal.name, ctx.now, ctx.body.reason


A = AidStatus
AID = Workflow(
    "救助申请",
    [
        step(
            "verify",
            "核实",
            [A.submitted],
            A.verified,
            body=AidVerifyBody,
            apply=_verify,
            permission="aid:verify",
            description="民政部门记录核实的困难身份(低保/特困)。",
        ),
        step(
            "approve",
            "批准",
            [A.verified],
            A.approved,
            body=AidApproveBody,
            guard=_in_hardship,
            apply=_approve,
        ),
        step("pay", "发放", [A.approved], A.paid, body=AidPayBody, apply=_pay),
        step(
            "reject",
            "驳回",
            [A.submitted, A.verified, A.approved],
            A.rejected,
            body=AidRejectBody,
            apply=_reject,
        ),
    ],
    permission="aid:approve",
    state_label=lambda s: label("aid_status", s),
)


def aid_act(
    session: Session, principal: Principal, app: AidApplication, action: str, body: Any
) -> AidApplication:
    ctx = AID.perform(session, principal, app, action, body)
    app.updated_at = ctx.now
    session.flush()
    record_event(session, f"aid.{app.status}", app.branch_id, _aid_event_data(app))
    return app


def load_aid(session: Session, principal: Principal, aid_id: int) -> AidApplication:
    return get_scoped(session, AidApplication, aid_id, principal, for_update=True)


def aid_to_public(app: AidApplication, principal: Principal) -> AidPublic:
    return AidPublic.model_validate(
        {**_attributes(app, AidPublic), "allowed_actions": AID.allowed(app, principal)}
    )


def get_aid(session: Session, principal: Principal, aid_id: int) -> AidPublic:
    return aid_to_public(get_scoped(session, AidApplication, aid_id, principal), principal)


AID_COLUMNS = [
    Column("woman_id", "妇女编号"),
    Column("amount", "金额(元)"),
    Column("status", "状态", "aid_status"),
    Column("verified_hardship", "民政核实", "hardship_status"),
    Column("verified_by", "核实人"),
    Column("paid_at", "发放时间"),
    Column("rejected_reason", "驳回原因"),
]


def list_aid(
    session: Session,
    principal: Principal,
    page: ListParams,
    *,
    under: int | None = None,
    status: list[AidStatus] | None = None,
    woman_id: int | None = None,
) -> Any:
    stmt = within(session, principal, scoped(select(AidApplication), principal), AidApplication, under)
    if status:
        stmt = stmt.where(AidApplication.status.in_([s.value for s in status]))
    if woman_id is not None:
        stmt = stmt.where(AidApplication.woman_id == woman_id)
    return page.respond(
        session,
        stmt,
        lambda app: aid_to_public(app, principal),
        columns=AID_COLUMNS,
        filename="aid-applications",
        sortable={
            "created_at": AidApplication.created_at,
            "amount": AidApplication.amount,
            "id": AidApplication.id,
        },
    )
