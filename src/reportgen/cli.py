"""The `reportgen` command: run the product, seed the demo, manage users, query, verify."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.table import Table

from reportgen.bootstrap import Services, build_services, duckdb_path, open_store
from reportgen.catalog.loader import load_catalog
from reportgen.domain.catalog import TimeGrain
from reportgen.domain.query import Filter, Operator, QueryRequest, TimePreset, TimeRange
from reportgen.errors import (
    CatalogInvalid,
    ConfigurationError,
    InvalidInput,
    ReportgenError,
    UserError,
)
from reportgen.logs import configure_logging
from reportgen.services.users import seed_demo_users
from reportgen.settings import Settings, load_settings
from reportgen.warehouse.demo import demo_warehouse_exists, seed_demo_warehouse

app = typer.Typer(help="reportgen: governed reports, exports and schedules.", no_args_is_help=True)
users_app = typer.Typer(help="Manage accounts, roles and attributes.", no_args_is_help=True)
catalog_app = typer.Typer(help="Check the governed catalog.", no_args_is_help=True)
audit_app = typer.Typer(help="Read and verify the audit log.", no_args_is_help=True)
db_app = typer.Typer(help="Metadata database migrations.", no_args_is_help=True)
app.add_typer(users_app, name="users")
app.add_typer(catalog_app, name="catalog")
app.add_typer(audit_app, name="audit")
app.add_typer(db_app, name="db")

out = Console()
err = Console(stderr=True)
PROJECT_ROOT = Path(__file__).resolve().parents[2]


def fail(message: str, code: int = 1) -> NoReturn:
    err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def settings() -> Settings:
    try:
        loaded = load_settings()
    except ConfigurationError as exc:
        fail(str(exc), 2)
    configure_logging(loaded)
    return loaded


@contextmanager
def services(*, upgrade: bool = False) -> Iterator[Services]:
    """Services for one command; user errors become one red line, never a traceback."""
    built: Services | None = None
    try:
        built = build_services(settings(), upgrade=upgrade)
        yield built
    except CatalogInvalid as exc:
        fail(str(exc))
    except InvalidInput as exc:
        fail("\n  - ".join(["the request has problems:", *exc.problems]))
    except (UserError, ConfigurationError) as exc:
        fail(str(exc))
    finally:
        if built is not None:
            built.close()


# -- running ------------------------------------------------------------------------------


def ensure_demo(config: Settings, rows: int | None = None, *, force: bool = False) -> None:
    """Seed the demo warehouse (when the default DuckDB is in use) and the demo users."""
    store = open_store(config, upgrade=True)
    store.dispose()
    if config.warehouse_url is None:
        path = duckdb_path(config.resolved_warehouse_url)
        if force or not demo_warehouse_exists(path):
            out.print(f"Generating the demo warehouse at {path} ...")
            summary = seed_demo_warehouse(path, rows=rows or config.demo_rows)
            out.print(
                f"Demo warehouse ready: {summary.rows:,} orders in {summary.seconds:.1f} s "
                f"(seed {summary.seed}, data up to {summary.end_date})."
            )
    with services() as svc:
        created = seed_demo_users(svc.users)
    if created:
        out.print(f"Demo users created: {', '.join(created)} (passwords in the README).")


@app.command()
def up(
    port: Annotated[int, typer.Option(help="Port of the web app.")] = 8501,
    address: Annotated[str, typer.Option(help="Address the web app listens on.")] = "127.0.0.1",
    seed: Annotated[bool, typer.Option(help="Seed the demo data on first start.")] = True,
) -> None:
    """Start the product: migrate the metadata DB, seed the demo on first start, serve the app."""
    config = settings()
    try:
        if seed:
            ensure_demo(config)
        else:
            open_store(config, upgrade=True).dispose()
    except ReportgenError as exc:
        fail(str(exc))
    command = [
        sys.executable, "-m", "streamlit", "run", str(PROJECT_ROOT / "app.py"),
        "--server.port", str(port), "--server.address", address,
        "--server.headless", "true", "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
    out.print(f"reportgen is starting on http://localhost:{port} (Ctrl-C stops it).")
    web = subprocess.Popen(command, cwd=PROJECT_ROOT)  # noqa: S603 (fixed argv, no shell)
    try:
        code = web.wait()
    except KeyboardInterrupt:
        web.send_signal(signal.SIGINT)
        code = web.wait(timeout=15)
    raise typer.Exit(code)


@app.command("seed-demo")
def seed_demo(
    rows: Annotated[int | None, typer.Option(help="Order rows (default 5,000,000).")] = None,
    force: Annotated[bool, typer.Option(help="Regenerate even if the warehouse exists.")] = False,
) -> None:
    """Create the demo warehouse and the demo users admin, ana and victor."""
    config = settings()
    if rows is not None and rows < 1000:
        fail("--rows must be at least 1000")
    try:
        ensure_demo(config, rows, force=force)
    except ReportgenError as exc:
        fail(str(exc))


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration to the metadata DB."""
    store = open_store(settings(), upgrade=True)
    out.print(f"Metadata DB at revision {store.current_revision()}.")
    store.dispose()


# -- catalog --------------------------------------------------------------------------------


@catalog_app.command("validate")
def catalog_validate(
    folder: Annotated[Path | None, typer.Argument(help="Catalog folder.")] = None,
) -> None:
    """Check every dataset file; list every problem as file:line: message."""
    target = folder or settings().catalog_dir
    try:
        catalog = load_catalog(target)
    except CatalogInvalid as exc:
        for problem in exc.problems:
            err.print(str(problem), highlight=False, markup=False, soft_wrap=True)
        fail(f"{len(exc.problems)} problem(s) in {target}")
    for dataset in catalog:
        out.print(f"ok  {dataset.name:<20} version {dataset.version}", highlight=False)


# -- users ----------------------------------------------------------------------------------


def _users_table(rows: list[list[str]]) -> Table:
    table = Table("username", "name", "roles", "attributes", "disabled")
    for row in rows:
        table.add_row(*row)
    return table


@users_app.command("list")
def users_list() -> None:
    """List every account with its roles and attributes."""
    with services() as svc:
        out.print(
            _users_table(
                [
                    [
                        u.username,
                        u.display_name,
                        ",".join(sorted(u.roles)),
                        "; ".join(f"{k}={','.join(v)}" for k, v in sorted(u.attributes.items())),
                        "yes" if u.disabled else "",
                    ]
                    for u in svc.users.list()
                ]
            )
        )


def _attributes(pairs: list[str]) -> dict[str, list[str]]:
    attributes: dict[str, list[str]] = {}
    for pair in pairs:
        name, sep, values = pair.partition("=")
        if not sep or not name.strip():
            fail(f"attribute '{pair}': write NAME=VALUE[,VALUE...], e.g. region=EMEA")
        attributes[name.strip()] = [v.strip() for v in values.split(",") if v.strip()]
    return attributes


PasswordOption = Annotated[
    str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True, help="Password.")
]


@users_app.command("add")
def users_add(
    username: str,
    password: PasswordOption,
    role: Annotated[list[str], typer.Option(help="viewer, author or admin (repeatable).")],
    name: Annotated[str, typer.Option(help="Display name.")] = "",
    email: Annotated[str, typer.Option(help="E-mail address.")] = "",
    attr: Annotated[list[str] | None, typer.Option(help="NAME=VALUE[,VALUE] (repeatable).")] = None,
) -> None:
    """Create an account."""
    with services() as svc:
        user = svc.users.add(
            username, password, role, display_name=name, email=email,
            attributes=_attributes(attr or []),
        )  # fmt: skip
        out.print(f"Created {user.username} with roles {', '.join(sorted(user.roles))}.")


@users_app.command("set-role")
def users_set_role(
    username: str,
    role: Annotated[list[str], typer.Argument(help="The account's roles, replacing the old.")],
) -> None:
    """Replace an account's roles."""
    with services() as svc:
        user = svc.users.set_roles(username, role)
        out.print(f"{user.username} now has roles {', '.join(sorted(user.roles))}.")


@users_app.command("set-attr")
def users_set_attr(
    username: str, assignment: Annotated[str, typer.Argument(help="NAME=V1,V2")]
) -> None:
    """Set one attribute, e.g. `reportgen users set-attr ana region=EMEA,APAC`."""
    ((name, values),) = _attributes([assignment]).items()
    with services() as svc:
        svc.users.set_attribute(username, name, values)
        out.print(f"{username}: {name} = {', '.join(values) or '(none)'}")


@users_app.command("passwd")
def users_passwd(username: str, password: PasswordOption) -> None:
    """Set an account's password."""
    with services() as svc:
        svc.users.set_password(username, password)
        out.print(f"Password of {username} changed.")


# -- audit ----------------------------------------------------------------------------------


@audit_app.command("verify")
def audit_verify() -> None:
    """Prove the audit chain is unbroken; exit 1 naming the first altered or missing event."""
    with services() as svc:
        report = svc.audit.verify()
    if not report.ok:
        fail(f"audit chain broken at event {report.first_broken_seq}: {report.reason}")
    out.print(f"Audit chain intact: {report.checked:,} events verified.")


@audit_app.command("list")
def audit_list(
    actor: Annotated[str | None, typer.Option(help="Only this actor.")] = None,
    action: Annotated[str | None, typer.Option(help="Only this action.")] = None,
    limit: Annotated[int, typer.Option(help="How many, newest first.")] = 50,
) -> None:
    """Show recent audit events."""
    with services() as svc:
        events = svc.audit.recent(actor=actor, action=action, limit=limit)
    table = Table("seq", "at", "actor", "action", "target", "outcome")
    for e in events:
        table.add_row(
            str(e.seq), f"{e.at:%Y-%m-%d %H:%M:%S}", e.actor, e.action, e.target, e.outcome
        )
    out.print(table)


# -- query ----------------------------------------------------------------------------------

_OPERATORS = ("!=", ">=", "<=", "=", ">", "<", "~")


def parse_filter(text: str) -> Filter:
    """`col=value`, `col!=value`, `col>=5`, `col=a|b` (in), `col!=a|b` (not in), `col~text`."""
    for symbol in _OPERATORS:
        field, sep, value = text.partition(symbol)
        if sep and field.strip():
            values = tuple(v.strip() for v in value.split("|"))
            if symbol == "~":
                return Filter(field=field.strip(), op=Operator.CONTAINS, value=value.strip())
            if len(values) > 1 and symbol in {"=", "!="}:
                op = Operator.IN if symbol == "=" else Operator.NOT_IN
                return Filter(field=field.strip(), op=op, value=values)
            return Filter(field=field.strip(), op=Operator(symbol), value=value.strip())
    fail(f"filter '{text}': write COLUMN=VALUE (also !=, >, >=, <, <=, ~ for contains, a|b for in)")


def _cell(value: object) -> str:
    if isinstance(value, bool) or value is None:
        return "" if value is None else str(value)
    if isinstance(value, int) or (isinstance(value, Decimal) and value == value.to_integral()):
        return f"{value:,.0f}"
    if isinstance(value, float | Decimal):
        return f"{value:,.2f}"
    return str(value)


def _json_default(value: object) -> str | float:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    return str(value)


@app.command()
def query(
    as_user: Annotated[str, typer.Option("--as", help="Run with this user's permissions.")],
    dataset: Annotated[str, typer.Option(help="Dataset name.")],
    dimension: Annotated[list[str] | None, typer.Option(help="Group by (repeatable).")] = None,
    measure: Annotated[list[str] | None, typer.Option(help="Measure (repeatable).")] = None,
    filter_: Annotated[list[str] | None, typer.Option("--filter", help="COLUMN=VALUE…")] = None,
    grain: Annotated[TimeGrain | None, typer.Option(help="Time grain.")] = None,
    preset: Annotated[TimePreset | None, typer.Option(help="Relative time range.")] = None,
    start: Annotated[str | None, typer.Option(help="From this day (YYYY-MM-DD).")] = None,
    end: Annotated[str | None, typer.Option(help="Up to, not including, this day.")] = None,
    limit: Annotated[int | None, typer.Option(help="At most this many rows.")] = None,
    fmt: Annotated[str, typer.Option("--format", help="table, csv or json.")] = "table",
) -> None:
    """Run a governed query as a user: their row policies and masks apply."""
    if fmt not in {"table", "csv", "json"}:
        fail(f"--format {fmt!r}: choose table, csv or json")
    with services() as svc:
        try:
            time_range = (
                TimeRange.model_validate({"preset": preset, "start": start, "end": end})
                if preset or start or end
                else None
            )
        except ValueError as exc:
            fail(f"time range: {exc}")
        request = QueryRequest(
            dataset=dataset,
            dimensions=tuple(dimension or ()),
            measures=tuple(measure or ()),
            filters=tuple(parse_filter(f) for f in filter_ or ()),
            grain=grain,
            time_range=time_range,
            limit=limit,
        )
        result = svc.queries.run(svc.users.principal(as_user), request)
    frame = result.frame
    if fmt == "csv":
        sys.stdout.write(frame.to_csv(index=False))
    elif fmt == "json":
        records = frame.to_dict(orient="records")
        sys.stdout.write(json.dumps(records, default=_json_default, indent=2) + "\n")
    else:
        table = Table(*map(str, frame.columns))
        for row in frame.itertuples(index=False):
            table.add_row(*(_cell(v) for v in row))
        out.print(table)
        err.print(
            f"{result.row_count} rows · query {result.query_hash[:12]} · dataset "
            f"{result.dataset} {result.dataset_version} · {result.elapsed_ms:.0f} ms",
            highlight=False,
        )


def main() -> None:
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    app()
