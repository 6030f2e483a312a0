"""Properties of fire times, for any cadence, zone and starting instant (hypothesis)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from reportgen.domain.schedules import CronCadence, DailyAt, MonthlyOn, Weekday, WeeklyOn
from reportgen.domain.timing import fire_times_between, next_fire_times, parse_cron
from reportgen.domain.timing.plan import AnyCadence

ZONES = (
    "America/New_York",
    "Europe/London",
    "Australia/Lord_Howe",
    "Asia/Kathmandu",
    "America/Santiago",
    "UTC",
)

# Instants around the DST changes of 2026 weigh as much as ordinary ones.
DST_DAYS = [
    datetime(2026, m, d, tzinfo=UTC)
    for m, d in ((3, 8), (3, 29), (4, 4), (10, 3), (10, 25), (11, 1))
]
instants = st.one_of(
    st.datetimes(datetime(2020, 1, 1), datetime(2035, 1, 1), timezones=st.just(UTC)),
    st.builds(
        lambda day, minutes: day + timedelta(minutes=minutes),
        st.sampled_from(DST_DAYS),
        st.integers(-36 * 60, 36 * 60),
    ),
)
times = st.builds(time, st.integers(0, 23), st.sampled_from([0, 15, 30, 45, 59]))
crons = st.sampled_from(
    [
        "* * * * *",
        "*/15 * * * *",
        "30 * * * *",
        "0 */2 * * *",
        "30 2 * * *",
        "0,30 1-3 * * *",
        "15 0 1,15 * mon",
        "0 9 * * 1-5",
        "45 23 31 * *",
    ]
)
cadences: st.SearchStrategy[AnyCadence] = st.one_of(
    st.builds(DailyAt, at=times),
    st.builds(MonthlyOn, day=st.integers(1, 31), at=times),
    st.builds(
        WeeklyOn,
        days=st.lists(st.sampled_from(list(Weekday)), min_size=1, unique=True).map(tuple),
        at=times,
    ),
    st.builds(CronCadence, expression=crons),
)


def named_wall_times(cadence: AnyCadence) -> set[tuple[int, int]]:
    if isinstance(cadence, CronCadence):
        fields = parse_cron(cadence.expression)
        return {(h, m) for h in fields.hours for m in fields.minutes}
    return {(cadence.at.hour, cadence.at.minute)}


@settings(max_examples=300, deadline=None)
@given(cadence=cadences, zone=st.sampled_from(ZONES), after=instants)
def test_fire_times_ascend_strictly_and_land_on_named_or_jump_times(
    cadence: AnyCadence, zone: str, after: datetime
) -> None:
    fired = next_fire_times(cadence, zone, after, 40)
    tz = ZoneInfo(zone)
    named = named_wall_times(cadence)

    assert fired, "every cadence here fires"
    assert fired[0] > after
    assert all(a < b for a, b in itertools.pairwise(fired))
    for instant in fired:
        assert instant.tzinfo is UTC
        wall = instant.astimezone(tz)
        if (wall.hour, wall.minute) in named:
            continue
        # Otherwise it is the instant the clocks jumped over a named wall time.
        just_before = (instant - timedelta(seconds=1)).astimezone(tz)
        assert just_before.utcoffset() != wall.utcoffset(), f"{wall} is neither named nor a jump"


@settings(max_examples=150, deadline=None)
@given(cadence=cadences, zone=st.sampled_from(ZONES), after=instants)
def test_a_window_holds_the_same_times_as_counting_from_its_start(
    cadence: AnyCadence, zone: str, after: datetime
) -> None:
    counted = next_fire_times(cadence, zone, after, 30)
    window = fire_times_between(cadence, zone, after, counted[-1])
    resumed = next_fire_times(cadence, zone, counted[9], 20)

    assert window == counted
    assert resumed == counted[10:]


@settings(max_examples=100, deadline=None)
@given(zone=st.sampled_from(ZONES), after=instants)
def test_every_minute_fires_once_per_real_minute(zone: str, after: datetime) -> None:
    start = after.replace(second=0, microsecond=0)
    fired = fire_times_between(
        CronCadence(expression="* * * * *"), zone, start, start + timedelta(hours=30), limit=2000
    )

    # Real minutes exist on every day, DST changes included: 30 hours hold 1,800 of them.
    assert len(fired) == 1800
    assert {b - a for a, b in itertools.pairwise(fired)} == {timedelta(minutes=1)}
