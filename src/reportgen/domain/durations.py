"""Spans of time as people say them: "45 minutes", "5 hours", "29 days"."""

from __future__ import annotations


def spoken_age(hours: float) -> str:
    """A span of hours in the unit people use for it: minutes under an hour, hours up to two
    days, whole days from there. Negative spans (clocks apart) read as none."""
    hours = max(hours, 0.0)
    if hours < 1:
        minutes = round(hours * 60)
        return f"{minutes} minute{'' if minutes == 1 else 's'}"
    if hours < 48:
        whole = round(hours)
        return f"{whole} hour{'' if whole == 1 else 's'}"
    days = round(hours / 24)
    return f"{days:,} days"
