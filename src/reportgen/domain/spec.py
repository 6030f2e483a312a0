"""ReportSpec: the one serialisable description of a report.

The UI builds it, the store saves it (versioned), the scheduler loads it, the renderer consumes
it. `check_spec` validates a spec against the catalog and the principal, reporting every
problem at once with its path in the spec (``blocks[2].y[0]: ...``).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Annotated, Any, Literal, Self

from babel import Locale, UnknownLocaleError
from babel.numbers import is_currency
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from reportgen.domain.catalog import Catalog, ColumnType, Dataset, Identifier, TimeGrain
from reportgen.domain.principal import Principal
from reportgen.domain.query import Filter, Operator, SortKey, TimeRange

SPEC_VERSION: Literal[1] = 1


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class PageSize(StrEnum):
    A4 = "A4"
    LETTER = "Letter"


class Orientation(StrEnum):
    PORTRAIT = "portrait"
    LANDSCAPE = "landscape"


class Layout(_Strict):
    page_size: PageSize = PageSize.A4
    orientation: Orientation = Orientation.PORTRAIT
    locale: Annotated[str, Field(pattern=r"^[a-z]{2,3}(_[A-Z]{2})?$")] = "en_US"
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] = "USD"
    watermark: Annotated[str, Field(max_length=40)] | None = None
    pdfa: bool = False
    table_of_contents: bool = True

    @field_validator("locale")
    @classmethod
    def _known_locale(cls, value: str) -> str:
        try:
            Locale.parse(value)
        except (UnknownLocaleError, ValueError):
            raise ValueError(
                f"unknown locale '{value}'; use one such as en_US, en_GB, de_DE"
            ) from None
        return value

    @field_validator("currency")
    @classmethod
    def _known_currency(cls, value: str) -> str:
        if not is_currency(value):
            raise ValueError(f"unknown currency '{value}'; use an ISO 4217 code such as USD, EUR")
        return value


class ChartKind(StrEnum):
    LINE = "line"
    BAR = "bar"
    STACKED_BAR = "stacked_bar"
    AREA = "area"
    SCATTER = "scatter"
    PIE = "pie"
    DONUT = "donut"
    HEATMAP = "heatmap"


class Comparison(StrEnum):
    PRIOR_PERIOD = "prior_period"
    PRIOR_YEAR = "prior_year"
    TARGET = "target"


class TargetRef(_Strict):
    """Where the plan for a measure lives: a measure of another dataset over the same period."""

    dataset: Identifier
    measure: Identifier


class CoverBlock(_Strict):
    kind: Literal["cover"] = "cover"
    title: str = ""  # defaults to the report's title
    subtitle: str = ""


class SectionBlock(_Strict):
    kind: Literal["section"] = "section"
    title: str
    intro: str = ""  # Markdown, sanitised


class KpiTile(_Strict):
    measure: Identifier
    label: str = ""
    compare: tuple[Comparison, ...] = (Comparison.PRIOR_PERIOD, Comparison.PRIOR_YEAR)
    target: TargetRef | None = None


class KpiBlock(_Strict):
    kind: Literal["kpis"] = "kpis"
    title: str = "Key figures"
    tiles: tuple[KpiTile, ...] = Field(min_length=1, max_length=8)


class ChartBlock(_Strict):
    """A chart: `x` is a dimension or the time dimension (bucketed by `grain`); `y` measures.

    `color` splits series by a dimension (for a heatmap it is the row dimension); `facet`
    draws one small chart per value of a dimension; `top_n` keeps the largest categories.
    """

    kind: Literal["chart"] = "chart"
    title: str
    chart: ChartKind
    x: Identifier
    y: tuple[Identifier, ...] = Field(min_length=1, max_length=4)
    color: Identifier | None = None
    facet: Identifier | None = None
    grain: TimeGrain | None = None
    top_n: int | None = Field(default=None, ge=1, le=50)
    detail: Identifier | None = None  # scatter: one point per value of this dimension
    filters: tuple[Filter, ...] = ()
    caption: str = ""


class FormatRule(_Strict):
    """Conditional formatting: cells of `measure` meeting the condition get `style`."""

    measure: Identifier
    op: Literal[">", ">=", "<", "<="]
    value: float
    style: Literal["good", "bad", "warn"]


class TableBlock(_Strict):
    kind: Literal["table"] = "table"
    title: str
    dimensions: tuple[Identifier, ...] = ()
    measures: tuple[Identifier, ...] = Field(min_length=1)
    grain: TimeGrain | None = None
    sort: tuple[SortKey, ...] = ()
    max_rows: int = Field(default=50, ge=1, le=5000)
    totals: bool = True
    rules: tuple[FormatRule, ...] = ()
    filters: tuple[Filter, ...] = ()


class NarrativeBlock(_Strict):
    """Sentences written from facts about `measure`; movers are found along `by`."""

    kind: Literal["narrative"] = "narrative"
    title: str = "Summary"
    measure: Identifier
    by: Identifier | None = None
    target: TargetRef | None = None
    sentences: tuple[str, ...] = ()  # Jinja over facts; empty means the standard sentences


class TextBlock(_Strict):
    kind: Literal["text"] = "text"
    markdown: str


class PageBreakBlock(_Strict):
    kind: Literal["page_break"] = "page_break"


Block = Annotated[
    CoverBlock
    | SectionBlock
    | KpiBlock
    | ChartBlock
    | TableBlock
    | NarrativeBlock
    | TextBlock
    | PageBreakBlock,
    Field(discriminator="kind"),
]


class Parameter(_Strict):
    """A filter whose values are chosen when the report runs (e.g. one region per recipient)."""

    name: Identifier
    field: Identifier
    title: str = ""
    default: tuple[str, ...] = ()
    required: bool = False


class ReportSpec(_Strict):
    spec_version: Literal[1] = SPEC_VERSION
    title: Annotated[str, Field(min_length=1, max_length=200)]
    subtitle: str = ""
    description: str = ""
    template: Identifier = "executive_summary"
    dataset: Identifier
    parameters: tuple[Parameter, ...] = ()
    filters: tuple[Filter, ...] = ()
    time_range: TimeRange | None = None
    grain: TimeGrain = TimeGrain.MONTH
    layout: Layout = Layout()
    blocks: tuple[Block, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_parameters(self) -> Self:
        names = [p.name for p in self.parameters]
        if len(names) != len(set(names)):
            raise ValueError("parameter names must be unique")
        return self

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the canonical JSON of the spec: its identity in manifests and caches."""
        return hashlib.sha256(self.to_json().encode()).hexdigest()

    def to_json(self) -> str:
        return json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))

    def resolved(self, today: date) -> ReportSpec:
        """The spec with a preset time range turned into dates, as of `today`.

        A run resolves its spec once, at its logical time, so every query, comparison and
        caption of the run agrees on the period, and a re-run at the same time gives the same
        report.
        """
        if self.time_range is None or self.time_range.preset is None:
            return self
        start, end = self.time_range.resolve(today)
        return self.model_copy(update={"time_range": TimeRange(start=start, end=end)})

    def with_parameters(self, values: dict[str, tuple[str, ...]]) -> ReportSpec:
        """The spec with parameter values applied as filters (defaults where none given)."""
        extra = []
        for parameter in self.parameters:
            chosen = values.get(parameter.name, parameter.default)
            if chosen:
                extra.append(Filter(field=parameter.field, op=Operator.IN, value=tuple(chosen)))
        return self.model_copy(update={"filters": (*self.filters, *extra), "parameters": ()})


def parse_spec(data: dict[str, Any]) -> ReportSpec:
    """Validate raw data (from YAML or JSON) into a spec; pydantic errors carry their paths."""
    return ReportSpec.model_validate(data)


Location = tuple[str | int, ...]


@dataclass(frozen=True)
class SpecProblem:
    """One problem of a spec, at a location such as ``("blocks", 2, "y", 0)``."""

    location: Location
    message: str

    @property
    def path(self) -> str:
        """The location written as ``blocks[2].y[0]``."""
        out = ""
        for part in self.location:
            out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
        return out

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.location else self.message


def _where(*parts: str | int | Location) -> Location:
    out: list[str | int] = []
    for part in parts:
        out.extend(part if isinstance(part, tuple) else (part,))
    return tuple(out)


class _SpecChecker:
    """Collects every problem of a spec against the catalog, each with its path."""

    def __init__(self, catalog: Catalog, principal: Principal | None) -> None:
        self.catalog = catalog
        self.principal = principal
        self.problems: list[SpecProblem] = []

    def add(self, where: Location, message: str) -> None:
        self.problems.append(SpecProblem(where, message))

    def dataset(self, where: Location, name: str) -> Dataset | None:
        dataset = self.catalog.get(name)
        if dataset is None:
            self.add(
                where, f"unknown dataset '{name}'; choose from: {', '.join(self.catalog.names)}"
            )
            return None
        if self.principal is not None and not dataset.allows(self.principal):
            self.add(where, f"you are not allowed to use the dataset '{name}'")
            return None
        return dataset

    def measure(self, where: Location, dataset: Dataset, name: str) -> None:
        measure = dataset.measure(name)
        if measure is None:
            choices = ", ".join(m.name for m in dataset.measures)
            self.add(where, f"'{name}' is not a measure of {dataset.name}; choose from: {choices}")
        elif self.principal is not None and not measure.allows(self.principal):
            self.add(where, f"you are not allowed to use the measure '{name}'")

    def dimension(self, where: Location, dataset: Dataset, name: str) -> ColumnType | None:
        dimension = dataset.dimension(name)
        if dimension is None:
            if dataset.measure(name) is not None:
                self.add(where, f"'{name}' is a measure; use a dimension here")
            else:
                choices = ", ".join(d.name for d in dataset.dimensions)
                self.add(
                    where, f"'{name}' is not a dimension of {dataset.name}; choose from: {choices}"
                )
            return None
        return dataset.dimension_type(dimension)

    def filters(self, where: Location, dataset: Dataset, filters: tuple[Filter, ...]) -> None:
        fields = {d.name for d in dataset.dimensions} | {c.name for c in dataset.columns}
        for i, flt in enumerate(filters):
            if flt.field not in fields:
                self.add(
                    _where(where, i, "field"), f"'{flt.field}' is not a field of {dataset.name}"
                )

    def is_time(self, dataset: Dataset, name: str) -> bool:
        return dataset.time_dimension is not None and dataset.time_dimension.column == name

    def chart(self, where: Location, dataset: Dataset, block: ChartBlock) -> None:
        for i, measure in enumerate(block.y):
            self.measure(_where(where, "y", i), dataset, measure)
        x_is_time = self.is_time(dataset, block.x)
        x_is_measure = dataset.measure(block.x) is not None
        if block.chart is ChartKind.SCATTER:
            if not x_is_measure:
                self.add(_where(where, "x"), "a scatter chart plots a measure against a measure")
            else:
                self.measure(_where(where, "x"), dataset, block.x)
        elif not x_is_time:
            kind = self.dimension(_where(where, "x"), dataset, block.x)
            timeline = block.chart in {ChartKind.LINE, ChartKind.AREA}
            if timeline and kind is not None and not kind.is_temporal:
                self.add(
                    _where(where, "x"),
                    f"a {block.chart.value} chart needs time on x; use "
                    f"'{dataset.time_dimension.column if dataset.time_dimension else 'a date'}'"
                    " or choose a bar chart",
                )
        if block.chart in {ChartKind.PIE, ChartKind.DONUT}:
            if x_is_time:
                self.add(_where(where, "x"), "a pie chart slices a dimension, not time")
            if len(block.y) != 1:
                self.add(_where(where, "y"), "a pie chart shows exactly one measure")
        if block.chart is ChartKind.HEATMAP and block.color is None:
            self.add(_where(where, "color"), "a heatmap needs a row dimension in 'color'")
        if block.chart is ChartKind.HEATMAP and len(block.y) != 1:
            self.add(_where(where, "y"), "a heatmap shows exactly one measure")
        for key in ("color", "facet", "detail"):
            name = getattr(block, key)
            if name is not None:
                self.dimension(_where(where, key), dataset, name)
        if block.color and len(block.y) > 1 and block.chart is not ChartKind.HEATMAP:
            self.add(_where(where, "color"), "split by color or plot several measures, not both")
        grains = dataset.time_dimension.grains if dataset.time_dimension else ()
        if x_is_time and block.grain and block.grain not in grains:
            self.add(_where(where, "grain"), f"grain '{block.grain.value}' is not offered")
        self.filters(_where(where, "filters"), dataset, block.filters)

    def table(self, where: Location, dataset: Dataset, block: TableBlock) -> None:
        for i, name in enumerate(block.dimensions):
            self.dimension(_where(where, "dimensions", i), dataset, name)
        for i, name in enumerate(block.measures):
            self.measure(_where(where, "measures", i), dataset, name)
        outputs = set(block.dimensions) | set(block.measures)
        if block.grain and dataset.time_dimension:
            outputs.add(f"{dataset.time_dimension.column}__{block.grain.value}")
        for i, key in enumerate(block.sort):
            if key.field not in outputs:
                self.add(
                    _where(where, "sort", i), f"cannot sort by '{key.field}': not in the table"
                )
        for i, rule in enumerate(block.rules):
            if rule.measure not in block.measures:
                self.add(
                    _where(where, "rules", i), f"'{rule.measure}' is not a measure of this table"
                )
        self.filters(_where(where, "filters"), dataset, block.filters)

    def target(self, where: Location, target: TargetRef | None) -> None:
        if target is not None:
            dataset = self.dataset(_where(where, "dataset"), target.dataset)
            if dataset is not None:
                self.measure(_where(where, "measure"), dataset, target.measure)

    def spec(self, spec: ReportSpec) -> list[SpecProblem]:
        dataset = self.dataset(("dataset",), spec.dataset)
        if dataset is None:
            return self.problems
        self.filters(("filters",), dataset, spec.filters)
        for i, parameter in enumerate(spec.parameters):
            if dataset.dimension(parameter.field) is None:
                self.add(
                    _where("parameters", i, "field"), f"'{parameter.field}' is not a dimension"
                )
        if spec.time_range is not None and dataset.time_dimension is None:
            self.add(("time_range",), f"{dataset.name} has no time dimension")
        for i, block in enumerate(spec.blocks):
            where = _where("blocks", i)
            match block:
                case ChartBlock():
                    self.chart(where, dataset, block)
                case TableBlock():
                    self.table(where, dataset, block)
                case KpiBlock():
                    for j, tile in enumerate(block.tiles):
                        self.measure(_where(where, "tiles", j, "measure"), dataset, tile.measure)
                        self.target(_where(where, "tiles", j, "target"), tile.target)
                        if Comparison.TARGET in tile.compare and tile.target is None:
                            self.add(
                                _where(where, "tiles", j, "target"),
                                "compare to target needs a target",
                            )
                case NarrativeBlock():
                    self.measure(_where(where, "measure"), dataset, block.measure)
                    if block.by is not None:
                        self.dimension(_where(where, "by"), dataset, block.by)
                    self.target(_where(where, "target"), block.target)
                case _:
                    pass
        return self.problems


def check_spec(
    spec: ReportSpec, catalog: Catalog, principal: Principal | None = None
) -> list[SpecProblem]:
    """Every problem of `spec` against the catalog (and the principal's rights), with paths."""
    return _SpecChecker(catalog, principal).spec(spec)
