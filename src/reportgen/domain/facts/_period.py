"""Periods and windows: the report's days, the earlier periods it compares with, time buckets."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

from reportgen.domain.catalog import TimeGrain
from reportgen.domain.query import TimeRange

EarlierPeriod = Literal["prior_period", "prior_year"]


def _months_between(start: date, end: date) -> int:
    return (end.year - start.year) * 12 + end.month - start.month


def add_months(day: date, months: int) -> date:
    """`day` moved by whole months, clamped to the month's end (31 Mar - 1 month = 28/29 Feb)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    following = date(year + (month == 12), month % 12 + 1, 1)
    return date(year, month, min(day.day, (following - timedelta(days=1)).day))


@dataclass(frozen=True)
class Period:
    """A half-open range of days [start, end)."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.start >= self.end:
            raise ValueError(f"a period needs start before end, got {self.start} to {self.end}")

    @property
    def whole_months(self) -> bool:
        return self.start.day == 1 and self.end.day == 1

    def prior(self) -> Period:
        """The same length right before: whole months shift by months (Q3 -> Q2), else days."""
        if self.whole_months:
            months = _months_between(self.start, self.end)
            return Period(add_months(self.start, -months), self.start)
        return Period(self.start - (self.end - self.start), self.start)

    def prior_year(self) -> Period:
        return Period(add_months(self.start, -12), add_months(self.end, -12))

    def time_range(self) -> TimeRange:
        return TimeRange(start=self.start, end=self.end)

    def iso(self) -> str:
        return f"{self.start.isoformat()}/{self.end.isoformat()}"


@dataclass(frozen=True)
class Window:
    """What a report's time range means on a given day: its resolved ends, either may be open."""

    start: date | None = None
    end: date | None = None
    why_not_comparable: str = ""  # set when there is no bounded period to compare

    @property
    def current(self) -> TimeRange | None:
        """The filter for the report's own period; None reads all the data."""
        if self.start is None and self.end is None:
            return None
        return TimeRange(start=self.start, end=self.end)

    @property
    def period(self) -> Period | None:
        if self.start is None or self.end is None:
            return None
        return Period(self.start, self.end)

    @property
    def prior_period(self) -> Period | None:
        period = self.period
        return period.prior() if period else None

    @property
    def prior_year(self) -> Period | None:
        period = self.period
        return period.prior_year() if period else None


def resolve_window(time_range: TimeRange | None, today: date) -> Window:
    """The report's period: presets counted back from `today`, an open end closed after today.

    Only a period with both ends has a prior period and a prior year.
    """
    if time_range is None:
        return Window(why_not_comparable="the report has no time range")
    start, end = time_range.resolve(today)
    if start is None:
        return Window(None, end, "the time range has no start")
    end = end or today + timedelta(days=1)
    if end <= start:
        return Window(start, None, "the time range starts in the future")
    return Window(start, end)


def bucket_start(day: date, grain: TimeGrain) -> date:
    """The first day of the time bucket that holds `day` (weeks start on Monday)."""
    match grain:
        case TimeGrain.DAY:
            return day
        case TimeGrain.WEEK:
            return day - timedelta(days=day.weekday())
        case TimeGrain.MONTH:
            return day.replace(day=1)
        case TimeGrain.QUARTER:
            return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
        case TimeGrain.YEAR:
            return date(day.year, 1, 1)


def bucket_end(start: date, grain: TimeGrain) -> date:
    """The first day after the time bucket starting at `start`."""
    match grain:
        case TimeGrain.DAY:
            return start + timedelta(days=1)
        case TimeGrain.WEEK:
            return start + timedelta(days=7)
        case TimeGrain.MONTH:
            return add_months(start, 1)
        case TimeGrain.QUARTER:
            return add_months(start, 3)
        case TimeGrain.YEAR:
            return add_months(start, 12)


def as_day(moment: date | datetime | None) -> date | None:
    return moment.date() if isinstance(moment, datetime) else moment
