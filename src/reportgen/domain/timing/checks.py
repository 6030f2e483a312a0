"""Is a cadence and timezone usable? Every problem, each with a valid example.

An unknown timezone suggests the closest IANA name; a cron that does not parse names the field
and the value; a cron that can never fire (``0 0 30 2 *``) says so.
"""

from __future__ import annotations

import difflib
from datetime import UTC, datetime
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

from reportgen.domain.schedules import CronCadence
from reportgen.domain.timing.cron import CRON_EXAMPLE, CronSyntaxError, parse_cron
from reportgen.domain.timing.fire_times import HORIZON_YEARS, next_fire_times
from reportgen.domain.timing.plan import AnyCadence

TIMEZONE_EXAMPLE = "Example: 'Europe/London' or 'America/New_York'"


@cache
def timezone_names() -> frozenset[str]:
    """Every IANA timezone name this machine knows."""
    return frozenset(available_timezones())


@cache
def _lowered_names() -> dict[str, str]:
    return {name.lower(): name for name in timezone_names()}


def closest_timezone(name: str) -> str | None:
    """The IANA name a person most likely meant by ``name`` (case, spaces, a typo), if any."""
    cleaned = name.strip().replace(" ", "_").lower()
    lowered = _lowered_names()
    if cleaned in lowered:
        return lowered[cleaned]
    by_city = {key.rsplit("/", 1)[-1]: value for key, value in lowered.items()}
    if cleaned in by_city:
        return by_city[cleaned]
    matches = difflib.get_close_matches(cleaned, list(lowered), n=1, cutoff=0.6)
    if matches:
        return lowered[matches[0]]
    city = difflib.get_close_matches(cleaned, list(by_city), n=1, cutoff=0.75)
    return by_city[city[0]] if city else None


def timezone_problems(timezone: str) -> list[str]:
    """Nothing when ``timezone`` is an IANA name, else one problem suggesting the closest."""
    if timezone in timezone_names():
        try:
            ZoneInfo(timezone)
        except (ValueError, OSError):  # listed but unreadable: a broken tz database
            return [f"timezone {timezone!r} cannot be loaded on this machine. {TIMEZONE_EXAMPLE}"]
        return []
    suggestion = closest_timezone(timezone)
    hint = f"did you mean {suggestion!r}?" if suggestion else TIMEZONE_EXAMPLE
    return [f"timezone {timezone!r} is not an IANA timezone name; {hint}"]


def check_timing(cadence: AnyCadence, timezone: str, *, now: datetime | None = None) -> list[str]:
    """Every problem with ``cadence`` in ``timezone``; empty when both are usable.

    ``now`` (default: the current time) is where the search for a first fire time starts.
    """
    problems = timezone_problems(timezone)
    if isinstance(cadence, CronCadence):
        try:
            parse_cron(cadence.expression)
        except CronSyntaxError as error:
            return [*problems, *error.problems]
    else:
        at = cadence.at
        if at.tzinfo is not None:
            problems.append(
                f"the time {at.isoformat()} carries its own UTC offset; give the wall-clock"
                " time alone (e.g. 08:00): the schedule's timezone applies"
            )
        if at.microsecond:
            problems.append(f"the time {at.isoformat()} has fractions of a second; use e.g. 08:00")
    if problems:
        return problems
    if not next_fire_times(cadence, timezone, now or datetime.now(UTC), 1):
        what = cadence.expression if isinstance(cadence, CronCadence) else cadence.kind
        problems.append(
            f"{what!r} never fires (no matching date in the next {HORIZON_YEARS} years, e.g."
            f" 30 February). {CRON_EXAMPLE}"
        )
    return problems
