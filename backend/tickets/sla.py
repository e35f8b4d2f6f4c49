"""Deadlines: clock hours or China working days (State Council calendar from `holidays` + county overrides).

Every deadline is computed in China time (Asia/Shanghai) and stored in UTC. A deadline of N working days ends at
24:00 China time on the Nth working day after the day the clock starts (so a call on Friday afternoon with one
working day is due at the end of Monday, and the 2026 Spring Festival week counts for nothing).
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache

import holidays
from sqlmodel import Session, select

from backend.core.clock import china_date, china_day_start
from backend.tickets.models import CalendarDay, DayKind, SlaUnit, TicketSla, Urgency

# Enough to cover the longest deadline (15 working days) across the National Day week.
MAX_SCAN_DAYS = 400


@dataclass(frozen=True)
class Deadline:
    amount: int
    unit: SlaUnit


@dataclass(frozen=True)
class SlaRule:
    first_response: Deadline
    resolution: Deadline


# Defaults from the issue. First response in clock hours for critical and urgent cases (danger does not wait for
# Monday); a normal case gets one working day. A critical case must be resolved within 24 clock hours; the others
# count working days, as the offices that do the work keep office days.
DEFAULT_SLA: dict[Urgency, SlaRule] = {
    Urgency.critical: SlaRule(Deadline(1, SlaUnit.hours), Deadline(24, SlaUnit.hours)),
    Urgency.urgent: SlaRule(Deadline(4, SlaUnit.hours), Deadline(3, SlaUnit.working_days)),
    Urgency.normal: SlaRule(Deadline(1, SlaUnit.working_days), Deadline(15, SlaUnit.working_days)),
}


@lru_cache(maxsize=64)
def _state_calendar(year: int) -> tuple[frozenset[date], frozenset[date]]:
    """(holidays, weekend days worked in exchange) of one year, from the `holidays` package's China calendar."""
    cal = holidays.China(years=year)
    return frozenset(cal.keys()), frozenset(d for d in cal.weekend_workdays if d.year == year)


class WorkCalendar:
    """State Council holidays and 调休 working weekends, with the county's own overrides on top."""

    def __init__(self, overrides: dict[date, DayKind] | None = None):
        self.overrides = overrides or {}

    @classmethod
    def load(cls, session: Session) -> "WorkCalendar":
        return cls({row.day: DayKind(row.kind) for row in session.exec(select(CalendarDay))})

    def is_working_day(self, day: date) -> bool:
        override = self.overrides.get(day)
        if override is not None:
            return override == DayKind.workday
        state_holidays, swapped_workdays = _state_calendar(day.year)
        if day in swapped_workdays:
            return True
        if day in state_holidays:
            return False
        return day.weekday() < 5

    def add_working_days(self, start: date, n: int) -> date:
        """The Nth working day after `start` (n >= 1)."""
        day, found = start, 0
        for _ in range(MAX_SCAN_DAYS):
            day += timedelta(days=1)
            if self.is_working_day(day):
                found += 1
                if found >= n:
                    return day
        return day


def due_at(start: datetime, deadline: Deadline, calendar: WorkCalendar) -> datetime:
    if deadline.unit == SlaUnit.hours:
        return start + timedelta(hours=deadline.amount)
    last_day = calendar.add_working_days(china_date(start), deadline.amount)
    return china_day_start(last_day + timedelta(days=1))


def load_rules(session: Session) -> dict[Urgency, SlaRule]:
    rules = dict(DEFAULT_SLA)
    for row in session.exec(select(TicketSla)):
        try:
            urgency = Urgency(row.urgency)
        except ValueError:
            continue
        rules[urgency] = SlaRule(
            Deadline(row.first_response_amount, SlaUnit(row.first_response_unit)),
            Deadline(row.resolution_amount, SlaUnit(row.resolution_unit)),
        )
    return rules


def deadlines(
    session: Session, urgency: Urgency, start: datetime, calendar: WorkCalendar | None = None
) -> tuple[datetime, datetime]:
    """(first response due, resolution due) for a ticket whose clock starts at `start`."""
    rule = load_rules(session)[urgency]
    calendar = calendar or WorkCalendar.load(session)
    return due_at(start, rule.first_response, calendar), due_at(start, rule.resolution, calendar)
