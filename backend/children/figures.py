"""The children's figures, counted from rows for one subtree and one period (China dates, both inclusive).

- Children: all on file by status; active ones by category. These are the registry as it stands today.
- Pairing coverage: active children with an active pairing / active children.
- Visits on time: a visit's due date is the pairing's previous visit date (the first: its start date) plus its
  frequency in days. The visits due in the period are the visits whose due date falls in it, plus the active
  pairings whose current due date falls in it and has passed without a visit; on time are those visited on or
  before their due date.
- Homes per 1,000 left-behind children: homes / active children whose one or both parents work away × 1000.
- Schools with a home: the distinct school names of active children; those with a home hosted at a school of
  that name (host `school`) in the same subtree.
- Homes broken or needing repair: by their current condition.
- Family calls: sessions held at homes of the subtree in the period, and their minutes.
"""

from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from backend.branches.models import Branch
from backend.children.models import (
    Child,
    ChildCategory,
    ChildrenHome,
    ChildStatus,
    FamilyCallSession,
    HomeCondition,
    HomeHost,
    Pairing,
    PairingStatus,
    Visit,
)
from backend.children.pairing_schemas import (
    MAX_EVERY_DAYS,
    CallFigures,
    ChildrenStats,
    CountByCategory,
    CountByPairingStatus,
    CountByStatus,
    HomeFigures,
    Rate,
)
from backend.core.clock import Period, today_in_china
from backend.core.scope import subtree_filter

LEFT_BEHIND = (ChildCategory.left_behind_one_parent, ChildCategory.left_behind_both_parents)


def rate(numerator: int, denominator: int) -> Rate:
    return Rate(
        numerator=numerator,
        denominator=denominator,
        rate=round(numerator / denominator, 4) if denominator else None,
    )


def _in(model: Any, root: Branch) -> Any:
    return subtree_filter(model, root.id, root.depth)


def _active_pairing() -> Any:
    return (
        sa.select(Pairing.id)
        .where(
            Pairing.child_id == Child.id,
            Pairing.status == PairingStatus.active,
            Pairing.deleted_at.is_(None),
        )
        .exists()
    )


def visits_on_time(session: Session, root: Branch, period: Period, today: date) -> Rate:
    # A visit whose due date falls in the period has its previous visit no earlier than this (see the module note).
    since = period.start - timedelta(days=MAX_EVERY_DAYS)
    rows = session.execute(
        sa.select(Visit.pairing_id, Visit.visited_on, Pairing.starts_on, Pairing.visit_every_days)
        .join(Pairing, Pairing.id == Visit.pairing_id)
        .where(_in(Visit, root), Pairing.deleted_at.is_(None), Visit.visited_on >= since)
        .order_by(Visit.pairing_id, Visit.visited_on, Visit.id)
    ).all()
    due_in_period = on_time = 0
    previous: dict[int, date] = {}
    for pairing_id, visited_on, starts_on, every in rows:
        # The first visit fetched may have had an earlier one before `since`: its computed due date is then before
        # the period either way, so it is left out correctly.
        due = previous.get(pairing_id, starts_on) + timedelta(days=every)
        previous[pairing_id] = visited_on
        if period.start <= due <= period.end:
            due_in_period += 1
            on_time += visited_on <= due
    missed = session.execute(
        sa.select(sa.func.count()).where(
            _in(Pairing, root),
            Pairing.deleted_at.is_(None),
            Pairing.status == PairingStatus.active,
            Pairing.next_visit_due_on >= period.start,
            Pairing.next_visit_due_on <= period.end,
            Pairing.next_visit_due_on < today,
        )
    ).scalar_one()
    return rate(on_time, due_in_period + missed)


def children_stats(session: Session, root: Branch, period: Period) -> ChildrenStats:
    today = today_in_china()
    children = sa.and_(_in(Child, root), Child.deleted_at.is_(None))
    active = sa.and_(children, Child.status == ChildStatus.active)
    by_status = dict(
        session.execute(sa.select(Child.status, sa.func.count()).where(children).group_by(Child.status)).all()
    )
    by_category = dict(
        session.execute(
            sa.select(Child.category, sa.func.count()).where(active).group_by(Child.category)
        ).all()
    )
    active_total = sum(by_category.values())
    paired = session.execute(sa.select(sa.func.count()).where(active, _active_pairing())).scalar_one()

    pairings = sa.and_(_in(Pairing, root), Pairing.deleted_at.is_(None))
    pairing_counts = dict(
        session.execute(
            sa.select(Pairing.status, sa.func.count()).where(pairings).group_by(Pairing.status)
        ).all()
    )
    overdue = session.execute(
        sa.select(sa.func.count()).where(
            pairings, Pairing.status == PairingStatus.active, Pairing.next_visit_due_on < today
        )
    ).scalar_one()
    visits = session.execute(
        sa.select(sa.func.count()).where(_in(Visit, root), period.covers_day(Visit.visited_on))
    ).scalar_one()

    homes = sa.and_(_in(ChildrenHome, root), ChildrenHome.deleted_at.is_(None))
    home_counts = dict(
        session.execute(
            sa.select(ChildrenHome.condition, sa.func.count()).where(homes).group_by(ChildrenHome.condition)
        ).all()
    )
    homes_total = sum(home_counts.values())
    left_behind = sum(by_category.get(c, 0) for c in LEFT_BEHIND)

    school = sa.func.trim(Child.school)
    schools = session.execute(
        sa.select(sa.func.count(sa.distinct(school))).where(active, school != "")
    ).scalar_one()
    hosted = (
        sa.select(ChildrenHome.id)
        .where(homes, ChildrenHome.host == HomeHost.school, sa.func.trim(ChildrenHome.school_name) == school)
        .exists()
    )
    schools_with_home = session.execute(
        sa.select(sa.func.count(sa.distinct(school))).where(active, school != "", hosted)
    ).scalar_one()

    calls = session.execute(
        sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(FamilyCallSession.minutes), 0)).where(
            _in(FamilyCallSession, root), period.covers_day(FamilyCallSession.held_on)
        )
    ).one()

    return ChildrenStats(
        period=period.out(),
        branch_id=root.id,
        children_total=sum(by_status.values()),
        by_status=[CountByStatus(status=s, count=by_status.get(s, 0)) for s in ChildStatus],
        active_by_category=[CountByCategory(category=c, count=by_category.get(c, 0)) for c in ChildCategory],
        pairings_by_status=[
            CountByPairingStatus(status=s, count=pairing_counts.get(s, 0)) for s in PairingStatus
        ],
        overdue_pairings=overdue,
        pairing_coverage=rate(paired, active_total),
        visits_in_period=visits,
        visits_on_time=visits_on_time(session, root, period, today),
        homes=HomeFigures(
            total=homes_total,
            broken=home_counts.get(HomeCondition.broken, 0),
            needs_repair=home_counts.get(HomeCondition.needs_repair, 0),
            per_1000_left_behind=round(homes_total * 1000 / left_behind, 2) if left_behind else None,
        ),
        schools_with_home=rate(schools_with_home, schools),
        family_calls=CallFigures(sessions=calls[0], minutes=int(calls[1])),
    )
