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

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel
from sqlmodel import Session, select

from backend.auth.models import User
from backend.auth.roles import permissions_for
from backend.branches.models import Branch, BranchKind
from backend.core import audit
from backend.core.db import Database, insert_ignore_conflicts, utcnow
from backend.core.errors import InvalidTransition, PreconditionFailed, ValidationFailed
from backend.core.queue import task
from backend.core.scope import Principal, get_scoped, scoped, subtree_filter
from backend.core.security import (
    blind_index,
    blind_indexes,
    decrypt_field,
    encrypt_field,
    mask_name,
    mask_phone,
    rotating,
)
from backend.integrations.service import record_event
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
from backend.tickets.sla import CHINA_TZ, DEFAULT_SLA, WorkCalendar, deadlines, due_at, load_rules

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

# The state machine in one table: action → (states it may start from, state it leads to; None keeps the state).
TRANSITIONS: dict[Action, tuple[frozenset[Status], Status | None]] = {
    Action.assign: (frozenset({N, A, P}), A),
    Action.accept: (frozenset({N, A}), P),
    Action.refer: (frozenset({P, R}), R),
    Action.referral_answer: (frozenset({R}), P),
    Action.note: (OPEN | {Status.resolved}, None),
    Action.mediation: (OPEN, None),
    Action.counselling: (OPEN, None),
    Action.reply: (OPEN, None),
    Action.resolve: (frozenset({P, R}), Status.resolved),
    Action.callback: (frozenset({Status.resolved}), None),
    Action.close: (frozenset({Status.resolved}), Status.closed),
    Action.reopen: (frozenset({Status.resolved, Status.closed}), P),
    Action.escalate: (OPEN, None),
    Action.link: (OPEN | {Status.resolved}, None),
}


def _has_reply_since_reopen(t: Ticket) -> bool:
    return t.replied_at is not None and (t.reopened_at is None or t.replied_at >= t.reopened_at)


def _has_callback_since_resolution(t: Ticket) -> bool:
    return t.callback_at is not None and t.resolved_at is not None and t.callback_at >= t.resolved_at


# Extra conditions on top of the state: each answers None when the step may go ahead, or why it may not.
GUARDS: dict[Action, Callable[[Ticket, datetime], str | None]] = {
    Action.resolve: lambda t, now: (
        None if _has_reply_since_reopen(t) else "办结前须先答复来电人(reply),做到事事有回音"
    ),
    Action.close: lambda t, now: (
        None if _has_callback_since_resolution(t) else "关闭前须先回访来电人(callback)"
    ),
    Action.reopen: lambda t, now: (
        None
        if t.resolved_at is not None and now - t.resolved_at <= REOPEN_WINDOW
        else "办结已超过 30 天,不能重新打开"
    ),
}


def allowed_actions(t: Ticket, now: datetime | None = None) -> list[str]:
    now = now or utcnow()
    allowed = []
    for action, (sources, _target) in TRANSITIONS.items():
        if Status(t.status) not in sources:
            continue
        guard = GUARDS.get(action)
        if guard is not None and guard(t, now) is not None:
            continue
        allowed.append(action.value)
    # An unsatisfied call-back puts reopening first.
    if t.satisfaction == Satisfaction.unsatisfied and "reopen" in allowed:
        allowed.remove("reopen")
        allowed.insert(0, "reopen")
    return allowed


def _refuse(t: Ticket, action: Action, now: datetime, reason: str | None = None) -> InvalidTransition:
    allowed = [a for a in allowed_actions(t, now) if a != action.value]
    if reason is None:
        reason = f"工单「{_label('ticket_status', t.status)}」状态下不能{_label('ticket_action', action)}"
    names = "、".join(_label("ticket_action", a) for a in allowed) or "无"
    return InvalidTransition(f"{reason}。当前可以:{names}", allowed=allowed, ticket_status=t.status)


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
        allowed_actions=allowed_actions(t, now),
    )


def overdue_condition(now: datetime):
    return sa.and_(
        Ticket.status.in_([x.value for x in OPEN_STATUSES]),
        sa.or_(
            sa.and_(Ticket.first_responded_at.is_(None), Ticket.first_response_due_at < now),
            Ticket.resolution_due_at < now,
        ),
    )


def created_between(stmt: Any, created_from: date | None, created_to: date | None) -> Any:
    """Dates are China dates, both ends included."""
    if created_from is not None:
        stmt = stmt.where(Ticket.created_at >= datetime.combine(created_from, time(0), tzinfo=CHINA_TZ))
    if created_to is not None:
        stmt = stmt.where(
            Ticket.created_at < datetime.combine(created_to + timedelta(days=1), time(0), tzinfo=CHINA_TZ)
        )
    return stmt


def reveal_caller(session: Session, principal: Principal, t: Ticket) -> s.CallerPublic:
    audit.record_reveal(session, principal, t, ["caller_name", "caller_phone"])
    return s.CallerPublic(
        caller_name=decrypt_field(t.caller_name_enc) if t.caller_name_enc else None,
        caller_phone=decrypt_field(t.caller_phone_enc) if t.caller_phone_enc else None,
    )


# ---------------------------------------------------------------- steps

BODIES: dict[Action, type[BaseModel]] = {
    Action.assign: s.AssignBody,
    Action.accept: s.EmptyBody,
    Action.refer: s.ReferBody,
    Action.referral_answer: s.NoteBody,
    Action.note: s.TextBody,
    Action.mediation: s.TextBody,
    Action.counselling: s.TextBody,
    Action.reply: s.ReplyBody,
    Action.resolve: s.ResolveBody,
    Action.callback: s.CallbackBody,
    Action.close: s.EmptyBody,
    Action.reopen: s.ReasonBody,
    Action.escalate: s.ReasonBody,
    Action.link: s.LinkBody,
}


def perform(
    session: Session,
    principal: Principal,
    t: Ticket,
    action: Action,
    body: BaseModel,
    now: datetime | None = None,
) -> Ticket:
    """Apply one step: check the state table and the guards, change the ticket, append to its timeline."""
    now = now or utcnow()
    sources, target = TRANSITIONS[action]
    if Status(t.status) not in sources:
        raise _refuse(t, action, now)
    guard = GUARDS.get(action)
    reason = guard(t, now) if guard else None
    if reason is not None:
        raise _refuse(t, action, now, reason)
    before = t.status
    text, extra = _apply(session, principal, t, action, body, now)
    if target is not None:
        t.status = target
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
        text,
        at=now,
        from_status=before,
        to_status=t.status if t.status != before else None,
        **extra,
    )
    if action in OUTBOX_EVENTS:
        record_event(
            session,
            OUTBOX_EVENTS[action],
            t.branch_id,
            _event_data(t, referral_to=extra["referral_to"]) if action == Action.refer else _event_data(t),
        )
    session.flush()
    return t


def _apply(
    session: Session, principal: Principal, t: Ticket, action: Action, body: Any, now: datetime
) -> tuple[str, dict[str, Any]]:
    if action == Action.assign:
        branch = get_scoped(session, Branch, body.branch_id, principal)
        assignee = None
        if body.assignee_id is not None:
            assignee = session.get(User, body.assignee_id)
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
        text = f"分派至{who}" + (f":{body.note}" if body.note else "")
        return text, {"data": {"branch_id": branch.id, "assignee_id": t.assignee_id}}
    if action == Action.accept:
        return "受理", {}
    if action == Action.refer:
        label = _label("referral_target", body.to)
        return f"转介至{label}" + (f":{body.note}" if body.note else ""), {"referral_to": body.to}
    if action == Action.referral_answer:
        return body.note, {}
    if action in (Action.note, Action.mediation, Action.counselling):
        return body.text, {}
    if action == Action.reply:
        t.replied_at = now
        return body.content, {"data": {"method": body.method}}
    if action == Action.resolve:
        t.resolved_at = now
        t.resolved_on_time = now <= t.resolution_due_at
        return body.resolution, {}
    if action == Action.callback:
        t.callback_at = now
        t.callback_reached = body.reached
        t.satisfaction = body.satisfaction
        outcome = _label("satisfaction", body.satisfaction) if body.reached else "未联系上"
        return f"回访:{outcome}" + (f"。{body.note}" if body.note else ""), {
            "data": {"reached": body.reached, "satisfaction": body.satisfaction}
        }
    if action == Action.close:
        t.closed_at = now
        return "关闭", {}
    if action == Action.reopen:
        t.reopened_at = now
        t.resolved_at = t.closed_at = t.callback_at = None
        t.resolved_on_time = t.callback_reached = t.satisfaction = None
        _first, t.resolution_due_at = deadlines(session, Urgency(t.urgency), now)
        t.resolution_escalated = False
        return body.reason, {}
    if action == Action.escalate:
        owner = session.get(Branch, t.branch_id)
        parent = session.get(Branch, owner.parent_id) if owner and owner.parent_id else None
        if parent is None or parent.deleted_at is not None:
            raise _refuse(t, action, now, "已是最上级组织,不能再上报")
        _move_up(t, parent)
        return f"上报至{parent.name}:{body.reason}", {"data": {"branch_id": parent.id}}
    if action == Action.link:
        other = get_scoped(session, Ticket, body.ticket_id, principal)
        if other.id == t.id:
            raise ValidationFailed("ticket_id", "不能关联工单自身")
        t.linked_to_id = other.id
        return f"关联重复来电 {other.number}" + (f":{body.note}" if body.note else ""), {
            "data": {"ticket_id": other.id}
        }
    raise AssertionError(action)


def _move_up(t: Ticket, parent: Branch) -> None:
    t.place_in(parent)
    t.assignee_id = None
    t.escalation_level += 1


def _label(dictionary: str, value: Any) -> str:
    from backend.meta.dictionaries import label

    return label(dictionary, value)


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
    from backend.tickets.sla import _state_calendar

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
    from backend.core.errors import NotFound

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
    period_from: date | None,
    period_to: date | None,
    under: int | None = None,
    now: datetime | None = None,
) -> s.TicketStats:
    """Figures for the caller's subtree, counted from the ticket rows created in the period (China dates)."""
    now = now or utcnow()
    today = now.astimezone(CHINA_TZ).date()
    period_to = period_to or today
    period_from = period_from or date(period_to.year, 1, 1)
    if period_from > period_to:
        raise ValidationFailed("from", "开始日期不能晚于结束日期")
    start = datetime.combine(period_from, time(0), tzinfo=CHINA_TZ).astimezone(UTC)
    end = datetime.combine(period_to + timedelta(days=1), time(0), tzinfo=CHINA_TZ).astimezone(UTC)

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
        stmt = stmt.where(Ticket.created_at >= start, Ticket.created_at < end)
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
        period_from=period_from,
        period_to=period_to,
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
