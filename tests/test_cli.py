"""The reportgen command, end to end on a small warehouse and a SQLite metadata DB."""

from __future__ import annotations

import csv
import io
import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from reportgen.cli import app, parse_filter
from reportgen.domain.query import Operator
from tests.conftest import CATALOG_DIR

runner = CliRunner()


@pytest.fixture
def env(
    tmp_path: Path, warehouse_path: Path, seeded_metadata: Path, monkeypatch: pytest.MonkeyPatch
) -> Path:
    shutil.copyfile(seeded_metadata, tmp_path / "meta.db")
    monkeypatch.setenv("REPORTGEN_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("REPORTGEN_DATABASE_URL", f"sqlite:///{tmp_path / 'meta.db'}")
    monkeypatch.setenv("REPORTGEN_WAREHOUSE_URL", f"duckdb:///{warehouse_path}")
    monkeypatch.setenv("REPORTGEN_CATALOG_DIR", str(CATALOG_DIR))
    monkeypatch.setenv("REPORTGEN_LOG_LEVEL", "WARNING")
    return tmp_path


def run(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), input=stdin)
    assert not isinstance(result.exception, Exception) or isinstance(
        result.exception, SystemExit
    ), result.exception
    return result.exit_code, result.stdout, result.stderr


def test_query_as_victor_prints_americas_alone(env: Path) -> None:
    code, out, _ = run(
        "query", "--as", "victor", "--dataset", "sales", "--dimension", "region",
        "--measure", "revenue", "--format", "csv",
    )  # fmt: skip
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["region"] for r in rows] == ["Americas"]
    assert float(rows[0]["revenue"]) > 0


def test_query_json_with_filters_and_grain(env: Path) -> None:
    code, out, _ = run(
        "query", "--as", "ana", "--dataset", "sales", "--measure", "orders", "--grain", "year",
        "--filter", "channel=Online|Retail", "--filter", "units>=2", "--format", "json",
    )  # fmt: skip
    assert code == 0
    records = json.loads(out)
    assert [r["order_date__year"][:4] for r in records] == ["2023", "2024", "2025", "2026"]
    assert all(r["orders"] > 0 for r in records)


def test_query_problems_are_listed_without_traceback(env: Path) -> None:
    code, _, err = run(
        "query", "--as", "ana", "--dataset", "sales", "--dimension", "regio",
        "--measure", "revenue", "--filter", "units=abc",
    )  # fmt: skip
    assert code == 1
    assert "unknown dimension 'regio'" in err
    assert "filter on 'units': expected a whole number, got 'abc'" in err
    assert "Traceback" not in err


def test_query_not_allowed(env: Path) -> None:
    code, out, err = run(
        "query", "--as", "victor", "--dataset", "customers", "--measure", "customers"
    )
    assert code == 1
    assert "not allowed to use the dataset 'customers'" in err
    assert out == ""


def test_query_unknown_user_fails_closed(env: Path) -> None:
    code, _, err = run("query", "--as", "mallory", "--dataset", "sales", "--measure", "revenue")
    assert code == 1
    assert "no active user 'mallory'" in err


def test_catalog_validate(env: Path, tmp_path: Path) -> None:
    code, out, _ = run("catalog", "validate", str(CATALOG_DIR))
    assert code == 0
    assert "ok  sales" in out
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "x.yml").write_text("name: x\ntitle: [oops\n", encoding="utf-8")
    (bad / "y.yml").write_text("name: y\n", encoding="utf-8")
    code, _, err = run("catalog", "validate", str(bad))
    assert code == 1
    assert f"{bad / 'x.yml'}:" in err and "not valid YAML" in err
    assert f"{bad / 'y.yml'}:1: missing required field 'title'" in err
    assert "problem(s)" in err


def test_users_lifecycle(env: Path) -> None:
    code, out, _ = run(
        "users", "add", "nora", "--role", "viewer", "--attr", "region=APAC",
        "--password", "nora-secret-1",
    )  # fmt: skip
    assert code == 0, out
    assert run("users", "set-role", "nora", "author", "viewer")[0] == 0
    assert run("users", "set-attr", "nora", "region=APAC,EMEA")[0] == 0
    code, out, _ = run("users", "list")
    assert code == 0
    line = next(line for line in out.splitlines() if "nora" in line)
    assert "author,viewer" in line and "region=APAC,EMEA" in line
    code, _, _ = run("users", "passwd", "nora", stdin="new-password-2\nnew-password-2\n")
    assert code == 0
    code, out, _ = run(
        "query", "--as", "nora", "--dataset", "sales", "--dimension", "region",
        "--measure", "orders", "--format", "csv",
    )  # fmt: skip
    assert [r["region"] for r in csv.DictReader(io.StringIO(out))] == ["APAC", "EMEA"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["users", "add", "x1", "--role", "boss", "--password", "long-enough"],
            "unknown role 'boss'",
        ),
        (["users", "add", "x2", "--role", "viewer", "--password", "short"], "8"),
        (["users", "set-attr", "ana", "team=red"], "unknown attribute 'team'"),
        (["users", "set-attr", "ana", "region"], "write NAME=VALUE"),
        (["users", "set-role", "ghost", "viewer"], "ghost"),
    ],
)
def test_users_bad_input(env: Path, args: list[str], message: str) -> None:
    code, _, err = run(*args)
    assert code == 1
    assert message in err
    assert "Traceback" not in err


def test_audit_verify_detects_tampering(env: Path) -> None:
    assert run("query", "--as", "ana", "--dataset", "sales", "--measure", "revenue")[0] == 0
    code, out, _ = run("audit", "verify")
    assert code == 0 and "Audit chain intact" in out
    with sqlite3.connect(env / "meta.db") as con:
        con.execute("UPDATE audit_events SET actor = 'someone-else' WHERE seq = 2")
    code, _, err = run("audit", "verify")
    assert code == 1
    assert "audit chain broken at event 2" in err


def test_audit_list_shows_events(env: Path) -> None:
    run("query", "--as", "victor", "--dataset", "targets", "--measure", "revenue_target")
    code, out, _ = run("audit", "list", "--actor", "victor")
    assert code == 0
    assert "dataset.access" in out and "denied" in out


def test_seed_demo_is_idempotent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REPORTGEN_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("REPORTGEN_CATALOG_DIR", str(CATALOG_DIR))
    monkeypatch.delenv("REPORTGEN_DATABASE_URL", raising=False)
    monkeypatch.delenv("REPORTGEN_WAREHOUSE_URL", raising=False)
    code, out, _ = run("seed-demo", "--rows", "2000")
    assert code == 0, out
    assert (tmp_path / "warehouse.duckdb").is_file()
    assert "Demo users created: admin, ana, victor" in out
    code, out, _ = run("seed-demo")
    assert code == 0
    assert "Generating" not in out and "Demo users created" not in out


def test_bad_settings_exit_2_with_the_variable(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REPORTGEN_QUERY_ROW_CAP", "many")
    code, _, err = run("audit", "verify")
    assert code == 2
    assert "REPORTGEN_QUERY_ROW_CAP" in err


@pytest.mark.parametrize(
    ("text", "op", "value"),
    [
        ("region=EMEA", Operator.EQ, "EMEA"),
        ("region!=EMEA", Operator.NE, "EMEA"),
        ("units>=3", Operator.GE, "3"),
        ("units<3", Operator.LT, "3"),
        ("region=EMEA|APAC", Operator.IN, ("EMEA", "APAC")),
        ("region!=EMEA|APAC", Operator.NOT_IN, ("EMEA", "APAC")),
        ("product~pro", Operator.CONTAINS, "pro"),
    ],
)
def test_parse_filter(text: str, op: Operator, value: object) -> None:
    parsed = parse_filter(text)
    assert (parsed.op, parsed.value) == (op, value)
