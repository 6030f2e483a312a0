"""Benchmark the report builder's reruns: the server time from a filter change to the rerun's end.

Drives the real app with Streamlit's AppTest, signed in as ana (author, EMEA), on the builder
with the Executive summary template over the full demo warehouse; the period is fixed to the
demo's last ten months so the figures do not depend on the day. Each step picks a Country
filter and times ``AppTest.run()``. Scripts are compiled once, as a server's runtime does
(AppTest alone compiles them on every run). Prints, one per line (`BENCH name=value unit`):

- ui.builder.rerun_p95_ms: uncached, a filter value never asked before with the query cache
  and the drawn figures emptied first (warehouse queries, facts, figures and the page); every
  result behind the preview is checked to come from the warehouse;
- ui.builder.rerun_cached_p95_ms: the same filter values again, their results in the process's
  query cache (shared by every user, as are the figures drawn from them: an untimed pass puts
  them there) but the session's preview rebuilt; every result is checked to come from the
  cache;
- ui.builder.rerun_session_p95_ms: flipping back to a choice this session has just previewed
  (the preview kept in the session: only the page is drawn).

    python benchmarks/bench_ui.py [--rows N] [--runs N]
"""

from __future__ import annotations

import argparse
import itertools
import logging
import os
import statistics
import sys
import tempfile
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager
from streamlit.runtime.scriptrunner.script_cache import ScriptCache
from streamlit.testing.v1 import AppTest, app_test, local_script_runner

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the app's components/ and pages/ import from the repo root

from components.session import services  # noqa: E402
from reportgen.bootstrap import build_services  # noqa: E402
from reportgen.services.users import seed_demo_users  # noqa: E402
from reportgen.settings import load_settings  # noqa: E402
from reportgen.warehouse.demo import demo_warehouse_exists, seed_demo_warehouse  # noqa: E402

APP = ROOT / "app.py"
BENCH_END = date(2026, 10, 31)
PERIOD = (date(2026, 1, 1), BENCH_END)
TIMEOUT_S = 120


def warehouse(rows: int) -> Path:
    path = ROOT / "var" / "bench" / f"warehouse-{rows}.duckdb"
    if not demo_warehouse_exists(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        seed_demo_warehouse(path, rows=rows, end_date=BENCH_END)
    return path


def point_at(data_dir: Path, rows: int) -> None:
    """The app's settings for this run: a fresh metadata DB with the demo users."""
    os.environ.update(
        REPORTGEN_DATA_DIR=str(data_dir),
        REPORTGEN_DATABASE_URL=f"sqlite:///{data_dir / 'meta.db'}",
        REPORTGEN_WAREHOUSE_URL=f"duckdb:///{warehouse(rows)}",
        REPORTGEN_CATALOG_DIR=str(ROOT / "catalog"),
        REPORTGEN_LOG_LEVEL="WARNING",
    )
    seeded = build_services(load_settings(), upgrade=True)
    try:
        seed_demo_users(seeded.users)
    finally:
        seeded.close()


def stay_in_navigation_mode() -> None:
    """Run the app as a warmed-up server does (see app.leave_legacy_pages_mode)."""
    original = PagesManager.__init__

    def init(self: PagesManager, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    PagesManager.__init__ = init  # type: ignore[method-assign]


def compile_scripts_once() -> None:
    """Keep scripts' bytecode between runs, as a server's runtime does for all its sessions."""
    shared = ScriptCache()
    app_test.ScriptCache = lambda: shared  # type: ignore[attr-defined]
    local_script_runner.ScriptCache = lambda: shared  # type: ignore[attr-defined]


def run(at: AppTest) -> float:
    started = time.perf_counter()
    at.run()
    elapsed = (time.perf_counter() - started) * 1000
    if at.exception:
        raise SystemExit(f"the builder failed: {[e.value for e in at.exception]}")
    return elapsed


def widget_key(at: AppTest, name: str) -> str:
    return f"builder_{at.session_state['_builder_generation']}_{name}"


def builder() -> AppTest:
    """The builder as ana, on the Executive summary over a fixed period, filtered by country."""
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT_S)
    at.session_state["authentication_status"] = True
    at.session_state["username"] = "ana"
    run(at)
    at.switch_page("pages/builder.py")
    run(at)
    at.selectbox(key=widget_key(at, "period")).select("custom")
    run(at)
    at.date_input(key=widget_key(at, "dates")).set_value(PERIOD)
    run(at)
    at.multiselect(key=widget_key(at, "filter_dimensions")).set_value(["country"])
    run(at)
    return at


def choices(at: AppTest) -> Iterator[list[str]]:
    """Filter values in an order that never repeats: each country, then each pair."""
    countries = at.multiselect(key=widget_key(at, "filter_country")).options
    for size in (1, 2, 3):
        for combination in itertools.combinations(countries, size):
            yield list(combination)


def choose(at: AppTest, values: list[str], before: Callable[[], None] = lambda: None) -> float:
    at.multiselect(key=widget_key(at, "filter_country")).set_value(values)
    before()
    return run(at)


def previewed_from(at: AppTest, *, cache: bool) -> None:
    """Stop unless every result behind the newest preview came from the cache (or none did)."""
    renditions = at.session_state["_builder_renditions"]
    results = next(reversed(renditions.values())).preview.queried
    wrong = [r.query_hash[:12] for r in results if r.cached is not cache]
    if not results or wrong:
        where = "the query cache" if cache else "the warehouse"
        raise SystemExit(f"not every result came from {where}: {wrong or 'no results'}")


def timed(
    at: AppTest, asked: list[list[str]], before: Callable[[], None], *, cache: bool
) -> list[float]:
    samples = []
    for values in asked:
        samples.append(choose(at, values, before))
        previewed_from(at, cache=cache)
    return samples


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20, method="inclusive")[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    stay_in_navigation_mode()
    compile_scripts_once()
    with tempfile.TemporaryDirectory(prefix="bench-ui-") as tmp:
        point_at(Path(tmp), args.rows)
        at = builder()
        asked = list(itertools.islice(choices(at), args.runs))

        def forget_everything() -> None:
            services().queries.clear_cache(freshness=False)
            services().reports.clear_cache()
            at.session_state["_builder_renditions"] = OrderedDict()

        def forget_the_session() -> None:
            at.session_state["_builder_renditions"] = OrderedDict()

        uncached = timed(at, asked, forget_everything, cache=False)
        for values in asked:  # untimed: every choice's results into the query cache
            choose(at, values)
        cached = timed(at, asked, forget_the_session, cache=True)
        first, second = asked[0], asked[1]
        choose(at, first)
        choose(at, second)
        session = [choose(at, first if i % 2 else second) for i in range(args.runs)]
        st.cache_resource.clear()  # closes the app's services
    print(f"BENCH ui.builder.rerun_p95_ms={p95(uncached):.0f} ms")
    print(f"BENCH ui.builder.rerun_cached_p95_ms={p95(cached):.0f} ms")
    print(f"BENCH ui.builder.rerun_session_p95_ms={p95(session):.0f} ms")


if __name__ == "__main__":
    main()
