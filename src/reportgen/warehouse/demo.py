"""The demo warehouse: a deterministic, realistic DuckDB file to explore reportgen without data.

Every value is computed inside DuckDB from the seed and the row number (``hash`` of both, never
``random()``), so the same ``(rows, seed, end_date)`` always yields the same tables, whatever the
thread count, and five million orders take seconds. The file is built next to its target and moved
into place with ``os.replace``: readers see the old warehouse or the new one, never half of one.

Shapes a demo needs: yearly growth, a Q4 peak and a summer dip, quiet weekends, a region mix of
about 40/40/20, channel-dependent discounts, a handful of very large orders, and one bad month
(EMEA, eighteen months before ``end_date``) whose target was set as if the month had gone well.
Personal data is fictional: invented names, ``example.com``/``example.org`` e-mail addresses and
telephone numbers only from ranges reserved for fiction (NANP 555-01xx, Ofcom 020 7946 0xxx).
"""

from __future__ import annotations

import secrets
import shutil
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb

from reportgen.warehouse import demo_company as company
from reportgen.warehouse import demo_sql as sql

DEMO_SEED = 42
GENERATOR_VERSION = 3
"""Bumped when the tables change shape, content or layout; an older file is generated again."""
MIN_ROWS = 1_000
TABLES = ("orders", "customers", "products", "support_tickets", "targets", "demo_meta")
_SEED_RANGE = range(-(2**31), 2**31)  # the seed is stored as a DuckDB INTEGER
_END_DATE_RANGE = (date(1900, 1, 1), date(9998, 12, 31))
_BAD_MONTH_BEFORE_END = 18  # months; the bad month always lies inside the three-year window
_BAD_MONTH_REGION = "EMEA"
_BAD_MONTH_FACTOR = 0.55
_BIG_ORDER_PRODUCT = 9  # the rack server: a data-centre deal dwarfs every other order


@dataclass(frozen=True)
class DemoSummary:
    """What :func:`seed_demo_warehouse` generated, for the CLI to print."""

    path: Path
    rows: int
    seed: int
    end_date: date
    table_rows: dict[str, int]
    seconds: float


def seed_demo_warehouse(
    path: Path, *, rows: int = 5_000_000, seed: int = DEMO_SEED, end_date: date | None = None
) -> DemoSummary:
    """Generate the demo warehouse at ``path``, replacing any file there in one atomic step.

    Raises ``ValueError`` listing every invalid argument; a failure while building leaves
    ``path`` as it was and removes the partial file.
    """
    end = date.today() if end_date is None else end_date
    _validate(path, rows, seed, end)
    started = time.perf_counter()
    path.parent.mkdir(parents=True, exist_ok=True)
    building = path.with_name(f".{path.name}.{secrets.token_hex(6)}.building")
    try:
        with duckdb.connect(str(building)) as con:
            con.execute("SET enable_progress_bar = false")  # a library must not draw on stderr
            _build(con, rows=rows, seed=seed, end=end)
            table_rows = {table: _count(con, table) for table in TABLES}
            con.execute("CHECKPOINT")
        # A stale write-ahead log next to the target would be replayed onto the new file.
        Path(f"{path}.wal").unlink(missing_ok=True)
        building.replace(path)  # os.replace: atomic within one folder
    finally:
        _remove_leftovers(building)
    return DemoSummary(
        path=path,
        rows=rows,
        seed=seed,
        end_date=end,
        table_rows=table_rows,
        seconds=time.perf_counter() - started,
    )


def demo_warehouse_exists(path: Path) -> bool:
    """Whether ``path`` holds a complete warehouse made by this generator version.

    Complete: its one ``demo_meta`` row is there (written last). A file from another version is
    treated as missing, so seeding makes it again (version 3 stores orders by region and date).
    """
    if not path.is_file():
        return False
    try:
        with duckdb.connect(str(path), read_only=True) as con:
            found = con.execute("SELECT generator_version FROM demo_meta").fetchall()
    except duckdb.Error:
        return False
    return found == [(GENERATOR_VERSION,)]


def _validate(path: Path, rows: int, seed: int, end: date) -> None:
    """Report every bad argument at once, each with what would be accepted."""
    problems: list[str] = []
    if isinstance(rows, bool) or not isinstance(rows, int) or rows < MIN_ROWS:
        problems.append(f"rows must be an integer of at least {MIN_ROWS:,}, got {rows!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed not in _SEED_RANGE:
        problems.append(
            f"seed must be an integer from {_SEED_RANGE.start} to {_SEED_RANGE.stop - 1}, "
            f"got {seed!r}"
        )
    if not isinstance(end, date) or isinstance(end, datetime):
        problems.append(f"end_date must be a date (not a datetime), got {end!r}")
    elif not _END_DATE_RANGE[0] <= end <= _END_DATE_RANGE[1]:
        problems.append(
            f"end_date must lie between {_END_DATE_RANGE[0]} and {_END_DATE_RANGE[1]}, got {end}"
        )
    if path.is_dir():
        problems.append(f"path must be a file, but {path} is a folder")
    if problems:
        raise ValueError("cannot generate the demo warehouse: " + "; ".join(problems))


def _window_start(end: date) -> date:
    """First day of the three years ending on ``end`` inclusive (29 February falls back a day)."""
    try:
        three_years_before = end.replace(year=end.year - 3)
    except ValueError:
        three_years_before = end.replace(year=end.year - 3, day=28)
    return three_years_before + timedelta(days=1)


def _build(con: duckdb.DuckDBPyConnection, *, rows: int, seed: int, end: date) -> None:
    """Create every table; the order matters, later statements read earlier tables."""
    bad_month = date(end.year, end.month, 1)
    for _ in range(_BAD_MONTH_BEFORE_END):
        bad_month = (bad_month - timedelta(days=1)).replace(day=1)
    variables: dict[str, object] = {
        "demo_seed": seed,
        "demo_rows": rows,
        "demo_customers": max(200, rows // 50),
        "demo_tickets": max(100, rows // 25),
        "demo_end": end,
        "demo_start": _window_start(end),
        "demo_bad_month": bad_month,
        "demo_bad_region": _BAD_MONTH_REGION,
        "demo_bad_factor": _BAD_MONTH_FACTOR,
        "demo_big_product": _BIG_ORDER_PRODUCT,
        "demo_version": GENERATOR_VERSION,
        "demo_first_names": list(company.FIRST_NAMES),
        "demo_last_names": list(company.LAST_NAMES),
        "demo_area_codes": list(company.AREA_CODES),
    }
    for name, value in variables.items():
        # Variable names are the literal keys above; values always travel as parameters.
        con.execute(f"SET VARIABLE {name} = ?", [value])
    con.execute(sql.MACROS)
    _create_lookups(con)
    con.execute(sql.PRODUCTS_TABLE)
    con.execute(sql.CUSTOMER_BASE)
    con.execute(sql.ORDER_CELLS)
    con.execute(sql.ORDERS)
    con.execute(sql.CUSTOMERS)
    con.execute(sql.SUPPORT_TICKETS)
    con.execute(sql.TARGETS)
    con.execute(sql.META)


def _create_lookups(con: duckdb.DuckDBPyConnection) -> None:
    """Load the constant catalogues (regions, weighted choices, products) into temp tables."""
    con.execute(sql.LOOKUPS)
    con.executemany(
        "INSERT INTO demo_regions VALUES (?, ?, ?, ?)",
        [(name, no, share, growth) for no, (name, share, growth) in enumerate(company.REGIONS, 1)],
    )
    con.executemany("INSERT INTO demo_choices VALUES (?, ?, ?, ?, ?)", _choices())
    con.executemany("INSERT INTO demo_products VALUES (?, ?, ?, ?, ?, ?, ?, ?)", company.PRODUCTS)
    con.execute(sql.PICK_TABLE)


def _choices() -> list[tuple[str, str, str, int, int]]:
    """Every weighted choice as a ``demo_choices`` row (dimension, group, item, number, weight)."""
    dimensions: dict[str, dict[str, dict[str, int]]] = {
        "country": company.COUNTRY_WEIGHTS,
        "segment": {"": company.SEGMENT_WEIGHTS},
        "channel": company.CHANNEL_WEIGHTS,
        "ticket_channel": {"": company.TICKET_CHANNEL_WEIGHTS},
        "ticket_category": {"": company.TICKET_CATEGORY_WEIGHTS},
    }
    return [
        (dimension, group, item, item_no, weight)
        for dimension, groups in dimensions.items()
        for group, weights in groups.items()
        for item_no, (item, weight) in enumerate(weights.items())
    ]


def _count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    """Row count of one table."""
    found = con.execute("SELECT count(*) FROM query_table(?)", [table]).fetchone()
    return 0 if found is None else int(found[0])


def _remove_leftovers(building: Path) -> None:
    """Delete the partial database, its write-ahead log and its spill folder, if any remain."""
    building.unlink(missing_ok=True)
    Path(f"{building}.wal").unlink(missing_ok=True)
    shutil.rmtree(f"{building}.tmp", ignore_errors=True)
