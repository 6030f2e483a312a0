"""Benchmark governed queries on the full-size demo warehouse.

Runs "revenue and units by month x region over all rows" as ana (author, EMEA: the row policy
applies) through the same QueryService the app uses, with a SQLite metadata DB recording each
query in the audit log. Prints p95 latencies of the whole service call, audit included:
uncached (result cache cleared before every run, freshness reading warm) and cached.

    python benchmarks/bench_query.py [--rows N] [--runs N]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path

from pydantic import SecretStr

from reportgen.bootstrap import build_services
from reportgen.domain.principal import Principal, Role
from reportgen.domain.query import QueryRequest
from reportgen.settings import Settings
from reportgen.warehouse.demo import demo_warehouse_exists, seed_demo_warehouse

ROOT = Path(__file__).resolve().parents[1]
BENCH_END = date(2026, 10, 31)


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20, method="inclusive")[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--runs", type=int, default=40)
    args = parser.parse_args()

    warehouse = ROOT / "var" / "bench" / f"warehouse-{args.rows}.duckdb"
    if not demo_warehouse_exists(warehouse):
        seed_demo_warehouse(warehouse, rows=args.rows, end_date=BENCH_END)
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            data_dir=Path(tmp),
            database_url=f"sqlite:///{tmp}/meta.db",
            warehouse_url=f"duckdb:///{warehouse}",
            catalog_dir=ROOT / "catalog",
            cookie_key=SecretStr("bench-cookie-key-0123456789abcdef-0123"),
        )
        services = build_services(settings, upgrade=True)
        ana = Principal(username="ana", roles={Role.AUTHOR}, attributes={"region": ("EMEA",)})
        request = QueryRequest(
            dataset="sales", dimensions=("region",), measures=("revenue", "units"), grain="month"
        )
        first = services.queries.run(ana, request)  # warms freshness and DuckDB's file cache
        assert set(first.frame["region"]) == {"EMEA"}, "the row policy must apply"
        uncached, cached = [], []
        for _ in range(args.runs):
            services.queries.clear_cache(freshness=False)
            started = time.perf_counter()
            result = services.queries.run(ana, request)
            uncached.append((time.perf_counter() - started) * 1000)
            assert not result.cached
        for _ in range(args.runs * 5):
            started = time.perf_counter()
            result = services.queries.run(ana, request)
            cached.append((time.perf_counter() - started) * 1000)
            assert result.cached
        services.close()
    suffix = "" if args.rows == 5_000_000 else f"_rows{args.rows}"
    print(f"BENCH query.month_region.uncached_p95_ms{suffix}={p95(uncached):.1f} ms")
    print(f"BENCH query.month_region.cached_p95_ms{suffix}={p95(cached):.2f} ms")


if __name__ == "__main__":
    main()
