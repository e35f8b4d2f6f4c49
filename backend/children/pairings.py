"""结对帮扶: pairings of a carer with a child on the one workflow mechanism, their visits (a rights issue opens a 12338
ticket), visit photos, and the overdue sweep. No HTTP here.

- A carer is a registered volunteer or a member of the child's branch or one above it; she may also have a login
  (role `carer`) in a village whose subtree holds the child, so she records visits on her phone.
- A child has at most one active pairing: checked here, and kept by the partial unique index
  `uq_pairing_active_child` when two activations race.
- Visit schedule: the first visit is due `visit_every_days` after `starts_on`, each next one that many days after
  the latest visit. A pairing is overdue when it is active and that date is before today (China time).

Presenters: `to_public` (a pairing), `detail` (with its timeline), `visit_to_public`, `photo_to_public`.
"""

from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from backend.activities import photos as photo_store
from backend.auth.models import User
from backend.branches.models import Branch
from backend.children.models import (
    CARER_ROLE,
    CarerKind,
    Child,
    ChildStatus,
    Pairing,
    PairingEvent,
    PairingStatus,
    Visit,
    VisitPhoto,
)
from backend.children.pairing_schemas import (
    EndBody,
    PairingCreate,
    PairingDetail,
    PairingEventPublic,
    PairingPublic,
    VisitCreate,
    VisitPhotoPublic,
    VisitPublic,
)
from backend.core.clock import today_in_china
from backend.core.db import Database, is_unique_violation, utcnow
from backend.core.errors import Conflict, NotFound, ValidationFailed
from backend.core.paging import Column, ListParams
from backend.core.queue import task
from backend.core.scope import ANCESTOR_COLUMNS, Principal, get_scoped, in_subtree, scoped, within
from backend.core.workflow import StepContext, Workflow, step
from backend.integrations.service import record_event
from backend.members.models import Member
from backend.meta.dictionaries import label
from backend.tickets import service as tickets
from backend.tickets.models import Category, Channel, Urgency
from backend.tickets.schemas import TicketCreate
from backend.volunteers.models import Volunteer, VolunteerStatus

API = "/api/v1"


def is_overdue(p: Any, today: date | None = None) -> bool:
    return (
        p.status == PairingStatus.active
        and p.next_visit_due_on is not None
        and p.next_visit_due_on < (today or today_in_china())
    )


def overdue_condition(today: date) -> Any:
    return sa.and_(Pairing.status == PairingStatus.active, Pairing.next_visit_due_on < today)


# ---- the workflow


def _consent_recorded(p: Pairing, _principal: Principal | None, now: datetime) -> str | None:
    if not p.consent_on or not (p.consent_by_name or "").strip() or not p.consent_by_relation:
        return "结对须先记录家长或监护人的同意(日期、同意人、关系)"
    if p.consent_on > today_in_china():
        return "家长或监护人同意的日期晚于今天,请核对后再启用"
    return None


def _activate(ctx: StepContext[Pairing]) -> None:
    p, session = ctx.record, ctx.session
    child = session.get(Child, p.child_id)
    if child is None or child.deleted_at is not None or child.status != ChildStatus.active:
        raise Conflict("孩子已不在册,不能启用结对", child_id=p.child_id)
    _check_no_active_pairing(session, p.child_id, p.id)
    p.next_visit_due_on = first_due(p)
    ctx.result["text"] = "启用结对"


def _end(ctx: StepContext[Pairing]) -> None:
    p, body = ctx.record, ctx.body
    today = today_in_china()
    ended = body.ended_on or today
    if ended > today:
        raise ValidationFailed("ended_on", "结束日期不能晚于今天")
    if p.status == PairingStatus.active and ended < p.starts_on:
        raise ValidationFailed("ended_on", "结束日期不能早于结对开始日期")
    p.ended_on = ended
    p.end_reason = body.reason.strip()
    p.next_visit_due_on = None
    p.overdue_flagged_at = None
    ctx.result["text"] = f"结束结对:{p.end_reason}"
    ctx.result["data"] = {"ended_on": ended.isoformat()}


WORKFLOW = Workflow(
    "结对",
    [
        step(
            "activate",
            "启用",
            {PairingStatus.proposed},
            PairingStatus.active,
            guard=_consent_recorded,
            apply=_activate,
            description="须已记录家长或监护人的同意;一个孩子同时只能有一个进行中的结对(否则 409,指明 child_id)。",
        ),
        step(
            "end",
            "结束",
            {PairingStatus.proposed, PairingStatus.active},
            PairingStatus.ended,
            body=EndBody,
            apply=_end,
            description="须写明结束原因。",
        ),
    ],
    permission="pairings:write",
    state_label=lambda value: label("pairing_status", value),
    state_key="pairing_status",
)


def first_due(p: Pairing) -> date:
    return p.starts_on + timedelta(days=p.visit_every_days)


def _check_no_active_pairing(session: Session, child_id: int, other_than: int | None = None) -> None:
    stmt = select(Pairing.id).where(
        Pairing.child_id == child_id,
        Pairing.status == PairingStatus.active,
        Pairing.deleted_at.is_(None),
    )
    if other_than is not None:
        stmt = stmt.where(Pairing.id != other_than)
    if session.exec(stmt).first() is not None:
        raise one_active_conflict(child_id)


def one_active_conflict(child_id: int) -> Conflict:
    return Conflict(
        "这个孩子已有进行中的结对,一个孩子同时只能有一个",
        errors=[{"field": "child_id", "loc": ["child_id"], "message": "已有进行中的结对"}],
        child_id=child_id,
    )


def _timeline(
    session: Session,
    p: Pairing,
    action: str,
    principal: Principal | None,
    note: str | None = None,
    data: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> None:
    session.add(
        PairingEvent(
            pairing_id=p.id,
            action=action,
            at=at or utcnow(),
            actor=principal.subject if principal else "system:children",
            actor_name=principal.name if principal else "系统",
            note=note,
            data=data,
        )
    )


def perform(
    session: Session, principal: Principal | None, p: Pairing, action: str, body: Any = None
) -> Pairing:
    """One step; the timeline follows. A concurrent activation for the same child is 409 naming the child."""
    now = utcnow()
    session.flush()
    try:
        # The change is made inside the savepoint, so a unique violation leaves the request's transaction usable.
        with session.begin_nested():
            ctx = WORKFLOW.perform(session, principal, p, action, body, now)
            p.version += 1
            p.updated_at = now
            session.add(p)
            session.flush()
    except sa.exc.IntegrityError as exc:
        if is_unique_violation(exc):
            raise one_active_conflict(p.child_id) from None
        raise
    _timeline(session, p, action, principal, ctx.result.get("text"), ctx.result.get("data"), now)
    session.flush()
    return p


def end_for_children(session: Session, child_ids: list[int], reason: str, today: date) -> int:
    """End the open pairings of children who left the list (the sweep's step, through the workflow)."""
    if not child_ids:
        return 0
    open_pairings = session.scalars(
        select(Pairing).where(
            Pairing.child_id.in_(child_ids),
            Pairing.status.in_((PairingStatus.proposed, PairingStatus.active)),
            Pairing.deleted_at.is_(None),
        )
    ).all()
    for p in open_pairings:
        perform(session, None, p, "end", EndBody(reason=reason, ended_on=min(today, today_in_china())))
    return len(open_pairings)


# ---- presenters


def to_public(
    p: Pairing, child_name: str, principal: Principal | None, today: date | None = None
) -> PairingPublic:
    return PairingPublic(
        id=p.id,
        child_id=p.child_id,
        child_name=child_name,
        branch_id=p.branch_id,
        carer_kind=p.carer_kind,
        volunteer_id=p.volunteer_id,
        member_id=p.member_id,
        carer_user_id=p.carer_user_id,
        carer_name=p.carer_name,
        consent_on=p.consent_on,
        consent_by_name=p.consent_by_name,
        consent_by_relation=p.consent_by_relation,
        starts_on=p.starts_on,
        planned_end_on=p.planned_end_on,
        ended_on=p.ended_on,
        end_reason=p.end_reason,
        visit_every_days=p.visit_every_days,
        status=p.status,
        last_visit_on=p.last_visit_on,
        next_visit_due_on=p.next_visit_due_on,
        overdue=is_overdue(p, today),
        allowed_actions=WORKFLOW.allowed(p, principal),
        created_at=p.created_at,
        updated_at=p.updated_at,
    )


def detail(session: Session, principal: Principal, p: Pairing) -> PairingDetail:
    child = session.get(Child, p.child_id)
    events = session.exec(
        select(PairingEvent).where(PairingEvent.pairing_id == p.id).order_by(PairingEvent.at, PairingEvent.id)
    ).all()
    return PairingDetail(
        **to_public(p, child.name if child else "", principal).model_dump(),
        events=[
            PairingEventPublic(
                id=e.id, action=e.action, at=e.at, actor_name=e.actor_name, note=e.note, data=e.data
            )
            for e in events
        ],
    )


# ---- reading


def get_pairing(
    session: Session, principal: Principal, pairing_id: int, *, for_update: bool = False
) -> Pairing:
    return get_scoped(session, Pairing, pairing_id, principal, for_update=for_update)


COLUMNS = [
    Column("child_name", "儿童"),
    Column("carer_name", "帮扶人"),
    Column("carer_kind", "帮扶人身份", "carer_kind"),
    Column("status", "状态", "pairing_status"),
    Column("starts_on", "开始日期"),
    Column("planned_end_on", "计划结束"),
    Column("visit_every_days", "走访频次(天)"),
    Column("last_visit_on", "最近走访"),
    Column("next_visit_due_on", "下次走访"),
    Column("overdue", "逾期未走访"),
]


def list_pairings(
    session: Session,
    principal: Principal,
    page: ListParams,
    *,
    under: int | None = None,
    status: PairingStatus | None = None,
    carer_user_id: int | None = None,
    volunteer_id: int | None = None,
    member_id: int | None = None,
    child_id: int | None = None,
    overdue: bool | None = None,
) -> Any:
    """Overdue ones first (sort `overdue`), then the earliest due, unless another sort is asked for."""
    today = today_in_china()
    stmt = scoped(
        sa.select(Pairing, Child.name.label("child_name")).join(Child, Child.id == Pairing.child_id),
        principal,
        Pairing,
    )
    stmt = within(session, principal, stmt, Pairing, under)
    if status:
        stmt = stmt.where(Pairing.status == status)
    if carer_user_id is not None:
        stmt = stmt.where(Pairing.carer_user_id == carer_user_id)
    if volunteer_id is not None:
        stmt = stmt.where(Pairing.volunteer_id == volunteer_id)
    if member_id is not None:
        stmt = stmt.where(Pairing.member_id == member_id)
    if child_id is not None:
        stmt = stmt.where(Pairing.child_id == child_id)
    if overdue is not None:
        stmt = stmt.where(overdue_condition(today) if overdue else sa.not_(overdue_condition(today)))
    overdue_first = sa.case((overdue_condition(today), 0), else_=1)
    due = sa.func.coalesce(Pairing.next_visit_due_on, date(9999, 12, 31))
    return page.respond(
        session,
        stmt,
        lambda row: to_public(row[0], row[1], principal, today),
        sortable={
            "overdue": overdue_first,
            "due": due,
            "created_at": Pairing.created_at,
            "starts_on": Pairing.starts_on,
            "child_name": Child.name,
            "id": Pairing.id,
        },
        default_sort="overdue,due",
        search=[Child.name, Pairing.carer_name],
        columns=COLUMNS,
        filename="结对帮扶",
        scalars=False,
    )


# ---- proposing a pairing


def _carer(session: Session, principal: Principal, data: PairingCreate, child: Child) -> tuple[str, dict]:
    """The carer's name and columns, checked: a volunteer in scope, or a member of the child's branch or above."""
    if data.carer_kind == CarerKind.volunteer:
        if data.volunteer_id is None or data.member_id is not None:
            raise ValidationFailed("volunteer_id", "志愿者结对须填写 volunteer_id(不填 member_id)")
        volunteer = get_scoped(session, Volunteer, data.volunteer_id, principal)
        if volunteer.status != VolunteerStatus.active:
            raise ValidationFailed("volunteer_id", "这位志愿者不在服务期内")
        return volunteer.name, {"volunteer_id": volunteer.id, "member_id": None}
    if data.member_id is None or data.volunteer_id is not None:
        raise ValidationFailed("member_id", "会员结对须填写 member_id(不填 volunteer_id)")
    member = get_scoped(session, Member, data.member_id, principal)
    branch = session.get(Branch, member.branch_id)
    if not in_subtree(child, branch):
        raise ValidationFailed("member_id", "帮扶人须是孩子所在村(社区)或其上级组织的会员")
    return member.name, {"volunteer_id": None, "member_id": member.id}


def _carer_account(session: Session, principal: Principal, user_id: int, child: Child) -> User:
    user = get_scoped(session, User, user_id, principal)
    branch = session.get(Branch, user.branch_id)
    if user.role != CARER_ROLE or not user.is_active:
        raise ValidationFailed("carer_user_id", "须是在用的爱心妈妈(carer)账号")
    if not in_subtree(child, branch):
        raise ValidationFailed("carer_user_id", "爱心妈妈账号所在组织须包含孩子所在村(社区)")
    return user


def propose_pairing(session: Session, principal: Principal, data: PairingCreate) -> Pairing:
    child = get_scoped(session, Child, data.child_id, principal)
    if child.status != ChildStatus.active:
        raise Conflict("孩子不在册(已返乡、满 16 周岁或迁出),不能结对", child_id=child.id)
    today = today_in_china()
    if data.consent_on > today:
        raise ValidationFailed("consent_on", "同意日期不能晚于今天")
    starts = data.starts_on or today
    if data.planned_end_on is not None and data.planned_end_on <= starts:
        raise ValidationFailed("planned_end_on", "计划结束日期须晚于开始日期")
    name, carer_columns = _carer(session, principal, data, child)
    user = None
    if data.carer_user_id is not None:
        user = _carer_account(session, principal, data.carer_user_id, child)
    p = Pairing(
        child_id=child.id,
        carer_kind=data.carer_kind,
        carer_user_id=user.id if user else None,
        carer_name=name,
        consent_on=data.consent_on,
        consent_by_name=data.consent_by_name.strip(),
        consent_by_relation=data.consent_by_relation,
        starts_on=starts,
        planned_end_on=data.planned_end_on,
        visit_every_days=data.visit_every_days,
        status=PairingStatus.proposed,
        created_by=principal.subject,
        **carer_columns,
    )
    # In the child's branch, so her village and the branches above it see the pairing.
    for column in ("branch_id", *ANCESTOR_COLUMNS):
        setattr(p, column, getattr(child, column))
    session.add(p)
    session.flush()
    _timeline(session, p, "propose", principal, f"提出结对:{name}")
    session.flush()
    return p


# ---- visits


def _visit_text(child: Child, v: Visit) -> str:
    lines = [f"结对走访({v.visited_on.isoformat()},{label('visit_mode', v.mode)})发现侵害儿童权益的问题。"]
    if v.problems:
        lines.append(f"发现的问题:{v.problems}")
    if v.done:
        lines.append(f"走访情况:{v.done}")
    states = [
        f"{name}{label('child_state', value)}"
        for name, value in (("学习", v.study), ("身体", v.health), ("情绪", v.mood))
        if value
    ]
    if states:
        lines.append("孩子状况:" + "、".join(states))
    return "\n".join(lines)


def _open_ticket(session: Session, principal: Principal, child: Child, v: Visit) -> int:
    """The rights issue enters 12338 through the tickets' own intake, linked to the child."""
    ticket = tickets.create_ticket(
        session,
        principal,
        TicketCreate(
            channel=Channel.referred_in,
            branch_id=child.branch_id,
            category=Category.children,
            urgency=Urgency.urgent,
            summary=f"结对走访发现儿童权益问题(儿童编号 {child.id})",
            description=_visit_text(child, v),
        ),
    )
    ticket.child_id = child.id
    session.flush()
    return ticket.id


def record_visit(session: Session, principal: Principal, p: Pairing, data: VisitCreate) -> Visit:
    if p.status != PairingStatus.active:
        raise Conflict("只有进行中的结对才能记录走访", pairing_status=p.status)
    today = today_in_china()
    visited = data.visited_on or today
    if visited > today:
        raise ValidationFailed("visited_on", "走访日期不能晚于今天")
    if visited < p.starts_on:
        raise ValidationFailed("visited_on", "走访日期不能早于结对开始日期")
    problems = (data.problems or "").strip() or None
    if data.rights_issue and not problems:
        raise ValidationFailed("problems", "发现权益问题时须写明发现的问题")
    child = session.get(Child, p.child_id)
    v = Visit(
        pairing_id=p.id,
        child_id=p.child_id,
        visited_on=visited,
        mode=data.mode,
        done=(data.done or "").strip() or None,
        study=data.study,
        health=data.health,
        mood=data.mood,
        problems=problems,
        rights_issue=data.rights_issue,
        created_by=principal.subject,
        created_by_name=principal.name,
    )
    for column in ("branch_id", *ANCESTOR_COLUMNS):
        setattr(v, column, getattr(p, column))
    session.add(v)
    session.flush()
    if data.rights_issue:
        v.ticket_id = _open_ticket(session, principal, child, v)
    # A visit restarts the schedule from the latest visit and clears the overdue flag.
    p.last_visit_on = max(p.last_visit_on, visited) if p.last_visit_on else visited
    p.next_visit_due_on = p.last_visit_on + timedelta(days=p.visit_every_days)
    p.overdue_flagged_at = None
    p.version += 1
    p.updated_at = utcnow()
    _timeline(
        session,
        p,
        "visit",
        principal,
        f"走访({label('visit_mode', v.mode)})",
        {"visit_id": v.id, "visited_on": visited.isoformat(), "ticket_id": v.ticket_id},
    )
    session.flush()
    return v


def visit_to_public(v: Visit) -> VisitPublic:
    return VisitPublic(
        id=v.id,
        pairing_id=v.pairing_id,
        child_id=v.child_id,
        branch_id=v.branch_id,
        visited_on=v.visited_on,
        mode=v.mode,
        done=v.done,
        study=v.study,
        health=v.health,
        mood=v.mood,
        problems=v.problems,
        rights_issue=v.rights_issue,
        ticket_id=v.ticket_id,
        photo_count=v.photo_count,
        created_by_name=v.created_by_name,
        created_at=v.created_at,
    )


VISIT_COLUMNS = [
    Column("visited_on", "走访日期"),
    Column("mode", "方式", "visit_mode"),
    Column("done", "走访情况"),
    Column("study", "学习", "child_state"),
    Column("health", "身体", "child_state"),
    Column("mood", "情绪", "child_state"),
    Column("problems", "发现的问题"),
    Column("rights_issue", "权益问题"),
    Column("created_by_name", "记录人"),
]


def list_visits(session: Session, principal: Principal, page: ListParams, p: Pairing) -> Any:
    stmt = scoped(select(Visit).where(Visit.pairing_id == p.id), principal)
    return page.respond(
        session,
        stmt,
        visit_to_public,
        sortable={"visited_on": Visit.visited_on, "created_at": Visit.created_at, "id": Visit.id},
        default_sort="-visited_on",
        search=[Visit.done, Visit.problems],
        columns=VISIT_COLUMNS,
        filename="走访记录",
    )


def get_visit(
    session: Session, principal: Principal, p: Pairing, visit_id: int, *, for_update: bool = False
) -> Visit:
    v = get_scoped(session, Visit, visit_id, principal, for_update=for_update)
    if v.pairing_id != p.id:
        raise NotFound("走访不存在或无权查看")
    return v


# ---- visit photos (stored like activity photos, by content, in the media store)


def photo_to_public(photo: VisitPhoto, pairing_id: int) -> VisitPhotoPublic:
    base = f"{API}/pairings/{pairing_id}/visits/{photo.visit_id}/photos/{photo.id}"
    return VisitPhotoPublic(visit_id=photo.visit_id, **photo_store.public_fields(photo, base))


def add_photo(
    session: Session, principal: Principal, v: Visit, data: bytes, caption: str | None = None
) -> VisitPhoto:
    photo, added = photo_store.attach(
        session, VisitPhoto, {"visit_id": v.id}, data, caption, principal.subject
    )
    if added:
        v.photo_count += 1
        v.updated_at = utcnow()
        session.flush()
    return photo


def list_photos(session: Session, v: Visit) -> list[VisitPhoto]:
    return photo_store.photos_of(session, VisitPhoto, {"visit_id": v.id})


def get_photo(session: Session, v: Visit, photo_id: int) -> VisitPhoto:
    return photo_store.photo_of(session, VisitPhoto, {"visit_id": v.id}, photo_id)


def photo_file(photo: VisitPhoto, thumbnail: bool = False) -> tuple[str, str]:
    return photo_store.file_of(photo, thumbnail)


# ---- the overdue sweep


def flag_overdue(session: Session, today: date | None = None) -> int:
    """Flag pairings that just became overdue, once each, with a `pairing.overdue` event (ids only)."""
    today = today or today_in_china()
    due = session.execute(
        select(
            Pairing.id, Pairing.branch_id, Pairing.child_id, Pairing.next_visit_due_on, Pairing.carer_kind
        ).where(
            overdue_condition(today),
            Pairing.overdue_flagged_at.is_(None),
            Pairing.deleted_at.is_(None),
        )
    ).all()
    if not due:
        return 0
    now = utcnow()
    session.execute(
        sa.update(Pairing).where(Pairing.id.in_([row.id for row in due])).values(overdue_flagged_at=now)
    )
    for row in due:
        days = (today - row.next_visit_due_on).days
        session.add(
            PairingEvent(
                pairing_id=row.id,
                action="overdue",
                at=now,
                actor="system:children",
                actor_name="系统",
                note=f"逾期未走访(应于 {row.next_visit_due_on.isoformat()} 前走访)",
                data={"next_visit_due_on": row.next_visit_due_on.isoformat(), "days_overdue": days},
            )
        )
        record_event(
            session,
            "pairing.overdue",
            row.branch_id,
            {
                "pairing_id": row.id,
                "child_id": row.child_id,
                "carer_kind": row.carer_kind,
                "next_visit_due_on": row.next_visit_due_on.isoformat(),
                "days_overdue": days,
            },
        )
    session.flush()
    return len(due)


@task("children.pairings_overdue", every_minutes=60)
def flag_overdue_pairings(db: Database) -> int:
    """Hourly, so a pairing that fell due yesterday is flagged soon after midnight China time."""
    with db.session(write=True) as session:
        session.info["actor"], session.info["actor_name"] = "system:children", "结对走访逾期巡检"
        return flag_overdue(session)
