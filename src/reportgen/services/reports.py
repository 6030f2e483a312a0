"""Reports: preview a spec fast, render it into a distribution-ready bundle.

`preview` runs the spec's governed queries as the reader and returns facts, figures and tables
for the interactive builder, without a PDF. `render` turns the same preview into a `Document`
(formatted values, chart images, lineage) and writes the chosen formats plus a manifest to the
artifact store. Both doors (UI, scheduler, CLI) call these, so the PDF a schedule delivers is
the PDF the user previewed.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import plotly.graph_objects as go
import pyarrow as pa
from cachetools import LRUCache

from reportgen.domain.catalog import Catalog, Dataset
from reportgen.domain.facts import Fact, FactSet
from reportgen.domain.principal import Principal
from reportgen.domain.spec import (
    Block,
    ChartBlock,
    CoverBlock,
    KpiBlock,
    NarrativeBlock,
    PageBreakBlock,
    ReportSpec,
    SectionBlock,
    TableBlock,
    TextBlock,
    check_spec,
)
from reportgen.errors import InvalidInput
from reportgen.rendering.charts import build_figure, label_of
from reportgen.rendering.markdown import markdown_to_html
from reportgen.rendering.narrative import write_narrative
from reportgen.services.facts import FactService, KpiFacts
from reportgen.services.ports import AuditSink
from reportgen.services.queries import QueryResult, QueryService, SharedRuns
from reportgen.services.report_data import ChartData, ReportQueries, TableData


@dataclass(frozen=True)
class PreviewBlock:
    """One block of a preview: what the builder draws and the renderer lays out."""

    index: int
    block: Block
    chart: ChartData | None = None
    figure: go.Figure | None = None
    table: TableData | None = None
    kpis: tuple[KpiFacts, ...] = ()
    facts: FactSet | None = None
    sentences: tuple[str, ...] = ()
    html: str = ""


@dataclass(frozen=True)
class ReportPreview:
    spec: ReportSpec  # resolved: presets turned into dates at the run's logical day
    dataset: Dataset
    principal: Principal
    today: date
    blocks: tuple[PreviewBlock, ...]
    queried: tuple[QueryResult, ...] = ()  # every query run for it, facts' included
    timings_ms: dict[str, float] = field(default_factory=dict)

    @property
    def results(self) -> tuple[QueryResult, ...]:
        """Every query result behind the report, once each, in order of first use."""
        seen: dict[str, QueryResult] = {}
        for result in self.queried:
            seen.setdefault(result.query_hash, result)
        return tuple(seen.values())

    @property
    def facts(self) -> tuple[Fact, ...]:
        """Every fact quoted by KPI tiles and narratives, once each."""
        seen: dict[str, Fact] = {}
        for block in self.blocks:
            for kpi in block.kpis:
                for fact in kpi.facts:
                    seen.setdefault(fact.id, fact)
            for fact in block.facts or ():
                seen.setdefault(fact.id, fact)
        return tuple(seen.values())


def result_sha256(result: QueryResult) -> str:
    """SHA-256 of a result's rows as canonical CSV: what the lineage appendix certifies."""
    frame = result.frame
    text = frame.to_csv(index=False, lineterminator="\n", date_format="%Y-%m-%dT%H:%M:%S")
    return hashlib.sha256(text.encode()).hexdigest()


FIGURES_KEPT = 256
"""Chart figures kept per process, by their data's content and the chart's definition."""


def table_sha256(table: pa.Table) -> str:
    """SHA-256 of a result's rows and types (its Arrow IPC stream): what a figure is drawn from."""
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return hashlib.sha256(sink.getvalue()).hexdigest()


class ReportService:
    def __init__(
        self,
        catalog: Catalog,
        queries: QueryService,
        facts: FactService,
        audit: AuditSink,
        *,
        today: Callable[[], date] = date.today,
    ) -> None:
        self.catalog = catalog
        self.queries = queries
        self.facts = facts
        self.audit = audit
        self._data = ReportQueries(queries)
        self._today = today
        # Building a plotly figure costs tens of milliseconds; the same rows drawn the same way
        # (a preview rebuilt from cached results) reuse it. Figures are never mutated after.
        self._figures: LRUCache[tuple[str, ...], go.Figure] = LRUCache(maxsize=FIGURES_KEPT)
        self._figures_lock = threading.Lock()

    def clear_cache(self) -> None:
        """Forget the figures drawn so far."""
        with self._figures_lock:
            self._figures.clear()

    def check(self, principal: Principal, spec: ReportSpec) -> None:
        """Raise InvalidInput listing every problem of `spec` for `principal`, with paths."""
        problems = check_spec(spec, self.catalog, principal)
        if problems:
            raise InvalidInput([str(p) for p in problems])

    def check_parameters(
        self, principal: Principal, spec: ReportSpec, values: dict[str, tuple[str, ...]]
    ) -> None:
        """Every parameter value must be one the reader may see: no silent empty reports."""
        problems = []
        known = {p.name for p in spec.parameters}
        for name in sorted(set(values) - known):
            choices = ", ".join(sorted(known)) or "none"
            problems.append(f"unknown parameter '{name}'; this report's parameters: {choices}")
        for parameter in spec.parameters:
            chosen = values.get(parameter.name, parameter.default)
            if not chosen:
                if parameter.required:
                    problems.append(f"parameter '{parameter.name}' needs a value")
                continue
            visible = {
                str(v)
                for v in self.queries.distinct_values(principal, spec.dataset, parameter.field)
            }
            hidden = [v for v in chosen if v not in visible]
            if hidden:
                problems.append(
                    f"parameter '{parameter.name}': {', '.join(hidden)} is not among the values "
                    f"you may see ({', '.join(sorted(visible)) or 'none'})"
                )
        if problems:
            raise InvalidInput(problems)

    def preview(
        self,
        principal: Principal,
        spec: ReportSpec,
        *,
        parameters: dict[str, tuple[str, ...]] | None = None,
        today: date | None = None,
        on_figure: Callable[[go.Figure], object] | None = None,
    ) -> ReportPreview:
        """Facts, figures and tables for `spec` as `principal` sees them; no PDF.

        Blocks are prepared as many at once as the warehouse runs queries at once
        (`Warehouse.concurrent_queries`); `on_figure` runs as soon as a chart's figure exists,
        e.g. to have the chart browser draw its image while the other blocks are prepared.
        Results keep the spec's order.
        """
        self.check(principal, spec)
        self.check_parameters(principal, spec, parameters or {})
        day = today or self._today()
        resolved = spec.with_parameters(parameters or {}).resolved(day)
        dataset = self.queries.dataset(principal, resolved.dataset)
        # Blocks often ask for the same rows (a table's totals are the KPI tiles' period, a
        # chart is the narrative's series): each distinct request runs once per preview.
        shared = SharedRuns()

        def prepare(index: int, block: Block) -> tuple[PreviewBlock, list[QueryResult], float]:
            started = time.perf_counter()
            with self.queries.sharing(shared), self.queries.recording() as queried:
                prepared = self._preview_block(principal, resolved, dataset, index, block)
            if on_figure is not None and prepared.figure is not None:
                on_figure(prepared.figure)
            return prepared, queried, (time.perf_counter() - started) * 1000

        workers = max(1, self.queries.warehouse.concurrent_queries)
        if workers == 1:
            done = [prepare(index, block) for index, block in enumerate(resolved.blocks)]
        else:
            with ThreadPoolExecutor(max_workers=workers) as pool:
                done = list(pool.map(prepare, range(len(resolved.blocks)), resolved.blocks))
        timings: dict[str, float] = {}
        for prepared, _, elapsed in done:
            kind = prepared.block.kind
            timings[kind] = round(timings.get(kind, 0.0) + elapsed, 1)
        return ReportPreview(
            queried=tuple(result for _, results, _ in done for result in results),
            spec=resolved,
            dataset=dataset,
            principal=principal,
            today=day,
            blocks=tuple(prepared for prepared, _, _ in done),
            timings_ms=timings,
        )

    def _preview_block(
        self, principal: Principal, spec: ReportSpec, dataset: Dataset, index: int, block: Block
    ) -> PreviewBlock:
        match block:
            case ChartBlock():
                data = self._data.chart(principal, spec, dataset, block)
                figure = self._figure(block, data, dataset, spec.layout.currency)
                return PreviewBlock(index, block, chart=data, figure=figure)
            case TableBlock():
                return PreviewBlock(index, block, table=self._data.table(principal, spec, block))
            case KpiBlock():
                return PreviewBlock(
                    index, block, kpis=tuple(self.facts.kpis(principal, spec, block))
                )
            case NarrativeBlock():
                facts = self.facts.narrative(principal, spec, block)
                sentences = write_narrative(facts, block.sentences, locale=spec.layout.locale)
                return PreviewBlock(index, block, facts=facts, sentences=sentences)
            case SectionBlock():
                return PreviewBlock(index, block, html=markdown_to_html(block.intro))
            case TextBlock():
                return PreviewBlock(index, block, html=markdown_to_html(block.markdown))
            case CoverBlock() | PageBreakBlock():
                return PreviewBlock(index, block)

    def _figure(
        self, block: ChartBlock, data: ChartData, dataset: Dataset, currency: str
    ) -> go.Figure:
        """The chart's figure, drawn once per rows, chart, dataset version and currency."""
        key = (
            table_sha256(data.result.table),
            block.model_dump_json(),
            data.x_column,
            dataset.version,
            currency,
        )
        with self._figures_lock:
            figure = self._figures.get(key)
        if figure is None:
            figure = build_figure(
                block,
                data.result.frame,
                x_column=data.x_column,
                dataset=dataset,
                currency=currency,
            )
            with self._figures_lock:
                self._figures[key] = figure
        return figure


def logical_time(value: datetime | None = None) -> datetime:
    """A run's logical time in UTC, to the second: the stamp on every file it produces."""
    moment = value or datetime.now(UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).replace(microsecond=0)


def describe_filters(spec: ReportSpec, dataset: Dataset) -> tuple[str, ...]:
    """The spec's filters and period as plain phrases for the cover and the appendix."""
    phrases: list[str] = []
    if spec.time_range is not None:
        start, end = spec.time_range.start, spec.time_range.end
        column = dataset.time_dimension.column if dataset.time_dimension else "time"
        label = column.replace("_", " ").capitalize()
        span = f"{start or '…'} to {(end - timedelta(days=1)) if end else '…'}"
        phrases.append(f"{label}: {span}")
    for flt in spec.filters:
        phrases.append(f"{label_of(dataset, flt.field)} {flt.op.value} {flt.spoken_value()}")
    return tuple(phrases)
