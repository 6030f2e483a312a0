"""Benchmark the builder's PDF export in a real browser: from the click to the file on disk.

Starts the app (`streamlit run app.py` on loopback, a fresh metadata DB with the demo users,
the demo warehouse) and drives Debian's Chromium with Playwright, signed in as ana (author,
EMEA), on the Executive summary. Each run takes a Country filter never asked before (so
nothing is reused from an earlier run), waits for the live preview, and then times one click
on the Export panel's PDF button until the browser has the whole file. Prints the median of
the runs, one per line (`BENCH name=value unit`):

- ui.export_pdf.click_to_file_s: after the preview and the Print preview have been seen (the
  Print preview draws the very PDF the export hands over, so the click only downloads it);
- ui.export_pdf.render_click_to_file_s: after the live preview only: the click on Export PDF
  renders the PDF (progress shown), then Download PDF hands it over; both clicks are timed.

    python benchmarks/bench_export.py [--rows N] [--runs N]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

from playwright.sync_api import Browser, Page, expect, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the browser journeys' UI steps live in tests/browser

from reportgen.bootstrap import build_services  # noqa: E402
from reportgen.services.users import seed_demo_users  # noqa: E402
from reportgen.settings import load_settings  # noqa: E402
from reportgen.warehouse.demo import demo_warehouse_exists, seed_demo_warehouse  # noqa: E402
from reportgen.warehouse.demo_company import COUNTRY_WEIGHTS  # noqa: E402
from tests.browser.app_ui import AppServer, choose, open_nav_page, rerun, sign_in  # noqa: E402

CHROMIUM = os.environ.get("REPORTGEN_CHROMIUM_PATH", "/usr/bin/chromium")
BENCH_END = date(2026, 10, 31)
START_TIMEOUT_S = 120
STEP_TIMEOUT_MS = 180_000
PDF_BUTTON = ".st-key-builder_download_export_pdf_0"


def warehouse(rows: int) -> Path:
    path = ROOT / "var" / "bench" / f"warehouse-{rows}.duckdb"
    if not demo_warehouse_exists(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        seed_demo_warehouse(path, rows=rows, end_date=BENCH_END)
    return path


def app_env(data_dir: Path, rows: int) -> dict[str, str]:
    """The app's settings for this run: a fresh metadata DB with the demo users."""
    env = {
        "REPORTGEN_DATA_DIR": str(data_dir),
        "REPORTGEN_DATABASE_URL": f"sqlite:///{data_dir / 'meta.db'}",
        "REPORTGEN_WAREHOUSE_URL": f"duckdb:///{warehouse(rows)}",
        "REPORTGEN_CATALOG_DIR": str(ROOT / "catalog"),
        "REPORTGEN_LOG_LEVEL": "WARNING",
    }
    os.environ.update(env)
    seeded = build_services(load_settings(), upgrade=True)
    try:
        seed_demo_users(seeded.users)
    finally:
        seeded.close()
    return env


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def app(env: dict[str, str], log: Path) -> Iterator[AppServer]:
    port = _free_port()
    with log.open("wb") as sink:
        process = subprocess.Popen(  # noqa: S603 - our own fixed command line
            [
                sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"),
                "--server.address", "127.0.0.1", "--server.port", str(port),
                "--server.headless", "true", "--browser.gatherUsageStats", "false",
                "--server.fileWatcherType", "none",
            ],
            cwd=ROOT, env={**os.environ, **env}, stdout=sink, stderr=subprocess.STDOUT,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if process.poll() is not None:
                raise SystemExit(f"the app exited with {process.returncode}; see {log}")
            try:
                health = f"{url}/_stcore/health"  # http on loopback
                with urllib.request.urlopen(health, timeout=2) as answer:  # noqa: S310
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"the app did not start within {START_TIMEOUT_S} s")
            time.sleep(0.2)
        yield AppServer(url, Path(env["REPORTGEN_DATA_DIR"]), env)
    finally:
        process.terminate()
        process.wait(timeout=30)


def builder_for(browser: Browser, server: AppServer, country: str) -> Page:
    """A new session of ana on the builder, filtered to `country`, its preview drawn."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, accept_downloads=True)
    context.set_default_timeout(STEP_TIMEOUT_MS)
    page = context.new_page()
    sign_in(page, server, "ana")
    open_nav_page(page, "Report builder")
    choose(page, "Filter by", "Country")
    choose(page, "Country", country)
    expect(page.get_by_text("may see it")).to_contain_text(f"Country in {country}")
    return page


def click_to_file(page: Page) -> float:
    """Seconds from the click on the Export panel's PDF button to the whole file downloaded."""
    export = page.locator(".st-key-builder_export_pdf").get_by_role("button")
    started = time.perf_counter()
    if export.count():  # not rendered yet: Export PDF renders, then Download PDF appears
        with rerun(page, STEP_TIMEOUT_MS):
            export.click()
    with page.expect_download() as download:
        page.locator(PDF_BUTTON).get_by_role("button").click()
    download.value.path()  # returns once the file is complete
    elapsed = time.perf_counter() - started
    assert download.value.suggested_filename.endswith(".pdf")
    return elapsed


def after_print_preview(browser: Browser, server: AppServer, country: str) -> float:
    page = builder_for(browser, server, country)
    page.get_by_role("tab", name="Print preview", exact=True).click()
    expect(page.get_by_text("exactly as exported")).to_be_visible()
    expect(page.locator(PDF_BUTTON)).to_be_visible()
    try:
        return click_to_file(page)
    finally:
        page.context.close()


def after_preview(browser: Browser, server: AppServer, country: str) -> float:
    page = builder_for(browser, server, country)
    try:
        return click_to_file(page)
    finally:
        page.context.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    expect.set_options(timeout=STEP_TIMEOUT_MS)
    countries = sorted(COUNTRY_WEIGHTS["EMEA"])
    if args.runs * 2 + 1 > len(countries):
        raise SystemExit(f"at most {(len(countries) - 1) // 2} runs: one country each")
    with tempfile.TemporaryDirectory(prefix="bench-export-") as tmp:
        env = app_env(Path(tmp), args.rows)
        with app(env, Path(tmp) / "streamlit.log") as server, sync_playwright() as driver:
            browser = driver.chromium.launch(
                executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
            )
            after_preview(browser, server, countries.pop())  # warm-up: first render, fonts
            downloaded = [
                after_print_preview(browser, server, countries.pop()) for _ in range(args.runs)
            ]
            rendered = [after_preview(browser, server, countries.pop()) for _ in range(args.runs)]
            browser.close()
    print(f"BENCH ui.export_pdf.click_to_file_s={statistics.median(downloaded):.2f} s")
    print(f"BENCH ui.export_pdf.render_click_to_file_s={statistics.median(rendered):.2f} s")


if __name__ == "__main__":
    main()
