"""Hand-built `Document`s for the template, PDF and HTML tests.

They stand in for what the report service produces: formatted values, safe-HTML narrative whose
numbers link to facts, small SVG and PNG chart images, tables of any length and a lineage
section. Nothing here queries a warehouse or starts a browser.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime

from PIL import Image, ImageDraw

from reportgen.rendering.document import (
    Block,
    Cell,
    Change,
    Document,
    FactEntry,
    FigureImage,
    QueryEntry,
    TableView,
    Tile,
)
from reportgen.rendering.pdf import render_pdf
from reportgen.rendering.templates import TemplateLibrary

GENERATED_AT = datetime(2026, 11, 2, 6, 0, tzinfo=UTC)
HOSTILE = '<script>alert("x")</script> & <b>bold</b>'
REGIONS = ("EMEA", "Americas", "APAC")
COUNTRIES = ("Germany", "France", "United Kingdom", "Spain", "Italy", "Netherlands", "Sweden")


def rendered_pdf(doc: Document, library: TemplateLibrary) -> bytes:
    """`doc` through `library`'s template to a PDF, failing on any WeasyPrint warning or error."""
    with weasyprint_logs() as logs:
        data = render_pdf(
            doc,
            library.render_html(doc),
            base_url=library.folder(doc.template),
            allowed_roots=library.roots,
        )
    assert not logs, [record.getMessage() for record in logs]
    return data


@contextmanager
def weasyprint_logs() -> Iterator[list[logging.LogRecord]]:
    """Every warning or error WeasyPrint logs inside the block (WeasyPrint's own
    ``assert_no_logs`` idea: a render test fails on any of them)."""
    records: list[logging.LogRecord] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    logger = logging.getLogger("weasyprint")
    handler = Collect(level=logging.WARNING)
    previous = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.WARNING)
    try:
        yield records
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)


def svg_chart(title: str, values: tuple[float, ...] = (3, 5, 2, 6, 4)) -> bytes:
    """A small bar chart as SVG, with its own fonts' text."""
    width, height = 640, 300
    bar = (width - 80) / len(values)
    top = max(values)
    bars = "".join(
        f'<rect x="{60 + i * bar:.1f}" y="{260 - 200 * v / top:.1f}" width="{bar * 0.7:.1f}" '
        f'height="{200 * v / top:.1f}" fill="#1f77b4"/>'
        for i, v in enumerate(values)
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}"><rect width="100%" height="100%" fill="#fff"/>'
        f'<text x="60" y="30" font-family="Liberation Sans" font-size="16">{title}</text>'
        f'<line x1="55" y1="260" x2="{width - 20}" y2="260" stroke="#333"/>{bars}</svg>'
    ).encode()


def png_chart(values: tuple[float, ...] = (4, 2, 5, 3)) -> bytes:
    """A small bar chart as PNG."""
    image = Image.new("RGB", (640, 300), "white")
    draw = ImageDraw.Draw(image)
    bar = 560 // len(values)
    for i, value in enumerate(values):
        x = 60 + i * bar
        draw.rectangle((x, 260 - 40 * value, x + bar * 0.7, 260), fill=(44, 160, 44))
    draw.line((55, 260, 620, 260), fill=(51, 51, 51), width=2)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def plotly_json(title: str) -> str:
    return json.dumps(
        {
            "data": [{"type": "bar", "x": list(REGIONS), "y": [3, 5, 2]}],
            "layout": {"title": {"text": title}},
        }
    )


def figure(
    id_: str, title: str, *, mime: str = "image/svg+xml", empty: bool = False
) -> FigureImage:
    image = svg_chart(title) if mime == "image/svg+xml" else png_chart()
    return FigureImage(
        id=id_,
        title=title,
        image=image,
        mime="image/svg+xml" if mime == "image/svg+xml" else "image/png",
        width_px=640,
        height_px=300,
        plotly_json=plotly_json(title),
        caption=f"Source: sales, {title.lower()}.",
        empty=empty,
    )


def table(id_: str, rows: int, *, title: str = "Revenue by country", note: str = "") -> TableView:
    """A six-column table of ``rows`` rows, with totals."""
    body = tuple(
        (
            Cell(f"{COUNTRIES[i % len(COUNTRIES)]} {i + 1}"),
            Cell(REGIONS[i % len(REGIONS)]),
            Cell(f"${(i * 7919) % 100_000 + 1_000:,}.00", numeric=True),
            Cell(f"{(i * 31) % 900 + 10:,}", numeric=True),
            Cell(f"2026-{i % 12 + 1:02d}-{i % 28 + 1:02d}"),
            Cell(
                f"{(i * 13) % 40 - 10:.1f}%",
                numeric=True,
                style="bad" if (i * 13) % 40 - 10 < 0 else ("good" if i % 5 == 0 else None),
            ),
        )
        for i in range(rows)
    )
    return TableView(
        id=id_,
        title=title,
        columns=("Country", "Region", "Revenue", "Units", "Last order", "Change"),
        numeric=(False, False, True, True, False, True),
        rows=body,
        totals=(
            Cell("Total"),
            Cell(""),
            Cell("$1,234,567.00", numeric=True),
            Cell("98,765", numeric=True),
            Cell(""),
            Cell("+4.2%", numeric=True),
        ),
        note=note,
        query_id="q-table",
    )


QUERIES = (
    QueryEntry(
        id="q-kpi",
        dataset="sales",
        dataset_title="Sales",
        dataset_version="3f9a2c1d",
        sql="SELECT sum(net_amount) AS revenue,\n       count(*) AS orders\nFROM orders\n"
        "WHERE order_date BETWEEN ? AND ? AND region IN (?)",
        params=("2026-01-01", "2026-10-31", "EMEA"),
        query_hash="a" * 64,
        rows=1,
        result_sha256="b" * 64,
        freshness="Loaded 2026-11-02 05:40 UTC (within the 24 h SLA)",
    ),
    QueryEntry(
        id="q-table",
        dataset="sales",
        dataset_title="Sales",
        dataset_version="3f9a2c1d",
        sql="SELECT country, region, sum(net_amount) AS revenue\nFROM orders\n"
        "WHERE region IN (?)\nGROUP BY country, region\nORDER BY revenue DESC",
        params=("EMEA",),
        query_hash="c" * 64,
        rows=212,
        result_sha256="d" * 64,
        freshness="Loaded 2026-11-02 05:40 UTC (within the 24 h SLA)",
    ),
)

FACTS = (
    FactEntry(
        id="revenue-total", label="Revenue, year to date", formatted="$4.2M", query_id="q-kpi"
    ),
    FactEntry(id="revenue-yoy", label="Revenue vs last year", formatted="+12.4%", query_id="q-kpi"),
    FactEntry(
        id="orders-total", label="Orders, year to date", formatted="18,204", query_id="q-kpi"
    ),
    FactEntry(id="top-country", label="Top country", formatted="Germany", query_id="q-table"),
)


def document(
    *,
    rows: int = 12,
    template: str = "executive_summary",
    hostile: bool = False,
    **changes: object,
) -> Document:
    """A realistic report: cover, KPI tiles, narrative, sections, two charts, a table, text."""
    country = HOSTILE if hostile else "Germany"
    detail = table("t-countries", rows)
    if hostile:
        detail = replace(detail, rows=((Cell(HOSTILE), *detail.rows[0][1:]), *detail.rows[1:]))
    blocks = (
        Block(kind="cover", id="cover"),
        Block(
            kind="kpis",
            id="kpis",
            title="Key figures",
            tiles=(
                Tile(
                    label="Revenue",
                    value="$4.2M",
                    fact_id="revenue-total",
                    changes=(
                        Change(
                            label="vs last year",
                            text="+12.4%",
                            direction="up",
                            favourable=True,
                            fact_id="revenue-yoy",
                        ),
                    ),
                ),
                Tile(label="Orders", value="18,204", fact_id="orders-total"),
                Tile(
                    label="Average order",
                    value="$231",
                    fact_id="orders-total",
                    changes=(
                        Change(
                            label="vs last year",
                            text="−1.8%",
                            direction="down",
                            favourable=False,
                            fact_id="revenue-yoy",
                        ),
                    ),
                ),
                Tile(label="Units", value="52,310", fact_id="orders-total"),
            ),
        ),
        Block(
            kind="narrative",
            id="what-happened",
            title="What happened",
            sentences=(
                'Revenue reached <a href="#fact-revenue-total">$4.2M</a>, '
                '<a href="#fact-revenue-yoy">+12.4%</a> on last year.',
                "The top country was "
                f'<a href="#fact-top-country">{"&lt;script&gt;" if hostile else country}</a>.',
            ),
        ),
        Block(
            kind="section",
            id="trends",
            title="Trends",
            html="<p>Monthly revenue and volume, split the ways the business is run.</p>",
        ),
        Block(
            kind="chart",
            id="c-month",
            title="Revenue by month",
            figure=figure("f1", "Revenue by month"),
        ),
        Block(
            kind="chart",
            id="c-channel",
            title="Revenue by channel",
            figure=figure("f2", "Revenue by channel", mime="image/png"),
        ),
        Block(kind="section", id="detail", title="Detail"),
        Block(kind="table", id="t-countries", title="Revenue by country", table=detail),
        Block(
            kind="text",
            id="notes",
            title="Notes",
            html="<p>Figures are net of returns. <em>Targets</em> come from the 2026 plan.</p>",
        ),
    )
    built = Document(
        title="Sales executive summary",
        subtitle="Year to date",
        template=template,
        dataset_title="Sales",
        classification="confidential",
        generated_for="ana@example.com",
        generated_at=GENERATED_AT,
        locale="en_US",
        page_size="A4",
        orientation="portrait",
        blocks=blocks,
        queries=QUERIES,
        facts=FACTS,
        filters=("Region in EMEA", "Order date 2026-01-01 to 2026-10-31"),
        access=("Rows limited to region EMEA",),
        attachments=(("revenue-by-country.csv", b"country,revenue\nGermany,1200\nFrance,900\n"),),
    )
    if hostile:
        built = replace(built, title=f"Sales {HOSTILE}", generated_for=HOSTILE)
    return replace(built, **changes)  # type: ignore[arg-type]


def table_document(rows: int, **changes: object) -> Document:
    """A document that is mostly one long table (the appendix case)."""
    base = document(rows=0)
    blocks = (
        Block(kind="cover", id="cover"),
        Block(kind="section", id="appendix", title="Appendix: all orders"),
        Block(kind="table", id="t-all", title="All orders", table=table("t-all", rows)),
    )
    return replace(base, blocks=blocks, facts=(), **changes)  # type: ignore[arg-type]
