from datetime import date, datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, computed_field, model_validator

from backend.branches.models import BranchKind
from backend.core.clock import today_in_china
from backend.core.paging import Page
from backend.core.schemas import RequestModel

TERM_WARNING_DAYS = 90


class TermStatus(StrEnum):
    overdue = "overdue"
    due_soon = "due_soon"
    ok = "ok"
    unknown = "unknown"


def term_status(due: date | None, today: date | None = None) -> TermStatus:
    if due is None:
        return TermStatus.unknown
    today = today or today_in_china()
    if due < today:
        return TermStatus.overdue
    if due <= today + timedelta(days=TERM_WARNING_DAYS):
        return TermStatus.due_soon
    return TermStatus.ok


class WomensHome(RequestModel):
    """妇女之家 and its 六有 checklist."""

    venue: str | None = Field(default=None, max_length=200)
    has_organisation: bool = False
    has_team: bool = False
    has_venue: bool = False
    has_rules: bool = False
    has_funding: bool = False
    has_activities: bool = False
    opening_hours: str | None = Field(default=None, max_length=100)
    last_inspected_on: date | None = None


class WomensHomePublic(WomensHome):
    model_config = ConfigDict(extra="ignore")

    @computed_field
    @property
    def six_have_count(self) -> int:
        return sum(
            (
                self.has_organisation,
                self.has_team,
                self.has_venue,
                self.has_rules,
                self.has_funding,
                self.has_activities,
            )
        )


class BranchFields(RequestModel):
    chair_name: str | None = Field(default=None, max_length=50)
    chair_phone: str | None = Field(default=None, max_length=20, pattern=r"^[0-9+\- ]{5,20}$")
    term_started_on: date | None = None
    term_due_on: date | None = None
    womens_home: WomensHome | None = None

    @model_validator(mode="after")
    def _term_order(self):
        if self.term_started_on and self.term_due_on and self.term_due_on <= self.term_started_on:
            raise ValueError("换届到期日应晚于本届开始日期")
        return self


class BranchCreate(BranchFields):
    name: str = Field(min_length=1, max_length=100)
    kind: BranchKind
    parent_id: int
    code: str | None = Field(default=None, min_length=1, max_length=32, pattern=r"^[0-9A-Za-z-]+$")


class BranchUpdate(BranchFields):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    kind: BranchKind | None = None
    code: str | None = Field(default=None, min_length=1, max_length=32, pattern=r"^[0-9A-Za-z-]+$")


class BranchMove(RequestModel):
    parent_id: int


class BranchPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str | None
    name: str
    kind: BranchKind
    parent_id: int | None
    path: str
    depth: int
    chair_name: str | None
    chair_phone: str | None
    term_started_on: date | None
    term_due_on: date | None
    womens_home: WomensHomePublic | None
    created_at: datetime
    updated_at: datetime

    @computed_field
    @property
    def term_status(self) -> TermStatus:
        return term_status(self.term_due_on)


class BranchList(Page[BranchPublic]):
    pass
