"""The rules of a 12338 ticket: intake, the state machine, deadlines, the SLA sweep and the figures. No HTTP.

- Ownership: a ticket starts owned by the branch of whoever took the call (首问责任制, first responder = creator);
  `assign` moves it down (to a branch in the caller's subtree, optionally a person there), `escalate` and the
  sweep move it one level up. `branch_id` in the API is where it happened; `owner_branch_id` who handles it.
- Handlers of a sealed ticket: the first responder, the current assignee and anyone who wrote on its timeline;
  county admins see every sealed ticket of their subtree. A sealed ticket can only be assigned to a named person.
- First response: the first accept, reply, refer, mediation or counselling (routing with `assign` is not one).
- Deadlines are fixed at intake (and the resolution one again at `reopen`); changing the settings does not move
  the deadlines of tickets already taken. Units per deadline: see `sla.DEFAULT_SLA`.
"""

from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel
from sqlmodel import Session, select

from backend.auth.models import User
from backend.auth.roles import permissions_for
from backend.branches.models import Branch, BranchKind
from backend.core import audit
from backend.core.clock import CHINA_TZ, Between, Period
from backend.core.db import Database, insert_ignore_conflicts, utcnow
from backend.core.errors import NotFound, PreconditionFailed, ValidationFailed
from backend.core.paging import Column, ListParams
from backend.core.queue import task
from backend.core.scope import Principal, get_scoped, scoped, subtree_filter, within
from backend.core.security import (
    blind_index,
    blind_indexes,
    decrypt_field,
    encrypt_field,
    mask_name,
    mask_phone,
    rotating,
)
from backend.core.workflow import StepContext, Workflow, step
from backend.integrations.service import record_event
from backend.meta.dictionaries import label
from backend.tickets import schemas as s
from backend.tickets.models import (
    OPEN_STATUSES,
    Action,
    CalendarDay,
    Category,
    Channel,
    EventKind,
    ReferralTarget,
    Satisfaction,
    Status,
    Ticket,
    TicketCounter,
    TicketEvent,
    TicketSla,
    Urgency,
)
from backend.tickets.sla import DEFAULT_SLA, WorkCalendar, _state_calendar, deadlines, due_at, load_rules

DUPLICATE_WINDOW = timedelta(days=30)
REOPEN_WINDOW = timedelta(days=30)
PHONE_INDEX = "ticket-caller-phone"
SYSTEM_NAME = "系统"
# The county federation supervises 12338: the sweep never moves a ticket above a county-level branch.
SWEEP_CEILING_KINDS = {BranchKind.county, BranchKind.city, BranchKind.province}
# Steps that count as the first response to the caller (routing a ticket on is not one).
FIRST_RESPONSE_ACTIONS = {Action.accept, Action.reply, Action.refer, Action.mediation, Action.counselling}

N, A, P, R = Status.new, Status.assigned, Status.in_progress, Status.referred
OPEN = frozenset(OPEN_STATUSES)


def _has_reply_since_reopen(t: Ticket) -> bool:
    return t.replied_at is not None and (t.reopened_at is None or t.replied_at >= t.reopened_at)


def _has_callback_since_resolution(t: Ticket) -> bool:
    return t.callback_at is not None and t.resolved_at is not None and t.callback_at >= t.resolved_at


def check_version(t: Ticket, if_match: str | None) -> None:
    if if_match is None or if_match.strip() == "*":
        return
    wanted = if_match.strip().removeprefix("W/").strip('"')
    if wanted != str(t.version):
        raise PreconditionFailed(
            f"工单已被他人修改(当前版本 {t.version}),请刷新后重试", current_version=t.version
        )


def etag(t: Ticket) -> str:
    return f'"{t.version}"'


def versioned(t: Ticket, if_match: str | None) -> str:
    """For the action routes: check `If-Match` (412 when stale) and answer the ETag."""
    check_version(t, if_match)
    return etag(t)


# ---------------------------------------------------------------- intake


def next_number(session: Session, year: int) -> str:
    """Bump the year's counter inside this transaction: the row lock makes concurrent intakes queue, never clash."""
    table = TicketCounter.__table__
    bump = sa.update(table).where(table.c.year == year).values(last=table.c.last + 1).returning(table.c.last)
    value = session.execute(bump).scalar()
    if value is None:
        insert_ignore_conflicts(session, table, [{"year": year, "last": 0}], ["year"])
        value = session.execute(bump).scalar_one()
    return f"12338-{year}-{value:06d}"


def _event(
    session: Session,
    t: Ticket,
    kind: EventKind,
    principal: Principal | None,
    text: str = "",
    *,
    at: datetime,
    from_status: str | None = None,
    to_status: str | None = None,
    referral_to: ReferralTarget | None = None,
    data: dict[str, Any] | None = None,
) -> TicketEvent:
    event = TicketEvent(
        ticket_id=t.id,
        at=at,
        kind=kind,
        author_id=principal.id if principal else None,
        author_name=principal.name if principal else SYSTEM_NAME,
        text=text,
        from_status=from_status,
        to_status=to_status,
        referral_to=referral_to,
        data=data,
    )
    session.add(event)
    return event


def create_ticket(
    session: Session, principal: Principal, data: s.TicketCreate, now: datetime | None = None
) -> Ticket:
    now = now or utcnow()
    location = get_scoped(session, Branch, data.branch_id, principal)
    owner = session.get(Branch, principal.branch_id)
    first_due, resolution_due = deadlines(session, data.urgency, now)
    name = (data.caller_name or "").strip() or None
    phone = "".join(ch for ch in (data.caller_phone or "") if ch.isdigit() or ch == "+") or None
    t = Ticket(
        number=next_number(session, now.astimezone(CHINA_TZ).year),
        channel=data.channel,
        category=data.category,
        urgency=data.urgency,
        summary=data.summary.strip(),
        description=data.description,
        sealed=data.sealed,
        caller_name_enc=encrypt_field(name) if name else None,
        caller_name_masked=mask_name(name),
        caller_phone_enc=encrypt_field(phone) if phone else None,
        caller_phone_masked=mask_phone(phone),
        caller_phone_hash=blind_index(phone, PHONE_INDEX) if phone else None,
        location_branch_id=location.id,
        status=Status.new,
        first_responder_id=principal.id,
        first_response_due_at=first_due,
        resolution_due_at=resolution_due,
        created_at=now,
        updated_at=now,
    )
    # 首问责任制: the ticket starts with the branch of whoever took the call.
    t.place_in(owner)
    session.add(t)
    session.flush()
    _event(
        session,
        t,
        EventKind.create,
        principal,
        f"登记来电:{t.summary}",
        at=now,
        to_status=Status.new,
        data={"channel": t.channel, "urgency": t.urgency, "sealed": t.sealed},
    )
    record_event(session, "ticket.created", t.branch_id, _event_data(t))
    session.flush()
    return t


OUTBOX_EVENTS = {
    Action.refer: "ticket.referred",
    Action.escalate: "ticket.escalated",
    Action.resolve: "ticket.resolved",
    Action.close: "ticket.closed",
}


def _event_data(t: Ticket, **extra: Any) -> dict[str, Any]:
    """What partners learn of a ticket: ids and codes, never the caller or the story."""
    return {
        "ticket_id": t.id,
        "number": t.number,
        "status": t.status,
        "category": t.category,
        "urgency": t.urgency,
        "sealed": t.sealed,
        "escalation_level": t.escalation_level,
        **extra,
    }


# ---------------------------------------------------------------- reading


def _next_due(t: Ticket) -> datetime | None:
    if t.status not in OPEN:
        return None
    if t.first_responded_at is None:
        return min(t.first_response_due_at, t.resolution_due_at)
    return t.resolution_due_at


def to_public(t: Ticket, now: datetime | None = None) -> s.TicketPublic:
    now = now or utcnow()
    due = _next_due(t)
    return s.TicketPublic(
        id=t.id,
        number=t.number,
        channel=t.channel,
        caller_name=t.caller_name_masked,
        caller_phone=t.caller_phone_masked,
        branch_id=t.location_branch_id,
        owner_branch_id=t.branch_id,
        category=t.category,
        urgency=t.urgency,
        summary=t.summary,
        description=t.description,
        sealed=t.sealed,
        status=t.status,
        version=t.version,
        first_responder_id=t.first_responder_id,
        assignee_id=t.assignee_id,
        linked_to_id=t.linked_to_id,
        child_id=t.child_id,
        escalation_level=t.escalation_level,
        first_response_due_at=t.first_response_due_at,
        resolution_due_at=t.resolution_due_at,
        first_responded_at=t.first_responded_at,
        replied_at=t.replied_at,
        resolved_at=t.resolved_at,
        closed_at=t.closed_at,
        callback_at=t.callback_at,
        callback_reached=t.callback_reached,
        satisfaction=t.satisfaction,
        due_at=due,
        seconds_left=int((due - now).total_seconds()) if due else None,
        overdue=due is not None and due < now,
        created_at=t.created_at,
        updated_at=t.updated_at,
    )


def possible_duplicates(session: Session, principal: Principal, t: Ticket) -> list[s.DuplicatePublic]:
    """Other tickets from the same phone within 30 days either side, among those the viewer may see."""
    if not t.caller_phone_hash:
        return []
    # Mid-rotation the other tickets may hold the phone's hash under the old key or the new one.
    hashes = (
        blind_indexes(decrypt_field(t.caller_phone_enc), PHONE_INDEX)
        if rotating() and t.caller_phone_enc
        else [t.caller_phone_hash]
    )
    stmt = (
        scoped(select(Ticket), principal)
        .where(
            Ticket.caller_phone_hash.in_(hashes),
            Ticket.id != t.id,
            Ticket.created_at >= t.created_at - DUPLICATE_WINDOW,
            Ticket.created_at <= t.created_at + DUPLICATE_WINDOW,
        )
        .order_by(Ticket.created_at.desc())
        .limit(10)
    )
    return [
        s.DuplicatePublic(
            id=o.id,
            number=o.number,
            status=o.status,
            category=o.category,
            created_at=o.created_at,
            summary=o.summary,
        )
        for o in session.exec(stmt)
        if o.id != t.linked_to_id and o.linked_to_id != t.id
    ]


def detail(session: Session, principal: Principal, t: Ticket, now: datetime | None = None) -> s.TicketDetail:
    now = now or utcnow()
    events = session.exec(
        select(TicketEvent).where(TicketEvent.ticket_id == t.id).order_by(TicketEvent.at, TicketEvent.id)
    ).all()
    return s.TicketDetail(
        **to_public(t, now).model_dump(),
        events=[s.TicketEventPublic.model_validate(e) for e in events],
        possible_duplicates=possible_duplicates(session, principal, t),
        allowed_actions=allowed_actions(t, principal, now),
    )


def overdue_condition(now: datetime):
    return sa.and_(
        Ticket.status.in_([x.value for x in OPEN_STATUSES]),
        sa.or_(
            sa.and_(Ticket.first_responded_at.is_(None), Ticket.first_response_due_at < now),
            Ticket.resolution_due_at < now,
        ),
    )


COLUMNS = [
    Column("number", "编号"),
    Column("created_at", "登记时间"),
    Column("channel", "来源", "ticket_channel"),
    Column("category", "类别", "ticket_category"),
    Column("urgency", "紧急程度", "ticket_urgency"),
    Column("status", "状态", "ticket_status"),
    Column("caller_name", "来电人"),
    Column("caller_phone", "来电号码"),
    Column("summary", "摘要"),
    Column("first_response_due_at", "首次响应时限"),
    Column("resolution_due_at", "办结时限"),
    Column("overdue", "已超时"),
    Column("satisfaction", "回访满意度", "satisfaction"),
]
SORTABLE = {
    "created_at": Ticket.created_at,
    "number": Ticket.number,
    "status": Ticket.status,
    "urgency": Ticket.urgency,
    "resolution_due_at": Ticket.resolution_due_at,
    "first_response_due_at": Ticket.first_response_due_at,
    "updated_at": Ticket.updated_at,
    "id": Ticket.id,
}


def list_tickets(
    session: Session,
    principal: Principal,
    page: ListParams,
    *,
    status: list[Status] | None = None,
    category: list[Category] | None = None,
    urgency: list[Urgency] | None = None,
    channel: list[Channel] | None = None,
    overdue: bool | None = None,
    sealed: bool | None = None,
    mine: bool | None = None,
    under: int | None = None,
    period: Between = Between(),
) -> Any:
    now = utcnow()
    stmt = scoped(select(Ticket), principal)
    for column, values in (
        (Ticket.status, status),
        (Ticket.category, category),
        (Ticket.urgency, urgency),
        (Ticket.channel, channel),
    ):
        if values:
            stmt = stmt.where(column.in_([v.value for v in values]))
    if overdue is True:
        stmt = stmt.where(overdue_condition(now))
    elif overdue is False:
        stmt = stmt.where(~overdue_condition(now))
    if sealed is not None:
        stmt = stmt.where(Ticket.sealed.is_(sealed))
    if mine:
        stmt = stmt.where(Ticket.assignee_id == principal.id)
    stmt = within(session, principal, stmt, Ticket, under)
    stmt = stmt.where(period.covers(Ticket.created_at))
    return page.respond(
        session,
        stmt,
        lambda t: to_public(t, now),
        sortable=SORTABLE,
        default_sort="-created_at",
        search=[Ticket.number, Ticket.summary],
        columns=COLUMNS,
        filename="12338工单",
    )


def get_ticket(session: Session, principal: Principal, ticket_id: int, *, for_update: bool = False) -> Ticket:
    return get_scoped(session, Ticket, ticket_id, principal, for_update=for_update)


def reveal_caller(session: Session, principal: Principal, t: Ticket) -> s.CallerPublic:
    return s.CallerPublic(**audit.reveal(session, principal, t, ["caller_name", "caller_phone"]))


# ---------------------------------------------------------------- steps
# Each step's function changes the ticket and leaves the timeline text (and event data) in `ctx.result`;
# `perform` writes the timeline entry and the outbox event around it.


def _assign(ctx: StepContext[Ticket]) -> None:
    t, body = ctx.record, ctx.body
    branch = get_scoped(ctx.session, Branch, body.branch_id, ctx.principal)
    assignee = None
    if body.assignee_id is not None:
        assignee = ctx.session.get(User, body.assignee_id)
        if (
            assignee is None
            or not assignee.is_active
            or assignee.branch_id != branch.id
            or "tickets:write" not in permissions_for(assignee.role)
        ):
            raise ValidationFailed("assignee_id", f"承办人须是「{branch.name}」可办理工单的在岗人员")
    elif t.sealed:
        raise ValidationFailed("assignee_id", "保密工单须指定具体承办人,不能只分派到组织")
    t.place_in(branch)
    t.assignee_id = assignee.id if assignee else None
    who = f"{branch.name}" + (f" {assignee.display_name}" if assignee else "")
    ctx.result["text"] = f"分派至{who}" + (f":{body.note}" if body.note else "")
    ctx.result["data"] = {"branch_id": branch.id, "assignee_id": t.assignee_id}


def _accept(ctx: StepContext[Ticket]) -> None:
    ctx.result["text"] = "受理"


def _refer(ctx: StepContext[Ticket]) -> None:
    body = ctx.body
    ctx.result["text"] = f"转介至{label('referral_target', body.to)}" + (f":{body.note}" if body.note else "")
    ctx.result["referral_to"] = body.to


def _referral_answer(ctx: StepContext[Ticket]) -> None:
    ctx.result["text"] = ctx.body.note


def _text(ctx: StepContext[Ticket]) -> None:
    """A note, a mediation or a counselling session: the text is the record."""
    ctx.result["text"] = ctx.body.text


def _reply(ctx: StepContext[Ticket]) -> None:
    ctx.record.replied_at = ctx.now
    ctx.result["text"] = ctx.body.content
    ctx.result["data"] = {"method": ctx.body.method}


def _resolve(ctx: StepContext[Ticket]) -> None:
    t = ctx.record
    t.resolved_at = ctx.now
    t.resolved_on_time = ctx.now <= t.resolution_due_at
    ctx.result["text"] = ctx.body.resolution


def _callback(ctx: StepContext[Ticket]) -> None:
    t, body = ctx.record, ctx.body
    t.callback_at = ctx.now
    t.callback_reached = body.reached
    t.satisfaction = body.satisfaction
    outcome = label("satisfaction", body.satisfaction) if body.reached else "未联系上"
    ctx.result["text"] = f"回访:{outcome}" + (f"。{body.note}" if body.note else "")
    ctx.result["data"] = {"reached": body.reached, "satisfaction": body.satisfaction}


def _close(ctx: StepContext[Ticket]) -> None:
    ctx.record.closed_at = ctx.now
    ctx.result["text"] = "关闭"


def _reopen(ctx: StepContext[Ticket]) -> None:
    t = ctx.record
    t.reopened_at = ctx.now
    t.resolved_at = t.closed_at = t.callback_at = None
    t.resolved_on_time = t.callback_reached = t.satisfaction = None
    _first, t.resolution_due_at = deadlines(ctx.session, Urgency(t.urgency), ctx.now)
    t.resolution_escalated = False
    ctx.result["text"] = ctx.body.reason


def _escalate(ctx: StepContext[Ticket]) -> None:
    t = ctx.record
    owner = ctx.session.get(Branch, t.branch_id)
    parent = ctx.session.get(Branch, owner.parent_id) if owner and owner.parent_id else None
    if parent is None or parent.deleted_at is not None:
        raise WORKFLOW.refuse(t, Action.escalate, ctx.principal, ctx.now, "已是最上级组织,不能再上报")
    _move_up(t, parent)
    ctx.result["text"] = f"上报至{parent.name}:{ctx.body.reason}"
    ctx.result["data"] = {"branch_id": parent.id}


def _link(ctx: StepContext[Ticket]) -> None:
    t, body = ctx.record, ctx.body
    other = get_scoped(ctx.session, Ticket, body.ticket_id, ctx.principal)
    if other.id == t.id:
        raise ValidationFailed("ticket_id", "不能关联工单自身")
    t.linked_to_id = other.id
    ctx.result["text"] = f"关联重复来电 {other.number}" + (f":{body.note}" if body.note else "")
    ctx.result["data"] = {"ticket_id": other.id}


def _needs_reply(t: Ticket, _principal: Principal | None, _now: datetime) -> str | None:
    return None if _has_reply_since_reopen(t) else "办结前须先答复来电人(reply),做到事事有回音"


def _needs_callback(t: Ticket, _principal: Principal | None, _now: datetime) -> str | None:
    return None if _has_callback_since_resolution(t) else "关闭前须先回访来电人(callback)"


def _within_reopen_window(t: Ticket, _principal: Principal | None, now: datetime) -> str | None:
    if t.resolved_at is not None and now - t.resolved_at <= REOPEN_WINDOW:
        return None
    return "办结已超过 30 天,不能重新打开"


def _reopen_first_when_unsatisfied(t: Ticket, names: list[str]) -> list[str]:
    """An unsatisfied call-back puts reopening first."""
    if t.satisfaction == Satisfaction.unsatisfied and Action.reopen in names:
        return [Action.reopen.value, *(n for n in names if n != Action.reopen)]
    return names


def _step(action: Action, sources: Any, target: Status | None = None, **kw: Any) -> Any:
    return step(action.value, label("ticket_action", action), sources, target, **kw)


# The state machine in one table: the states a step may start from, the state it leads to (None keeps it),
# its body, the guard on top of the state, and what it does.
WORKFLOW = Workflow(
    "工单",
    [
        _step(Action.assign, {N, A, P}, A, body=s.AssignBody, apply=_assign),
        _step(Action.accept, {N, A}, P, apply=_accept),
        _step(Action.refer, {P, R}, R, body=s.ReferBody, apply=_refer),
        _step(Action.referral_answer, {R}, P, body=s.NoteBody, apply=_referral_answer),
        _step(Action.note, OPEN | {Status.resolved}, body=s.TextBody, apply=_text),
        _step(Action.mediation, OPEN, body=s.TextBody, apply=_text),
        _step(Action.counselling, OPEN, body=s.TextBody, apply=_text),
        _step(Action.reply, OPEN, body=s.ReplyBody, apply=_reply),
        _step(
            Action.resolve, {P, R}, Status.resolved, body=s.ResolveBody, guard=_needs_reply, apply=_resolve
        ),
        _step(Action.callback, {Status.resolved}, body=s.CallbackBody, apply=_callback),
        _step(Action.close, {Status.resolved}, Status.closed, guard=_needs_callback, apply=_close),
        _step(
            Action.reopen,
            {Status.resolved, Status.closed},
            P,
            body=s.ReasonBody,
            guard=_within_reopen_window,
            apply=_reopen,
        ),
        _step(Action.escalate, OPEN, body=s.ReasonBody, apply=_escalate),
        _step(Action.link, OPEN | {Status.resolved}, body=s.LinkBody, apply=_link),
    ],
    permission="tickets:write",
    state_label=lambda value: label("ticket_status", value),
    order=_reopen_first_when_unsatisfied,
    state_key="ticket_status",
)


def allowed_actions(t: Ticket, principal: Principal | None = None, now: datetime | None = None) -> list[str]:
    return WORKFLOW.allowed(t, principal, now)


def perform(
    session: Session,
    principal: Principal,
    t: Ticket,
    action: Action | str,
    body: BaseModel | None = None,
    now: datetime | None = None,
) -> Ticket:
    """Apply one step: the workflow checks the state and the guard and changes the ticket; the timeline follows."""
    now = now or utcnow()
    action = Action(action)
    before = t.status
    ctx = WORKFLOW.perform(session, principal, t, action.value, body, now)
    if action in FIRST_RESPONSE_ACTIONS and t.first_responded_at is None:
        t.first_responded_at = now
    t.version += 1
    t.updated_at = now
    session.add(t)
    _event(
        session,
        t,
        EventKind(action.value),
        principal,
        ctx.result["text"],
        at=now,
        from_status=before,
        to_status=t.status if t.status != before else None,
        referral_to=ctx.result.get("referral_to"),
        data=ctx.result.get("data"),
    )
    if action in OUTBOX_EVENTS:
        extra = {"referral_to": ctx.result["referral_to"]} if action == Action.refer else {}
        record_event(session, OUTBOX_EVENTS[action], t.branch_id, _event_data(t, **extra))
    session.flush()
    return t


def _move_up(t: Ticket, parent: Branch) -> None:
    t.place_in(parent)
    t.assignee_id = None
    t.escalation_level += 1


# ---------------------------------------------------------------- the SLA sweep


def escalate_overdue(
    session: Session, now: datetime | None = None, limit: int | None = None
) -> tuple[int, int]:
    """Move each newly overdue open ticket one level up and say why; a breach already escalated is left alone.

    Answers (tickets moved up, tickets looked at); `limit` bounds one transaction's work.
    """
    now = now or utcnow()
    first_breach = sa.and_(
        Ticket.first_responded_at.is_(None),
        Ticket.first_response_escalated.is_(False),
        Ticket.first_response_due_at < now,
    )
    resolution_breach = sa.and_(Ticket.resolution_escalated.is_(False), Ticket.resolution_due_at < now)
    stmt = (
        select(Ticket)
        .where(Ticket.status.in_([x.value for x in OPEN_STATUSES]), sa.or_(first_breach, resolution_breach))
        .order_by(Ticket.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    moved = 0
    due = session.exec(stmt).all()
    for t in due:
        reasons = []
        if t.first_responded_at is None and not t.first_response_escalated and t.first_response_due_at < now:
            reasons.append(f"首次响应超时(时限 {_china(t.first_response_due_at)})")
            t.first_response_escalated = True
        if not t.resolution_escalated and t.resolution_due_at < now:
            reasons.append(f"办结超时(时限 {_china(t.resolution_due_at)})")
            t.resolution_escalated = True
        owner = session.get(Branch, t.branch_id)
        parent = session.get(Branch, owner.parent_id) if owner.parent_id else None
        why = "、".join(reasons)
        if parent is not None and parent.deleted_at is None and owner.kind not in SWEEP_CEILING_KINDS:
            _move_up(t, parent)
            text, data = f"{why},自动上报至{parent.name}", {"branch_id": parent.id}
            record_event(session, "ticket.escalated", parent.id, _event_data(t, by="sla"))
            moved += 1
        else:
            text, data = f"{why},已在{owner.name},请督办", {"branch_id": owner.id}
        t.version += 1
        t.updated_at = now
        session.add(t)
        _event(session, t, EventKind.sla_escalate, None, text, at=now, data=data)
    session.flush()
    return moved, len(due)


def _china(value: datetime) -> str:
    return value.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M")


SWEEP_BATCH = 500


@task("tickets.sla_sweep", every_minutes=5)
def sla_sweep(db: Database) -> int:
    """Escalate in batches of short transactions, so a backlog never holds the write lock for long."""
    now, moved = utcnow(), 0
    while True:
        with db.session(write=True) as session:
            session.info["actor"], session.info["actor_name"] = "system:sla", "12338 时限巡检"
            batch_moved, looked_at = escalate_overdue(session, now, limit=SWEEP_BATCH)
        moved += batch_moved
        if looked_at < SWEEP_BATCH:
            return moved


# ---------------------------------------------------------------- SLA settings and the calendar


def sla_settings(session: Session) -> s.SlaSettings:
    rules = load_rules(session)
    return s.SlaSettings(
        items=[
            s.SlaRulePublic(
                urgency=u,
                first_response=s.DeadlineIn(amount=r.first_response.amount, unit=r.first_response.unit),
                resolution=s.DeadlineIn(amount=r.resolution.amount, unit=r.resolution.unit),
            )
            for u, r in rules.items()
        ]
    )


def update_sla(session: Session, principal: Principal, data: s.SlaUpdate) -> s.SlaSettings:
    seen = set()
    for i, item in enumerate(data.items):
        if item.urgency in seen:
            raise ValidationFailed(["items", str(i), "urgency"], "同一紧急程度只能设置一次")
        seen.add(item.urgency)
        if item.first_response.unit == "hours" and item.first_response.amount > 24 * 30:
            raise ValidationFailed(["items", str(i), "first_response", "amount"], "首次响应时限过长")
        row = session.get(TicketSla, item.urgency.value) or TicketSla(
            urgency=item.urgency.value,
            first_response_amount=0,
            first_response_unit="hours",
            resolution_amount=0,
            resolution_unit="hours",
        )
        row.first_response_amount, row.first_response_unit = (
            item.first_response.amount,
            item.first_response.unit,
        )
        row.resolution_amount, row.resolution_unit = item.resolution.amount, item.resolution.unit
        row.updated_at, row.updated_by = utcnow(), principal.name
        session.add(row)
    session.flush()
    return sla_settings(session)


def calendar_year(session: Session, year: int) -> s.CalendarYear:
    cal = WorkCalendar.load(session)
    state_holidays, swapped = _state_calendar(year)
    overrides = {d: k for d, k in cal.overrides.items() if d.year == year}
    days = []
    for day in sorted({*state_holidays, *swapped, *overrides}):
        source = "local" if day in overrides else "state"
        days.append(
            s.CalendarDayPublic(
                day=day, kind="workday" if cal.is_working_day(day) else "holiday", source=source, note=""
            )
        )
    rows = session.exec(
        select(CalendarDay)
        .where(CalendarDay.day >= date(year, 1, 1), CalendarDay.day <= date(year, 12, 31))
        .order_by(CalendarDay.day)
    ).all()
    notes = {r.day: r.note for r in rows}
    for d in days:
        d.note = notes.get(d.day, "")
    return s.CalendarYear(
        year=year, days=days, overrides=[s.CalendarOverridePublic.model_validate(r) for r in rows]
    )


def set_calendar_day(session: Session, principal: Principal, day: date, data: s.CalendarDayIn) -> CalendarDay:
    row = session.get(CalendarDay, day) or CalendarDay(day=day, kind=data.kind)
    row.kind, row.note, row.updated_at, row.updated_by = data.kind, data.note, utcnow(), principal.name
    session.add(row)
    session.flush()
    return row


def remove_calendar_day(session: Session, day: date) -> None:
    row = session.get(CalendarDay, day)
    if row is None:
        raise NotFound("这一天没有本地调整")
    session.delete(row)
    session.flush()


# ---------------------------------------------------------------- figures


def _rate(numerator: int, denominator: int) -> s.RateFigure:
    return s.RateFigure(
        numerator=numerator,
        denominator=denominator,
        rate=round(numerator / denominator, 4) if denominator else None,
    )


def ticket_stats(
    session: Session,
    principal: Principal,
    period: Period,
    under: int | None = None,
    now: datetime | None = None,
) -> s.TicketStats:
    """Figures for the caller's subtree, counted from the ticket rows created in the period (China dates)."""
    now = now or utcnow()

    # The `under` branch is looked up once, not once per figure.
    narrowed = None
    if under is not None:
        root = get_scoped(session, Branch, under, principal)
        narrowed = subtree_filter(Ticket, root.id, root.depth)

    def base(*columns: Any) -> Any:
        stmt = scoped(
            sa.select(*columns).select_from(Ticket.__table__).execution_options(ticket_figures=True),
            principal,
            Ticket,
        )
        stmt = stmt.where(period.covers(Ticket.created_at))
        return stmt if narrowed is None else stmt.where(narrowed)

    def grouped(column: Any, keys: list[str]) -> dict[str, int]:
        counts = dict.fromkeys(keys, 0)
        for key, n in session.execute(base(column, sa.func.count()).group_by(column)):
            counts[str(key)] = n
        return counts

    def flag(condition: Any) -> Any:
        return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)

    open_values = [x.value for x in OPEN_STATUSES]
    fr_done = Ticket.first_responded_at.is_not(None)
    row = session.execute(
        base(
            sa.func.count(),
            flag(sa.or_(fr_done, Ticket.first_response_due_at < now)),
            flag(sa.and_(fr_done, Ticket.first_responded_at <= Ticket.first_response_due_at)),
            flag(
                sa.or_(
                    Ticket.resolved_on_time.is_not(None),
                    sa.and_(Ticket.status.in_(open_values), Ticket.resolution_due_at < now),
                )
            ),
            flag(Ticket.resolved_on_time.is_(True)),
            flag(Ticket.replied_at.is_not(None)),
            flag(overdue_condition(now)),
            flag(Ticket.sealed.is_(True)),
            flag(sa.and_(Ticket.callback_at.is_not(None), Ticket.callback_reached.is_(False))),
        )
    ).one()
    total, fr_due, fr_ok, res_due, res_ok, replied, overdue_open, sealed, not_reached = (
        int(v or 0) for v in row
    )

    satisfaction = grouped(Ticket.satisfaction, [x.value for x in Satisfaction] + ["None"])
    satisfaction.pop("None", None)
    callback = {**satisfaction, "not_reached": not_reached}
    reached = sum(satisfaction.values())

    referrals = dict.fromkeys([x.value for x in ReferralTarget], 0)
    ids = base(Ticket.id).subquery()
    for target, n in session.execute(
        sa.select(TicketEvent.referral_to, sa.func.count())
        .where(TicketEvent.kind == EventKind.refer.value, TicketEvent.ticket_id.in_(sa.select(ids.c.id)))
        .group_by(TicketEvent.referral_to)
    ):
        referrals[str(target)] = n

    durations = [
        (r - c).total_seconds()
        for c, r in session.execute(
            base(Ticket.created_at, Ticket.resolved_at).where(Ticket.resolved_at.is_not(None))
        )
    ]
    average = round(sum(durations) / len(durations) / 3600, 1) if durations else None

    return s.TicketStats(
        period=period.out(),
        total=total,
        by_category=grouped(Ticket.category, [x.value for x in Category]),
        by_channel=grouped(Ticket.channel, [x.value for x in Channel]),
        by_urgency=grouped(Ticket.urgency, [x.value for x in Urgency]),
        by_status=grouped(Ticket.status, [x.value for x in Status]),
        first_response_on_time=_rate(fr_ok, fr_due),
        resolution_on_time=_rate(res_ok, res_due),
        reply_rate=_rate(replied, total),
        callback=callback,
        satisfaction_rate=_rate(satisfaction["satisfied"] + satisfaction["basically"], reached),
        referrals_by_department=referrals,
        average_hours_to_resolve=average,
        overdue_open=overdue_open,
        sealed=sealed,
    )


__all__ = ["DEFAULT_SLA", "due_at", "perform", "create_ticket", "escalate_overdue", "ticket_stats"]
