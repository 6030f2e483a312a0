"""From a preview to a `Document`: every value formatted, every chart an image, lineage kept."""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import date, datetime
from typing import Literal

import pandas as pd

from reportgen.domain.catalog import ColumnType, Dataset, MeasureFormat, TimeGrain
from reportgen.domain.durations import spoken_age
from reportgen.domain.facts import bucket_end, number
from reportgen.domain.spec import ChartBlock, FormatRule, TableBlock
from reportgen.rendering.charts import label_of, print_size
from reportgen.rendering.document import (
    Block,
    Cell,
    Document,
    FactEntry,
    FigureImage,
    QueryEntry,
    TableView,
)
from reportgen.rendering.formatting import format_date, format_measure, format_period
from reportgen.rendering.narrative import linked_fact_ids
from reportgen.services.ports import ChartImages
from reportgen.services.queries import QueryResult, freshness_age_hours
from reportgen.services.reports import (
    PreviewBlock,
    ReportPreview,
    describe_filters,
    result_sha256,
)


def query_id(result: QueryResult) -> str:
    """The anchor of a query in the lineage appendix; facts link to the same id."""
    return f"query-{result.query_hash[:16]}"


def _is_missing(value: object) -> bool:
    if value is None or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def _style(
    rules: tuple[FormatRule, ...], measure: str, value: object
) -> Literal["good", "bad", "warn"] | None:
    cell = number(value)
    if cell is None:
        return None
    for rule in rules:
        if rule.measure != measure:
            continue
        hit = {
            ">": cell > rule.value,
            ">=": cell >= rule.value,
            "<": cell < rule.value,
            "<=": cell <= rule.value,
        }[rule.op]
        if hit:
            return rule.style
    return None


class DocumentBuilder:
    """Lays out one preview for one reader, at the run's logical time."""

    def __init__(
        self,
        preview: ReportPreview,
        images: ChartImages | None,
        as_of: datetime,
        titles: dict[str, str],
    ) -> None:
        self.preview = preview
        self.titles = titles  # dataset name -> title, for every dataset the report reads
        self.spec = preview.spec
        self.dataset: Dataset = preview.dataset
        self.images = images
        self.as_of = as_of
        self.locale = self.spec.layout.locale
        self.currency = self.spec.layout.currency

    # -- values ----------------------------------------------------------------------------

    def measure_text(self, name: str, value: object) -> str:
        measure = self.dataset.measure(name)
        fmt = measure.format if measure else MeasureFormat.NUMBER
        return format_measure(
            number(value), fmt, locale=self.locale, currency=self.currency, fixed_decimals=True
        )

    def bucket_text(self, value: object, grain: TimeGrain) -> str:
        if isinstance(value, datetime):
            value = value.date()
        if isinstance(value, date):
            return format_period(value, bucket_end(value, grain), self.locale)
        return "" if _is_missing(value) else str(value)

    def dimension_text(self, name: str, value: object) -> str:
        if _is_missing(value):
            return "(blank)"
        dimension = self.dataset.dimension(name)
        kind = self.dataset.dimension_type(dimension) if dimension else ColumnType.STRING
        if kind.is_temporal and isinstance(value, date):
            return format_period(value, bucket_end(value, TimeGrain.DAY), self.locale)
        return str(value)

    # -- blocks ----------------------------------------------------------------------------

    def table(self, block: PreviewBlock, spec_block: TableBlock) -> TableView:
        assert block.table is not None
        data = block.table
        frame = data.result.frame
        grain_column = None
        columns: list[tuple[str, str, bool]] = []  # (column, label, numeric)
        if spec_block.grain and self.dataset.time_dimension:
            time_column = self.dataset.time_dimension.column
            grain_column = f"{time_column}__{spec_block.grain.value}"
            label = f"{label_of(self.dataset, time_column)} ({spec_block.grain.value})"
            columns.append((grain_column, label, False))
        for name in spec_block.dimensions:
            dimension = self.dataset.dimension(name)
            columns.append((name, dimension.label if dimension else name, False))
        for name in spec_block.measures:
            measure = self.dataset.measure(name)
            columns.append((name, measure.label if measure else name, True))
        rows = []
        for record in frame.head(data.shown).to_dict(orient="records"):
            cells = []
            for name, _, numeric in columns:
                value = record.get(name)
                if numeric:
                    style = _style(spec_block.rules, name, value)
                    cells.append(Cell(self.measure_text(name, value), numeric=True, style=style))
                elif name == grain_column and spec_block.grain:
                    cells.append(Cell(self.bucket_text(value, spec_block.grain)))
                else:
                    cells.append(Cell(self.dimension_text(name, value)))
            rows.append(tuple(cells))
        totals = None
        if data.totals is not None and data.totals.row_count:
            first = data.totals.frame.iloc[0]
            totals = tuple(
                Cell(self.measure_text(name, first[name]), numeric=True)
                if numeric
                else Cell("Total" if i == 0 else "")
                for i, (name, _, numeric) in enumerate(columns)
            )
        note = ""
        if data.shown < data.result.row_count:
            note = (
                f"Showing the first {data.shown:,} of {data.result.row_count:,} rows; "
                "the full table is in the CSV and XLSX exports."
            )
            if totals is not None:
                note = note.removesuffix(".") + (
                    f"; the total covers all {data.result.row_count:,} rows."
                )
        return TableView(
            id=f"table-{block.index}",
            title=spec_block.title,
            columns=tuple(label for _, label, _ in columns),
            numeric=tuple(numeric for _, _, numeric in columns),
            rows=tuple(rows),
            totals=totals,
            note=note,
            query_id=query_id(data.result),
        )

    def figure(self, block: PreviewBlock, spec_block: ChartBlock) -> FigureImage:
        assert block.figure is not None and block.chart is not None
        # Imported with the first chart: kaleido is not needed by a report without one.
        from reportgen.rendering.images import print_format  # noqa: PLC0415

        fig = block.figure
        width, height = print_size(fig)
        fmt = print_format(fig, pdfa=self.preview.spec.layout.pdfa)
        pending = None
        if self.images is not None:
            pending = self.images.submit(fig, fmt=fmt, width=width, height=height)
        return FigureImage(
            id=f"figure-{block.index}",
            title=spec_block.title,
            image=b"",
            pending=pending,
            mime=pending.mime if pending is not None else "image/svg+xml",
            width_px=width,
            height_px=height,
            plotly_json=fig.to_json(),
            caption=" ".join(part for part in (spec_block.caption, block.chart.note) if part),
            empty=block.chart.result.row_count == 0,
        )

    def block(self, block: PreviewBlock) -> Block:
        spec_block = block.block
        ident = f"block-{block.index}"
        match spec_block:
            case ChartBlock():
                return Block(
                    "chart", ident, spec_block.title, figure=self.figure(block, spec_block)
                )
            case TableBlock():
                return Block("table", ident, spec_block.title, table=self.table(block, spec_block))
            case _:
                title = getattr(spec_block, "title", "") or (
                    self.spec.title if spec_block.kind == "cover" else ""
                )
                return Block(
                    spec_block.kind,
                    ident,
                    title,
                    html=block.html,
                    sentences=block.sentences,
                    tiles=tuple(kpi.tile() for kpi in block.kpis),
                )

    # -- lineage ---------------------------------------------------------------------------

    def _age(self, latest: date | datetime) -> str:
        """How long before generation `latest` was: in days for a date (a date column says
        nothing of the hour), as people say it for a moment."""
        if not isinstance(latest, datetime):
            days = (self.as_of.date() - latest).days
            if days <= 0:
                return "the day of generation"
            return f"{days:,} day{'' if days == 1 else 's'} before generation"
        return f"{spoken_age(freshness_age_hours(latest, self.as_of) or 0.0)} before generation"

    def queries(self) -> tuple[QueryEntry, ...]:
        entries = []
        for result in self.preview.results:
            freshness = "unknown"
            if result.freshness is not None:
                freshness = f"latest {result.freshness}, {self._age(result.freshness)}"
            entries.append(
                QueryEntry(
                    id=query_id(result),
                    dataset=result.dataset,
                    dataset_title=self.titles.get(result.dataset, result.dataset),
                    dataset_version=result.dataset_version,
                    sql=result.query.sql,
                    params=tuple(str(p) for p in result.query.params),
                    query_hash=result.query_hash,
                    rows=result.row_count,
                    result_sha256=result_sha256(result),
                    freshness=freshness,
                )
            )
        return tuple(entries)

    def access(self) -> tuple[str, ...]:
        """The reader's row limits and masks on the report's main dataset."""
        for result in self.preview.results:
            if result.dataset == self.dataset.name:
                return result.access
        return ()

    def data_as_of(self) -> str:
        """The latest freshness of the report's main dataset among its queries (of any dataset
        when none reads it), as a date in the report's locale; empty when unknown."""
        main = [r.freshness for r in self.preview.results if r.dataset == self.dataset.name]
        readings = [f for f in main or [r.freshness for r in self.preview.results] if f]
        days = [f.date() if isinstance(f, datetime) else f for f in readings]
        return format_date(max(days), self.locale) if days else ""

    def document(self, *, attachments: tuple[tuple[str, bytes], ...] = ()) -> Document:
        spec = self.spec
        blocks = tuple(self.block(b) for b in self.preview.blocks)
        quoted = quoted_fact_ids(blocks)
        facts = tuple(
            FactEntry(
                id=f.id,
                label=f.label,
                formatted=f.formatted,
                query_id=f.source.query_id,
                note=f.note,
            )
            for f in self.preview.facts
            # The appendix lists the numbers the report quotes: a fact the narrative computed
            # but no sentence or tile uses (or one without a value) is not among them.
            if f.available and f.id in quoted
        )
        return Document(
            title=spec.title,
            subtitle=spec.subtitle,
            template=spec.template,
            dataset_title=self.dataset.title,
            classification=self.dataset.classification.value,
            generated_for=self.preview.principal.display_name or self.preview.principal.username,
            generated_at=self.as_of,
            locale=self.locale,
            page_size=spec.layout.page_size.value,
            orientation=spec.layout.orientation.value,
            blocks=blocks,
            queries=self.queries(),
            facts=facts,
            filters=describe_filters(spec, self.dataset),
            access=self.access(),
            watermark=spec.layout.watermark,
            table_of_contents=spec.layout.table_of_contents,
            pdfa=spec.layout.pdfa,
            attachments=attachments,
            data_as_of=self.data_as_of(),
        )


def quoted_fact_ids(blocks: Iterable[Block]) -> frozenset[str]:
    """The facts the blocks quote: KPI tiles' values and changes, and the numbers their
    sentences and texts link to the lineage appendix."""
    quoted: set[str] = set()
    for block in blocks:
        for tile in block.tiles:
            quoted.add(tile.fact_id)
            quoted.update(change.fact_id for change in tile.changes)
        for text in (*block.sentences, block.html):
            quoted |= linked_fact_ids(text or "")
    return frozenset(quoted)
