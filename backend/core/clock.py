"""China time, and the one spelling of a period: `from` and `to`, dates in China, both inclusive.

Rows store UTC; the people who read them count days in Asia/Shanghai, so a day, a month or a period becomes a
half-open UTC range here and nowhere else.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from fastapi import Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from backend.core.errors import ValidationFailed

CHINA_TZ = ZoneInfo("Asia/Shanghai")
# The longest period a figure is computed over.
MAX_PERIOD_MONTHS = 36


def now_in_china() -> datetime:
    return datetime.now(UTC).astimezone(CHINA_TZ)


def today_in_china() -> date:
    return now_in_china().date()


def china_date(moment: datetime) -> date:
    """The day in China at a UTC moment."""
    return moment.astimezone(CHINA_TZ).date()


def china_day_start(day: date) -> datetime:
    """The UTC moment a day starts in China."""
    return datetime.combine(day, time(0, 0), tzinfo=CHINA_TZ).astimezone(UTC)


def china_stamp(moment: datetime | None = None) -> str:
    """A compact local time for file names: 20261201-0930."""
    return (moment or datetime.now(UTC)).astimezone(CHINA_TZ).strftime("%Y%m%d-%H%M")


class PeriodOut(BaseModel):
    """A period as the API answers it."""

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)

    from_: date = Field(alias="from", description="开始日期(含)")
    to: date = Field(description="结束日期(含)")


@dataclass(frozen=True)
class Period:
    """From and to, dates in China, both inclusive."""

    start: date
    end: date

    @classmethod
    def of(cls, start: date | None, end: date | None, *, max_months: int = MAX_PERIOD_MONTHS) -> "Period":
        """A period as asked for: `to` defaults to today, `from` to the first of January of `to`'s year."""
        end = end or today_in_china()
        start = start or date(end.year, 1, 1)
        if start > end:
            raise ValidationFailed("from", "开始日期不能晚于结束日期")
        if (end.year - start.year) * 12 + end.month - start.month >= max_months:
            raise ValidationFailed("from", f"统计区间最长 {max_months} 个月")
        return cls(start, end)

    @classmethod
    def year(cls, year: int) -> "Period":
        return cls(date(year, 1, 1), date(year, 12, 31))

    @property
    def utc_start(self) -> datetime:
        return china_day_start(self.start)

    @property
    def utc_end(self) -> datetime:
        """The first moment after the period (exclusive bound)."""
        return china_day_start(self.end + timedelta(days=1))

    def covers(self, column):
        """A condition on a UTC datetime column: inside the period."""
        return (column >= self.utc_start) & (column < self.utc_end)

    def covers_day(self, column):
        """A condition on a date column: inside the period."""
        return (column >= self.start) & (column <= self.end)

    def months(self) -> list[tuple[str, datetime, datetime]]:
        """Each calendar month the period touches: ("2026-03", UTC start, UTC end), clipped to the period."""
        out = []
        cursor = date(self.start.year, self.start.month, 1)
        while cursor <= self.end:
            following = date(cursor.year + cursor.month // 12, cursor.month % 12 + 1, 1)
            first, last = max(cursor, self.start), min(following - timedelta(days=1), self.end)
            out.append(
                (cursor.strftime("%Y-%m"), china_day_start(first), china_day_start(last + timedelta(days=1)))
            )
            cursor = following
        return out

    def out(self) -> PeriodOut:
        return PeriodOut(from_=self.start, to=self.end)


def _period(
    start: Annotated[
        date | None, Query(alias="from", description="开始日期(含),默认所选结束日期当年 1 月 1 日")
    ] = None,
    end: Annotated[date | None, Query(alias="to", description="结束日期(含),默认今天")] = None,
) -> Period:
    return Period.of(start, end)


PeriodDep = Annotated[Period, Depends(_period)]


@dataclass(frozen=True)
class Between:
    """A list's period filter: `from` and `to`, dates in China, both inclusive, either end open."""

    start: date | None = None
    end: date | None = None

    def covers(self, column):
        """A condition on a UTC datetime column (true when both ends are open)."""
        condition = sa.true()
        if self.start is not None:
            condition = condition & (column >= china_day_start(self.start))
        if self.end is not None:
            condition = condition & (column < china_day_start(self.end + timedelta(days=1)))
        return condition

    def covers_day(self, column):
        """A condition on a date column (true when both ends are open)."""
        condition = sa.true()
        if self.start is not None:
            condition = condition & (column >= self.start)
        if self.end is not None:
            condition = condition & (column <= self.end)
        return condition


def _between(
    start: Annotated[date | None, Query(alias="from", description="开始日期(含)")] = None,
    end: Annotated[date | None, Query(alias="to", description="结束日期(含)")] = None,
) -> Between:
    if start is not None and end is not None and start > end:
        raise ValidationFailed("from", "开始日期不能晚于结束日期")
    return Between(start, end)


BetweenDep = Annotated[Between, Depends(_between)]
