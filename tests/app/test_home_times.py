"""Freshness written the way people say it, shared by the Catalog and Home."""

from __future__ import annotations

from datetime import date

from components.badges import freshness_description
from reportgen.services.catalog import Freshness


def test_freshness_says_days_not_hundreds_of_hours() -> None:
    late = Freshness(latest=date(2026, 10, 12), age_hours=696.0, sla_hours=48.0)

    assert freshness_description(late) == (
        "latest 2026-10-12 00:00, 29 days old; breaks its SLA of 2 days"
    )


def test_freshness_without_a_promise_or_data_says_so() -> None:
    assert freshness_description(Freshness(None, None, None)) == "no freshness promise"
    assert freshness_description(Freshness(None, None, 24.0)) == "no data yet"
