"""The rendered report, ready for a template: every value already formatted, every image made.

The report service builds a `Document` from a spec and its governed query results; templates
(HTML, PDF) and exports only lay it out. Nothing here queries, formats numbers or draws charts.
Identifiers (`id` fields) are stable across renders of the same spec, so links from narrative
numbers to the lineage appendix (``#fact-…``, ``#query-…``) survive re-rendering.
"""

from __future__ import annotations

from concurrent.futures import CancelledError, Future
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from reportgen.errors import InternalError

Direction = Literal["up", "down", "flat"]


ChartFormat = Literal["svg", "png", "pdf"]
"""What the chart browser draws a chart as (`reportgen.rendering.images`)."""

ChartMime = Literal["image/svg+xml", "image/png", "application/pdf"]

PDF_CHART: ChartMime = "application/pdf"
"""A chart drawn as a one-page PDF: placed into the report's PDF after layout
(`reportgen.rendering.pdf_charts`), never drawn by WeasyPrint or shown in a browser."""

CHART_SCHEME = "reportgen-chart"
"""The URI scheme of a chart image in a report's HTML for the PDF: ``reportgen-chart:<hash>``."""


class ChartNotDrawn(InternalError):
    """The chart's image was never drawn: its renderer was closed first."""


@dataclass(frozen=True)
class PendingChart:
    """A chart image the chart browser is still drawing.

    The report's HTML refers to it by `uri` (``reportgen-chart:<hash of the figure>``), so the
    PDF can be laid out before the image exists: layout needs only its size. A chart drawn as
    a PDF is placed into the file after layout; an SVG or PNG one is waited for before layout
    (`reportgen.rendering.pdf`).
    """

    uri: str
    mime: ChartMime
    width_px: int
    height_px: int
    scale: float  # a PNG has width_px × scale pixels; an SVG's or a PDF's size is its CSS size
    future: Future[bytes] = field(compare=False, repr=False)

    def result(self, timeout_s: float | None = None) -> bytes:
        """The image, once drawn; raises what drawing it raised."""
        try:
            return self.future.result(timeout_s)
        except CancelledError:
            raise ChartNotDrawn("the chart renderer closed before this chart was drawn") from None


@dataclass(frozen=True)
class FigureImage:
    """A chart, as a static image for the PDF and as plotly JSON for interactive HTML.

    `image` holds the bytes (SVG or PNG), or is empty while `pending` is still being drawn.
    """

    id: str
    title: str
    image: bytes
    mime: ChartMime
    width_px: int
    height_px: int
    plotly_json: str
    caption: str = ""
    empty: bool = False  # the query returned no rows: the image says "No data for this selection"
    pending: PendingChart | None = None


@dataclass(frozen=True)
class Cell:
    text: str
    numeric: bool = False
    style: Literal["good", "bad", "warn"] | None = None


@dataclass(frozen=True)
class TableView:
    id: str
    title: str
    columns: tuple[str, ...]  # display labels
    numeric: tuple[bool, ...]  # right-aligned columns
    rows: tuple[tuple[Cell, ...], ...]
    totals: tuple[Cell, ...] | None = None
    note: str = ""  # e.g. "Showing 50 of 212 rows; the full table is in the CSV and XLSX exports."
    query_id: str = ""


@dataclass(frozen=True)
class Change:
    """One comparison on a KPI tile: '+12.4% vs prior period'."""

    label: str
    text: str
    direction: Direction
    favourable: bool | None  # None when neither direction is better
    fact_id: str


@dataclass(frozen=True)
class Tile:
    label: str
    value: str
    fact_id: str
    changes: tuple[Change, ...] = ()
    note: str = ""  # a caveat about the value, from its fact


@dataclass(frozen=True)
class Block:
    """One laid-out piece of the report, in spec order. `kind` says which fields are used."""

    kind: Literal["cover", "section", "kpis", "chart", "table", "narrative", "text", "page_break"]
    id: str
    title: str = ""
    html: str = ""  # sanitised HTML: a section's intro, a text block, narrative sentences
    sentences: tuple[str, ...] = ()  # narrative: one safe-HTML sentence each, numbers linked
    tiles: tuple[Tile, ...] = ()
    figure: FigureImage | None = None
    table: TableView | None = None


@dataclass(frozen=True)
class FactEntry:
    """A number the narrative or a KPI tile quotes, traceable to its query."""

    id: str
    label: str
    formatted: str
    query_id: str
    note: str = ""  # why the value is missing, or a caveat about it


@dataclass(frozen=True)
class QueryEntry:
    """One governed query behind the report, for the lineage appendix and the manifest."""

    id: str
    dataset: str
    dataset_title: str
    dataset_version: str
    sql: str
    params: tuple[str, ...]
    query_hash: str
    rows: int
    result_sha256: str
    freshness: str


@dataclass(frozen=True)
class Document:
    title: str
    subtitle: str
    template: str
    dataset_title: str
    classification: Literal["public", "internal", "confidential", "restricted"]
    generated_for: str
    generated_at: datetime  # the run's logical time: never the wall clock
    locale: str
    page_size: Literal["A4", "Letter"]
    orientation: Literal["portrait", "landscape"]
    blocks: tuple[Block, ...]
    queries: tuple[QueryEntry, ...]
    facts: tuple[FactEntry, ...]
    filters: tuple[str, ...] = ()  # plain sentences: "Region in EMEA", "Order date 2026-01-01 to …"
    access: tuple[str, ...] = ()  # the reader's row limits and masks
    watermark: str | None = None
    table_of_contents: bool = True
    pdfa: bool = False
    attachments: tuple[tuple[str, bytes], ...] = field(default=())  # (file name, CSV bytes)
    data_as_of: str = ""  # the latest freshness among the report's queries, formatted

    def pending_charts(self) -> tuple[PendingChart, ...]:
        """The charts still being drawn when the document was built, in document order."""
        return tuple(
            block.figure.pending
            for block in self.blocks
            if block.figure is not None and block.figure.pending is not None
        )
