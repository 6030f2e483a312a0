"""When schedules fire: cron and preset cadences in an IANA timezone, DST-correct.

- `next_fire_times(cadence, timezone, after, count)`: the next fire times, aware UTC, strictly
  after ``after``; `fire_times_between(cadence, timezone, start, end)`: those in (start, end].
- `describe(cadence, timezone)`: a plain-English sentence ("Every weekday at 08:00
  (Europe/London)").
- `check_timing(cadence, timezone)`: every problem, each showing a valid example.

A wall time skipped by a spring-forward change fires once when the clocks jump; one repeated by
a fall-back change fires once, at its first occurrence. Crons whose minute or hour field starts
with ``*`` follow the real clock (Vixie cron's rule), so they fire once per real slot.
"""

from reportgen.domain.timing.checks import check_timing, closest_timezone, timezone_problems
from reportgen.domain.timing.cron import CronFields, CronSyntaxError, parse_cron
from reportgen.domain.timing.english import describe
from reportgen.domain.timing.fire_times import (
    fire_times_between,
    iter_fire_times,
    next_fire_times,
)

__all__ = [
    "CronFields",
    "CronSyntaxError",
    "check_timing",
    "closest_timezone",
    "describe",
    "fire_times_between",
    "iter_fire_times",
    "next_fire_times",
    "parse_cron",
    "timezone_problems",
]
