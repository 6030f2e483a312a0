"""The governed queries behind a report: one request per block, run as the reader.

`ReportQueries` turns each data block of a spec (charts, tables) into `QueryRequest`s on the
spec's dataset, filters and time range, and runs them through `QueryService`, so row policies,
masks, measure grants, caps and the cache apply exactly as everywhere else.
"""

from __future__ import annotations

from dataclasses import dataclass

from reportgen.domain.catalog import Dataset, TimeGrain
from reportgen.domain.facts import bucket_start
from reportgen.domain.principal import Principal
from reportgen.domain.query import Filter, Operator, QueryRequest, SortKey
from reportgen.domain.spec import ChartBlock, ChartKind, ReportSpec, TableBlock
from reportgen.services.queries import QueryResult, QueryService


@dataclass(frozen=True)
class ChartData:
    result: QueryResult
    x_column: str
    note: str = ""  # e.g. that the first and last buckets cover only part of their period


def partial_buckets(spec: ReportSpec, grain: TimeGrain) -> str:
    """A sentence when the period starts or ends inside a bucket, so a short first or last
    bar or point is not read as a drop; empty when the period covers whole buckets."""
    if spec.time_range is None or grain is TimeGrain.DAY:
        return ""
    start, end = spec.time_range.start, spec.time_range.end
    cut_start = start is not None and bucket_start(start, grain) != start
    cut_end = end is not None and bucket_start(end, grain) != end
    if not (cut_start or cut_end):
        return ""
    unit = grain.value
    if cut_start and cut_end:
        return f"The first and last {unit}s are partial: the period starts and ends mid-{unit}."
    if cut_start:
        return f"The first {unit} is partial: the period starts mid-{unit}."
    return f"The last {unit} is partial: the period ends mid-{unit}."


@dataclass(frozen=True)
class TableData:
    result: QueryResult  # every row (up to the row cap): exports carry the full table
    totals: QueryResult | None
    shown: int  # rows the document shows (the block's max_rows)


def _request(
    spec: ReportSpec,
    extra: tuple[Filter, ...] = (),
    *,
    dimensions: tuple[str, ...] = (),
    measures: tuple[str, ...] = (),
    grain: TimeGrain | None = None,
    sort: tuple[SortKey, ...] = (),
    limit: int | None = None,
) -> QueryRequest:
    """A request on the spec's dataset, filters and time range."""
    return QueryRequest(
        dataset=spec.dataset,
        filters=(*spec.filters, *extra),
        time_range=spec.time_range,
        dimensions=dimensions,
        measures=measures,
        grain=grain,
        sort=sort,
        limit=limit,
    )


class ReportQueries:
    def __init__(self, queries: QueryService) -> None:
        self.queries = queries

    def chart(
        self, principal: Principal, spec: ReportSpec, dataset: Dataset, block: ChartBlock
    ) -> ChartData:
        time_column = dataset.time_dimension.column if dataset.time_dimension else None
        on_time = block.x == time_column
        grain = (block.grain or spec.grain) if on_time else None
        measures = (
            tuple(dict.fromkeys((block.x, *block.y)))
            if block.chart is ChartKind.SCATTER
            else block.y
        )
        dimensions = tuple(
            name
            for name in (
                None if on_time or block.chart is ChartKind.SCATTER else block.x,
                block.color,
                block.facet,
                block.detail,
            )
            if name is not None
        )
        extra = block.filters
        sort: tuple[SortKey, ...] = ()
        limit = None
        if block.top_n and not on_time and block.chart is not ChartKind.SCATTER:
            if dimensions == (block.x,):
                sort, limit = (SortKey(field=block.y[0], descending=True),), block.top_n
            else:
                # Split series: keep every series of the top categories, found first.
                top = self.queries.run(
                    principal,
                    _request(
                        spec,
                        block.filters,
                        dimensions=(block.x,),
                        measures=(block.y[0],),
                        sort=(SortKey(field=block.y[0], descending=True),),
                        limit=block.top_n,
                    ),
                )
                leaders = tuple(str(v) for v in top.table.column(block.x).to_pylist())
                extra = (*extra, Filter(field=block.x, op=Operator.IN, value=leaders or ("",)))
        request = _request(
            spec,
            extra,
            dimensions=dimensions,
            measures=measures,
            grain=grain,
            sort=sort,
            limit=limit,
        )
        result = self.queries.run(principal, request)
        x_column = request.grain_column(dataset) if on_time else block.x
        note = partial_buckets(spec, grain) if grain is not None else ""
        return ChartData(result=result, x_column=x_column or block.x, note=note)

    def table(self, principal: Principal, spec: ReportSpec, block: TableBlock) -> TableData:
        result = self.queries.run(
            principal,
            _request(
                spec,
                block.filters,
                dimensions=block.dimensions,
                measures=block.measures,
                grain=block.grain,
                sort=block.sort,
            ),
        )
        totals = None
        if block.totals and (block.dimensions or block.grain):
            # Totals are queried, not summed: ratios and distinct counts do not add up.
            totals = self.queries.run(
                principal,
                _request(spec, block.filters, measures=block.measures),
            )
        return TableData(result=result, totals=totals, shown=min(block.max_rows, result.row_count))
