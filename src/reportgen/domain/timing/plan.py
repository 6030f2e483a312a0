"""A cadence compiled for fast computation: which months, which days of a month, which times.

Every cadence (cron or preset) becomes a `Plan`: the months it runs in, a `DayRule` that lists
the days of a given month, and the local times of day (in seconds) it fires at. Computing fire
times then walks months and days without ever testing a day or a minute that cannot match.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import time
from enum import StrEnum
from functools import lru_cache

from reportgen.domain.schedules import (
    CronCadence,
    DailyAt,
    FirstBusinessDay,
    MonthlyOn,
    Weekday,
    WeekdaysAt,
    WeeklyOn,
)
from reportgen.domain.timing.cron import parse_cron

AnyCadence = CronCadence | DailyAt | WeekdaysAt | WeeklyOn | MonthlyOn | FirstBusinessDay

ALL_MONTHS = frozenset(range(1, 13))
ALL_WEEKDAYS = frozenset(range(7))
WORKING_DAYS = frozenset(range(5))
WEEKDAY_NUMBER = {day: number for number, day in enumerate(Weekday)}


class DayKind(StrEnum):
    EVERY = "every"  # every day of the month
    WEEKDAYS = "weekdays"  # days whose weekday is in `weekdays`
    MONTH_DAYS = "month_days"  # days whose number is in `days`
    BOTH = "both"  # day number in `days` and weekday in `weekdays`
    EITHER = "either"  # Vixie cron: day number in `days` or weekday in `weekdays`
    DAY_OR_LAST = "day_or_last"  # day `clamp_day`, or the month's last day when shorter
    FIRST_BUSINESS = "first_business"  # the first Monday-to-Friday day


@dataclass(frozen=True)
class DayRule:
    kind: DayKind
    days: frozenset[int] = frozenset()
    weekdays: frozenset[int] = frozenset()
    clamp_day: int = 1

    def days_of(self, year: int, month: int) -> tuple[int, ...]:
        """The days of ``month`` this rule picks, ascending."""
        return _days_of(self, year, month)


@lru_cache(maxsize=16_384)
def _days_of(rule: DayRule, year: int, month: int) -> tuple[int, ...]:
    first_weekday, length = calendar.monthrange(year, month)

    def weekday(day: int) -> int:
        return (first_weekday + day - 1) % 7

    match rule.kind:
        case DayKind.EVERY:
            return tuple(range(1, length + 1))
        case DayKind.WEEKDAYS:
            return tuple(d for d in range(1, length + 1) if weekday(d) in rule.weekdays)
        case DayKind.MONTH_DAYS:
            return tuple(d for d in sorted(rule.days) if d <= length)
        case DayKind.BOTH:
            return tuple(
                d for d in range(1, length + 1) if d in rule.days and weekday(d) in rule.weekdays
            )
        case DayKind.EITHER:
            return tuple(
                d for d in range(1, length + 1) if d in rule.days or weekday(d) in rule.weekdays
            )
        case DayKind.DAY_OR_LAST:
            return (min(rule.clamp_day, length),)
        case DayKind.FIRST_BUSINESS:
            return (next(d for d in range(1, 8) if weekday(d) in WORKING_DAYS),)


@dataclass(frozen=True)
class Plan:
    """A compiled cadence.

    ``seconds`` are the local times of day it fires at (seconds since midnight, ascending).
    ``real_time`` follows Vixie cron's DST rule: a cron whose minute or hour field starts with
    ``*`` runs by the real clock (a repeated hour runs twice, a skipped hour not at all); every
    other cadence names wall-clock times (a skipped time fires once when the clocks jump, a
    repeated time fires once, at its first occurrence).
    """

    months: frozenset[int]
    day_rule: DayRule
    seconds: tuple[int, ...]
    real_time: bool = False


def _seconds(at: time) -> tuple[int, ...]:
    return (at.hour * 3600 + at.minute * 60 + at.second,)


def _cron_plan(expression: str) -> Plan:
    fields = parse_cron(expression)
    # Vixie cron: a day field starting with '*' makes a day match both fields; otherwise either.
    if fields.day_star or fields.weekday_star:
        if fields.weekdays == ALL_WEEKDAYS:
            rule = DayRule(DayKind.MONTH_DAYS, days=fields.days)
        elif len(fields.days) == 31:
            rule = DayRule(DayKind.WEEKDAYS, weekdays=fields.weekdays)
        else:
            rule = DayRule(DayKind.BOTH, days=fields.days, weekdays=fields.weekdays)
    else:
        rule = DayRule(DayKind.EITHER, days=fields.days, weekdays=fields.weekdays)
    if rule.kind is DayKind.MONTH_DAYS and len(fields.days) == 31:
        rule = DayRule(DayKind.EVERY)
    seconds = tuple(sorted(h * 3600 + m * 60 for h in fields.hours for m in fields.minutes))
    return Plan(
        months=fields.months,
        day_rule=rule,
        seconds=seconds,
        real_time=fields.minute_star or fields.hour_star,
    )


@lru_cache(maxsize=16_384)
def compile_cadence(cadence: AnyCadence) -> Plan:
    """The `Plan` of a cadence; raises `CronSyntaxError` for a cron that does not parse."""
    match cadence:
        case CronCadence(expression=expression):
            return _cron_plan(expression)
        case DailyAt(at=at):
            return Plan(ALL_MONTHS, DayRule(DayKind.EVERY), _seconds(at))
        case WeekdaysAt(at=at):
            return Plan(ALL_MONTHS, DayRule(DayKind.WEEKDAYS, weekdays=WORKING_DAYS), _seconds(at))
        case WeeklyOn(days=days, at=at):
            weekdays = frozenset(WEEKDAY_NUMBER[d] for d in days)
            return Plan(ALL_MONTHS, DayRule(DayKind.WEEKDAYS, weekdays=weekdays), _seconds(at))
        case MonthlyOn(day=day, at=at):
            return Plan(ALL_MONTHS, DayRule(DayKind.DAY_OR_LAST, clamp_day=day), _seconds(at))
        case FirstBusinessDay(at=at):
            return Plan(ALL_MONTHS, DayRule(DayKind.FIRST_BUSINESS), _seconds(at))
    raise TypeError(f"not a cadence: {cadence!r}")  # pragma: no cover - the union is closed
