"""The reportgen command, end to end on a small warehouse and a SQLite metadata DB."""

from __future__ import annotations

import csv
import getpass
import hashlib
import io
import json
import os
import re
import shutil
import sqlite3
from pathlib import Path
from typing import Any, ClassVar

import pytest
from typer.testing import CliRunner

from reportgen.bootstrap import AUDIT_HEAD_FILE
from reportgen.cli import app, parse_filter
from reportgen.domain.query import Operator
from reportgen.errors import InvalidInput, WarehouseError
from reportgen.services.queries import QueryService
from reportgen.settings import load_settings
from tests.conftest import CATALOG_DIR, REPO, make_settings

runner = CliRunner()


@pytest.fixture
def env(
    tmp_path: Path, warehouse_path: Path, seeded_metadata: Path, monkeypatch: pytest.MonkeyPatch
) -> Path:
    shutil.copyfile(seeded_metadata, tmp_path / "meta.db")
    # The audit key and the recorded head belong with the database they sealed.
    for name in ("audit.key", AUDIT_HEAD_FILE):
        if (seeded_metadata.parent / name).is_file():
            shutil.copyfile(seeded_metadata.parent / name, tmp_path / name)
    audit_key = make_settings(tmp_path, warehouse_path).audit_key
    if audit_key is not None:
        monkeypatch.setenv("REPORTGEN_AUDIT_KEY", audit_key.get_secret_value())
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
        # The leftmost operator splits: the value may hold operator characters.
        ("product~a=b", Operator.CONTAINS, "a=b"),
        ("product=a<=b", Operator.EQ, "a<=b"),
        ("product!=x>y", Operator.NE, "x>y"),
        ("units<=3", Operator.LE, "3"),
        ("units>5=", Operator.GT, "5="),
        ("product=a~b|c", Operator.IN, ("a~b", "c")),
    ],
)
def test_parse_filter(text: str, op: Operator, value: object) -> None:
    parsed = parse_filter(text)
    assert (parsed.op, parsed.value) == (op, value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("region", "write COLUMN=VALUE"),
        ("=EMEA", "--filter '=EMEA'"),
        ("Region=EMEA", "did you mean 'region'?"),
    ],
)
def test_parse_filter_explains_what_it_cannot_read(text: str, message: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_filter(text)
    assert message in str(raised.value)
    assert "pydantic" not in str(raised.value)


# -- no traceback for ordinary bad input ------------------------------------------------------

QUERY = ["query", "--as", "ana", "--dataset", "sales", "--measure", "revenue"]


def error_lines(err: str) -> list[str]:
    """What a person reads on stderr: everything but the JSON log records."""
    return [line for line in err.splitlines() if line.strip() and not line.startswith("{")]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["query", "--as", "ana", "--dataset", "Sales", "--measure", "revenue"],
            "--dataset 'Sales': names are lower-case letters, digits and underscores, starting"
            " with a letter (did you mean 'sales'?)",
        ),
        ([*QUERY, "--dimension", "Region"], "--dimension 'Region': names are lower-case"),
        ([*QUERY, "--filter", "Region=EMEA"], "--filter 'Region=EMEA': the column 'Region'"),
        ([*QUERY, "--limit", "0"], "--limit must be at least 1, got 0"),
        ([*QUERY, "--start", "notadate"], "--start 'notadate' is not a date; write YYYY-MM-DD"),
        (
            [*QUERY, "--start", "2025-01-02", "--end", "2025-01-01"],
            "time range: start 2025-01-02 must be before end 2025-01-01",
        ),
    ],
)
def test_bad_query_input_is_one_readable_line(env: Path, args: list[str], message: str) -> None:
    code, out, err = run(*args)

    assert code == 1
    assert out == ""
    [line] = error_lines(err)
    assert message in line
    for jargon in ("Traceback", "pydantic", "validation error", "[type=", "String should"):
        assert jargon not in err


def test_every_query_problem_is_listed_at_once(env: Path) -> None:
    code, _, err = run(
        "query", "--as", "ana", "--dataset", "Sales", "--dimension", "Region", "--limit", "0",
        "--start", "notadate", "--filter", "nonsense",
    )  # fmt: skip

    assert code == 1
    lines = error_lines(err)
    assert lines[0] == "error: the request has problems:"
    assert len(lines) == 6
    assert "Traceback" not in err


def test_a_fault_of_ours_shows_an_incident_and_logs_the_details(
    env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: object, **_kwargs: object) -> None:
        raise WarehouseError("connection to warehouse.internal:443 refused (secret-token)")

    monkeypatch.setattr(QueryService, "run", broken)
    code, out, err = run(*QUERY)

    assert code == 1
    assert out == ""
    [line] = error_lines(err)
    match = re.fullmatch(
        r"error: Something went wrong \(incident ([0-9a-f]{8})\); the log has the details\.", line
    )
    assert match, line
    assert "secret-token" not in line
    records = [json.loads(raw) for raw in err.splitlines() if raw.startswith("{")]
    [record] = [r for r in records if match.group(1) in r["event"]]
    assert record["level"] == "error"
    assert "WarehouseError" in record["exception"]
    assert "secret-token" in record["exception"]


def test_users_add_reports_every_problem_at_once(env: Path) -> None:
    code, _, err = run(
        "users", "add", "x3", "--role", "boss", "--password", "short",
        "--attr", "team=red", "--attr", "region",
    )  # fmt: skip

    assert code == 1
    assert "unknown role 'boss'" in err
    assert "at least 8 characters" in err
    assert "unknown attribute 'team'" in err
    assert "attribute 'region': write NAME=VALUE" in err
    assert "Traceback" not in err
    assert "x3" not in run("users", "list")[1]


def last_event(database: Path, action: str) -> dict[str, Any]:
    with sqlite3.connect(database) as con:
        actor, details = con.execute(
            "SELECT actor, details FROM audit_events WHERE action = ? ORDER BY seq DESC LIMIT 1",
            (action,),
        ).fetchone()
    return {"actor": actor, **json.loads(details)}


def test_queries_record_who_really_ran_them(env: Path) -> None:
    assert run(*QUERY)[0] == 0

    event = last_event(env / "meta.db", "dataset.query")

    assert event["actor"] == "ana"
    assert event["operator"] == getpass.getuser()
    assert event["via"] == "cli"
    assert run("audit", "verify")[0] == 0


def test_audit_verify_detects_removed_newest_events(env: Path) -> None:
    assert run(*QUERY)[0] == 0
    with sqlite3.connect(env / "meta.db") as con:
        (newest,) = con.execute("SELECT max(seq) FROM audit_events").fetchone()
        con.execute("DELETE FROM audit_events WHERE seq >= ?", (newest - 1,))

    code, _, err = run("audit", "verify")

    assert code == 1
    assert (
        f"audit chain broken at event {newest - 1}: events after {newest - 2} were removed" in err
    )


@pytest.mark.parametrize(
    ("column", "value", "problem"),
    [
        ("details", "{half a json", "its details are not a JSON object"),
        ("at", "the day before yesterday", "its time is unreadable"),
    ],
)
def test_damaged_rows_are_reported_not_crashed_on(
    env: Path, column: str, value: str, problem: str
) -> None:
    with sqlite3.connect(env / "meta.db") as con:
        con.execute(f"UPDATE audit_events SET {column} = ? WHERE seq = 2", (value,))

    code, _, err = run("audit", "verify")
    assert code == 1
    assert f"audit chain broken at event 2: event 2 was altered ({problem})" in err
    code, out, err = run("audit", "list", "--limit", "5")
    assert code == 0, err
    assert "DAMAGED" in out
    assert "Traceback" not in out + err


def test_catalog_validate_refuses_yaml_aliases(env: Path, tmp_path: Path) -> None:
    bad = tmp_path / "aliased"
    bad.mkdir()
    (bad / "loop.yml").write_text("a: &a [*a]\n", encoding="utf-8")
    laughs = ["x: &x [lol, lol]"] + [
        f"x{n}: &x{n} [*x{n - 1 or ''}, *x{n - 1 or ''}]" for n in range(1, 30)
    ]
    (bad / "bomb.yml").write_text("\n".join(laughs) + "\n", encoding="utf-8")

    code, _, err = run("catalog", "validate", str(bad))

    assert code == 1
    assert f"{bad / 'loop.yml'}:1: anchors (&a) and aliases are not allowed" in err
    assert f"{bad / 'bomb.yml'}:1: anchors (&x) and aliases are not allowed" in err
    assert "RecursionError" not in err and "Traceback" not in err


# -- reportgen up ---------------------------------------------------------------------------


class FakeWeb:
    """Stands in for `up`'s children (scheduler, web app): records how each was started."""

    started: ClassVar[list[dict[str, Any]]] = []

    def __init__(self, command: list[str], *, cwd: Path, env: dict[str, str]) -> None:
        FakeWeb.started.append({"command": command, "cwd": cwd, "env": env})

    def poll(self) -> int:
        return 0

    def wait(self, timeout: float | None = None) -> int:
        return 0


def web_child() -> dict[str, Any]:
    """How `up` started the Streamlit child (the scheduler is started beside it)."""
    [web] = [child for child in FakeWeb.started if "streamlit" in " ".join(child["command"])]
    return web


@pytest.fixture
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder outside the repository to start reportgen from, with relative settings."""
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    monkeypatch.chdir(folder)
    for name in list(os.environ):
        if name.startswith("REPORTGEN_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("REPORTGEN_DATA_DIR", "data")
    monkeypatch.setenv("REPORTGEN_CATALOG_DIR", os.path.relpath(CATALOG_DIR, folder))
    monkeypatch.setenv("REPORTGEN_DEMO_ROWS", "2000")
    monkeypatch.setenv("REPORTGEN_LOG_LEVEL", "WARNING")
    monkeypatch.setenv("REPORTGEN_MAIL_SINK", "false")
    monkeypatch.setattr("reportgen.cli.subprocess.Popen", FakeWeb)
    # Supervising real children is tested in test_up.py; here, only how they are started.
    monkeypatch.setattr("reportgen.cli.running.supervise", lambda children, stop: 0)
    FakeWeb.started = []
    return folder


def test_up_from_another_folder_hands_the_web_app_absolute_settings(
    elsewhere: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, err = run("up", "--port", "8599")

    assert code == 0, out + err
    data = elsewhere / "data"
    assert (data / "reportgen.db").is_file() and (data / "warehouse.duckdb").is_file()
    assert not (REPO / "data").exists()
    web = web_child()
    assert web["cwd"] == REPO
    [scheduler] = [c for c in FakeWeb.started if c is not web]
    assert scheduler["command"][-1] == "scheduler"
    assert scheduler["env"]["REPORTGEN_DATA_DIR"] == str(data)
    child = web["env"]
    assert child["REPORTGEN_DATA_DIR"] == str(data)
    assert Path(child["REPORTGEN_CATALOG_DIR"]).is_absolute()
    assert Path(child["REPORTGEN_CATALOG_DIR"]).resolve() == CATALOG_DIR.resolve()
    # The web app, started in the repository, reads the very data that was seeded.
    monkeypatch.chdir(REPO)
    for name, value in child.items():
        if name.startswith("REPORTGEN_"):
            monkeypatch.setenv(name, value)
    assert load_settings().resolved_database_url == f"sqlite:///{data / 'reportgen.db'}"
    assert load_settings().resolved_warehouse_url == f"duckdb:///{data / 'warehouse.duckdb'}"


def test_up_makes_relative_database_urls_absolute(
    elsewhere: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REPORTGEN_DATABASE_URL", "sqlite:///meta/other.db")
    monkeypatch.setenv("REPORTGEN_WAREHOUSE_URL", "duckdb:///wh/other.duckdb")

    code, out, err = run("up", "--no-seed")

    assert code == 0, out + err
    assert (elsewhere / "meta" / "other.db").is_file()
    child = web_child()["env"]
    assert child["REPORTGEN_DATABASE_URL"] == f"sqlite:///{elsewhere / 'meta' / 'other.db'}"
    assert child["REPORTGEN_WAREHOUSE_URL"] == f"duckdb:///{elsewhere / 'wh' / 'other.duckdb'}"


def test_up_with_a_broken_catalog_fails_before_seeding_anything(
    elsewhere: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = elsewhere / "catalog"
    broken.mkdir()
    (broken / "sales.yml").write_text("name: sales\ntitle: [oops\n", encoding="utf-8")
    monkeypatch.setenv("REPORTGEN_CATALOG_DIR", "catalog")

    code, _, err = run("up")

    assert code == 1
    assert f"{broken / 'sales.yml'}:" in err and "not valid YAML" in err
    assert "nothing seeded" in err
    assert not (elsewhere / "data").exists()
    assert FakeWeb.started == []


@pytest.mark.slow
def test_render_writes_a_verified_bundle(env: Path, tmp_path: Path) -> None:
    spec = REPO / "report_templates" / "operational_status" / "sample.yml"
    out = tmp_path / "out"
    code, stdout, _ = run(
        "render", str(spec), "--as", "victor", "--out", str(out), "--format", "pdf,csv",
        "--as-of", "2026-10-31T07:30:00+00:00",
    )  # fmt: skip
    assert code == 0, stdout
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["generated_for"] == "victor"
    for entry in manifest["files"]:
        data = (out / entry["name"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"]
        assert f"{entry['sha256']}  {out / entry['name']}" in stdout
    assert any(e["name"].endswith(".pdf") for e in manifest["files"])


def test_render_lists_spec_problems_with_lines(env: Path, tmp_path: Path) -> None:
    spec = tmp_path / "bad.yml"
    spec.write_text(
        "title: Bad\ndataset: sales\nblocks:\n  - {kind: kpis, tiles: [{measure: margin_pct}]}\n"
        "  - {kind: chart, title: x, chart: pie, x: order_date, y: [revenue]}\n",
        encoding="utf-8",
    )
    code, _, err = run("render", str(spec), "--as", "victor", "--out", str(tmp_path / "o"))
    assert code == 1
    assert f"{spec}:4: blocks[0].tiles[0].measure: you are not allowed" in err
    assert f"{spec}:5: blocks[1].x: a pie chart slices a dimension, not time" in err
    assert not (tmp_path / "o").exists()


def test_render_bad_options(env: Path, tmp_path: Path) -> None:
    spec = REPO / "report_templates" / "executive_summary" / "spec.yml"
    code, _, err = run(
        "render", str(spec), "--as", "ana", "--out", str(tmp_path), "--format", "pdf,docx"
    )
    assert code == 1 and "unknown format docx; choose from pdf, csv, xlsx, html" in err
    code, _, err = run(
        "render", str(spec), "--as", "ana", "--out", str(tmp_path), "--as-of", "soon"
    )
    assert code == 1 and "--as-of 'soon'" in err
