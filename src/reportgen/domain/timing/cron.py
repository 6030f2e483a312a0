"""Five-field cron expressions (Vixie cron): minute hour day-of-month month day-of-week.

Fields take numbers, names (``jan``, ``mon-fri``), ranges, lists and steps (``*/15``, ``1-5/2``,
``10/20``). As in Vixie cron, a day field written with a leading ``*`` counts as unrestricted:
when both day fields are restricted, a day matches if either matches. Parsing reports every
problem of an expression at once, each with an example of a valid one.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

CRON_EXAMPLE = "Example: '0 8 * * 1-5' runs at 08:00 on weekdays"

MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
CRON_DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")

MACROS = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
}


@dataclass(frozen=True)
class _FieldSpec:
    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()
    names_start: int = 0


_FIELDS = (
    _FieldSpec("minute", 0, 59),
    _FieldSpec("hour", 0, 23),
    _FieldSpec("day of month", 1, 31),
    _FieldSpec("month", 1, 12, MONTH_NAMES, 1),
    _FieldSpec("day of week", 0, 7, CRON_DAY_NAMES, 0),
)


@dataclass(frozen=True)
class CronFields:
    """A parsed cron expression: the values each field allows.

    ``weekdays`` uses Python's numbering (Monday 0 ... Sunday 6). ``*_star`` record whether the
    field was written with a leading ``*``, which Vixie cron's day rule and DST rule look at.
    """

    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]
    minute_star: bool
    hour_star: bool
    day_star: bool
    weekday_star: bool


class CronSyntaxError(ValueError):
    """A cron expression that cannot be parsed; ``problems`` lists every reason."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(problems))


def _value(token: str, spec: _FieldSpec, problems: list[str]) -> int | None:
    if token.isdigit():
        number = int(token)
        if not spec.low <= number <= spec.high:
            problems.append(f"{spec.name} {number} is outside {spec.low}–{spec.high}")
            return None
        return number
    lowered = token.lower()
    if lowered in spec.names:
        return spec.names.index(lowered) + spec.names_start
    if spec.names:
        hint = f"a number {spec.low}–{spec.high} or a name such as {spec.names[1]!r}"
    else:
        hint = f"a number {spec.low}–{spec.high}"
    if any(mark in token for mark in "?LW#"):
        hint += " (the Quartz marks ?, L, W and # are not supported; the presets cover them)"
    problems.append(f"{spec.name} {token!r} is not understood; use {hint}")
    return None


def _item(item: str, spec: _FieldSpec, problems: list[str]) -> set[int]:
    base, slash, step_text = item.partition("/")
    step = 1
    if slash:
        if not step_text.isdigit() or int(step_text) == 0:
            problems.append(
                f"{spec.name} step {step_text!r} in {item!r} must be a whole number ≥ 1"
            )
            return set()
        step = int(step_text)
    if base == "*":
        low, high = spec.low, spec.high
    elif "-" in base:
        first, _, last = base.partition("-")
        low_value, high_value = _value(first, spec, problems), _value(last, spec, problems)
        if low_value is None or high_value is None:
            return set()
        if low_value > high_value:
            problems.append(
                f"{spec.name} range {base!r} runs backwards; write the lower value first,"
                f" as in '{last}-{first}'"
            )
            return set()
        low, high = low_value, high_value
    else:
        value = _value(base, spec, problems)
        if value is None:
            return set()
        low, high = value, (spec.high if slash else value)
    return set(range(low, high + 1, step))


def _field(text: str, spec: _FieldSpec, problems: list[str]) -> frozenset[int]:
    values: set[int] = set()
    for item in text.split(","):
        if not item:
            problems.append(f"{spec.name} field {text!r} has an empty item; separate values by ','")
            continue
        values |= _item(item, spec, problems)
    return frozenset(values)


@lru_cache(maxsize=4096)
def parse_cron(expression: str) -> CronFields:
    """Parse a cron expression or macro (``@daily``...); raise `CronSyntaxError` naming every
    problem, each prefixed with the expression and followed by an example."""
    text = MACROS.get(expression.strip().lower(), expression.strip())
    parts = text.split()
    problems: list[str] = []
    if len(parts) != len(_FIELDS):
        extra = " (seconds and years are not supported)" if len(parts) in (6, 7) else ""
        problems.append(
            "a cron expression has 5 fields (minute hour day-of-month month day-of-week),"
            f" this one has {len(parts)}{extra}"
        )
    else:
        minutes, hours, days, months, weekdays = (
            _field(part, spec, problems) for part, spec in zip(parts, _FIELDS, strict=True)
        )
    if problems:
        raise CronSyntaxError([f"{expression!r}: {p}. {CRON_EXAMPLE}" for p in problems])
    return CronFields(
        minutes=minutes,
        hours=hours,
        days=days,
        months=months,
        # cron counts Sunday as 0 and 7, Monday as 1; Python counts Monday as 0.
        weekdays=frozenset((day - 1) % 7 for day in weekdays),
        minute_star=parts[0].startswith("*"),
        hour_star=parts[1].startswith("*"),
        day_star=parts[2].startswith("*"),
        weekday_star=parts[4].startswith("*"),
    )
