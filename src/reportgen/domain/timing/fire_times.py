"""When a cadence fires, in UTC, across daylight-saving changes.

A cadence names local wall-clock times in an IANA timezone. On an ordinary day a wall time maps
to one instant. On a day the clocks change:

- a wall time that does not exist (spring forward: 02:30 in New York) fires once, at the
  instant the clocks jump (03:00 local);
- a wall time that happens twice (fall back: 01:30 in New York) fires once, at its first
  occurrence;
- crons whose minute or hour field starts with ``*`` (every 15 minutes, hourly) follow the real
  clock instead, as Vixie cron does: they fire in both copies of a repeated hour and not in a
  skipped one, so they fire once per real slot.

Results never repeat an instant and always ascend.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from reportgen.domain.timing.plan import AnyCadence, Plan, compile_cadence

HORIZON_YEARS = 30
"""How far ahead to look for a fire time before deciding a cadence never fires."""

_DAY = timedelta(days=1)


def _utc(value: datetime, name: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware (UTC), got {value.isoformat()}")
    return value.astimezone(UTC)


@lru_cache(maxsize=65_536)
def _steady_offset(zone_name: str, ordinal: int) -> timedelta | None:
    """The UTC offset in force all day long, or None when the offset changes that day."""
    zone = ZoneInfo(zone_name)
    start = datetime.fromordinal(ordinal)
    end = start + _DAY
    offsets = {
        zone.utcoffset(start),
        zone.utcoffset(start.replace(fold=1)),
        zone.utcoffset(end),
        zone.utcoffset(end.replace(fold=1)),
    }
    if len(offsets) != 1:
        return None
    (offset,) = offsets
    return offset


def _jump_instant(zone: ZoneInfo, earliest: datetime, latest: datetime) -> datetime:
    """The first instant in (earliest, latest] whose offset differs from ``earliest``'s: when
    the clocks jumped over a nonexistent wall time."""
    before = earliest.astimezone(zone).utcoffset()
    low, high = 0, int((latest - earliest).total_seconds())
    while high - low > 1:
        middle = (low + high) // 2
        if (earliest + timedelta(seconds=middle)).astimezone(zone).utcoffset() == before:
            low = middle
        else:
            high = middle
    return earliest + timedelta(seconds=high)


def _changing_day(plan: Plan, zone: ZoneInfo, day: date) -> list[datetime]:
    """Every fire instant of a day on which the UTC offset changes, ascending."""
    midnight = datetime(day.year, day.month, day.day)
    instants: set[datetime] = set()
    for second in plan.seconds:
        wall = midnight + timedelta(seconds=second)
        first = wall.replace(tzinfo=zone).astimezone(UTC)
        second_copy = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
        exists = first.astimezone(zone).replace(tzinfo=None) == wall
        if first == second_copy:
            instants.add(first)
        elif exists:  # a repeated wall time: fold 0 is its first occurrence
            instants.add(first)
            if plan.real_time:
                instants.add(second_copy)
        elif not plan.real_time:  # a skipped wall time: fire when the clocks jump over it
            instants.add(_jump_instant(zone, second_copy, first))
    return sorted(instants)


def _day_instants(plan: Plan, zone: ZoneInfo, day: date, after: datetime) -> Iterator[datetime]:
    offset = _steady_offset(zone.key, day.toordinal())
    if offset is None:
        yield from (t for t in _changing_day(plan, zone, day) if t > after)
        return
    base = datetime(day.year, day.month, day.day, tzinfo=UTC) - offset
    threshold = (after - base).total_seconds()
    start = bisect_right(plan.seconds, threshold)
    for second in plan.seconds[start:]:
        yield base + timedelta(seconds=second)


def _fire_times(plan: Plan, zone: ZoneInfo, after: datetime) -> Iterator[datetime]:
    # Begin a day early: a day's fire times can move past its local midnight at a DST change.
    first_day = after.astimezone(zone).date() - _DAY
    year, month, from_day = first_day.year, first_day.month, first_day.day
    last_year = min(first_day.year + HORIZON_YEARS, 9998)
    latest = after
    while year <= last_year:
        if month in plan.months:
            for day in plan.day_rule.days_of(year, month):
                if day < from_day:
                    continue
                for instant in _day_instants(plan, zone, date(year, month, day), latest):
                    latest = instant
                    yield instant
        month, from_day = month + 1, 1
        if month == 13:
            year, month = year + 1, 1


def iter_fire_times(cadence: AnyCadence, timezone: str, after: datetime) -> Iterator[datetime]:
    """Every fire time strictly after ``after``, ascending, aware UTC (lazily, up to
    `HORIZON_YEARS` ahead). Raises `CronSyntaxError` or `ZoneInfoNotFoundError` for bad
    timing: call `check_timing` first for messages a person can act on."""
    return _fire_times(compile_cadence(cadence), ZoneInfo(timezone), _utc(after, "after"))


def next_fire_times(
    cadence: AnyCadence, timezone: str, after: datetime, count: int
) -> list[datetime]:
    """The next ``count`` fire times strictly after ``after`` (fewer if it stops firing)."""
    if count <= 0:
        return []
    found: list[datetime] = []
    for instant in iter_fire_times(cadence, timezone, after):
        found.append(instant)
        if len(found) == count:
            break
    return found


def fire_times_between(
    cadence: AnyCadence, timezone: str, start: datetime, end: datetime, *, limit: int = 1000
) -> list[datetime]:
    """Fire times t with ``start < t <= end``, ascending, at most ``limit`` of them (the
    earliest)."""
    end = _utc(end, "end")
    found: list[datetime] = []
    if limit <= 0:
        return found
    for instant in iter_fire_times(cadence, timezone, start):
        if instant > end:
            break
        found.append(instant)
        if len(found) == limit:
            break
    return found
