"""The fact engine's pure computations: periods, changes, movers, shares, outliers, trend,
attainment and freshness, with their edge cases."""

from __future__ import annotations

import math
from datetime import date, datetime
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from reportgen.domain.catalog import MeasureFormat, TimeGrain
from reportgen.domain.facts import (
    NOT_COMPARABLE,
    OUTLIER_THRESHOLD,
    Fact,
    FactSet,
    FactSource,
    MeasureFacts,
    Period,
    Point,
    attainment_facts,
    bucket_end,
    comparison_facts,
    complete_points,
    freshness_facts,
    is_additive,
    least_squares_slope,
    mover_facts,
    movers,
    number,
    outlier_facts,
    period_fact,
    relative_change,
    resolve_window,
    robust_z_scores,
    share_facts,
    total_fact,
    trend_direction,
    trend_facts,
)
from reportgen.domain.query import TimePreset, TimeRange
from reportgen.rendering.formatting import LocaleFormatter

SOURCE = FactSource(
    query_hash="a" * 64, sql="SELECT 1", params=(), dataset="sales", dataset_version="v1"
)
TODAY = date(2026, 11, 1)
PRIOR_SOURCE = SOURCE.model_copy(update={"query_hash": "b" * 64})
REVENUE = MeasureFacts("revenue", "Revenue", MeasureFormat.CURRENCY, LocaleFormatter("en_US"))
AVERAGE = MeasureFacts(
    "avg_order_value", "Average order value", MeasureFormat.CURRENCY, LocaleFormatter("en_US")
)


def one(measure: str, value: object) -> pd.DataFrame:
    return pd.DataFrame({measure: [value]})


def by_region(**values: float | None) -> pd.DataFrame:
    return pd.DataFrame({"region": list(values), "revenue": list(values.values())})


# -- numbers --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (Decimal("12.50"), 12.5),
        (np.int64(3), 3.0),
        (np.float64(2.5), 2.5),
        (None, None),
        (pd.NA, None),
        (math.nan, None),
        ("12", None),
    ],
)
def test_cells_become_floats_or_none(raw: object, expected: float | None) -> None:
    assert number(raw) == expected


@pytest.mark.parametrize(
    ("current", "prior", "expected", "reason"),
    [
        (110.0, 100.0, 0.1, ""),
        (90.0, 100.0, -0.1, ""),
        (-50.0, -100.0, 0.5, ""),  # a loss halved is an improvement
        (5.0, 0.0, None, "zero"),
        (5.0, None, None, "no data for the earlier period"),
        (None, 5.0, None, "no data for this period"),
    ],
)
def test_relative_change_never_divides_by_zero(
    current: float | None, prior: float | None, expected: float | None, reason: str
) -> None:
    value, why = relative_change(current, prior)
    assert value == (pytest.approx(expected) if expected is not None else None)
    assert reason in why


def test_additivity_is_judged_against_the_total() -> None:
    assert is_additive([1.0, 2.0, 3.5], 6.5)
    assert not is_additive([10.0, 20.0], 15.0)  # averages do not add up
    assert not is_additive([], 0.0)
    assert not is_additive([1.0], None)


# -- periods ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("period", "prior"),
    [
        (Period(date(2026, 7, 1), date(2026, 10, 1)), Period(date(2026, 4, 1), date(2026, 7, 1))),
        (Period(date(2026, 3, 1), date(2026, 4, 1)), Period(date(2026, 2, 1), date(2026, 3, 1))),
        (Period(date(2026, 1, 1), date(2027, 1, 1)), Period(date(2025, 1, 1), date(2026, 1, 1))),
        (
            Period(date(2026, 10, 3), date(2026, 11, 2)),
            Period(date(2026, 9, 3), date(2026, 10, 3)),
        ),
    ],
)
def test_the_prior_period_has_the_same_length_right_before(period: Period, prior: Period) -> None:
    assert period.prior() == prior
    assert prior.end == period.start


def test_the_prior_year_of_a_leap_day_is_the_28th() -> None:
    leap = Period(date(2024, 2, 29), date(2024, 3, 1))
    assert leap.prior_year() == Period(date(2023, 2, 28), date(2023, 3, 1))
    quarter = Period(date(2026, 7, 1), date(2026, 10, 1))
    assert quarter.prior_year() == Period(date(2025, 7, 1), date(2025, 10, 1))


def test_an_empty_period_is_refused() -> None:
    with pytest.raises(ValueError, match="start before end"):
        Period(date(2026, 1, 2), date(2026, 1, 2))


def test_windows_resolve_presets_on_the_given_day() -> None:
    window = resolve_window(TimeRange(preset=TimePreset.LAST_QUARTER), date(2026, 11, 1))
    assert window.period == Period(date(2026, 7, 1), date(2026, 10, 1))
    assert window.prior_period == Period(date(2026, 4, 1), date(2026, 7, 1))
    assert window.prior_year == Period(date(2025, 7, 1), date(2025, 10, 1))
    assert window.current == TimeRange(start=date(2026, 7, 1), end=date(2026, 10, 1))


def test_windows_without_two_ends_have_nothing_to_compare() -> None:
    everything = resolve_window(None, date(2026, 11, 1))
    assert everything.current is None
    assert everything.prior_period is None
    assert "no time range" in everything.why_not_comparable
    open_start = resolve_window(TimeRange(end=date(2026, 1, 1)), date(2026, 11, 1))
    assert open_start.current == TimeRange(end=date(2026, 1, 1))
    assert open_start.prior_year is None
    assert "no start" in open_start.why_not_comparable


def test_an_open_end_closes_after_today() -> None:
    window = resolve_window(TimeRange(start=date(2026, 10, 1)), date(2026, 10, 15))
    assert window.period == Period(date(2026, 10, 1), date(2026, 10, 16))
    future = resolve_window(TimeRange(start=date(2027, 1, 1)), date(2026, 10, 15))
    assert future.period is None
    assert future.current == TimeRange(start=date(2027, 1, 1))


@pytest.mark.parametrize(
    ("grain", "start", "end"),
    [
        (TimeGrain.DAY, date(2026, 12, 31), date(2027, 1, 1)),
        (TimeGrain.WEEK, date(2026, 10, 26), date(2026, 11, 2)),
        (TimeGrain.MONTH, date(2026, 12, 1), date(2027, 1, 1)),
        (TimeGrain.QUARTER, date(2026, 10, 1), date(2027, 1, 1)),
        (TimeGrain.YEAR, date(2026, 1, 1), date(2027, 1, 1)),
    ],
)
def test_bucket_ends(grain: TimeGrain, start: date, end: date) -> None:
    assert bucket_end(start, grain) == end


# -- totals and changes ------------------------------------------------------------------------


def test_a_total_keeps_its_value_format_and_source() -> None:
    fact = total_fact(REVENUE, one("revenue", Decimal("1234567.89")), SOURCE)
    assert (fact.id, fact.key, fact.value, fact.unit) == (
        "revenue-total",
        "total",
        1234567.89,
        "currency",
    )
    assert fact.formatted == "$1.2M"
    assert fact.source == SOURCE
    assert fact.available


def test_an_empty_result_is_a_missing_total_not_a_crash() -> None:
    for frame in (pd.DataFrame({"revenue": []}), one("revenue", None)):
        fact = total_fact(REVENUE, frame, SOURCE)
        assert fact.value is None
        assert fact.formatted == "–"
        assert "no data" in fact.note
        assert not fact.available


def test_integer_measures_stay_integers() -> None:
    orders = MeasureFacts("orders", "Orders", MeasureFormat.INTEGER, LocaleFormatter("en_US"))
    fact = total_fact(orders, one("orders", np.int64(2085)), SOURCE)
    assert fact.value == 2085
    assert isinstance(fact.value, int)
    assert fact.formatted == "2,085"


def test_a_change_against_zero_is_not_comparable() -> None:
    total = total_fact(REVENUE, one("revenue", 500.0), SOURCE)
    prior, change = comparison_facts(
        REVENUE, "prior_period", total, one("revenue", 0.0), PRIOR_SOURCE
    )
    assert prior.value == 0.0
    assert change.value is None
    assert change.formatted == NOT_COMPARABLE
    assert "zero" in change.note
    assert change.derived_from == (total.id, prior.id)


def test_a_change_keeps_the_earlier_query_as_its_source() -> None:
    total = total_fact(REVENUE, one("revenue", 120.0), SOURCE)
    prior, change = comparison_facts(
        REVENUE, "prior_year", total, one("revenue", 100.0), PRIOR_SOURCE
    )
    assert change.id == "revenue-change-prior-year"
    assert change.key == "change_prior_year"
    assert change.value == pytest.approx(0.2)
    assert change.formatted == "+20.0%"
    assert change.source == PRIOR_SOURCE
    assert prior.source == PRIOR_SOURCE


def test_without_an_earlier_query_both_facts_say_why() -> None:
    total = total_fact(REVENUE, one("revenue", 120.0), SOURCE)
    prior, change = comparison_facts(
        REVENUE, "prior_period", total, None, None, why_missing="the report has no time range"
    )
    assert prior.value is None
    assert change.value is None
    assert change.formatted == NOT_COMPARABLE
    assert change.note == "not comparable: the report has no time range"


def test_the_period_fact_names_the_period() -> None:
    window = resolve_window(TimeRange(start=date(2026, 7, 1), end=date(2026, 10, 1)), TODAY)
    fact = period_fact(REVENUE, window, SOURCE)
    assert (fact.value, fact.formatted, fact.unit) == ("2026-07-01/2026-10-01", "Q3 2026", "text")
    assert period_fact(REVENUE, resolve_window(None, TODAY), SOURCE).value is None


# -- movers and share --------------------------------------------------------------------------


def test_movers_rank_absolute_changes_and_count_new_members_as_zero() -> None:
    now = by_region(EMEA=150.0, Americas=80.0, APAC=30.0)
    before = by_region(EMEA=100.0, Americas=100.0)
    ranked = movers(now, before, "region", "revenue", additive=True)
    assert [(r.member, r.change) for r in ranked] == [
        ("EMEA", 50.0),
        ("APAC", 30.0),
        ("Americas", -20.0),
    ]
    apac = ranked[1]
    assert (apac.prior, apac.change_ratio) == (0.0, None)


def test_movers_of_an_average_leave_out_members_missing_from_a_period() -> None:
    now = pd.DataFrame({"region": ["EMEA", "APAC"], "avg_order_value": [10.0, 99.0]})
    before = pd.DataFrame({"region": ["EMEA"], "avg_order_value": [12.0]})
    ranked = movers(now, before, "region", "avg_order_value", additive=False)
    assert [r.member for r in ranked] == ["EMEA"]


def test_top_and_bottom_mover_facts_carry_both_values() -> None:
    facts = FactSet(
        "revenue",
        "Revenue",
        mover_facts(
            REVENUE,
            "region",
            by_region(EMEA=150.0, Americas=80.0),
            by_region(EMEA=100.0, Americas=100.0),
            (SOURCE, PRIOR_SOURCE),
            additive=True,
        ),
    )
    assert facts["top_mover"].value == "EMEA"
    assert (facts["top_mover_prior"].value, facts["top_mover_value"].value) == (100.0, 150.0)
    assert facts["top_mover_change"].formatted == "+$50.00"
    assert facts["top_mover_change_pct"].formatted == "+50.0%"
    assert facts["bottom_mover"].value == "Americas"
    assert facts["bottom_mover_change"].formatted == "\u2212$20.00"
    assert facts["top_mover"].id == "revenue-by-region-top-mover"
    assert facts["bottom_mover_change"].source == PRIOR_SOURCE


def test_when_nothing_fell_there_is_no_bottom_mover() -> None:
    facts = FactSet(
        "revenue",
        "Revenue",
        mover_facts(
            REVENUE,
            "region",
            by_region(EMEA=150.0, Americas=90.0),
            by_region(EMEA=100.0, Americas=80.0),
            (SOURCE, PRIOR_SOURCE),
            additive=True,
        ),
    )
    assert facts.has("top_mover")
    assert not facts.has("bottom_mover")
    assert facts["bottom_mover"].note == "no region fell"


@pytest.mark.parametrize("additive", [True, False])
def test_a_single_comparable_member_gives_no_movers(additive: bool) -> None:
    # A filter or a row policy leaves only EMEA: "EMEA rose the most" would say nothing.
    facts = FactSet(
        "revenue",
        "Revenue",
        mover_facts(
            REVENUE,
            "region",
            by_region(EMEA=150.0, APAC=30.0) if not additive else by_region(EMEA=150.0),
            by_region(EMEA=100.0),
            (SOURCE, PRIOR_SOURCE),
            additive=additive,
        ),
    )
    assert not facts.has("top_mover")
    assert not facts.has("bottom_mover")
    assert facts["top_mover"].note == "fewer than two region values to compare"


def test_the_top_contributor_share_needs_an_additive_measure() -> None:
    total = total_fact(REVENUE, one("revenue", 200.0), SOURCE)
    name, value, share = share_facts(
        REVENUE, "region", by_region(EMEA=150.0, Americas=50.0), total, SOURCE
    )
    assert (name.value, value.value, share.value) == ("EMEA", 150.0, 0.75)
    assert share.formatted == "75.0%"
    average_total = total_fact(AVERAGE, one("avg_order_value", 40.0), SOURCE)
    frame = pd.DataFrame({"region": ["EMEA", "APAC"], "avg_order_value": [50.0, 30.0]})
    *_, refused = share_facts(AVERAGE, "region", frame, average_total, SOURCE)
    assert refused.value is None
    assert "does not add up" in refused.note


def test_no_share_of_a_total_with_negative_parts() -> None:
    total = total_fact(REVENUE, one("revenue", 50.0), SOURCE)
    *_, share = share_facts(REVENUE, "region", by_region(EMEA=80.0, APAC=-30.0), total, SOURCE)
    assert share.value is None
    assert "negative" in share.note


# -- series: outliers and trend -----------------------------------------------------------------


def months(values: list[float], start: date = date(2026, 1, 1)) -> pd.DataFrame:
    firsts = [
        date(start.year + (start.month - 1 + i) // 12, (start.month - 1 + i) % 12 + 1, 1)
        for i in range(len(values))
    ]
    return pd.DataFrame({"order_date__month": firsts, "revenue": values})


def test_only_complete_buckets_count() -> None:
    frame = months([5.0, 10.0, 11.0, 12.0])  # Jan..Apr
    points = complete_points(
        frame,
        "order_date__month",
        "revenue",
        TimeGrain.MONTH,
        start=date(2026, 1, 15),  # January is cut
        end=date(2026, 5, 1),
        latest=date(2026, 4, 20),  # April is not over in the data
    )
    assert [p.start for p in points] == [date(2026, 2, 1), date(2026, 3, 1)]


def test_robust_z_scores_flag_a_spike_and_ignore_a_flat_series() -> None:
    scores = robust_z_scores([10.0, 11.0, 9.0, 10.0, 12.0, 10.0, 60.0])
    assert [abs(z) > OUTLIER_THRESHOLD for z in scores] == [False] * 6 + [True]
    assert robust_z_scores([5.0] * 6) == [0.0] * 6
    # More than half the values equal: the MAD is zero, the mean deviation stands in.
    fallback = robust_z_scores([5.0, 5.0, 5.0, 5.0, 50.0])
    assert fallback[-1] > OUTLIER_THRESHOLD


def test_outlier_facts_name_the_most_unusual_bucket() -> None:
    values = [10.0, 11.0, 9.0, 10.0, 2.0, 10.5, 9.5]
    points = complete_points(
        months(values),
        "order_date__month",
        "revenue",
        TimeGrain.MONTH,
        start=None,
        end=None,
        latest=None,
    )
    facts = FactSet("revenue", "Revenue", outlier_facts(REVENUE, points, TimeGrain.MONTH, SOURCE))
    assert facts["outlier_count"].value == 1
    assert facts["outlier"].value == date(2026, 5, 1)
    assert facts["outlier"].formatted == "May 2026"
    assert facts["outlier_value"].value == 2.0
    assert facts["series_median"].value == 10.0


def test_too_few_points_for_outliers_says_how_many_it_needs() -> None:
    points = [Point(date(2026, m, 1), date(2026, m + 1, 1), 1.0) for m in (1, 2, 3)]
    facts = FactSet("revenue", "Revenue", outlier_facts(REVENUE, points, TimeGrain.MONTH, SOURCE))
    assert not facts.has("outlier_count")
    assert "at least 5 complete months" in facts["outlier_count"].note


def test_the_trend_is_the_least_squares_slope_relative_to_the_mean() -> None:
    values = [100.0, 104.0, 107.0, 113.0, 115.0, 121.0]
    slope, _ = np.polyfit(range(len(values)), values, 1)
    assert least_squares_slope(values) == pytest.approx(slope)
    points = [Point(date(2026, 1, 1), date(2026, 2, 1), v) for v in values]
    facts = FactSet("revenue", "Revenue", trend_facts(REVENUE, points, TimeGrain.MONTH, SOURCE))
    assert facts["trend"].value == "up"
    assert facts["trend_slope"].value == pytest.approx(slope / np.mean(values))
    assert facts["trend_points"].value == 6


@pytest.mark.parametrize(
    ("relative", "direction"), [(0.05, "up"), (-0.05, "down"), (0.009, "flat"), (-0.01, "flat")]
)
def test_trend_direction_has_a_flat_band(relative: float, direction: str) -> None:
    assert trend_direction(relative) == direction


@pytest.mark.parametrize("values", [[], [5.0], [5.0, 6.0], [0.0, 0.0, 0.0]])
def test_no_trend_from_too_little_or_a_zero_mean(values: list[float]) -> None:
    points = [Point(date(2026, 1, 1), date(2026, 2, 1), v) for v in values]
    facts = FactSet("revenue", "Revenue", trend_facts(REVENUE, points, TimeGrain.MONTH, SOURCE))
    assert not facts.has("trend")
    assert facts["trend"].note


# -- attainment and freshness ---------------------------------------------------------------------


def test_attainment_is_actual_over_target() -> None:
    actual = total_fact(REVENUE, one("revenue", 94.6), SOURCE)
    target, attainment, gap = attainment_facts(
        REVENUE, actual, 100.0, MeasureFormat.CURRENCY, PRIOR_SOURCE
    )
    assert attainment.value == pytest.approx(0.946)
    assert attainment.formatted == "94.6%"
    assert gap.formatted == "\u2212$5.40"
    assert target.source == attainment.source == PRIOR_SOURCE
    assert attainment.derived_from == ("revenue-total", "revenue-target")


@pytest.mark.parametrize(("target", "why"), [(0.0, "not positive"), (None, "no target")])
def test_attainment_of_a_zero_or_missing_target_is_not_comparable(
    target: float | None, why: str
) -> None:
    actual = total_fact(REVENUE, one("revenue", 50.0), SOURCE)
    _, attainment, _ = attainment_facts(REVENUE, actual, target, MeasureFormat.CURRENCY, SOURCE)
    assert attainment.value is None
    assert why in attainment.note


def test_freshness_within_and_beyond_the_promise() -> None:
    formatter = LocaleFormatter("en_US")

    def facts(today: date, latest: date | datetime | None = date(2026, 10, 31)) -> FactSet:
        return FactSet(
            "revenue",
            "Revenue",
            freshness_facts(
                "sales",
                latest=latest,
                sla_hours=48,
                today=today,
                source=SOURCE,
                formatter=formatter,
            ),
        )

    fresh = facts(date(2026, 11, 2))
    assert fresh["freshness_latest"].formatted == "Oct 31, 2026"
    assert fresh["freshness_within_sla"].value is True
    assert fresh["freshness_age"].value == 2
    stale = facts(date(2026, 11, 10))
    assert stale["freshness_within_sla"].value is False
    assert stale["freshness_age"].value == 10
    timestamp = facts(date(2026, 11, 1), datetime(2026, 10, 31, 18, 30))
    assert timestamp["freshness_latest"].value == date(2026, 10, 31)
    unknown = facts(date(2026, 11, 1), None)
    assert not unknown.has("freshness_latest")
    assert not unknown.has("freshness_within_sla")
    assert fresh["freshness_latest"].id == "sales-freshness-latest"


# -- the model -------------------------------------------------------------------------------------


def test_fact_ids_must_be_url_safe() -> None:
    good = total_fact(REVENUE, one("revenue", 1.0), SOURCE)
    with pytest.raises(ValidationError):
        Fact.model_validate({**good.model_dump(), "id": "revenue total<script>"})


def test_a_fact_set_refuses_duplicate_keys_and_names_what_exists() -> None:
    total = total_fact(REVENUE, one("revenue", 1.0), SOURCE)
    with pytest.raises(ValueError, match="share the key 'total'"):
        FactSet("revenue", "Revenue", (total, total))
    facts = FactSet("revenue", "Revenue", (total,))
    with pytest.raises(KeyError, match="available: total"):
        facts["totl"]
    assert "total" in facts
    assert len(facts) == 1
    assert list(facts) == [total]
