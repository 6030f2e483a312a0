"""Fire times across daylight-saving changes, in the zones the issue names, and cron semantics."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

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
from reportgen.domain.timing import fire_times_between, next_fire_times

NEW_YORK = "America/New_York"
LONDON = "Europe/London"
LORD_HOWE = "Australia/Lord_Howe"
KATHMANDU = "Asia/Kathmandu"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def local(instants: list[datetime], zone: str) -> list[str]:
    """Each instant as local wall time with its offset, e.g. '03-08 03:00-04:00'."""
    return [t.astimezone(ZoneInfo(zone)).strftime("%m-%d %H:%M%z") for t in instants]


def cron(expression: str) -> CronCadence:
    return CronCadence(expression=expression)


# America/New_York: spring forward 2026-03-08 02:00 -> 03:00; fall back 2026-11-01 02:00 -> 01:00.


def test_new_york_spring_forward_fires_once_at_the_jump() -> None:
    fired = next_fire_times(DailyAt(at=time(2, 30)), NEW_YORK, utc(2026, 3, 7), 3)

    assert local(fired, NEW_YORK) == ["03-07 02:30-0500", "03-08 03:00-0400", "03-09 02:30-0400"]
    assert fired[1] == utc(2026, 3, 8, 7, 0)


def test_new_york_fall_back_fires_once_at_the_first_occurrence() -> None:
    fired = next_fire_times(DailyAt(at=time(1, 30)), NEW_YORK, utc(2026, 10, 31), 3)

    assert local(fired, NEW_YORK) == ["10-31 01:30-0400", "11-01 01:30-0400", "11-02 01:30-0500"]


def test_new_york_hourly_cron_fires_once_per_real_hour_across_both_changes() -> None:
    spring = fire_times_between(
        cron("30 * * * *"), NEW_YORK, utc(2026, 3, 8, 5), utc(2026, 3, 8, 9)
    )
    autumn = fire_times_between(
        cron("0 * * * *"), NEW_YORK, utc(2026, 11, 1, 3), utc(2026, 11, 1, 8)
    )

    assert spring == [utc(2026, 3, 8, h, 30) for h in (5, 6, 7, 8)]
    assert spring[2].astimezone(ZoneInfo(NEW_YORK)).hour == 3  # 02:30 never happened
    assert autumn == [utc(2026, 11, 1, h) for h in (4, 5, 6, 7, 8)]
    assert local(autumn, NEW_YORK)[1:3] == ["11-01 01:00-0400", "11-01 01:00-0500"]


def test_new_york_every_minute_has_no_gap_and_no_repeat_at_the_jump() -> None:
    fired = fire_times_between(
        cron("* * * * *"), NEW_YORK, utc(2026, 3, 8, 6, 58), utc(2026, 3, 8, 7, 2)
    )

    assert fired == [utc(2026, 3, 8, 6, 59), *(utc(2026, 3, 8, 7, m) for m in (0, 1, 2))]


def test_a_fixed_hour_cron_in_the_skipped_hour_fires_once_at_the_jump() -> None:
    fired = next_fire_times(cron("0,15,30,45 2 * * *"), NEW_YORK, utc(2026, 3, 8), 2)

    assert fired == [utc(2026, 3, 8, 7, 0), utc(2026, 3, 9, 6, 0)]


# Europe/London: spring forward 2026-03-29 01:00 -> 02:00; fall back 2026-10-25 02:00 -> 01:00.


def test_london_weekday_report_keeps_its_wall_clock_time_across_both_changes() -> None:
    cadence = WeekdaysAt(at=time(8))

    march = next_fire_times(cadence, LONDON, utc(2026, 3, 26, 12), 3)
    october = next_fire_times(cadence, LONDON, utc(2026, 10, 22, 12), 3)

    assert march == [utc(2026, 3, 27, 8), utc(2026, 3, 30, 7), utc(2026, 3, 31, 7)]
    assert october == [utc(2026, 10, 23, 7), utc(2026, 10, 26, 8), utc(2026, 10, 27, 8)]


def test_london_skipped_and_repeated_hours() -> None:
    skipped = next_fire_times(DailyAt(at=time(1, 15)), LONDON, utc(2026, 3, 29), 1)
    repeated = next_fire_times(DailyAt(at=time(1, 15)), LONDON, utc(2026, 10, 25), 2)

    assert skipped == [utc(2026, 3, 29, 1, 0)]  # 02:00 BST, when the clocks jump
    assert repeated == [utc(2026, 10, 25, 0, 15), utc(2026, 10, 26, 1, 15)]


# Australia/Lord_Howe shifts by 30 minutes: 2026-04-05 02:00 -> 01:30, 2026-10-04 02:00 -> 02:30.


def test_lord_howe_half_hour_spring_forward() -> None:
    fired = next_fire_times(DailyAt(at=time(2, 15)), LORD_HOWE, utc(2026, 10, 2), 3)

    assert local(fired, LORD_HOWE) == ["10-03 02:15+1030", "10-04 02:30+1100", "10-05 02:15+1100"]


def test_lord_howe_half_hour_fall_back() -> None:
    daily = next_fire_times(DailyAt(at=time(1, 45)), LORD_HOWE, utc(2026, 4, 3), 3)
    every_half_hour = fire_times_between(
        cron("*/30 * * * *"), LORD_HOWE, utc(2026, 4, 4, 14), utc(2026, 4, 4, 16)
    )

    assert local(daily, LORD_HOWE) == ["04-04 01:45+1100", "04-05 01:45+1100", "04-06 01:45+1030"]
    assert every_half_hour == [
        utc(2026, 4, 4, 14, 30),
        *(utc(2026, 4, 4, h, m) for h, m in ((15, 0), (15, 30), (16, 0))),
    ]
    assert local(every_half_hour, LORD_HOWE)[:2] == ["04-05 01:30+1100", "04-05 01:30+1030"]


# Asia/Kathmandu: +05:45 all year.


def test_kathmandu_quarter_hour_offset() -> None:
    fired = next_fire_times(WeekdaysAt(at=time(9)), KATHMANDU, utc(2026, 6, 5), 2)

    assert fired == [utc(2026, 6, 5, 3, 15), utc(2026, 6, 8, 3, 15)]  # Friday, then Monday


def test_kathmandu_hourly_cron_is_at_the_local_hour() -> None:
    fired = next_fire_times(cron("0 * * * *"), KATHMANDU, utc(2026, 6, 5, 0, 0), 2)

    assert fired == [utc(2026, 6, 5, 0, 15), utc(2026, 6, 5, 1, 15)]


# Presets and cron day rules.


def test_monthly_on_day_31_falls_on_the_last_day_of_shorter_months() -> None:
    fired = next_fire_times(MonthlyOn(day=31, at=time(6)), "UTC", utc(2026, 1, 1), 4)

    assert [t.date().isoformat() for t in fired] == [
        "2026-01-31",
        "2026-02-28",
        "2026-03-31",
        "2026-04-30",
    ]


def test_first_business_day_skips_weekends() -> None:
    fired = next_fire_times(FirstBusinessDay(at=time(9)), NEW_YORK, utc(2026, 1, 1), 4)

    # 2026: Feb 1 and Mar 1 are Sundays, Aug 1 a Saturday.
    assert [t.date().isoformat() for t in fired] == [
        "2026-01-01",
        "2026-02-02",
        "2026-03-02",
        "2026-04-01",
    ]
    assert all(t.astimezone(ZoneInfo(NEW_YORK)).hour == 9 for t in fired)


def test_weekly_on_named_days() -> None:
    cadence = WeeklyOn(days=(Weekday.THU, Weekday.MON), at=time(8, 30))

    fired = next_fire_times(cadence, "UTC", utc(2026, 6, 1, 9), 3)

    assert fired == [utc(2026, 6, 4, 8, 30), utc(2026, 6, 8, 8, 30), utc(2026, 6, 11, 8, 30)]


def test_vixie_rule_either_day_field_matches_when_both_are_restricted() -> None:
    fired = next_fire_times(cron("0 0 13 * fri"), "UTC", utc(2026, 2, 1), 4)

    # Fridays, and the 13th (a Friday in February and March 2026: counted once).
    assert [t.day for t in fired] == [6, 13, 20, 27]
    assert next_fire_times(cron("0 0 13 3 *"), "UTC", utc(2026, 2, 1), 1) == [utc(2026, 3, 13)]


def test_a_star_step_in_the_day_field_leaves_the_weekday_field_in_charge() -> None:
    fired = next_fire_times(cron("0 12 */2 * mon"), "UTC", utc(2026, 6, 1), 3)

    # Vixie: '*/2' starts with '*', so a day must match both fields (odd days that are Mondays).
    assert [t.day for t in fired] == [1, 15, 29]


def test_names_ranges_steps_and_sunday_as_seven() -> None:
    weekend = next_fire_times(cron("0 6 * JAN-feb sat,7"), "UTC", utc(2026, 12, 31), 3)
    stepped = next_fire_times(cron("10/20 9 * * *"), "UTC", utc(2026, 6, 1), 3)

    assert [t.date().isoformat() for t in weekend] == ["2027-01-02", "2027-01-03", "2027-01-09"]
    assert [t.minute for t in stepped] == [10, 30, 50]


def test_leap_day_cron_waits_for_the_next_leap_year() -> None:
    assert next_fire_times(cron("0 0 29 2 *"), "UTC", utc(2026, 3, 1), 1) == [utc(2028, 2, 29)]


def test_an_impossible_cron_returns_nothing() -> None:
    assert next_fire_times(cron("0 0 30 2 *"), "UTC", utc(2026, 1, 1), 3) == []


def test_macros() -> None:
    assert next_fire_times(cron("@daily"), "UTC", utc(2026, 1, 1, 5), 1) == [utc(2026, 1, 2)]


def test_results_are_strictly_after_the_given_instant() -> None:
    at_eight = utc(2026, 6, 1, 8)

    assert next_fire_times(DailyAt(at=time(8)), "UTC", at_eight, 1) == [utc(2026, 6, 2, 8)]
    assert fire_times_between(DailyAt(at=time(8)), "UTC", at_eight, utc(2026, 6, 3, 8)) == [
        utc(2026, 6, 2, 8),
        utc(2026, 6, 3, 8),
    ]


def test_between_respects_the_limit_and_count_zero_is_empty() -> None:
    fired = fire_times_between(cron("* * * * *"), "UTC", utc(2026, 1, 1), utc(2026, 2, 1), limit=5)

    assert fired == [utc(2026, 1, 1, 0, m) for m in range(1, 6)]
    assert next_fire_times(cron("* * * * *"), "UTC", utc(2026, 1, 1), 0) == []


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        next_fire_times(DailyAt(at=time(8)), "UTC", datetime(2026, 1, 1), 1)
