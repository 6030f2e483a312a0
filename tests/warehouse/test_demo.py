"""The demo warehouse generator: deterministic, well-formed, realistic, and written atomically."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from reportgen.warehouse import demo
from reportgen.warehouse.demo import (
    DEMO_SEED,
    GENERATOR_VERSION,
    TABLES,
    DemoSummary,
    demo_warehouse_exists,
    seed_demo_warehouse,
)

END = date(2025, 6, 30)
START = date(2022, 7, 1)  # the three years ending on END, inclusive
ROWS = 20_000
SHAPE_ROWS = 250_000  # enough orders for seasonality and growth to beat the noise
BAD_MONTH = date(2023, 12, 1)  # eighteen months before END's month, in EMEA
REGIONS = {"EMEA", "Americas", "APAC"}
COUNTRIES = {
    "EMEA": {
        "Germany", "France", "United Kingdom", "Spain", "Italy", "Netherlands", "Sweden",
        "South Africa", "UAE",
    },
    "Americas": {"United States", "Canada", "Brazil", "Mexico", "Argentina"},
    "APAC": {"Japan", "Australia", "India", "Singapore", "South Korea", "China"},
}  # fmt: skip
CHANNELS = {"Online", "Retail", "Partner", "Direct Sales"}
CATEGORIES = {"Hardware", "Software", "Services", "Accessories", "Subscriptions"}
SLA_HOURS = {"P1": 4, "P2": 8, "P3": 24, "P4": 72}


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> Any:
    row = con.execute(sql, params or []).fetchone()
    assert row is not None
    return row[0]


def column_values(con: duckdb.DuckDBPyConnection, sql: str) -> set[Any]:
    return {row[0] for row in con.execute(sql).fetchall()}


def fingerprints(path: Path) -> dict[str, tuple[int, str]]:
    """Row count and md5 of the sorted text of every row, per table: any changed value shows."""
    with duckdb.connect(str(path), read_only=True) as con:
        found = {}
        for table in TABLES:
            row = con.execute(
                f"SELECT count(*), md5(string_agg(t::VARCHAR, chr(10) ORDER BY t::VARCHAR)) "
                f"FROM {table} AS t"
            ).fetchone()
            assert row is not None
            found[table] = (row[0], row[1])
        return found


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> DemoSummary:
    path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    return seed_demo_warehouse(path, rows=ROWS, end_date=END)


@pytest.fixture(scope="module")
def con(generated: DemoSummary) -> Iterator[duckdb.DuckDBPyConnection]:
    with duckdb.connect(str(generated.path), read_only=True) as connection:
        yield connection


@pytest.fixture(scope="module")
def shapes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[duckdb.DuckDBPyConnection]:
    """A larger warehouse for statistical shapes; the ten biggest orders are left out of sums."""
    path = tmp_path_factory.mktemp("shapes") / "demo.duckdb"
    seed_demo_warehouse(path, rows=SHAPE_ROWS, end_date=END)
    with duckdb.connect(str(path), read_only=True) as connection:
        connection.execute(
            "CREATE TEMP VIEW usual_orders AS SELECT * FROM orders "
            "WHERE order_id NOT IN (SELECT order_id FROM orders ORDER BY revenue DESC LIMIT 10)"
        )
        yield connection


# Determinism


def test_same_arguments_give_identical_tables(generated: DemoSummary, tmp_path: Path) -> None:
    again = seed_demo_warehouse(tmp_path / "again.duckdb", rows=ROWS, end_date=END)

    assert fingerprints(again.path) == fingerprints(generated.path)


def test_another_seed_gives_other_data(generated: DemoSummary, tmp_path: Path) -> None:
    other = seed_demo_warehouse(
        tmp_path / "other.duckdb", rows=ROWS, seed=DEMO_SEED + 1, end_date=END
    )

    mine, theirs = fingerprints(generated.path), fingerprints(other.path)
    for table in ("orders", "customers", "support_tickets", "targets", "demo_meta"):
        assert mine[table] != theirs[table], table
    assert mine["products"] == theirs["products"]  # the product catalogue is fixed by design


# Sizes and bookkeeping


def test_summary_matches_the_tables(generated: DemoSummary, con: duckdb.DuckDBPyConnection) -> None:
    assert generated.table_rows == {
        "orders": ROWS,
        "customers": ROWS // 50,
        "products": 50,
        "support_tickets": ROWS // 25,
        "targets": 36 * 3 * 5,
        "demo_meta": 1,
    }
    for table, count in generated.table_rows.items():
        assert scalar(con, f"SELECT count(*) FROM {table}") == count
    assert (generated.rows, generated.seed, generated.end_date) == (ROWS, DEMO_SEED, END)
    assert generated.seconds > 0


def test_meta_records_the_arguments(con: duckdb.DuckDBPyConnection) -> None:
    rows = con.execute("SELECT generator_version, seed, rows, end_date FROM demo_meta").fetchall()

    assert rows == [(GENERATOR_VERSION, DEMO_SEED, ROWS, END)]


def test_smallest_warehouse_keeps_minimum_customers_and_tickets(tmp_path: Path) -> None:
    summary = seed_demo_warehouse(tmp_path / "small.duckdb", rows=1_000, seed=3, end_date=END)

    assert summary.table_rows["orders"] == 1_000
    assert summary.table_rows["customers"] == 200
    assert summary.table_rows["support_tickets"] == 100


# Integrity and domains


def test_order_ids_are_unique(con: duckdb.DuckDBPyConnection) -> None:
    assert scalar(con, "SELECT count(DISTINCT order_id) FROM orders") == ROWS


def test_orders_are_stored_by_region_then_date(con: duckdb.DuckDBPyConnection) -> None:
    # Storage order is what lets zone maps skip other regions' row groups; rowid is that order.
    out_of_order = scalar(
        con,
        "SELECT count(*) FROM (SELECT region, order_date, order_id, lag((region, order_date,"
        " order_id)) OVER (ORDER BY rowid) AS before FROM orders)"
        " WHERE before > (region, order_date, order_id)",
    )
    assert out_of_order == 0


def test_orders_reference_customers_and_products(con: duckdb.DuckDBPyConnection) -> None:
    orphans = scalar(
        con,
        "SELECT count(*) FROM orders o ANTI JOIN customers c USING (customer_id)",
    )
    mismatched_products = scalar(
        con,
        "SELECT count(*) FROM orders o ANTI JOIN products p USING (product_id, product, category)",
    )
    elsewhere = scalar(
        con,
        "SELECT count(*) FROM orders o JOIN customers c USING (customer_id) "
        "WHERE o.region <> c.region OR o.country <> c.country",
    )

    assert (orphans, mismatched_products, elsewhere) == (0, 0, 0)


def test_tickets_reference_customers(con: duckdb.DuckDBPyConnection) -> None:
    orphans = scalar(
        con, "SELECT count(*) FROM support_tickets t ANTI JOIN customers c USING (customer_id)"
    )

    assert orphans == 0


def test_order_values_stay_in_their_domains(con: duckdb.DuckDBPyConnection) -> None:
    assert column_values(con, "SELECT DISTINCT region FROM orders") == REGIONS
    assert column_values(con, "SELECT DISTINCT channel FROM orders") == CHANNELS
    assert column_values(con, "SELECT DISTINCT category FROM orders") == CATEGORIES
    for region, countries in COUNTRIES.items():
        sold_in = column_values(
            con, f"SELECT DISTINCT country FROM orders WHERE region = '{region}'"
        )
        assert sold_in <= countries and len(sold_in) >= 3, region
    first, last = con.execute("SELECT min(order_date), max(order_date) FROM orders").fetchall()[0]
    assert (first, last) == (START, END)
    bad = scalar(
        con,
        "SELECT count(*) FROM orders WHERE revenue <= 0 OR cost <= 0 OR units < 1 "
        "OR discount < 0 OR discount > 0.35 OR revenue IS NULL OR discount IS NULL",
    )
    assert bad == 0


def test_no_product_is_sold_before_its_launch(con: duckdb.DuckDBPyConnection) -> None:
    early = scalar(
        con,
        "SELECT count(*) FROM orders o JOIN products p USING (product_id) "
        "WHERE o.order_date < p.launched_on",
    )
    launched_during_window = scalar(
        con, "SELECT count(*) FROM products WHERE launched_on > ?", [START]
    )

    assert early == 0
    assert launched_during_window >= 1


def test_products_form_a_plausible_catalogue(con: duckdb.DuckDBPyConnection) -> None:
    count, names, cheap = con.execute(
        "SELECT count(*), count(DISTINCT product), "
        "count(*) FILTER (WHERE unit_cost <= 0 OR unit_cost >= list_price) FROM products"
    ).fetchall()[0]

    assert 40 <= count <= 60
    assert names == count
    assert cheap == 0
    assert column_values(con, "SELECT DISTINCT category FROM products") == CATEGORIES


def test_customer_contact_data_is_fictional(con: duckdb.DuckDBPyConnection) -> None:
    email = re.compile(r"[a-z]+\.[a-z]+\d+@example\.(com|org)")
    phone = re.compile(r"\+1-\d{3}-555-01\d{2}|\+44 20 7946 0\d{3}")
    rows = con.execute("SELECT name, email, phone FROM customers").fetchall()

    assert all(" " in name for name, _, _ in rows)
    assert [e for _, e, _ in rows if not email.fullmatch(e)] == []
    assert [p for _, _, p in rows if not phone.fullmatch(p)] == []
    segments = column_values(con, "SELECT DISTINCT segment FROM customers")
    assert segments == {"Enterprise", "Mid-Market", "SMB", "Consumer"}


def test_customers_sign_up_before_they_buy(con: duckdb.DuckDBPyConnection) -> None:
    late = scalar(
        con,
        "SELECT count(*) FROM customers c JOIN orders o USING (customer_id) "
        "WHERE c.signup_date > o.order_date",
    )

    assert late == 0


def test_tickets_are_internally_consistent(con: duckdb.DuckDBPyConnection) -> None:
    domains = {
        "status": {"open", "pending", "solved"},
        "channel": {"Email", "Phone", "Chat", "Portal"},
        "category": {"Billing", "Bug", "How-to", "Outage", "Account"},
    }
    for column, allowed in domains.items():
        assert column_values(con, f"SELECT DISTINCT {column} FROM support_tickets") == allowed
    sla = dict(con.execute("SELECT DISTINCT priority, sla_hours FROM support_tickets").fetchall())
    assert sla == SLA_HOURS
    now = datetime.combine(END + timedelta(days=1), datetime.min.time())
    inconsistent = scalar(
        con,
        """
        SELECT count(*) FROM support_tickets
        WHERE (closed_at IS NULL) <> (status <> 'solved')
            OR (resolution_hours IS NULL) <> (status <> 'solved')
            OR (satisfaction IS NOT NULL AND status <> 'solved')
            OR satisfaction NOT BETWEEN 1 AND 5
            OR closed_at < opened_at OR closed_at > $now
            OR opened_at < $start OR opened_at >= $now
            OR first_response_minutes < 1 OR sla_breached IS NULL
            OR (status = 'solved' AND sla_breached <> (resolution_hours > sla_hours))
        """,
        {"now": now, "start": START},
    )
    assert inconsistent == 0
    assert scalar(con, "SELECT count(DISTINCT ticket_id) FROM support_tickets") == ROWS // 25


def test_targets_cover_every_month_region_and_category(con: duckdb.DuckDBPyConnection) -> None:
    months = sorted(column_values(con, "SELECT DISTINCT month FROM targets"))
    cells = scalar(con, "SELECT count(DISTINCT (month, region, category)) FROM targets")
    empty = scalar(
        con,
        "SELECT count(*) FROM targets WHERE revenue_target IS NULL OR revenue_target <= 0 "
        "OR units_target IS NULL OR units_target <= 0",
    )

    assert months[0] == START and months[-1] == date(2025, 6, 1) and len(months) == 36
    assert all(month.day == 1 for month in months)
    assert cells == 36 * 3 * 5
    assert empty == 0


# Realistic shapes (on the larger warehouse)


def test_fourth_quarter_outsells_the_third(shapes: duckdb.DuckDBPyConnection) -> None:
    by_quarter = dict(
        shapes.execute(
            "SELECT quarter(order_date), sum(revenue)::DOUBLE FROM usual_orders GROUP BY 1"
        ).fetchall()
    )

    assert by_quarter[4] > 1.2 * by_quarter[3]


def test_revenue_grows_year_on_year(shapes: duckdb.DuckDBPyConnection) -> None:
    first_year = scalar(
        shapes, "SELECT sum(revenue) FROM usual_orders WHERE order_date < ?", [date(2023, 7, 1)]
    )
    last_year = scalar(
        shapes, "SELECT sum(revenue) FROM usual_orders WHERE order_date >= ?", [date(2024, 7, 1)]
    )

    assert 1.3 < last_year / first_year < 1.6  # two years of 15-25 % growth


def test_weekends_are_quiet(shapes: duckdb.DuckDBPyConnection) -> None:
    weekend_share = scalar(
        shapes, "SELECT avg((isodow(order_date) >= 6)::INTEGER) FROM usual_orders"
    )

    assert weekend_share < 0.8 * 2 / 7


def test_region_mix_is_about_40_40_20(shapes: duckdb.DuckDBPyConnection) -> None:
    shares = dict(
        shapes.execute(
            "SELECT region, count(*) / ? FROM orders GROUP BY 1", [SHAPE_ROWS]
        ).fetchall()
    )

    assert 0.35 < shares["EMEA"] < 0.45
    assert 0.35 < shares["Americas"] < 0.45
    assert 0.15 < shares["APAC"] < 0.25


def test_discount_depends_on_channel(shapes: duckdb.DuckDBPyConnection) -> None:
    discount = dict(
        shapes.execute("SELECT channel, avg(discount) FROM usual_orders GROUP BY 1").fetchall()
    )

    assert discount["Online"] < discount["Retail"] < discount["Direct Sales"]
    assert discount["Retail"] < discount["Partner"]


def test_a_handful_of_orders_dwarf_the_rest(shapes: duckdb.DuckDBPyConnection) -> None:
    huge = shapes.execute(
        "SELECT revenue FROM orders "
        "WHERE revenue > 3 * (SELECT quantile_disc(revenue, 0.9999) FROM orders)"
    ).fetchall()

    assert 3 <= len(huge) <= 6


def test_emea_has_one_bad_month_against_its_target(shapes: duckdb.DuckDBPyConnection) -> None:
    rows = shapes.execute(
        """
        WITH actual AS (
            SELECT date_trunc('month', order_date)::DATE AS month, region, sum(revenue) AS revenue
            FROM orders GROUP BY ALL
        ), planned AS (
            SELECT month, region, sum(revenue_target) AS target FROM targets GROUP BY ALL
        )
        SELECT month, region, revenue / target FROM actual JOIN planned USING (month, region)
        """
    ).fetchall()
    attainment = {(month, region): ratio for month, region, ratio in rows}
    bad = attainment.pop((BAD_MONTH, "EMEA"))

    assert bad < 0.7
    assert all(0.88 < ratio < 1.12 for ratio in attainment.values())


def test_recent_tickets_are_more_often_open(shapes: duckdb.DuckDBPyConnection) -> None:
    recent, older = shapes.execute(
        "SELECT avg((status <> 'solved')::INTEGER) FILTER (WHERE opened_at >= $recent), "
        "avg((status <> 'solved')::INTEGER) FILTER (WHERE opened_at < $older) "
        "FROM support_tickets",
        {"recent": END - timedelta(days=2), "older": END - timedelta(days=30)},
    ).fetchall()[0]

    assert recent > 5 * older
    assert older > 0  # a little old backlog exists too


# Writing


def test_creates_missing_parent_folders(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "deeper" / "demo.duckdb"

    seed_demo_warehouse(path, rows=1_000, end_date=END)

    assert demo_warehouse_exists(path)


def test_replaces_an_existing_warehouse_and_leaves_nothing_else(tmp_path: Path) -> None:
    path = tmp_path / "demo.duckdb"
    seed_demo_warehouse(path, rows=1_000, seed=1, end_date=END)

    seed_demo_warehouse(path, rows=1_000, seed=2, end_date=END)

    with duckdb.connect(str(path), read_only=True) as con:
        assert scalar(con, "SELECT seed FROM demo_meta") == 2
    assert [p.name for p in tmp_path.iterdir()] == ["demo.duckdb"]


def test_failure_mid_build_leaves_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(demo.sql, "TARGETS", "CREATE TABLE targets AS SELECT * FROM no_such_table")
    path = tmp_path / "demo.duckdb"

    with pytest.raises(duckdb.CatalogException, match="no_such_table"):
        seed_demo_warehouse(path, rows=1_000, end_date=END)

    assert list(tmp_path.iterdir()) == []


def test_failure_mid_build_keeps_the_previous_warehouse(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "demo.duckdb"
    seed_demo_warehouse(path, rows=1_000, seed=1, end_date=END)
    monkeypatch.setattr(demo.sql, "TARGETS", "CREATE TABLE targets AS SELECT * FROM no_such_table")

    with pytest.raises(duckdb.CatalogException):
        seed_demo_warehouse(path, rows=1_000, seed=2, end_date=END)

    with duckdb.connect(str(path), read_only=True) as con:
        assert scalar(con, "SELECT seed FROM demo_meta") == 1
    assert [p.name for p in tmp_path.iterdir()] == ["demo.duckdb"]


def test_failure_to_move_into_place_removes_the_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(self: Path, target: Path) -> Path:
        raise PermissionError(f"cannot move {self} to {target}")

    monkeypatch.setattr(Path, "replace", refuse)

    with pytest.raises(PermissionError, match="cannot move"):
        seed_demo_warehouse(tmp_path / "demo.duckdb", rows=1_000, end_date=END)

    assert list(tmp_path.iterdir()) == []


def test_end_date_defaults_to_today(tmp_path: Path) -> None:
    before = date.today()
    summary = seed_demo_warehouse(tmp_path / "demo.duckdb", rows=1_000)
    after = date.today()

    assert before <= summary.end_date <= after
    with duckdb.connect(str(summary.path), read_only=True) as con:
        assert scalar(con, "SELECT max(order_date) FROM orders") <= summary.end_date
        assert scalar(con, "SELECT end_date FROM demo_meta") == summary.end_date


def test_leap_day_end_date_still_covers_three_years(tmp_path: Path) -> None:
    summary = seed_demo_warehouse(tmp_path / "demo.duckdb", rows=5_000, end_date=date(2024, 2, 29))

    with duckdb.connect(str(summary.path), read_only=True) as con:
        first, last = con.execute("SELECT min(order_date), max(order_date) FROM orders").fetchall()[
            0
        ]
        months = scalar(con, "SELECT count(DISTINCT month) FROM targets")
    assert (first, last) == (date(2021, 3, 1), date(2024, 2, 29))
    assert months == 36


# demo_warehouse_exists


def test_a_generated_warehouse_exists(generated: DemoSummary) -> None:
    assert demo_warehouse_exists(generated.path)


def test_missing_or_foreign_files_are_not_a_warehouse(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.duckdb"
    garbage.write_text("not a database")
    unmarked = tmp_path / "unmarked.duckdb"
    with duckdb.connect(str(unmarked)) as con:
        con.execute("CREATE TABLE orders AS SELECT 1 AS order_id")
    unfinished = tmp_path / "unfinished.duckdb"
    with duckdb.connect(str(unfinished)) as con:
        con.execute("CREATE TABLE demo_meta (generator_version INTEGER)")

    assert not demo_warehouse_exists(tmp_path / "missing.duckdb")
    assert not demo_warehouse_exists(tmp_path)
    assert not demo_warehouse_exists(garbage)
    assert not demo_warehouse_exists(unmarked)
    assert not demo_warehouse_exists(unfinished)


def test_a_warehouse_from_another_generator_version_is_made_again(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute(
            "CREATE TABLE demo_meta AS SELECT ? AS generator_version", [GENERATOR_VERSION - 1]
        )

    assert not demo_warehouse_exists(path)


# Argument validation


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"rows": 999}, "rows must be an integer of at least 1,000, got 999"),
        ({"rows": True}, "rows must be an integer of at least 1,000, got True"),
        ({"seed": 2**31}, "seed must be an integer from -2147483648 to 2147483647"),
        ({"end_date": datetime(2025, 1, 1, 12)}, "end_date must be a date (not a datetime)"),
        ({"end_date": date(1850, 1, 1)}, "end_date must lie between 1900-01-01 and"),
    ],
)
def test_bad_arguments_are_refused_before_anything_is_written(
    tmp_path: Path, arguments: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        seed_demo_warehouse(tmp_path / "demo.duckdb", **arguments)

    assert list(tmp_path.iterdir()) == []


def test_every_bad_argument_is_reported_at_once(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="cannot generate the demo warehouse") as raised:
        seed_demo_warehouse(tmp_path, rows=10, seed=-(2**40))

    message = str(raised.value)
    assert "rows must be" in message
    assert "seed must be" in message
    assert f"path must be a file, but {tmp_path} is a folder" in message
