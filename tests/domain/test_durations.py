"""Spans of time as people say them."""

from __future__ import annotations

import pytest

from reportgen.domain.durations import spoken_age


@pytest.mark.parametrize(
    ("hours", "said"),
    [
        (0.0, "0 minutes"),
        (1 / 60, "1 minute"),
        (0.75, "45 minutes"),
        (1.0, "1 hour"),
        (5.2, "5 hours"),
        (47.4, "47 hours"),
        (48.0, "2 days"),
        (696.0, "29 days"),
        (24 * 1200, "1,200 days"),
        (-3.0, "0 minutes"),
    ],
)
def test_an_age_reads_in_minutes_hours_or_days(hours: float, said: str) -> None:
    assert spoken_age(hours) == said
