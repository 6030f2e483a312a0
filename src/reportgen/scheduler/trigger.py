"""An APScheduler trigger whose fire times come from `reportgen.domain.timing`.

APScheduler's own cron trigger has its own idea of DST gaps and folds; ours (a nonexistent local
time fires once at the next valid instant, an ambiguous one fires once) lives in the domain, and
the trigger only asks it. It never walks through a backlog: after a late run the next fire time
is the first one after now, because `Dispatcher` records what was missed from its own horizon.
"""

from __future__ import annotations

from datetime import UTC, datetime

from apscheduler.triggers.base import BaseTrigger

from reportgen.domain.schedules import Cadence
from reportgen.domain.timing import next_fire_times


class CadenceTrigger(BaseTrigger):  # type: ignore[misc]
    """Fires at a schedule's cadence in its IANA timezone."""

    __slots__ = ("cadence", "timezone")

    def __init__(self, cadence: Cadence, timezone: str) -> None:
        self.cadence = cadence
        self.timezone = timezone

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        after = now if previous_fire_time is None else max(previous_fire_time, now)
        upcoming = next_fire_times(self.cadence, self.timezone, after.astimezone(UTC), 1)
        return upcoming[0] if upcoming else None

    def __str__(self) -> str:
        return f"cadence[{self.cadence.kind}, {self.timezone}]"

    def __repr__(self) -> str:
        return f"<CadenceTrigger {self.cadence!r} {self.timezone!r}>"
