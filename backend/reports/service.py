"""One call for a dashboard: each domain's figures for one subtree and period, computed from rows."""

from datetime import timedelta

import sqlalchemy as sa
from sqlmodel import Session, select

from backend.activities import service as activities_service
from backend.branches.models import Branch
from backend.branches.schemas import TERM_WARNING_DAYS
from backend.core.clock import Period, today_in_china
from backend.core.scope import Principal, scoped, subtree_filter
from backend.reports.schemas import BranchFigures, ReportBranch, ReportOverview
from backend.screenings import service as screenings_service
from backend.tickets import service as tickets_service
from backend.volunteers import service as volunteers_service

VILLAGE_KINDS = ("village", "community")


def branch_figures(session: Session, principal: Principal, root: Branch) -> BranchFigures:
    today = today_in_china()
    base = scoped(select(Branch), principal).where(subtree_filter(Branch, root.id, root.depth)).subquery()
    row = session.exec(
        select(
            sa.func.count(),
            sa.func.count().filter(base.c.kind.in_(VILLAGE_KINDS)),
            # A JSON column may hold JSON null as well as SQL NULL: neither is a 妇女之家.
            sa.func.count().filter(
                base.c.womens_home.is_not(None), sa.cast(base.c.womens_home, sa.String) != "null"
            ),
            sa.func.count().filter(base.c.term_due_on < today),
            sa.func.count().filter(
                base.c.term_due_on >= today, base.c.term_due_on <= today + timedelta(days=TERM_WARNING_DAYS)
            ),
        ).select_from(base)
    ).one()
    return BranchFigures(
        total=row[0], villages=row[1], womens_homes=row[2], terms_overdue=row[3], terms_due_soon=row[4]
    )


def overview(session: Session, principal: Principal, root: Branch, period: Period) -> ReportOverview:
    """Screening figures are for the calendar year in which the period ends (its plans are yearly)."""
    return ReportOverview(
        branch=ReportBranch(id=root.id, name=root.name, kind=root.kind),
        period=period.out(),
        branches=branch_figures(session, principal, root),
        tickets=(
            tickets_service.ticket_stats(session, principal, period, root.id)
            if principal.can("tickets:stats")
            else None
        ),
        activities=(
            activities_service.stats(session, principal, root, period)
            if principal.can("activities:read")
            else None
        ),
        volunteers=(
            volunteers_service.stats(session, principal, root, period)
            if principal.can("volunteers:read")
            else None
        ),
        screening=(
            screenings_service.stats(session, root, Period.year(period.end.year))
            if principal.can("screenings:stats")
            else None
        ),
    )
