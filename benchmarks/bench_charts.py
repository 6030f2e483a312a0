"""Benchmark chart images: kaleido on the system Chromium, and WeasyPrint on SVG versus PNG.

Prints, as `BENCH name=value unit` lines:
- charts.render_cold_s: first image in a new renderer (Chromium start included);
- charts.render_warm_ms: median per figure over the typical charts, image cache bypassed;
- charts.render_warm_pdf_ms: the same, each chart drawn as a PDF (what a PDF report places);
- charts.render_warm_reload_each_ms: the same with a freshly loaded page per figure, which is
  what kaleido does by itself;
- charts.cached_ms: median of a cache hit (figure JSON, hash, lookup);
- charts.browser_pss_mb: memory of the browser's processes (PSS) after the run;
- weasyprint.{svg,png}_<chart>_ms: best-of-N time for WeasyPrint to lay out and write a
  one-page PDF holding the chart as SVG or as a 2× PNG: the figures `preferred_format` is
  set from (for PDF/A files, which WeasyPrint draws charts into itself);
- weasyprint.placed_<chart>_ms: the same page with the chart as a placeholder, and Chromium's
  PDF of the chart placed into it afterwards (`reportgen.rendering.pdf_charts`): what a PDF
  report's chart costs besides its drawing in the browser.

    python benchmarks/bench_charts.py [--runs N]
"""

from __future__ import annotations

import argparse
import base64
import io
import logging
import statistics
import time
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pikepdf
from weasyprint import HTML

from reportgen.catalog.loader import load_catalog
from reportgen.domain.catalog import Dataset
from reportgen.domain.spec import ChartBlock, ChartKind
from reportgen.rendering import images, pdf_charts, pdf_parts
from reportgen.rendering.charts import build_figure
from reportgen.rendering.document import CHART_SCHEME, PDF_CHART, PendingChart
from reportgen.rendering.images import ChartRenderer, preferred_format
from reportgen.rendering.pdf import ReportFetcher

ROOT = Path(__file__).resolve().parents[1]
WIDTH, HEIGHT = 680, 380


def typical_charts(dataset: Dataset) -> dict[str, Any]:
    """The charts of a typical report: sparse lines and bars, a dense scatter, a heatmap."""
    rng = np.random.default_rng(7)
    months = pd.date_range("2024-01-01", periods=36, freq="MS")
    countries = [f"Country {i:02d}" for i in range(20)]
    cases: dict[str, tuple[ChartBlock, pd.DataFrame, str]] = {
        "line36": (
            ChartBlock(title="Revenue", chart=ChartKind.LINE, x="order_date", y=("revenue",)),
            pd.DataFrame({"order_date__month": months, "revenue": rng.uniform(8e5, 2.4e6, 36)}),
            "order_date__month",
        ),
        "bar10": (
            ChartBlock(title="Categories", chart=ChartKind.BAR, x="category", y=("revenue",)),
            pd.DataFrame(
                {
                    "category": [f"Cat {c}" for c in "ABCDEFGHIJ"],
                    "revenue": rng.uniform(1e5, 5e6, 10),
                }
            ),
            "category",
        ),
        "heatmap12x20": (
            ChartBlock(
                title="Margin",
                chart=ChartKind.HEATMAP,
                x="order_date",
                y=("margin_pct",),
                color="country",
            ),
            pd.DataFrame(
                [(m, c, rng.uniform(0, 0.4)) for m in months[:12] for c in countries],
                columns=["order_date__month", "country", "margin_pct"],
            ),
            "order_date__month",
        ),
    }
    for points in (50, 100, 150, 250, 500, 1000, 2000):
        cases[f"scatter{points}"] = (
            ChartBlock(title="Orders", chart=ChartKind.SCATTER, x="revenue", y=("margin_pct",)),
            pd.DataFrame(
                {
                    "revenue": rng.lognormal(8, 1, points),
                    "margin_pct": rng.uniform(0.05, 0.6, points),
                }
            ),
            "revenue",
        )
    return {
        name: build_figure(block, frame, x_column=x, dataset=dataset)
        for name, (block, frame, x) in cases.items()
    }


def timings_ms(action: Callable[[], object], runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


class _Failures(logging.Handler):
    """WeasyPrint logs an image it cannot load and goes on: a broken image would time as fast."""

    def emit(self, record: logging.LogRecord) -> None:
        raise RuntimeError(f"WeasyPrint: {record.getMessage()[:300]}")


def chart_page(uri: str) -> str:
    return (
        "<html><head><style>@page { size: A4; margin: 20mm } img { width: 170mm }</style>"
        f'</head><body><h1>Chart</h1><img src="{uri}"></body></html>'
    )


def weasyprint_ms(image: bytes, mime: str, runs: int) -> float:
    page = chart_page(f"data:{mime};base64,{base64.b64encode(image).decode()}")
    # The best of the runs: on a shared machine the minimum is the least noisy estimate.
    return min(timings_ms(lambda: HTML(string=page).write_pdf(), runs))


def placed_ms(drawing: bytes, runs: int) -> float:
    """The page laid out with a placeholder, then the chart's PDF placed and the file saved."""
    uri = f"{CHART_SCHEME}:bench"
    chart = PendingChart(uri, PDF_CHART, WIDTH, HEIGHT, 1.0, future=done(drawing))
    fetcher = ReportFetcher([], {uri: chart})

    def once() -> bytes:
        html = HTML(string=chart_page(uri), url_fetcher=fetcher)
        laid = html.render(cache=pdf_charts.placeholders([chart])).write_pdf()
        with pikepdf.open(io.BytesIO(laid)) as pdf:
            pdf_charts.place(pdf, {uri: drawing})
            return pdf_parts.saved(pdf)

    return min(timings_ms(once, runs))


def done(value: bytes) -> Future[bytes]:
    future: Future[bytes] = Future()
    future.set_result(value)
    return future


def browser_pss_mb(renderer: ChartRenderer) -> float:
    """Proportional set size: Chromium's processes share most pages, so RSS would overcount."""
    total = 0
    for pid in renderer.browser_pids():
        try:
            rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
        except OSError:
            continue
        for line in rollup.splitlines():
            if line.startswith("Pss:"):
                total += int(line.split()[1])
    return total / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    sales = load_catalog(ROOT / "catalog").get("sales")
    assert sales is not None
    figures = typical_charts(sales)
    renderer = ChartRenderer()
    try:
        started = time.perf_counter()
        renderer.render(figures["line36"], fmt="svg", width=WIDTH, height=HEIGHT)
        print(f"BENCH charts.render_cold_s={time.perf_counter() - started:.2f} s")

        def warm_ms(pdf: bool = False) -> float:
            samples = []
            for _ in range(args.runs):
                for fig in figures.values():
                    fmt = "pdf" if pdf else preferred_format(fig)
                    started = time.perf_counter()
                    renderer.render(fig, fmt=fmt, width=WIDTH, height=HEIGHT, cache=False)
                    samples.append((time.perf_counter() - started) * 1000)
            return statistics.median(samples)

        print(f"BENCH charts.render_warm_ms={warm_ms():.0f} ms")
        print(f"BENCH charts.render_warm_pdf_ms={warm_ms(pdf=True):.0f} ms")
        # For comparison: a fresh page for every figure, as kaleido does by itself.
        reuse, images.RELOAD_EVERY = images.RELOAD_EVERY, 1
        print(f"BENCH charts.render_warm_reload_each_ms={warm_ms():.0f} ms")
        images.RELOAD_EVERY = reuse
        hit = figures["line36"]
        cached = statistics.median(
            timings_ms(lambda: renderer.render(hit, fmt="svg", width=WIDTH, height=HEIGHT), 20)
        )
        print(f"BENCH charts.cached_ms={cached:.2f} ms")
        print(f"BENCH charts.browser_pss_mb={browser_pss_mb(renderer):.0f} MB")

        weasy = logging.getLogger("weasyprint")
        weasy.addHandler(_Failures(logging.WARNING))
        weasy.propagate = False
        HTML(string="<p>warm-up</p>").write_pdf()
        for name, fig in figures.items():
            svg = renderer.render(fig, fmt="svg", width=WIDTH, height=HEIGHT)
            png = renderer.render(fig, fmt="png", width=WIDTH, height=HEIGHT, scale=2.0)
            drawing = renderer.render(fig, fmt="pdf", width=WIDTH, height=HEIGHT)
            svg_ms = weasyprint_ms(svg, "image/svg+xml", args.runs)
            png_ms = weasyprint_ms(png, "image/png", args.runs)
            print(f"BENCH weasyprint.svg_{name}_ms={svg_ms:.0f} ms")
            print(f"BENCH weasyprint.png_{name}_ms={png_ms:.0f} ms")
            print(f"BENCH weasyprint.placed_{name}_ms={placed_ms(drawing, args.runs):.0f} ms")
            print(
                f"# {name}: {len(svg) // 1024} KiB SVG, {len(png) // 1024} KiB PNG, "
                f"preferred {preferred_format(fig)}"
            )
    finally:
        renderer.close()


if __name__ == "__main__":
    main()
