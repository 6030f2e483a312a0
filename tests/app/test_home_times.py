"""Freshness written the way people say it, shared by the Catalog and Home."""

from __future__ import annotations

from datetime import UTC, date, datetime

from components.badges import freshness_description
from reportgen.services.catalog import Freshness


def test_freshness_says_days_not_hundreds_of_hours() -> None:
    late = Freshness(latest=date(2026, 10, 12), age_hours=696.0, sla_hours=48.0)

    assert freshness_description(late) == (
        "latest 2026-10-12 (29 days ago); breaks its SLA of 2 days"
    )


def test_a_date_is_aged_in_days_and_a_moment_as_people_say_it() -> None:
    day = date(2026, 11, 29)
    moment = datetime(2026, 11, 29, 14, 5, tzinfo=UTC)
    # A date counts from the end of its day: 0 hours on the day itself, 15.5 the next afternoon.
    assert freshness_description(Freshness(day, 0.0, 48.0)).startswith("latest 2026-11-29 (today);")
    assert freshness_description(Freshness(day, 15.5, 48.0)).startswith(
        "latest 2026-11-29 (yesterday);"
    )
    assert freshness_description(Freshness(moment, 3.2, 48.0)).startswith(
        "latest 2026-11-29 14:05, 3 hours old;"
    )
    # A row stamped at or after the reading (clocks apart, rows dated ahead): not "0 minutes old".
    assert freshness_description(Freshness(moment, 0.0, 1.0)) == (
        "latest 2026-11-29 14:05, just now; within its SLA of 1 hour"
    )


def test_freshness_without_a_promise_or_data_says_so() -> None:
    assert freshness_description(Freshness(None, None, None)) == "no freshness promise"
    assert freshness_description(Freshness(None, None, 24.0)) == "no data yet"
