"""Words and times for schedules and runs, written the same way on every page.

Moments are shown as ``2026-11-16 08:00 CET`` in the timezone they belong to (a schedule's own,
or UTC for run history), the way the catalog writes its dates.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from reportgen.domain.schedules import MisfirePolicy, RunAs, Weekday

MOMENT = "%Y-%m-%d %H:%M"

CADENCE_KINDS: dict[str, str] = {
    "daily": "Every day",
    "weekdays": "Every weekday (Mon–Fri)",
    "weekly": "On chosen days of the week",
    "monthly": "Monthly, on a day of the month",
    "first_business_day": "First business day of the month",
    "cron": "Cron expression (advanced)",
}

WEEKDAY_NAMES: dict[Weekday, str] = {
    Weekday.MON: "Monday",
    Weekday.TUE: "Tuesday",
    Weekday.WED: "Wednesday",
    Weekday.THU: "Thursday",
    Weekday.FRI: "Friday",
    Weekday.SAT: "Saturday",
    Weekday.SUN: "Sunday",
}

RUN_AS: dict[RunAs, str] = {
    RunAs.RECIPIENT: "Each recipient's own permissions (recommended)",
    RunAs.OWNER: "Share my view with every recipient",
}
RUN_AS_HELP: dict[RunAs, str] = {
    RunAs.RECIPIENT: "Every recipient gets the rows and columns they may see themselves.",
    RunAs.OWNER: "Everyone gets exactly what you see, whatever their own access.",
}
SHARING_WARNING = (
    "Sharing your view sends every recipient the rows and columns **you** may see, including "
    "regions and unmasked personal data their own access would hide. External addresses get "
    "it too. Choose this only when every recipient is entitled to your view."
)

MISFIRE: dict[MisfirePolicy, str] = {
    MisfirePolicy.RUN_ONCE: "Run once",
    MisfirePolicy.RUN_ALL: "Run every missed time",
    MisfirePolicy.SKIP: "Skip missed times",
}
MISFIRE_HELP: dict[MisfirePolicy, str] = {
    MisfirePolicy.RUN_ONCE: "After an outage, one run for the latest missed time.",
    MisfirePolicy.RUN_ALL: "After an outage, one run for each missed time, oldest first.",
    MisfirePolicy.SKIP: "After an outage, nothing is sent until the next fire time.",
}


def local_time(moment: datetime, timezone: str = "UTC", *, weekday: bool = False) -> str:
    """``2026-11-16 08:00 CET``: `moment` on the wall clock of `timezone`."""
    local = moment.astimezone(ZoneInfo(timezone) if timezone != "UTC" else UTC)
    stamp = local.strftime(f"%a {MOMENT}" if weekday else MOMENT)
    return f"{stamp} {local.tzname() or timezone}"


def duration(seconds: float | None) -> str:
    """``850 ms``, ``12.4 s``, ``3 min 5 s``, or an empty string when unknown."""
    if seconds is None or seconds < 0:
        return ""
    if seconds < 1:
        return f"{seconds * 1000:,.0f} ms"
    if seconds < 60:
        return f"{seconds:,.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {rest} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours:,} h {minutes} min"
