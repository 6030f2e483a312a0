"""Cadences in plain English: "Every weekday at 08:00 (Europe/London)".

Presets read as a sentence each; a cron is described field by field ("Every 15 minutes,
09:00–17:59, Monday to Friday"). The timezone always closes the sentence, so nobody has to guess
whose 08:00 it is.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Sequence
from datetime import time

from reportgen.domain.schedules import (
    CronCadence,
    DailyAt,
    FirstBusinessDay,
    MonthlyOn,
    WeekdaysAt,
    WeeklyOn,
)
from reportgen.domain.timing.cron import CronFields, parse_cron
from reportgen.domain.timing.plan import ALL_WEEKDAYS, WEEKDAY_NUMBER, WORKING_DAYS, AnyCadence

DAY_NAMES = tuple(calendar.day_name)  # Monday first, as Python numbers them
MONTH_NAMES = tuple(calendar.month_name)  # index 1 is January


def _clock(at: time) -> str:
    return at.strftime("%H:%M:%S" if at.second else "%H:%M")


def _and(words: Sequence[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} and {words[-1]}"


def _runs(values: Iterable[int]) -> list[tuple[int, int]]:
    """Consecutive values grouped into (first, last) runs: 1,2,3,5 -> (1,3),(5,5)."""
    runs: list[tuple[int, int]] = []
    for value in sorted(values):
        if runs and value == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], value)
        else:
            runs.append((value, value))
    return runs


def _listing(values: Iterable[int], name: Sequence[str] | None = None) -> str:
    def word(value: int) -> str:
        return name[value] if name is not None else str(value)

    parts = [
        f"{word(a)} to {word(b)}" if b - a >= 2 else _and([word(a), word(b)]) if b > a else word(a)
        for a, b in _runs(values)
    ]
    return _and(parts)


def _step(values: frozenset[int], low: int, high: int) -> int | None:
    """The step n when ``values`` is exactly low, low+n, low+2n... up to high (n > 1)."""
    ordered = sorted(values)
    if len(ordered) < 2 or ordered[0] != low:
        return None
    step = ordered[1] - ordered[0]
    if step > 1 and ordered == list(range(low, high + 1, step)):
        return step
    return None


def _time_part(fields: CronFields) -> str:
    minutes, hours = fields.minutes, fields.hours
    every_hour = len(hours) == 24
    if not every_hour and len(minutes) * len(hours) <= 4:
        times = [f"{h:02d}:{m:02d}" for h in sorted(hours) for m in sorted(minutes)]
        return f"At {_and(times)}"
    hour_step = _step(hours, 0, 23)
    if len(minutes) == 1 and hour_step is not None:
        (minute,) = minutes
        at = "on the hour" if minute == 0 else f"at minute {minute}"
        return f"Every {hour_step} hours, {at}"
    if len(minutes) == 60:
        phrase = "Every minute"
    elif (step := _step(minutes, 0, 59)) is not None:
        phrase = f"Every {step} minutes"
    elif len(minutes) == 1:
        (minute,) = minutes
        phrase = "Every hour, on the hour" if minute == 0 else f"Every hour at minute {minute}"
    else:
        phrase = f"Every hour at minutes {_listing(minutes)}"
    if every_hour:
        return phrase
    hour_runs = _runs(hours)
    if len(hour_runs) == 1:
        first, last = hour_runs[0]
        return f"{phrase}, {first:02d}:00–{last:02d}:59"
    if hour_step is not None:
        return f"{phrase}, every {hour_step} hours"
    return f"{phrase}, in hours {_and([f'{h:02d}' for h in sorted(hours)])}"


def _weekday_part(weekdays: frozenset[int]) -> str:
    if weekdays == WORKING_DAYS:
        return "Monday to Friday"
    if weekdays == frozenset({5, 6}):
        return "on Saturday and Sunday"
    runs = _runs(weekdays)
    if len(runs) == 1 and runs[0][1] - runs[0][0] >= 2:
        return f"{DAY_NAMES[runs[0][0]]} to {DAY_NAMES[runs[0][1]]}"
    return f"on {_and([DAY_NAMES[d] for d in sorted(weekdays)])}"


def _ordinal(number: int) -> str:
    suffix = (
        "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    )
    return f"{number}{suffix}"


def _month_day_part(days: frozenset[int]) -> str:
    if (step := _step(days, 1, 31)) is not None:
        return f"on every {_ordinal(step)} day of the month, from the 1st"
    noun = "day" if len(days) == 1 else "days"
    return f"on {noun} {_listing(days)} of every month"


def describe_cron(fields: CronFields) -> str:
    """A cron's meaning, field by field, without the timezone."""
    parts = [_time_part(fields)]
    restricted_days = len(fields.days) < 31
    restricted_weekdays = fields.weekdays != ALL_WEEKDAYS
    if restricted_days and restricted_weekdays:
        # Vixie cron: either field may match, unless one of them was written starting with '*'.
        either = not (fields.day_star or fields.weekday_star)
        link = "or" if either else "when that is"
        weekdays = _weekday_part(fields.weekdays).removeprefix("on ")
        parts.append(f"{_month_day_part(fields.days)} {link} {'on ' if either else 'a '}{weekdays}")
    elif restricted_days:
        parts.append(_month_day_part(fields.days))
    elif restricted_weekdays:
        parts.append(_weekday_part(fields.weekdays))
    if len(fields.months) < 12:
        parts.append(f"in {_listing(fields.months, MONTH_NAMES)}")
    sentence = parts[0]
    for part in parts[1:]:
        joiner = " " if part.startswith(("on ", "in ")) and "," not in sentence else ", "
        sentence += joiner + part
    if len(parts) == 1 and sentence.startswith("At "):
        sentence += " every day"
    return sentence


def _weekly(days: frozenset[int], at: time) -> str:
    if days == ALL_WEEKDAYS:
        return f"Every day at {_clock(at)}"
    if days == WORKING_DAYS:
        return f"Every weekday at {_clock(at)}"
    return f"Every {_and([DAY_NAMES[d] for d in sorted(days)])} at {_clock(at)}"


def describe(cadence: AnyCadence, timezone: str) -> str:
    """A plain-English sentence for ``cadence`` in ``timezone``, the timezone in brackets.

    Raises `CronSyntaxError` for a cron that does not parse.
    """
    match cadence:
        case CronCadence(expression=expression):
            text = describe_cron(parse_cron(expression))
        case DailyAt(at=at):
            text = f"Every day at {_clock(at)}"
        case WeekdaysAt(at=at):
            text = f"Every weekday at {_clock(at)}"
        case WeeklyOn(days=days, at=at):
            text = _weekly(frozenset(WEEKDAY_NUMBER[d] for d in days), at)
        case MonthlyOn(day=day, at=at):
            text = f"At {_clock(at)} on day {day} of every month"
            if day > 28:
                text += ", or on the last day of shorter months"
        case FirstBusinessDay(at=at):
            text = f"On the first business day of every month at {_clock(at)}"
    return f"{text} ({timezone})"
