from pydantic import BaseModel

from backend.activities.schemas import ActivityStats
from backend.core.clock import PeriodOut
from backend.screenings.schemas import ScreeningStats
from backend.tickets.schemas import TicketStats
from backend.volunteers.schemas import VolunteerStats


class ReportBranch(BaseModel):
    id: int
    name: str
    kind: str


class BranchFigures(BaseModel):
    total: int
    villages: int
    womens_homes: int
    terms_overdue: int
    terms_due_soon: int


class ReportOverview(BaseModel):
    """The figures of one subtree for one period; a section is null when the caller may not see it.
    Screening figures are for the calendar year in which the period ends (its plans are yearly)."""

    branch: ReportBranch
    period: PeriodOut
    branches: BranchFigures
    tickets: TicketStats | None = None
    screening: ScreeningStats | None = None
    activities: ActivityStats | None = None
    volunteers: VolunteerStats | None = None
