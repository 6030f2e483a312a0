"""Facts from governed queries: every number equals the same figure computed independently with
pandas from the warehouse's raw rows, limited to what the reader may see."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from reportgen.bootstrap import Services
from reportgen.domain.catalog import MeasureFormat
from reportgen.domain.facts import FactSet
from reportgen.domain.principal import Principal
from reportgen.domain.query import Filter, Operator, QueryRequest, TimePreset, TimeRange
from reportgen.domain.spec import (
    Comparison,
    KpiBlock,
    KpiTile,
    Layout,
    NarrativeBlock,
    ReportSpec,
    TargetRef,
)
from reportgen.errors import InvalidInput, NotAllowed
from reportgen.rendering.formatting import LocaleFormatter
from reportgen.rendering.narrative import write_narrative
from reportgen.services.facts import FactService
from reportgen.services.queries import QueryResult
from tests.conftest import ADMIN, ANA, DEMO_END, VICTOR

TODAY = date(2026, 11, 1)  # the run's logical day: the demo data ends the day before
ALL_REGIONS = ("EMEA", "Americas", "APAC")
Q3 = (date(2026, 7, 1), date(2026, 10, 1))
Q2 = (date(2026, 4, 1), date(2026, 7, 1))
Q3_LAST_YEAR = (date(2025, 7, 1), date(2025, 10, 1))
TARGET = TargetRef(dataset="targets", measure="revenue_target")
USD = LocaleFormatter("en_US", "USD")


def regions_of(principal: Principal) -> tuple[str, ...]:
    return ALL_REGIONS if principal.is_admin else principal.attributes["region"]


@pytest.fixture(scope="module")
def raw(warehouse_path: Path) -> dict[str, pd.DataFrame]:
    """The warehouse's rows, read directly: no catalog, no governance, exact decimals."""
    with duckdb.connect(str(warehouse_path), read_only=True) as con:
        orders = con.execute(
            "SELECT order_date, region, channel, category, revenue FROM orders"
        ).fetchall()
        targets = con.execute("SELECT month, region, category, revenue_target FROM targets")
        target_rows = targets.fetchall()
    frames = {
        "orders": pd.DataFrame(
            orders, columns=["order_date", "region", "channel", "category", "revenue"]
        ),
        "targets": pd.DataFrame(
            target_rows, columns=["month", "region", "category", "revenue_target"]
        ),
    }
    for frame, column in ((frames["orders"], "order_date"), (frames["targets"], "month")):
        frame[column] = pd.to_datetime(frame[column])
    return frames


def rows(
    frame: pd.DataFrame,
    column: str,
    regions: tuple[str, ...],
    span: tuple[date, date] | None,
    **equals: str,
) -> pd.DataFrame:
    keep = frame["region"].isin(regions)
    if span is not None:
        keep &= (frame[column] >= pd.Timestamp(span[0])) & (frame[column] < pd.Timestamp(span[1]))
    for field, value in equals.items():
        keep &= frame[field] == value
    return frame[keep]


def total(frame: pd.DataFrame, column: str = "revenue") -> float:
    return float(sum(frame[column], Decimal(0)))


def by(frame: pd.DataFrame, dimension: str) -> pd.Series:
    return frame.groupby(dimension)["revenue"].apply(lambda s: float(sum(s, Decimal(0))))


@pytest.fixture
def facts(services: Services) -> FactService:
    return FactService(services.queries, today=lambda: TODAY)


@dataclass
class QueryCount:
    requests: list[QueryRequest]


@pytest.fixture
def counted(services: Services, monkeypatch: pytest.MonkeyPatch) -> Iterator[QueryCount]:
    """Counts the governed queries the fact service runs (they still run for real)."""
    seen = QueryCount([])
    run = services.queries.run

    def counting(principal: Principal, request: QueryRequest) -> QueryResult:
        seen.requests.append(request)
        return run(principal, request)

    monkeypatch.setattr(services.queries, "run", counting)
    yield seen


def narrative_spec(
    block: NarrativeBlock,
    time_range: TimeRange | None = TimeRange(preset=TimePreset.LAST_QUARTER),  # noqa: B008
    *,
    filters: tuple[Filter, ...] = (),
    locale: str = "en_US",
    currency: str = "USD",
) -> ReportSpec:
    return ReportSpec(
        title="Sales",
        dataset="sales",
        time_range=time_range,
        filters=filters,
        layout=Layout(locale=locale, currency=currency),
        blocks=(block,),
    )


def linked(fact_id: str, text: str) -> str:
    return f'<a class="fact" href="#fact-{fact_id}">{text}</a>'


# -- the key property: narrative numbers equal pandas ----------------------------------------------


@pytest.mark.parametrize("principal", [ADMIN, ANA], ids=["admin", "ana"])
def test_narrative_numbers_equal_pandas(
    facts: FactService, raw: dict[str, pd.DataFrame], principal: Principal
) -> None:
    block = NarrativeBlock(measure="revenue", by="category", target=TARGET)
    found = facts.narrative(principal, narrative_spec(block), block)
    regions = regions_of(principal)
    orders, targets = raw["orders"], raw["targets"]

    current = rows(orders, "order_date", regions, Q3)
    prior = rows(orders, "order_date", regions, Q2)
    last_year = rows(orders, "order_date", regions, Q3_LAST_YEAR)
    expected_total, expected_prior, expected_py = total(current), total(prior), total(last_year)
    expected_target = total(rows(targets, "month", regions, Q3), "revenue_target")
    deltas = by(current, "category").sub(by(prior, "category"), fill_value=0).sort_index()
    shares = by(current, "category") / expected_total

    assert found["period"].formatted == "Q3 2026"
    assert found["total"].value == expected_total
    assert found["prior_period_total"].value == expected_prior
    assert found["prior_year_total"].value == expected_py
    assert found["change_prior_period"].value == pytest.approx(
        (expected_total - expected_prior) / expected_prior
    )
    assert found["change_prior_year"].value == pytest.approx(
        (expected_total - expected_py) / expected_py
    )
    if deltas.max() > 0:
        assert found["top_mover"].value == deltas.idxmax()
        assert found["top_mover_change"].value == pytest.approx(deltas.max())
    else:
        assert not found.has("top_mover")
    if deltas.min() < 0:
        assert found["bottom_mover"].value == deltas.idxmin()
        assert found["bottom_mover_change"].value == pytest.approx(deltas.min())
    else:
        assert not found.has("bottom_mover")
    assert found["top_contributor"].value == shares.idxmax()
    assert found["top_contributor_share"].value == pytest.approx(shares.max())
    assert found["target"].value == pytest.approx(expected_target)
    assert found["attainment"].value == pytest.approx(expected_total / expected_target)
    assert found["freshness_latest"].value == DEMO_END

    text = " ".join(write_narrative(found, locale="en_US"))
    expected_text = [
        ("revenue-total", USD.measure(expected_total, MeasureFormat.CURRENCY)),
        ("revenue-prior-period-total", USD.measure(expected_prior, MeasureFormat.CURRENCY)),
        (
            "revenue-change-prior-period",
            USD.change((expected_total - expected_prior) / expected_prior),
        ),
        ("revenue-change-prior-year", USD.change((expected_total - expected_py) / expected_py)),
        (
            "revenue-attainment",
            USD.measure(expected_total / expected_target, MeasureFormat.PERCENT),
        ),
        ("revenue-target", USD.measure(expected_target, MeasureFormat.CURRENCY)),
        ("sales-freshness-latest", USD.day(DEMO_END)),
    ]
    for role, delta in (("top", deltas.max()), ("bottom", deltas.min())):
        if (delta > 0) if role == "top" else (delta < 0):
            expected_text.append(
                (
                    f"revenue-by-category-{role}-mover-change",
                    USD.measure(delta, MeasureFormat.CURRENCY, signed=True),
                )
            )
    for fact_id, shown in expected_text:
        assert linked(fact_id, shown) in text
    assert "By category, " in text


@pytest.mark.parametrize("principal", [ADMIN, ANA], ids=["admin", "ana"])
def test_outliers_and_trend_equal_an_independent_computation(
    facts: FactService, raw: dict[str, pd.DataFrame], principal: Principal
) -> None:
    three_years = (date(2023, 11, 1), date(2026, 11, 1))
    block = NarrativeBlock(measure="revenue")
    spec = narrative_spec(block, TimeRange(start=three_years[0], end=three_years[1]))
    found = facts.narrative(principal, spec, block)
    selected = rows(raw["orders"], "order_date", regions_of(principal), three_years)
    monthly = (
        selected.assign(month=selected["order_date"].dt.to_period("M"))
        .groupby("month")["revenue"]
        .apply(lambda s: float(sum(s, Decimal(0))))
    )
    median = monthly.median()
    mad = (monthly - median).abs().median()
    scores = 0.6745 * (monthly - median) / mad
    slope = np.polyfit(np.arange(len(monthly)), monthly.to_numpy(), 1)[0]

    assert len(monthly) == 36
    assert found["series_median"].value == pytest.approx(median)
    assert found["outlier_count"].value == int((scores.abs() > 3.5).sum()) > 0
    worst = scores.abs().idxmax()
    assert found["outlier"].value == worst.start_time.date()
    assert found["outlier_value"].value == pytest.approx(monthly[worst])
    assert found["trend_points"].value == 36
    assert found["trend_slope"].value == pytest.approx(slope / monthly.mean())
    relative = slope / monthly.mean()
    assert found["trend"].value == (
        "up" if relative > 0.01 else "down" if relative < -0.01 else "flat"
    )


def test_every_fact_is_reproducible_from_its_own_query(
    facts: FactService, warehouse_path: Path
) -> None:
    """The provenance is real: the recorded SQL and values give the recorded number."""
    block = NarrativeBlock(measure="revenue", by="region", target=TARGET)
    found = facts.narrative(ANA, narrative_spec(block), block)
    with duckdb.connect(str(warehouse_path), read_only=True) as con:
        for key, column in [
            ("total", "revenue"),
            ("prior_year_total", "revenue"),
            ("target", "revenue_target"),
        ]:
            fact = found[key]
            result = con.execute(fact.source.sql, list(fact.source.params)).df()
            assert float(result[column].iloc[0]) == pytest.approx(fact.value)
            assert fact.source.dataset_version
            assert len(fact.source.query_hash) == 64


# -- governance ------------------------------------------------------------------------------------


def test_a_region_limited_reader_only_sees_their_region(
    facts: FactService, raw: dict[str, pd.DataFrame]
) -> None:
    block = NarrativeBlock(measure="revenue", by="region", target=TARGET)
    spec = narrative_spec(block)
    ana = facts.narrative(ANA, spec, block)
    admin = facts.narrative(ADMIN, spec, block)
    emea = total(rows(raw["orders"], "order_date", ("EMEA",), Q3))
    assert ana["total"].value == emea
    assert admin["total"].value == total(rows(raw["orders"], "order_date", ALL_REGIONS, Q3))
    assert admin["total"].value != ana["total"].value
    # Along region, EMEA is all Ana can see: it is the whole of her total.
    assert ana["top_contributor"].value == "EMEA"
    assert ana["top_contributor_share"].value == 1.0
    # One region has nothing to be ranked against: no "EMEA rose the most" for Ana.
    assert not ana.has("top_mover")
    assert not ana.has("bottom_mover")
    assert admin.has("top_mover") or admin.has("bottom_mover")
    assert ana["target"].value == pytest.approx(
        total(rows(raw["targets"], "month", ("EMEA",), Q3), "revenue_target")
    )
    for fact in ana:
        assert "EMEA" in fact.source.params
        assert "Americas" not in fact.source.params
    text = " ".join(write_narrative(ana, locale="en_US"))
    assert "Americas" not in text
    assert "APAC" not in text
    assert "the most" not in text


def test_refused_measures_and_datasets_stay_refused(facts: FactService) -> None:
    margin = NarrativeBlock(measure="gross_margin")
    with pytest.raises(NotAllowed, match="gross_margin"):
        facts.narrative(VICTOR, narrative_spec(margin), margin)
    planned = NarrativeBlock(measure="revenue", target=TARGET)
    with pytest.raises(NotAllowed):
        facts.narrative(VICTOR, narrative_spec(planned), planned)
    revenue = NarrativeBlock(measure="revenue", by="region")
    americas = facts.narrative(VICTOR, narrative_spec(revenue), revenue)
    assert americas["top_contributor"].value == "Americas"


def test_an_unknown_measure_names_the_choices(facts: FactService) -> None:
    block = NarrativeBlock(measure="profit")
    with pytest.raises(InvalidInput, match="choose from: revenue"):
        facts.narrative(ADMIN, narrative_spec(block), block)


# -- filters, targets and time ranges --------------------------------------------------------------


def test_the_target_gets_the_spec_filters_that_exist_in_its_dataset(
    facts: FactService, raw: dict[str, pd.DataFrame]
) -> None:
    block = NarrativeBlock(measure="revenue", target=TARGET)
    filters = (
        Filter(field="category", op=Operator.EQ, value="Hardware"),
        Filter(field="channel", op=Operator.EQ, value="Online"),
    )
    found = facts.narrative(ADMIN, narrative_spec(block, filters=filters), block)
    actual = total(
        rows(raw["orders"], "order_date", ALL_REGIONS, Q3, category="Hardware", channel="Online")
    )
    planned = total(
        rows(raw["targets"], "month", ALL_REGIONS, Q3, category="Hardware"), "revenue_target"
    )
    assert found["total"].value == actual
    assert found["target"].value == pytest.approx(planned)
    assert "does not depend on channel" in found["attainment"].note
    assert "Hardware" in found["target"].source.params
    assert "Online" not in found["target"].source.params


def test_presets_resolve_on_the_services_logical_day(services: Services) -> None:
    block = NarrativeBlock(measure="revenue")
    spec = narrative_spec(block, TimeRange(preset=TimePreset.LAST_MONTH))
    august = FactService(services.queries, today=lambda: date(2026, 9, 15)).narrative(
        ADMIN, spec, block
    )
    october = FactService(services.queries, today=lambda: TODAY).narrative(ADMIN, spec, block)
    assert august["period"].formatted == "Aug 2026"
    assert october["period"].formatted == "Oct 2026"
    assert august["total"].value != october["total"].value


def test_without_a_time_range_comparisons_are_unavailable_not_wrong(
    facts: FactService, raw: dict[str, pd.DataFrame]
) -> None:
    block = NarrativeBlock(measure="revenue", by="region")
    found = facts.narrative(ADMIN, narrative_spec(block, None), block)
    assert found["total"].value == total(raw["orders"])
    for key in ("change_prior_period", "change_prior_year"):
        assert found[key].value is None
        assert found[key].formatted == "not comparable"
        assert "no time range" in found[key].note
    assert not found.has("top_mover")
    assert found.has("top_contributor")
    sentences = write_narrative(found, locale="en_US")
    assert sentences
    assert not any("None" in s or "not comparable" in s or "nan" in s for s in sentences)


def test_a_period_without_data_says_so(facts: FactService) -> None:
    block = NarrativeBlock(measure="revenue", by="region", target=TARGET)
    future = TimeRange(start=date(2030, 7, 1), end=date(2030, 10, 1))
    found = facts.narrative(ADMIN, narrative_spec(block, future), block)
    assert found["total"].value is None
    assert found["change_prior_period"].formatted == "not comparable"
    assert not found.has("top_mover")
    assert not found.has("trend")
    sentences = write_narrative(found, locale="en_US")
    assert sentences[0] == "There is no data for Revenue in Q3 2030."
    assert not any("None" in s or "nan" in s for s in sentences)


def test_stale_data_is_called_out(services: Services) -> None:
    block = NarrativeBlock(measure="revenue")
    late = FactService(services.queries, today=lambda: date(2026, 11, 10))
    found = late.narrative(ADMIN, narrative_spec(block), block)
    assert found["freshness_within_sla"].value is False
    assert found["freshness_age"].value == 10
    sentence = re.sub(r"<[^>]+>", "", write_narrative(found, locale="en_US")[-1])
    # The sales promise is 48 hours: said as people say it (the fact keeps the hours).
    assert sentence.endswith("10 days old, later than its promise of 2 days.")
    assert found["freshness_sla"].value == 48


def test_german_reports_format_numbers_the_german_way(facts: FactService) -> None:
    block = NarrativeBlock(measure="revenue")
    english = facts.narrative(ADMIN, narrative_spec(block), block)
    german = facts.narrative(ADMIN, narrative_spec(block, locale="de_DE", currency="EUR"), block)
    assert english["total"].value == german["total"].value
    assert german["total"].formatted == LocaleFormatter("de_DE", "EUR").measure(
        german["total"].value,
        MeasureFormat.CURRENCY,  # type: ignore[arg-type]
    )
    assert "Mio." in german["total"].formatted
    assert "," in german["change_prior_period"].formatted
    assert english["total"].formatted != german["total"].formatted


# -- KPI tiles -------------------------------------------------------------------------------------


def test_kpi_tiles_equal_pandas_with_a_few_queries(
    facts: FactService, raw: dict[str, pd.DataFrame], counted: QueryCount
) -> None:
    block = KpiBlock(
        tiles=(
            KpiTile(
                measure="revenue",
                compare=(Comparison.PRIOR_PERIOD, Comparison.PRIOR_YEAR, Comparison.TARGET),
                target=TARGET,
            ),
            KpiTile(measure="orders", label="Order lines", compare=(Comparison.PRIOR_PERIOD,)),
        )
    )
    spec = ReportSpec(
        title="KPIs",
        dataset="sales",
        time_range=TimeRange(preset=TimePreset.LAST_QUARTER),
        blocks=(block,),
    )
    revenue, orders = facts.kpis(ANA, spec, block)
    emea = ("EMEA",)
    now = rows(raw["orders"], "order_date", emea, Q3)
    before = rows(raw["orders"], "order_date", emea, Q2)
    planned = total(rows(raw["targets"], "month", emea, Q3), "revenue_target")

    assert revenue.value.value == total(now)
    assert [c.comparison for c in revenue.comparisons] == list(block.tiles[0].compare)
    period, _, target = revenue.comparisons
    assert period.fact.value == pytest.approx((total(now) - total(before)) / total(before))
    assert period.baseline.value == total(before)
    assert target.fact.value == pytest.approx(total(now) / planned)
    assert orders.value.value == len(now)
    assert orders.comparisons[0].fact.value == pytest.approx(len(now) / len(before) - 1)
    tile = revenue.tile()
    assert tile.value == USD.measure(total(now), MeasureFormat.CURRENCY)
    assert [c.fact_id for c in tile.changes] == [
        "revenue-change-prior-period",
        "revenue-change-prior-year",
        "revenue-attainment",
    ]
    assert tile.changes[2].favourable is (total(now) >= planned)
    assert orders.tile().label == "Order lines"
    # The period, the prior period and the prior year for both tiles, and the target.
    assert len(counted.requests) == 4


def test_a_partly_covered_month_counts_its_target_by_the_days_covered(
    facts: FactService, raw: dict[str, pd.DataFrame]
) -> None:
    """Sep 16 - Oct 10: half of September's plan and 10/31 of October's, not both in full."""
    block = KpiBlock(
        tiles=(KpiTile(measure="revenue", compare=(Comparison.TARGET,), target=TARGET),)
    )
    span = (date(2026, 9, 16), date(2026, 10, 11))
    spec = ReportSpec(
        title="KPIs",
        dataset="sales",
        time_range=TimeRange(start=span[0], end=span[1]),
        blocks=(block,),
    )
    (revenue,) = facts.kpis(ADMIN, spec, block)
    september = total(
        rows(raw["targets"], "month", ALL_REGIONS, (date(2026, 9, 1), date(2026, 10, 1))),
        "revenue_target",
    )
    october = total(
        rows(raw["targets"], "month", ALL_REGIONS, (date(2026, 10, 1), date(2026, 11, 1))),
        "revenue_target",
    )
    planned = september * 15 / 30 + october * 10 / 31
    actual = total(rows(raw["orders"], "order_date", ALL_REGIONS, span))
    (target,) = revenue.comparisons
    assert target.baseline.value == pytest.approx(planned)
    assert target.fact.value == pytest.approx(actual / planned)
    assert "Sep 2026 is prorated to the 15 of its 30 days" in target.baseline.note
    assert "Oct 2026 is prorated to the 10 of its 31 days" in target.baseline.note
    assert "counts in full" not in target.baseline.note

    narrative = NarrativeBlock(measure="revenue", target=TARGET)
    found = facts.narrative(ADMIN, narrative_spec(narrative, spec.time_range), narrative)
    assert found["target"].value == pytest.approx(planned)
    assert "prorated" in found["attainment"].note


def test_month_to_date_compares_with_the_month_to_date_target(
    services: Services, raw: dict[str, pd.DataFrame]
) -> None:
    """Early in a month, the attainment is of the days so far, not of the whole month's plan."""
    early = FactService(services.queries, today=lambda: date(2026, 10, 3))
    block = NarrativeBlock(measure="revenue", target=TARGET)
    spec = narrative_spec(block, TimeRange(preset=TimePreset.MONTH_TO_DATE))
    found = early.narrative(ADMIN, spec, block)
    october = total(
        rows(raw["targets"], "month", ALL_REGIONS, (date(2026, 10, 1), date(2026, 11, 1))),
        "revenue_target",
    )
    assert found["target"].value == pytest.approx(october * 3 / 31)
    so_far = total(
        rows(raw["orders"], "order_date", ALL_REGIONS, (date(2026, 10, 1), date(2026, 10, 4)))
    )
    assert found["attainment"].value == pytest.approx(so_far / (october * 3 / 31))


def test_a_tile_carries_its_value_facts_note(facts: FactService) -> None:
    block = KpiBlock(tiles=(KpiTile(measure="revenue", compare=()),))
    future = TimeRange(start=date(2030, 7, 1), end=date(2030, 10, 1))
    spec = ReportSpec(title="KPIs", dataset="sales", time_range=future, blocks=(block,))
    (revenue,) = facts.kpis(ADMIN, spec, block)
    assert revenue.value.note == "there is no data for this period"
    assert revenue.tile().note == revenue.value.note


def test_a_narrative_runs_a_handful_of_queries(facts: FactService, counted: QueryCount) -> None:
    block = NarrativeBlock(measure="revenue", by="region", target=TARGET)
    found = facts.narrative(ADMIN, narrative_spec(block), block)
    assert len(found) > 25
    assert len(counted.requests) == 7
    assert len({f.source.query_hash for f in found}) <= 7


def test_kpi_without_a_time_range_marks_comparisons_unavailable(facts: FactService) -> None:
    block = KpiBlock(tiles=(KpiTile(measure="revenue"),))
    spec = ReportSpec(title="KPIs", dataset="sales", blocks=(block,))
    (tile,) = facts.kpis(ADMIN, spec, block)
    assert tile.value.available
    view = tile.tile()
    assert [c.text for c in view.changes] == ["not comparable", "not comparable"]
    assert {c.direction for c in view.changes} == {"flat"}


def test_fact_ids_are_unique_and_url_safe(facts: FactService) -> None:
    block = NarrativeBlock(measure="avg_order_value", by="channel", target=TARGET)
    found: FactSet = facts.narrative(ADMIN, narrative_spec(block), block)
    ids = [f.id for f in found]
    assert len(ids) == len(set(ids))
    assert all(i.replace("-", "").isalnum() and i == i.lower() for i in ids)
    # An average does not add up across channels: no share of total is claimed.
    assert not found.has("top_contributor_share")


def test_kpis_and_a_narrative_of_one_spec_ask_the_same_period_questions(
    facts: FactService, raw: dict[str, pd.DataFrame], counted: QueryCount
) -> None:
    """The narrative's totals come from the tiles' queries (all the spec's fact measures at
    once), so a report asks each period once; every number still equals pandas."""
    narrative = NarrativeBlock(measure="revenue", by="region")
    kpis = KpiBlock(tiles=(KpiTile(measure="orders"), KpiTile(measure="revenue")))
    spec = narrative_spec(narrative).model_copy(update={"blocks": (kpis, narrative)})
    orders, revenue = facts.kpis(ANA, spec, kpis)
    found = facts.narrative(ANA, spec, narrative)
    now = rows(raw["orders"], "order_date", ("EMEA",), Q3)
    assert found["total"].value == revenue.value.value == total(now)
    assert orders.value.value == len(now)
    assert found["total"].source.query_hash == revenue.value.source.query_hash
    baselines = {c.comparison: c.baseline for c in revenue.comparisons}
    assert found["prior_period_total"].source.query_hash == (
        baselines[Comparison.PRIOR_PERIOD].source.query_hash
    )
    totals = [r for r in counted.requests if not r.dimensions and r.grain is None]
    assert {r.measures for r in totals} == {("orders", "revenue")}
    # The trend reads the narrative's measure alone: the rows a chart of it reads.
    (series,) = [r for r in counted.requests if r.grain is not None]
    assert series.measures == ("revenue",)
