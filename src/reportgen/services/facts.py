"""Facts for KPI tiles and narratives, computed from governed queries.

Every number comes from `QueryService.run` as the principal, so row policies and measure rights
hold: a region-limited reader's facts only ever see their region. The spec's time range is
resolved here, once, with this service's `today` (the run's logical day), and every query gets
explicit dates, so the prior period and the prior year line up with the period exactly.
A handful of queries serve all the facts of a block; `QueryService` caches them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from reportgen.domain.catalog import Dataset, Measure, MeasureFormat, TimeGrain
from reportgen.domain.facts import (
    EarlierPeriod,
    Fact,
    FactSet,
    FactSource,
    MeasureFacts,
    Period,
    Window,
    as_day,
    attainment_facts,
    comparison_facts,
    complete_points,
    freshness_facts,
    is_additive,
    mover_facts,
    number,
    outlier_facts,
    period_fact,
    resolve_window,
    scalar,
    share_facts,
    total_fact,
    trend_facts,
)
from reportgen.domain.principal import Principal
from reportgen.domain.query import Filter, QueryRequest, TimeRange
from reportgen.domain.spec import (
    Comparison,
    KpiBlock,
    KpiTile,
    NarrativeBlock,
    ReportSpec,
)
from reportgen.errors import InvalidInput
from reportgen.rendering.document import Change, Direction, Tile
from reportgen.rendering.formatting import LocaleFormatter
from reportgen.services.queries import QueryResult, QueryService

_COMPARISON_LABELS = {
    Comparison.PRIOR_PERIOD: "vs prior period",
    Comparison.PRIOR_YEAR: "vs prior year",
    Comparison.TARGET: "of target",
}


def fact_source(result: QueryResult) -> FactSource:
    """A query result's provenance, as facts carry it."""
    return FactSource(
        query_hash=result.query_hash,
        sql=result.query.sql,
        params=tuple(str(p) for p in result.query.params),
        dataset=result.dataset,
        dataset_version=result.dataset_version,
    )


@dataclass(frozen=True)
class ComparisonFacts:
    """One comparison on a KPI tile: the change (or attainment) and what it compares with."""

    comparison: Comparison
    label: str
    fact: Fact  # the relative change, or the attainment for a target
    baseline: Fact  # the earlier total, or the target

    @property
    def direction(self) -> Direction:
        value = number(self.fact.value)
        if value is None:
            return "flat"
        if self.comparison is Comparison.TARGET:
            value -= 1.0
        if round(value * 100, 1) == 0:  # reads as 0.0%
            return "flat"
        return "up" if value > 0 else "down"


@dataclass(frozen=True)
class KpiFacts:
    """A KPI tile's facts: its value and one fact per comparison, in the tile's order."""

    measure: str
    label: str
    value: Fact
    comparisons: tuple[ComparisonFacts, ...] = ()

    @property
    def facts(self) -> tuple[Fact, ...]:
        """Every fact the tile quotes or depends on, for the lineage appendix."""
        out = [self.value]
        for comparison in self.comparisons:
            out += [comparison.baseline, comparison.fact]
        return tuple(out)

    def tile(self) -> Tile:
        """The tile as the document shows it. Only meeting a target is judged favourable:
        the catalog does not say whether more of a measure is better."""
        changes = tuple(
            Change(
                label=c.label,
                text=c.fact.formatted,
                direction=c.direction,
                favourable=(
                    None
                    if c.comparison is not Comparison.TARGET or not c.fact.available
                    else c.direction != "down"
                ),
                fact_id=c.fact.id,
            )
            for c in self.comparisons
        )
        return Tile(
            label=self.label,
            value=self.value.formatted,
            fact_id=self.value.id,
            changes=changes,
            note=self.value.note,
        )


class FactService:
    """Computes the facts behind KPI tiles and narratives, as the principal may see them."""

    def __init__(self, queries: QueryService, today: Callable[[], date] = date.today) -> None:
        self._queries = queries
        self._today = today

    # -- KPI tiles --------------------------------------------------------------------------

    def kpis(self, principal: Principal, spec: ReportSpec, block: KpiBlock) -> list[KpiFacts]:
        """Per tile, its value and a fact per comparison; three queries serve all tiles (the
        period, the prior period, the prior year) plus one per target dataset."""
        dataset = self._queries.dataset(principal, spec.dataset)
        formatter = LocaleFormatter(spec.layout.locale, spec.layout.currency)
        window = self._window(spec, dataset)
        makers = {t.measure: _measure_facts(dataset, t.measure, formatter) for t in block.tiles}
        measures = _fact_measures(spec, tuple(makers))
        current = self._run(principal, dataset.name, measures, spec.filters, window.current)
        wanted = {c for t in block.tiles for c in t.compare}
        earlier: dict[Comparison, QueryResult] = {}
        for comparison, period in (
            (Comparison.PRIOR_PERIOD, window.prior_period),
            (Comparison.PRIOR_YEAR, window.prior_year),
        ):
            if comparison in wanted and period is not None:
                earlier[comparison] = self._run(
                    principal, dataset.name, measures, spec.filters, period.time_range()
                )
        targets = self._kpi_targets(principal, spec, window, block.tiles, current)
        return [
            self._tile(
                tile,
                m=makers[tile.measure],
                current=current,
                earlier=earlier,
                targets=targets,
                window=window,
            )
            for tile in block.tiles
        ]

    def _tile(
        self,
        tile: KpiTile,
        *,
        m: MeasureFacts,
        current: QueryResult,
        earlier: dict[Comparison, QueryResult],
        targets: dict[tuple[str, str], _TargetResult],
        window: Window,
    ) -> KpiFacts:
        value = total_fact(m, current.frame, fact_source(current))
        comparisons: list[ComparisonFacts] = []
        for comparison in tile.compare:
            if comparison is Comparison.TARGET:
                if tile.target is None:
                    continue
                found = targets[(tile.target.dataset, tile.target.measure)]
                target, attainment, _ = attainment_facts(
                    m, value, found.value, found.format, found.source, note=found.note
                )
                comparisons.append(
                    ComparisonFacts(comparison, _COMPARISON_LABELS[comparison], attainment, target)
                )
                continue
            result = earlier.get(comparison)
            prior, change = comparison_facts(
                m,
                "prior_period" if comparison is Comparison.PRIOR_PERIOD else "prior_year",
                value,
                result.frame if result else None,
                fact_source(result) if result else None,
                why_missing=window.why_not_comparable,
            )
            comparisons.append(
                ComparisonFacts(comparison, _COMPARISON_LABELS[comparison], change, prior)
            )
        return KpiFacts(tile.measure, tile.label or m.label, value, tuple(comparisons))

    def _kpi_targets(
        self,
        principal: Principal,
        spec: ReportSpec,
        window: Window,
        tiles: Iterable[KpiTile],
        current: QueryResult,
    ) -> dict[tuple[str, str], _TargetResult]:
        """Target values by (dataset, measure): one query per target dataset."""
        by_dataset: dict[str, list[str]] = {}
        for tile in tiles:
            if tile.target is not None and Comparison.TARGET in tile.compare:
                names = by_dataset.setdefault(tile.target.dataset, [])
                if tile.target.measure not in names:
                    names.append(tile.target.measure)
        found: dict[tuple[str, str], _TargetResult] = {}
        for name, measures in by_dataset.items():
            for measure, target in self._targets(
                principal, spec, window=window, name=name, measures=tuple(measures), actuals=current
            ).items():
                found[(name, measure)] = target
        return found

    # -- narratives ---------------------------------------------------------------------------

    def narrative(self, principal: Principal, spec: ReportSpec, block: NarrativeBlock) -> FactSet:
        """Every fact about `block.measure`: the period and its total, changes against the prior
        period and the prior year, movers and the top contributor along `block.by`, outliers and
        trend at the spec's grain, attainment of `block.target`, and the data's freshness."""
        dataset = self._queries.dataset(principal, spec.dataset)
        formatter = LocaleFormatter(spec.layout.locale, spec.layout.currency)
        m = _measure_facts(dataset, block.measure, formatter)
        window = self._window(spec, dataset)
        measures = _fact_measures(spec, (block.measure,))

        def run(
            dimensions: tuple[str, ...],
            time_range: TimeRange | None,
            grain: TimeGrain | None = None,
        ) -> QueryResult:
            return self._run(
                principal,
                dataset.name,
                # The series is the block's measure alone: the rows a chart of it reads.
                (block.measure,) if grain is not None else measures,
                spec.filters,
                time_range,
                dimensions=dimensions,
                grain=grain,
            )

        current = run((), window.current)
        source = fact_source(current)
        total = total_fact(m, current.frame, source)
        facts = [period_fact(m, window, source), total]
        earlier: tuple[tuple[EarlierPeriod, Period | None], ...] = (
            ("prior_period", window.prior_period),
            ("prior_year", window.prior_year),
        )
        for comparison, period in earlier:
            result = run((), period.time_range()) if period else None
            facts += comparison_facts(
                m,
                comparison,
                total,
                result.frame if result else None,
                fact_source(result) if result else None,
                why_missing=window.why_not_comparable,
            )
        if block.by is not None:
            facts += self._along(block.by, m, total, window, run)
        facts += self._series(
            dataset, grain=spec.grain, m=m, window=window, current=current, run=run
        )
        if block.target is not None:
            target = self._targets(
                principal,
                spec,
                window=window,
                name=block.target.dataset,
                measures=(block.target.measure,),
                actuals=current,
            )[block.target.measure]
            facts += attainment_facts(
                m, total, target.value, target.format, target.source, note=target.note
            )
        freshness = dataset.freshness
        facts += freshness_facts(
            dataset.name,
            latest=current.freshness,
            sla_hours=freshness.sla_hours if freshness else None,
            today=self._today(),
            source=source,
            formatter=formatter,
        )
        by = dataset.dimension(block.by) if block.by else None
        return FactSet(
            measure=block.measure,
            label=m.label,
            facts=tuple(facts),
            dimension=block.by,
            dimension_label=by.label if by else None,
            grain=spec.grain,
        )

    def _along(
        self,
        by: str,
        m: MeasureFacts,
        total: Fact,
        window: Window,
        run: Callable[[tuple[str, ...], TimeRange | None], QueryResult],
    ) -> list[Fact]:
        """Movers and the top contributor along a dimension: two grouped queries."""
        current = run((by,), window.current)
        prior_period = window.prior_period
        prior = run((by,), prior_period.time_range()) if prior_period else None
        members = [v for v in map(number, current.frame[m.name]) if v is not None]
        additive = is_additive(members, number(total.value))
        facts = list(
            mover_facts(
                m,
                by,
                current.frame,
                prior.frame if prior else None,
                (fact_source(current), fact_source(prior) if prior else None),
                additive=additive,
                why_missing=window.why_not_comparable,
            )
        )
        facts += share_facts(m, by, current.frame, total, fact_source(current))
        return facts

    def _series(
        self,
        dataset: Dataset,
        *,
        grain: TimeGrain,
        m: MeasureFacts,
        window: Window,
        current: QueryResult,
        run: Callable[[tuple[str, ...], TimeRange | None, TimeGrain | None], QueryResult],
    ) -> list[Fact]:
        """Outliers and trend over the period's complete time buckets: one query."""
        source = fact_source(current)
        time = dataset.time_dimension
        why = ""
        if time is None:
            why = f"{dataset.name} has no time dimension"
        elif grain not in time.grains:
            why = f"{dataset.name} does not offer the '{grain.value}' grain"
        if why or time is None:
            return [
                *outlier_facts(m, None, grain, source, why_missing=why),
                *trend_facts(m, None, grain, source, why_missing=why),
            ]
        series = run((), window.current, grain)
        points = complete_points(
            series.frame,
            f"{time.column}__{grain.value}",
            m.name,
            grain,
            start=window.start,
            end=window.end,
            latest=as_day(current.freshness),
        )
        series_source = fact_source(series)
        return [
            *outlier_facts(m, points, grain, series_source),
            *trend_facts(m, points, grain, series_source),
        ]

    # -- shared -------------------------------------------------------------------------------

    def _window(self, spec: ReportSpec, dataset: Dataset) -> Window:
        if dataset.time_dimension is None:
            return Window(why_not_comparable=f"{dataset.name} has no time dimension")
        return resolve_window(spec.time_range, self._today())

    def _run(
        self,
        principal: Principal,
        dataset: str,
        measures: tuple[str, ...],
        filters: tuple[Filter, ...],
        time_range: TimeRange | None,
        *,
        dimensions: tuple[str, ...] = (),
        grain: TimeGrain | None = None,
    ) -> QueryResult:
        request = QueryRequest(
            dataset=dataset,
            dimensions=dimensions,
            measures=measures,
            filters=filters,
            grain=grain,
            time_range=time_range,
        )
        return self._queries.run(principal, request)

    def _targets(
        self,
        principal: Principal,
        spec: ReportSpec,
        *,
        window: Window,
        name: str,
        measures: tuple[str, ...],
        actuals: QueryResult,
    ) -> dict[str, _TargetResult]:
        """Target measures over the report's period, with the spec's filters that exist in the
        target dataset. The period stops at the actual data's latest day: a plan for months
        not yet in the data is not compared with nothing."""
        dataset = self._queries.dataset(principal, name)
        formats = {measure: _measure(dataset, measure).format for measure in measures}
        fields = {d.name for d in dataset.dimensions} | {c.name for c in dataset.columns}
        kept = tuple(f for f in spec.filters if f.field in fields)
        notes = [
            f"the target does not depend on {field.replace('_', ' ')}"
            for field in sorted({f.field for f in spec.filters} - fields)
        ]
        start, end = window.start, window.end
        latest = as_day(actuals.freshness)
        if latest is not None:
            data_end = latest + timedelta(days=1)
            if (end is None or data_end < end) and (start is None or data_end > start):
                end = data_end
                notes.append(f"the target is counted up to {latest.isoformat()}, the latest data")
        time = dataset.time_dimension
        time_range: TimeRange | None = None
        if time is not None and (start or end):
            time_range = TimeRange(start=start, end=end)
            partial = (start is not None and start.day != 1) or (end is not None and end.day != 1)
            if partial and TimeGrain.DAY not in time.grains:
                if start is not None and end is not None and TimeGrain.MONTH in time.grains:
                    return self._prorated_targets(
                        principal,
                        spec,
                        dataset=dataset,
                        measures=measures,
                        filters=kept,
                        span=(start, end),
                        notes=notes,
                    )
                notes.append(f"{dataset.title} are monthly: a partly covered month counts in full")
        result = self._run(principal, dataset.name, measures, kept, time_range)
        source = fact_source(result)
        note = "; ".join(notes)
        return {
            measure: _TargetResult(scalar(result.frame, measure), formats[measure], source, note)
            for measure in measures
        }

    def _prorated_targets(
        self,
        principal: Principal,
        spec: ReportSpec,
        *,
        dataset: Dataset,
        measures: tuple[str, ...],
        filters: tuple[Filter, ...],
        span: tuple[date, date],
        notes: list[str],
    ) -> dict[str, _TargetResult]:
        """Monthly targets over a period that covers part of a month: each month's target
        counts by the share of its days the period covers, so month-to-date is not compared
        with the whole month's plan."""
        assert dataset.time_dimension is not None
        start, end = span
        first, last = start.replace(day=1), (end - timedelta(days=1)).replace(day=1)
        whole = TimeRange(start=first, end=_next_month(last))
        result = self._run(principal, dataset.name, measures, filters, whole, grain=TimeGrain.MONTH)
        column = f"{dataset.time_dimension.column}__{TimeGrain.MONTH.value}"
        formatter = LocaleFormatter(spec.layout.locale, spec.layout.currency)
        weights: list[float] = []
        for raw in result.frame[column]:
            month = as_day(raw)
            if month is None:
                weights.append(0.0)
                continue
            month = month.replace(day=1)
            following = _next_month(month)
            covered = (min(end, following) - max(start, month)).days
            weights.append(max(covered, 0) / (following - month).days)
        for month in (first, last) if first != last else (first,):
            following = _next_month(month)
            covered = (min(end, following) - max(start, month)).days
            total_days = (following - month).days
            if covered < total_days:
                notes.append(
                    f"the target for {formatter.period(month, following)} is prorated to the"
                    f" {covered} of its {total_days} days the period covers"
                )
        source = fact_source(result)
        note = "; ".join(notes)
        found: dict[str, _TargetResult] = {}
        for measure in measures:
            values = [number(v) for v in result.frame[measure]]
            parts = [v * w for v, w in zip(values, weights, strict=True) if v is not None]
            value = sum(parts) if parts else None
            found[measure] = _TargetResult(value, _measure(dataset, measure).format, source, note)
        return found


@dataclass(frozen=True)
class _TargetResult:
    value: float | None
    format: MeasureFormat
    source: FactSource
    note: str


def _next_month(day: date) -> date:
    """The first day of the month after `day`'s."""
    return date(day.year + (day.month == 12), day.month % 12 + 1, 1)


def _fact_measures(spec: ReportSpec, own: tuple[str, ...]) -> tuple[str, ...]:
    """The measures a fact block's totals query: every measure the spec's KPI tiles and
    narratives quote, in the spec's order, and the block's `own`. Fact blocks over the same
    period then ask one question between them (a table of those measures shares it too)."""
    quoted: list[str] = []
    for block in spec.blocks:
        if isinstance(block, KpiBlock):
            quoted += (tile.measure for tile in block.tiles)
        elif isinstance(block, NarrativeBlock):
            quoted.append(block.measure)
    return tuple(dict.fromkeys((*quoted, *own)))


def _measure(dataset: Dataset, name: str) -> Measure:
    measure = dataset.measure(name)
    if measure is None:
        choices = ", ".join(m.name for m in dataset.measures)
        raise InvalidInput(f"'{name}' is not a measure of {dataset.name}; choose from: {choices}")
    return measure


def _measure_facts(dataset: Dataset, name: str, formatter: LocaleFormatter) -> MeasureFacts:
    measure = _measure(dataset, name)
    return MeasureFacts(name, measure.label, measure.format, formatter)
