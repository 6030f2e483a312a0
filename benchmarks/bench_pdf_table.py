"""Benchmark the PDF layout: a 2,000-row, 6-column table appendix, and a typical report.

The table document is a cover, a table of contents, one section holding the table and the
lineage appendix; the typical report is about ten pages (cover, contents, KPI tiles, narrative,
six PNG charts, two 50-row tables, lineage). Both go through the same template library and
`render_pdf` the report service uses, with hand-made content (no warehouse, no Chromium), and
the best wall time of a few runs in one warm process is printed. Long tables are set as
listings (one monospaced line per row); ``--compare`` also times the same rows as a 6-column
table, and stock WeasyPrint on that table with automatic table layout, for the record.

    python benchmarks/bench_pdf_table.py [--rows N] [--runs N] [--compare]
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime

import weasyprint
from PIL import Image, ImageDraw
from pypdf import PdfReader

from reportgen.rendering.document import (
    Block,
    Cell,
    Document,
    FactEntry,
    FigureImage,
    QueryEntry,
    TableView,
    Tile,
)
from reportgen.rendering.pdf import render_pdf
from reportgen.rendering.templates import TemplateLibrary

COUNTRIES = ("Germany", "France", "United Kingdom", "Spain", "Italy", "Netherlands", "Sweden")
REGIONS = ("EMEA", "Americas", "APAC")


def table(id_: str, rows: int) -> TableView:
    body = tuple(
        (
            Cell(f"{COUNTRIES[i % len(COUNTRIES)]} {i + 1}"),
            Cell(REGIONS[i % len(REGIONS)]),
            Cell(f"${(i * 7919) % 100_000 + 1_000:,}.00", numeric=True),
            Cell(f"{(i * 31) % 900 + 10:,}", numeric=True),
            Cell(f"2026-{i % 12 + 1:02d}-{i % 28 + 1:02d}"),
            Cell(f"{(i * 13) % 40 - 10:.1f}%", numeric=True, style="bad" if i % 9 == 0 else None),
        )
        for i in range(rows)
    )
    return TableView(
        id=id_,
        title="All orders",
        columns=("Country", "Region", "Revenue", "Units", "Last order", "Change"),
        numeric=(False, False, True, True, False, True),
        rows=body,
        query_id="q1",
    )


def table_document(rows: int) -> Document:
    query = QueryEntry(
        id="q1",
        dataset="sales",
        dataset_title="Sales",
        dataset_version="3f9a2c1d",
        sql="SELECT country, region, revenue, units, last_order, change FROM orders",
        params=(),
        query_hash="a" * 64,
        rows=rows,
        result_sha256="b" * 64,
        freshness="Loaded 2026-11-02 05:40 UTC",
    )
    return Document(
        title="Order appendix",
        subtitle="Every order in the period",
        template="executive_summary",
        dataset_title="Sales",
        classification="internal",
        generated_for="ana@example.com",
        generated_at=datetime(2026, 11, 2, 6, 0, tzinfo=UTC),
        locale="en_US",
        page_size="A4",
        orientation="portrait",
        blocks=(
            Block(kind="cover", id="cover"),
            Block(kind="section", id="appendix", title="Appendix"),
            Block(kind="table", id="orders", title="All orders", table=table("orders", rows)),
        ),
        queries=(query,),
        facts=(),
    )


def chart(id_: str, title: str) -> FigureImage:
    """A PNG the size kaleido makes for a full-width chart (1,400 x 700 at scale 2)."""
    image = Image.new("RGB", (1400, 700), "white")
    draw = ImageDraw.Draw(image)
    for i in range(12):
        height = 120 + (i * 37) % 420
        draw.rectangle((120 + i * 100, 620 - height, 190 + i * 100, 620), fill=(31, 119, 180))
    draw.line((100, 620, 1340, 620), fill=(60, 60, 60), width=3)
    out = io.BytesIO()
    image.save(out, format="PNG")
    figure = {"data": [{"type": "bar", "y": [1, 2, 3]}], "layout": {"title": {"text": title}}}
    return FigureImage(
        id=id_,
        title=title,
        image=out.getvalue(),
        mime="image/png",
        width_px=700,
        height_px=350,
        plotly_json=json.dumps(figure),
    )


def typical_document() -> Document:
    """About ten pages: what the executive summary sample produces."""
    base = table_document(0)
    facts = tuple(
        FactEntry(id=f"f{i}", label=f"Figure {i}", formatted=f"${i}.2M", query_id="q1")
        for i in range(8)
    )
    tiles = tuple(Tile(label=f"Measure {i}", value=f"${i}.2M", fact_id=f"f{i}") for i in range(4))
    sentences = tuple(
        f'Revenue in market {i} reached <a href="#fact-f{i}">${i}.2M</a>, up on last year.'
        for i in range(8)
    )
    charts = tuple(
        Block(kind="chart", id=f"c{i}", title=f"Chart {i}", figure=chart(f"c{i}", f"Chart {i}"))
        for i in range(6)
    )
    blocks = (
        Block(kind="cover", id="cover"),
        Block(kind="kpis", id="kpis", title="Key figures", tiles=tiles),
        Block(kind="narrative", id="story", title="What happened", sentences=sentences),
        Block(kind="section", id="trends", title="Trends"),
        *charts[:3],
        Block(kind="section", id="mix", title="Mix"),
        *charts[3:],
        Block(kind="section", id="detail", title="Detail"),
        Block(kind="table", id="t1", title="By country", table=table("t1", 50)),
        Block(kind="table", id="t2", title="By product", table=table("t2", 50)),
    )
    return replace(base, title="Sales executive summary", blocks=blocks, facts=facts)


def best_of(runs: int, document: Document, library: TemplateLibrary) -> tuple[float, int]:
    folder = library.folder(document.template)
    timings, pdf = [], b""
    for _ in range(runs):
        started = time.perf_counter()
        html = library.render_html(document)
        pdf = render_pdf(document, html, base_url=folder, allowed_roots=library.roots)
        timings.append(time.perf_counter() - started)
    return min(timings), len(PdfReader(io.BytesIO(pdf)).pages)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=2_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--compare", action="store_true", help="also time stock WeasyPrint")
    args = parser.parse_args()

    library = TemplateLibrary()
    document = table_document(args.rows)
    seconds, pages = best_of(args.runs, document, library)
    print(f"BENCH pdf.table{args.rows}.s={seconds:.2f} s")
    print(f"# {args.rows} rows on {pages} pages")
    seconds, pages = best_of(args.runs, typical_document(), library)
    print(f"BENCH pdf.typical.s={seconds:.2f} s")
    print(f"# typical report: {pages} pages, 6 PNG charts, 2 tables of 50 rows")

    if args.compare:
        as_table = TemplateLibrary(listing_rows=sys.maxsize)
        seconds, pages = best_of(1, document, as_table)
        print(f"# the same rows as a 6-column table (no listing): {seconds:.2f} s, {pages} pages")
        stock_html = as_table.render_html(document).replace(
            "table-layout: fixed", "table-layout: auto"
        )
        started = time.perf_counter()
        weasyprint.HTML(string=stock_html).write_pdf()
        print(f"# stock WeasyPrint, automatic table layout: {time.perf_counter() - started:.2f} s")


if __name__ == "__main__":
    main()
