"""Dates, times and durations written one way on the Home, Runs and Admin pages.

Times read ``2026-11-10 13:00 CET (Europe/Paris)`` on the viewer's clock when their browser
says its timezone, ``2026-11-10 12:00 UTC`` when it does not (the catalog's ``%Y-%m-%d %H:%M``,
always with the zone said), or in a schedule's own timezone when it fires there; durations read
``4.2 s``, ``3 min 5 s``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import streamlit as st

NOTHING = "—"
"""What a table shows where there is no value."""


def known_zone(name: str | None) -> str:
    """`name` when it is an IANA timezone this machine knows, else ``"UTC"``."""
    if not name:
        return "UTC"
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return "UTC"
    return name


def viewer_timezone() -> str:
    """The timezone of the viewer's browser (an IANA name) when Streamlit knows it, else UTC."""
    return known_zone(st.context.timezone)


def moment(at: datetime | None, timezone: str | None = None) -> str:
    """``2026-11-10 12:00 UTC``; in `timezone` when it is a known IANA name, on the viewer's
    clock when it is None."""
    if at is None:
        return NOTHING
    if timezone is None:
        timezone = viewer_timezone()
    if at.tzinfo is None:  # stored naive times are UTC
        at = at.replace(tzinfo=UTC)
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        zone, timezone = ZoneInfo("UTC"), "UTC"
    local = at.astimezone(zone)
    name = "UTC" if timezone == "UTC" else f"{local:%Z} ({timezone})"
    return f"{local:%Y-%m-%d %H:%M} {name}"


def duration(span: timedelta | None) -> str:
    """``850 ms``, ``4.2 s``, ``3 min 5 s``, ``2 h 10 min``."""
    if span is None:
        return NOTHING
    seconds = max(span.total_seconds(), 0.0)
    if seconds < 1:
        return f"{seconds * 1000:,.0f} ms"
    if seconds < 60:
        return f"{seconds:,.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {rest} s" if rest else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours:,} h {minutes} min" if minutes else f"{hours:,} h"


def took(started: datetime | None, finished: datetime | None) -> str:
    """How long from `started` to `finished`, or a dash while either is missing."""
    if started is None or finished is None:
        return NOTHING
    return duration(finished - started)
