"""Demo 结对帮扶 on top of the demo children: pairings for many children (mostly active, some proposed, a few
ended), visits over the last months with some pairings fallen behind (overdue), `caring.mother` paired with
several children of her village, and one visit of hers that found a rights issue and opened a 12338 ticket."""

from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from backend.auth.roles import permissions_for
from backend.branches.models import Branch
from backend.children import pairings
from backend.children.demo import CARER_LOGIN, CARER_NAME
from backend.children.models import (
    CarerKind,
    Child,
    ChildState,
    ChildStatus,
    ConsentRelation,
    Pairing,
    PairingEvent,
    PairingStatus,
    Visit,
    VisitMode,
)
from backend.children.pairing_schemas import VisitCreate
from backend.core.clock import today_in_china
from backend.core.db import insert_ids
from backend.core.scope import ANCESTOR_COLUMNS, Principal
from backend.members.models import Member
from backend.volunteers.models import TeamType, Volunteer, VolunteerTeam

PAIRED_SHARE = 0.6
CARER_CHILDREN = 6
# Of the active pairings, this share stopped being visited a cycle or more ago: the overdue ones.
FALLEN_BEHIND = 0.15
DONE = [
    "辅导作业,检查了书包和作业本",
    "陪孩子读绘本,聊了学校里的事",
    "和爷爷奶奶聊了孩子的饮食起居",
    "视频连线在外务工的妈妈",
    "送去冬衣和文具",
    "到学校和班主任了解学习情况",
]
PROBLEMS = [None, None, None, "成绩下滑,上课注意力不集中", "近视加重,需配眼镜", "和同学闹矛盾,情绪低落"]
END_REASONS = ["父母返乡,孩子由父母照顾", "孩子随父母迁往务工地", "帮扶人工作调动"]
RIGHTS_ISSUE = "孩子手臂有多处淤青,说是被同住的亲戚打的;监护人年迈无力照看"


def _carers(session: Session) -> tuple[dict[int, list[tuple[int, str]]], dict[int, list[tuple[int, str]]]]:
    """Members by branch, and volunteers of the caring teams by their team's branch: (id, name)."""
    members: dict[int, list[tuple[int, str]]] = {}
    for member_id, name, branch_id in session.execute(
        sa.select(Member.id, Member.name, Member.branch_id).where(Member.deleted_at.is_(None))
    ):
        members.setdefault(branch_id, []).append((member_id, name))
    volunteers: dict[int, list[tuple[int, str]]] = {}
    for volunteer_id, name, branch_id in session.execute(
        sa.select(Volunteer.id, Volunteer.name, Volunteer.branch_id)
        .join(VolunteerTeam, VolunteerTeam.id == Volunteer.team_id)
        .where(VolunteerTeam.type == TeamType.left_behind_children, Volunteer.deleted_at.is_(None))
    ):
        volunteers.setdefault(branch_id, []).append((volunteer_id, name))
    return members, volunteers


def _schedule(rng, starts: date, every: int, until: date, fallen_behind: bool) -> list[date]:
    """Visit dates from the start, each near its due date; a pairing fallen behind stops a cycle or more ago."""
    stop = (
        until - timedelta(days=every * rng.randint(1, 3) + rng.randrange(1, 10)) if fallen_behind else until
    )
    visits, due = [], starts + timedelta(days=every)
    while True:
        on = due + timedelta(days=rng.randint(-12, 5))
        if on > stop or on > until:
            break
        on = max(on, starts)
        visits.append(on)
        due = on + timedelta(days=every)
    return visits


def _principal(session: Session, user: Any) -> Principal:
    branch = session.get(Branch, user.branch_id)
    return Principal(
        kind="user",
        id=user.id,
        name=user.display_name,
        role=user.role,
        branch_id=branch.id,
        branch_depth=branch.depth,
        branch_path=branch.path,
        permissions=permissions_for(user.role),
    )


def load(session: Session, ctx: Any) -> None:
    from backend.demo import demo_name

    rng, now = ctx.rng, datetime.now(UTC)
    today = min(ctx.today, today_in_china())
    carer_user = ctx.users[CARER_LOGIN]
    carer_volunteer = session.exec(
        select(Volunteer.id).where(Volunteer.name == CARER_NAME).order_by(Volunteer.id.desc())
    ).first()
    members, volunteers = _carers(session)
    township_of = {v.id: v.parent_id for v in ctx.villages}
    children = session.execute(
        sa.select(
            Child.id, Child.branch_id, Child.guardian_name, *(getattr(Child, a) for a in ANCESTOR_COLUMNS)
        )
        .where(Child.status == ChildStatus.active, Child.deleted_at.is_(None))
        .order_by(Child.id)
    ).all()

    rows, plans = [], []
    carer_taken = 0
    for child in children:
        hers = child.branch_id == carer_user.branch_id and carer_taken < CARER_CHILDREN
        if not hers and rng.random() >= PAIRED_SHARE:
            continue
        township = township_of.get(child.branch_id)
        if hers:
            carer_taken += 1
            kind, carer_id, name = CarerKind.volunteer, carer_volunteer, CARER_NAME
        else:
            local_volunteers = volunteers.get(child.branch_id, []) + volunteers.get(township, [])
            local_members = members.get(child.branch_id, []) + members.get(township, [])
            if local_volunteers and (rng.random() < 0.4 or not local_members):
                kind, (carer_id, name) = CarerKind.volunteer, rng.choice(local_volunteers)
            elif local_members:
                kind, (carer_id, name) = CarerKind.member, rng.choice(local_members)
            else:
                continue
        status = (
            PairingStatus.active
            if hers
            else rng.choices(
                [PairingStatus.active, PairingStatus.proposed, PairingStatus.ended], weights=[80, 10, 10]
            )[0]
        )
        every = 30 if hers else rng.choices([30, 14, 60], weights=[80, 10, 10])[0]
        if status == PairingStatus.proposed:
            starts = today + timedelta(days=rng.randrange(0, 15))
        else:
            starts = today - timedelta(days=rng.randrange(45, 400))
        ended_on = None
        if status == PairingStatus.ended:
            ended_on = starts + timedelta(days=rng.randrange(30, (today - starts).days))
        guardian = rng.random() < 0.8 and child.guardian_name
        consent_on = min(starts, today) - timedelta(days=rng.randrange(1, 15))
        visit_until = ended_on or today
        visits = (
            []
            if status == PairingStatus.proposed
            else _schedule(
                rng,
                starts,
                every,
                visit_until,
                status == PairingStatus.active and rng.random() < FALLEN_BEHIND,
            )
        )
        last = visits[-1] if visits else None
        rows.append(
            {
                "child_id": child.id,
                "carer_kind": kind.value,
                "volunteer_id": carer_id if kind == CarerKind.volunteer else None,
                "member_id": carer_id if kind == CarerKind.member else None,
                "carer_user_id": carer_user.id if hers else None,
                "carer_name": name,
                "consent_on": consent_on,
                "consent_by_name": child.guardian_name if guardian else demo_name(rng),
                "consent_by_relation": (
                    ConsentRelation.guardian
                    if guardian
                    else rng.choice([ConsentRelation.father, ConsentRelation.mother])
                ).value,
                "starts_on": starts,
                "planned_end_on": starts + timedelta(days=rng.choice([365, 730])),
                "ended_on": ended_on,
                "end_reason": rng.choice(END_REASONS) if ended_on else None,
                "visit_every_days": every,
                "status": status.value,
                "version": 1,
                "last_visit_on": last,
                "next_visit_due_on": (
                    (last or starts) + timedelta(days=every) if status == PairingStatus.active else None
                ),
                "overdue_flagged_at": None,
                "created_by": "system:demo",
                "created_at": datetime.combine(consent_on, datetime.min.time(), UTC),
                "updated_at": now,
                "deleted_at": None,
                "branch_id": child.branch_id,
                **{a: getattr(child, a) for a in ANCESTOR_COLUMNS},
            }
        )
        plans.append((status, visits, hers))

    ids = insert_ids(session, Pairing, rows)
    events, visit_rows = [], []
    for pairing_id, row, (status, visits, hers) in zip(ids, rows, plans, strict=True):
        proposed_at = row["created_at"]
        events.append(_event(pairing_id, "propose", proposed_at, f"提出结对:{row['carer_name']}"))
        if status != PairingStatus.proposed:
            events.append(_event(pairing_id, "activate", _at(row["starts_on"]), "启用结对"))
        for on in visits:
            visit_rows.append(
                {
                    "pairing_id": pairing_id,
                    "child_id": row["child_id"],
                    "visited_on": on,
                    "mode": rng.choices(list(VisitMode), weights=[70, 20, 10])[0].value,
                    "done": rng.choice(DONE),
                    "study": rng.choices(list(ChildState), weights=[50, 40, 10])[0].value,
                    "health": rng.choices(list(ChildState), weights=[75, 20, 5])[0].value,
                    "mood": rng.choices(list(ChildState), weights=[55, 35, 10])[0].value,
                    "problems": rng.choice(PROBLEMS),
                    "rights_issue": False,
                    "ticket_id": None,
                    "photo_count": 0,
                    "created_by": f"user:{carer_user.id}" if hers else "system:demo",
                    "created_by_name": row["carer_name"],
                    "created_at": _at(on),
                    "updated_at": _at(on),
                    "branch_id": row["branch_id"],
                    **{a: row[a] for a in ANCESTOR_COLUMNS},
                }
            )
        if status == PairingStatus.ended:
            events.append(_event(pairing_id, "end", _at(row["ended_on"]), f"结束结对:{row['end_reason']}"))
    visit_ids = insert_ids(session, Visit, visit_rows)
    for visit_id, v in zip(visit_ids, visit_rows, strict=True):
        events.append(
            _event(
                v["pairing_id"], "visit", v["created_at"], "走访", {"visit_id": visit_id, "ticket_id": None}
            )
        )
    insert_ids(session, PairingEvent, events)

    # One of caring.mother's visits found a rights issue: recorded through the service, so it opens the ticket.
    hers = [pid for pid, (_s, _v, mine) in zip(ids, plans, strict=True) if mine]
    if hers:
        pairing = session.get(Pairing, hers[0])
        pairings.record_visit(
            session,
            _principal(session, carer_user),
            pairing,
            VisitCreate(
                visited_on=today,
                mode=VisitMode.home,
                done="入户走访,和孩子单独谈心",
                study=ChildState.fair,
                health=ChildState.poor,
                mood=ChildState.poor,
                problems=RIGHTS_ISSUE,
                rights_issue=True,
            ),
        )


def _at(day: date) -> datetime:
    # Mid-morning in China: 02:00 UTC.
    return datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=2)


def _event(pairing_id: int, action: str, at: datetime, note: str, data: dict | None = None) -> dict:
    return {
        "pairing_id": pairing_id,
        "action": action,
        "at": at,
        "actor": "system:demo",
        "actor_name": "演示数据",
        "note": note,
        "data": data,
    }
