"""Benchmark the standard report: the Executive summary sample on the full demo warehouse.

Prints, one per line (`BENCH name=value unit`):
- pdf.standard.cold_s: the first render in a new process (browser start included);
- pdf.standard.warm_s: median of 5 renders in a warm process, chart image cache cleared;
- pdf.peer.warm_s: the same content as one HTML page with plotly.js charts, printed to PDF by
  a warm headless Chromium through Playwright's page.pdf (how screenshot-based peers do it),
  and pdf.standard.ratio_vs_peer = ours / peer;
- pdf.standard.peak_rss_mb: the peak RSS of a fresh Python process that renders the report once
  (imports, 5M-row warehouse, queries, charts, PDF); pdf.front_process.peak_rss_mb: the child
  that lays out the PDF's front part (pages shared with its parent included);
  pdf.bench_process.peak_rss_mb: this whole
  benchmark process after 7 renders, 20 previews and the peer's HTML; pdf.chromium.peak_rss_mb:
  the chart browser's processes;
- preview.standard.p95_ms: facts + figures + tables without a PDF, query cache cleared.

    python benchmarks/bench_report.py [--rows N]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

from reportgen.bootstrap import Services, build_services
from reportgen.domain.principal import Principal, Role
from reportgen.rendering.html import render_standalone_html
from reportgen.rendering.images import chart_renderer
from reportgen.rendering.specfiles import load_spec_file
from reportgen.services.documents import DocumentBuilder
from reportgen.services.render import Format
from reportgen.settings import Settings
from reportgen.warehouse.demo import demo_warehouse_exists, seed_demo_warehouse

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "report_templates" / "executive_summary" / "sample.yml"
AS_OF = datetime(2026, 10, 31, 7, 30, tzinfo=UTC)
BENCH_END = date(2026, 10, 31)
ANA = Principal(username="ana", roles={Role.AUTHOR}, attributes={"region": ("EMEA",)})
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def warehouse(rows: int) -> Path:
    path = ROOT / "var" / "bench" / f"warehouse-{rows}.duckdb"
    if not demo_warehouse_exists(path):
        seed_demo_warehouse(path, rows=rows, end_date=BENCH_END)
    return path


def services(tmp: Path, rows: int) -> Services:
    settings = Settings(
        data_dir=tmp,
        database_url=f"sqlite:///{tmp}/meta.db",
        warehouse_url=f"duckdb:///{warehouse(rows)}",
        artifacts_url=(tmp / "artifacts").as_uri(),
        catalog_dir=ROOT / "catalog",
    )
    return build_services(settings, upgrade=True)


def peak_rss_mb(pid: int) -> float:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cold(rows: int) -> None:
    """Runs in a child process: one render, timed from the first call."""
    with tempfile.TemporaryDirectory() as tmp:
        svc = services(Path(tmp), rows)
        spec = load_spec_file(SPEC).spec
        started = time.perf_counter()
        svc.render.render(ANA, spec, formats=(Format.PDF,), as_of=AS_OF)
        seconds = time.perf_counter() - started
        # VmHWM, not ru_maxrss: Linux carries a parent's peak into ru_maxrss across fork and
        # exec, so a child of the (large) seeding process would report the parent's peak.
        peak_mb = peak_rss_mb(os.getpid())
        # The PDF's front part is laid out in a forked child; its peak counts the pages it
        # shares with this process.
        front_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(f"{seconds:.3f} {peak_mb:.0f} {front_mb:.0f}")
        svc.close()


def peer_seconds(svc: Services, runs: int) -> float:
    # Imported here, not at the top: the cold child measures reportgen's process, not the peer's.
    from playwright.sync_api import sync_playwright  # noqa: PLC0415

    spec = load_spec_file(SPEC).spec
    preview = svc.reports.preview(ANA, spec, today=AS_OF.date())
    titles = {d.name: d.title for d in svc.render.catalog}
    document = DocumentBuilder(preview, None, AS_OF, titles).document()
    page_html = render_standalone_html(document, svc.render.library)
    timings = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_FLAGS
        )
        page = browser.new_page()
        for _ in range(runs + 1):  # the first print warms the browser
            started = time.perf_counter()
            page.set_content(page_html, wait_until="load")
            page.wait_for_function(
                "document.querySelectorAll('.js-plotly-plot .main-svg').length >= 6",
                timeout=60_000,
            )
            page.pdf(format="A4", print_background=True)
            timings.append(time.perf_counter() - started)
        browser.close()
    return statistics.median(timings[1:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--cold", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.cold:
        cold(args.rows)
        return
    warehouse(args.rows)
    child = subprocess.run(  # noqa: S603 - our own script, fixed argv
        [sys.executable, __file__, "--cold", "--rows", str(args.rows)],
        capture_output=True,
        text=True,
        check=True,
    )
    cold_s, render_mb, front_mb = (float(v) for v in child.stdout.strip().splitlines()[-1].split())
    with tempfile.TemporaryDirectory() as tmp:
        svc = services(Path(tmp), args.rows)
        spec = load_spec_file(SPEC).spec
        renderer = chart_renderer()
        svc.render.render(ANA, spec, formats=(Format.PDF,), as_of=AS_OF)  # warm up
        warm = []
        for _ in range(5):
            renderer.clear_cache()
            started = time.perf_counter()
            svc.render.render(ANA, spec, formats=(Format.PDF,), as_of=AS_OF)
            warm.append(time.perf_counter() - started)
        previews = []
        for _ in range(20):
            svc.queries.clear_cache(freshness=False)
            started = time.perf_counter()
            svc.reports.preview(ANA, spec, today=AS_OF.date())
            previews.append((time.perf_counter() - started) * 1000)
        chromium_mb = sum(peak_rss_mb(pid) for pid in renderer.browser_pids())
        peer = peer_seconds(svc, 5)
        svc.close()
    ours = statistics.median(warm)
    bench_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"BENCH pdf.standard.cold_s={cold_s:.2f} s")
    print(f"BENCH pdf.standard.warm_s={ours:.2f} s")
    print(f"BENCH pdf.peer.warm_s={peer:.2f} s")
    print(f"BENCH pdf.standard.ratio_vs_peer={ours / peer:.2f} x")
    print(f"BENCH pdf.standard.peak_rss_mb={render_mb:.0f} MB")
    print(f"BENCH pdf.front_process.peak_rss_mb={front_mb:.0f} MB")
    print(f"BENCH pdf.bench_process.peak_rss_mb={bench_mb:.0f} MB")
    print(f"BENCH pdf.chromium.peak_rss_mb={chromium_mb:.0f} MB")
    print(f"BENCH preview.standard.p95_ms={statistics.quantiles(previews, n=20)[-1]:.0f} ms")


if __name__ == "__main__":
    main()
