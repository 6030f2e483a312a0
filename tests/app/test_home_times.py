"""Ages and freshness written the way people say them, shared by the Catalog and Home."""

from __future__ import annotations

from datetime import date

import pytest

from components.badges import freshness_description
from components.home_times import age
from reportgen.services.catalog import Freshness


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
    assert age(hours) == said


def test_freshness_says_days_not_hundreds_of_hours() -> None:
    late = Freshness(latest=date(2026, 10, 12), age_hours=696.0, sla_hours=48.0)

    assert freshness_description(late) == (
        "latest 2026-10-12 00:00, 29 days old; breaks its SLA of 2 days"
    )


def test_freshness_without_a_promise_or_data_says_so() -> None:
    assert freshness_description(Freshness(None, None, None)) == "no freshness promise"
    assert freshness_description(Freshness(None, None, 24.0)) == "no data yet"
