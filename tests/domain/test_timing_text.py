"""Plain-English descriptions of cadences, and the problems check_timing reports."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta, timezone

import pytest

from reportgen.domain.schedules import (
    CronCadence,
    DailyAt,
    FirstBusinessDay,
    MonthlyOn,
    Weekday,
    WeekdaysAt,
    WeeklyOn,
)
from reportgen.domain.timing import CronSyntaxError, check_timing, describe, parse_cron
from reportgen.domain.timing.plan import AnyCadence

EXAMPLE = "Example: '0 8 * * 1-5' runs at 08:00 on weekdays"


@pytest.mark.parametrize(
    ("cadence", "zone", "sentence"),
    [
        (WeekdaysAt(at=time(8)), "Europe/London", "Every weekday at 08:00 (Europe/London)"),
        (MonthlyOn(day=1, at=time(7, 30)), "UTC", "At 07:30 on day 1 of every month (UTC)"),
        (
            FirstBusinessDay(at=time(9)),
            "America/New_York",
            "On the first business day of every month at 09:00 (America/New_York)",
        ),
        (DailyAt(at=time(6, 5, 30)), "UTC", "Every day at 06:05:30 (UTC)"),
        (
            WeeklyOn(days=(Weekday.THU, Weekday.MON), at=time(8)),
            "UTC",
            "Every Monday and Thursday at 08:00 (UTC)",
        ),
        (
            MonthlyOn(day=31, at=time(18)),
            "UTC",
            "At 18:00 on day 31 of every month, or on the last day of shorter months (UTC)",
        ),
    ],
)
def test_presets_read_as_sentences(cadence: AnyCadence, zone: str, sentence: str) -> None:
    assert describe(cadence, zone) == sentence


@pytest.mark.parametrize(
    ("expression", "sentence"),
    [
        ("0 8 * * 1,4", "At 08:00 on Monday and Thursday"),
        ("*/15 9-17 * * 1-5", "Every 15 minutes, 09:00–17:59, Monday to Friday"),
        ("0 8 * * *", "At 08:00 every day"),
        ("30 7 1 * *", "At 07:30 on day 1 of every month"),
        ("0 * * * *", "Every hour, on the hour"),
        ("* * * * *", "Every minute"),
        ("5 */2 * * *", "Every 2 hours, at minute 5"),
        ("0 9 1,15 * mon", "At 09:00 on days 1 and 15 of every month or on Monday"),
        (
            "0 6 * jan-mar,jul sat,sun",
            "At 06:00 on Saturday and Sunday in January to March and July",
        ),
        ("0,20,45 * * * *", "Every hour at minutes 0, 20 and 45"),
    ],
)
def test_crons_are_described_field_by_field(expression: str, sentence: str) -> None:
    assert describe(CronCadence(expression=expression), "UTC") == f"{sentence} (UTC)"


def test_a_valid_cadence_has_no_problems() -> None:
    assert check_timing(CronCadence(expression="0 8 * * 1-5"), "Europe/London") == []
    assert check_timing(FirstBusinessDay(at=time(9)), "Asia/Kathmandu") == []


def test_an_hour_out_of_range_names_the_field_and_shows_an_example() -> None:
    assert check_timing(CronCadence(expression="0 25 * * *"), "UTC") == [
        f"'0 25 * * *': hour 25 is outside 0–23. {EXAMPLE}"
    ]


def test_every_problem_of_a_cron_is_reported_at_once() -> None:
    problems = check_timing(CronCadence(expression="61 x 0 13 mon-sun/0"), "UTC")

    assert len(problems) == 5
    assert all(p.startswith("'61 x 0 13 mon-sun/0': ") and p.endswith(EXAMPLE) for p in problems)
    assert "minute 61 is outside 0–59" in problems[0]
    assert "hour 'x' is not understood" in problems[1]
    assert "day of month 0 is outside 1–31" in problems[2]
    assert "month 13 is outside 1–12" in problems[3]
    assert "step '0'" in problems[4]


@pytest.mark.parametrize(
    ("expression", "fragment"),
    [
        ("0 8 * *", "has 5 fields"),
        ("0 0 8 * * *", "seconds and years are not supported"),
        ("0 8 L * *", "Quartz marks"),
        ("0 17-9 * * *", "runs backwards; write the lower value first, as in '9-17'"),
        ("0 8 1,,2 * *", "empty item"),
    ],
)
def test_cron_syntax_problems(expression: str, fragment: str) -> None:
    with pytest.raises(CronSyntaxError) as raised:
        parse_cron(expression)

    assert fragment in str(raised.value)
    assert check_timing(CronCadence(expression=expression), "UTC") == list(raised.value.problems)


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("Europe/Londn", "Europe/London"),
        ("america/new_york", "America/New_York"),
        ("Kathmandu", "Asia/Kathmandu"),
        ("US Eastern", "US/Eastern"),
    ],
)
def test_an_unknown_timezone_suggests_the_closest_iana_name(typed: str, meant: str) -> None:
    problems = check_timing(DailyAt(at=time(8)), typed)

    assert problems == [f"timezone {typed!r} is not an IANA timezone name; did you mean {meant!r}?"]


def test_a_hopeless_timezone_shows_an_example() -> None:
    (problem,) = check_timing(DailyAt(at=time(8)), "qqqqqqqq")

    assert "Example: 'Europe/London'" in problem


def test_timezone_and_cron_problems_come_together() -> None:
    problems = check_timing(CronCadence(expression="0 25 * * *"), "Mars/Olympus")

    assert len(problems) == 2
    assert problems[0].startswith("timezone 'Mars/Olympus'")


def test_a_cron_that_never_fires_says_so() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)

    (problem,) = check_timing(CronCadence(expression="0 0 30 2 *"), "UTC", now=now)

    assert "'0 0 30 2 *' never fires" in problem


def test_a_preset_time_with_its_own_offset_is_refused() -> None:
    at = time(8, tzinfo=timezone(timedelta(hours=2)))

    (problem,) = check_timing(DailyAt(at=at), "UTC")

    assert "carries its own UTC offset" in problem
