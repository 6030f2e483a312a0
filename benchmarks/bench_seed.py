"""How long the demo warehouse takes to generate; the budget is 15 s for five million orders.

Usage: ``python benchmarks/bench_seed.py [--rows N]``. Prints one line,
``BENCH seed.rows5m_s=<seconds> s`` (``seed.rows<N>_s`` when ``--rows`` is not the default).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from reportgen.warehouse.demo import seed_demo_warehouse

DEFAULT_ROWS = 5_000_000


def main() -> None:
    """Generate a warehouse into a throw-away folder and print the wall-clock time."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS, help="order rows to generate")
    rows: int = parser.parse_args().rows
    with tempfile.TemporaryDirectory(prefix="bench-seed-") as folder:
        started = time.perf_counter()
        seed_demo_warehouse(Path(folder) / "demo.duckdb", rows=rows)
        seconds = time.perf_counter() - started
    name = "seed.rows5m_s" if rows == DEFAULT_ROWS else f"seed.rows{rows}_s"
    print(f"BENCH {name}={seconds:.2f} s")


if __name__ == "__main__":
    main()
