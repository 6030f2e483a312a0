"""The `reportgen` command: run the product, seed the demo, manage users, query, verify.

Every command turns errors into sentences, never a traceback: a person's mistake becomes one red
line per problem, and a fault of ours becomes "Something went wrong (incident 1a2b3c4d)" while
the log keeps the details under that id. Audit events recorded by a command carry the OS account
that ran it (``operator``) and ``via: "cli"``.
"""

from __future__ import annotations

import getpass
import json
import logging
import os
import re
import secrets
import signal
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, NoReturn

import click
import typer
from pydantic import SecretStr, ValidationError
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from reportgen.bootstrap import Services, build_services, duckdb_path, open_store
from reportgen.catalog.loader import load_catalog
from reportgen.domain.catalog import Catalog, TimeGrain
from reportgen.domain.query import Filter, Operator, QueryRequest, TimePreset, TimeRange
from reportgen.domain.spec import check_spec
from reportgen.errors import (
    CatalogInvalid,
    ConfigurationError,
    InvalidInput,
    UserError,
)
from reportgen.logs import configure_logging
from reportgen.rendering.specfiles import load_spec_file
from reportgen.services.audit import audit_context
from reportgen.services.render import parse_formats
from reportgen.services.users import seed_demo_users
from reportgen.settings import ENV_PREFIX, Settings, load_settings
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
log = logging.getLogger("reportgen.cli")
PROJECT_ROOT = Path(__file__).resolve().parents[2]
# Raised on purpose to end a command; they must pass the error boundary untouched.
_EXITS = (typer.Exit, typer.Abort, click.exceptions.Exit, click.exceptions.Abort)


def fail(message: str, code: int = 1) -> NoReturn:
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def settings() -> Settings:
    try:
        loaded = load_settings()
    except ConfigurationError as exc:
        fail(str(exc), 2)
    configure_logging(loaded)
    return loaded


def operator() -> str:
    """The OS account running this command, for the audit log."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name and no passwd entry (some containers)
        return f"uid {os.getuid()}"


@contextmanager
def sentences() -> Iterator[None]:
    """The error boundary of a command: user errors become red lines, faults an incident id."""
    try:
        yield
    except _EXITS:
        raise
    except CatalogInvalid as exc:
        fail(str(exc))
    except InvalidInput as exc:
        if len(exc.problems) == 1:
            fail(exc.problems[0])
        fail("\n  - ".join(["the request has problems:", *exc.problems]))
    except (UserError, ConfigurationError) as exc:
        fail(str(exc))
    except Exception:  # the boundary: no traceback may reach the person
        incident = secrets.token_hex(4)
        context = click.get_current_context(silent=True)
        # The command's name, never its arguments: they may hold a password.
        command = context.command_path if context else "reportgen"
        log.exception("incident %s: %s failed", incident, command)
        fail(f"Something went wrong (incident {incident}); the log has the details.")


@contextmanager
def services(
    config: Settings | None = None, *, catalog: Catalog | None = None, upgrade: bool = False
) -> Iterator[Services]:
    """Services for one command, inside the error boundary, auditing who ran it."""
    built: Services | None = None
    with sentences(), audit_context(operator=operator(), via="cli"):
        try:
            built = build_services(config or settings(), catalog=catalog, upgrade=upgrade)
            yield built
        finally:
            if built is not None:
                built.close()


# -- running ------------------------------------------------------------------------------


def _absolute_url(url: str) -> str:
    """A sqlite:/// or duckdb:/// URL with its file made absolute; other URLs unchanged."""
    scheme, sep, rest = url.partition(":///")
    if not sep or scheme.split("+")[0] not in {"sqlite", "duckdb"}:
        return url
    path, query_sep, query = rest.partition("?")
    if not path or path.startswith(("/", ":memory:", "file:")):
        return url
    return f"{scheme}:///{Path(path).absolute()}{query_sep}{query}"


def absolute(config: Settings) -> Settings:
    """The settings with every relative folder, file and database path made absolute, against
    the folder the command was started in, so every process of this run reads the same data."""
    updates: dict[str, object] = {}
    for name in Settings.model_fields:
        value = getattr(config, name)
        if isinstance(value, Path):
            updates[name] = value.expanduser().absolute()
        elif name.endswith("_url") and isinstance(value, str):
            updates[name] = _absolute_url(value)
    return config.model_copy(update=updates)


def child_environment(config: Settings, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """``base`` (default: this process's environment) with every setting of ``config`` spelled
    out as its ``REPORTGEN_`` variable, so a child process reads exactly these settings."""
    environment = dict(os.environ if base is None else base)
    dumped = config.model_dump(mode="json")
    for name in Settings.model_fields:
        value: Any = getattr(config, name)
        if value is None:
            continue
        if isinstance(value, SecretStr):
            text = value.get_secret_value()
        elif isinstance(dumped[name], str):
            text = dumped[name]
        else:
            text = json.dumps(dumped[name])
        environment[f"{ENV_PREFIX}{name.upper()}"] = text
    return environment


def checked_catalog(config: Settings) -> Catalog:
    """The catalog, or every problem in it and exit 1, before anything is created."""
    try:
        return load_catalog(config.catalog_dir)
    except CatalogInvalid as exc:
        for problem in exc.problems:
            err.print(str(problem), highlight=False, markup=False, soft_wrap=True)
        fail(f"{len(exc.problems)} problem(s) in the catalog {config.catalog_dir}; nothing seeded")


def ensure_demo(
    config: Settings, catalog: Catalog, rows: int | None = None, *, force: bool = False
) -> None:
    """Seed the demo warehouse (when the default DuckDB is in use) and the demo users."""
    with sentences():
        open_store(config, upgrade=True).dispose()
        if config.warehouse_url is None:
            path = duckdb_path(config.resolved_warehouse_url)
            if force or not demo_warehouse_exists(path):
                out.print(f"Generating the demo warehouse at {path} ...")
                summary = seed_demo_warehouse(path, rows=rows or config.demo_rows)
                out.print(
                    f"Demo warehouse ready: {summary.rows:,} orders in {summary.seconds:.1f} s "
                    f"(seed {summary.seed}, data up to {summary.end_date})."
                )
    with services(config, catalog=catalog) as svc:
        created = seed_demo_users(svc.users)
    if created:
        out.print(f"Demo users created: {', '.join(created)} (passwords in the README).")


def web_command(port: int, address: str) -> list[str]:
    return [
        sys.executable, "-m", "streamlit", "run", str(PROJECT_ROOT / "app.py"),
        "--server.port", str(port), "--server.address", address,
        "--server.headless", "true", "--browser.gatherUsageStats", "false",
    ]  # fmt: skip


@app.command()
def up(
    port: Annotated[int, typer.Option(help="Port of the web app.")] = 8501,
    address: Annotated[str, typer.Option(help="Address the web app listens on.")] = "127.0.0.1",
    seed: Annotated[bool, typer.Option(help="Seed the demo data on first start.")] = True,
) -> None:
    """Start the product: migrate the metadata DB, seed the demo on first start, serve the app.

    Relative paths in the settings are resolved once, against the folder this is started in,
    and handed to the web app as absolute ones.
    """
    config = absolute(settings())
    catalog = checked_catalog(config)
    if seed:
        ensure_demo(config, catalog)
    else:
        with sentences():
            open_store(config, upgrade=True).dispose()
    out.print(f"reportgen is starting on http://localhost:{port} (Ctrl-C stops it).")
    with sentences():
        web = subprocess.Popen(  # noqa: S603 (fixed argv, no shell)
            web_command(port, address), cwd=PROJECT_ROOT, env=child_environment(config)
        )
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
    ensure_demo(config, checked_catalog(config), rows, force=force)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration to the metadata DB."""
    with sentences():
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


def _attributes(pairs: list[str]) -> tuple[dict[str, list[str]], list[str]]:
    """``NAME=V1,V2`` pairs as attributes, and a problem for each pair written otherwise."""
    attributes: dict[str, list[str]] = {}
    problems: list[str] = []
    for pair in pairs:
        name, sep, values = pair.partition("=")
        if not sep or not name.strip():
            problems.append(f"attribute '{pair}': write NAME=VALUE[,VALUE...], e.g. region=EMEA")
            continue
        attributes[name.strip()] = [v.strip() for v in values.split(",") if v.strip()]
    return attributes, problems


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
    """Create an account; every problem with it is listed at once."""
    attributes, problems = _attributes(attr or [])
    with services() as svc:
        if problems:
            raise InvalidInput(
                [
                    *problems,
                    *svc.users.problems_adding(
                        username, password, role, display_name=name, email=email,
                        attributes=attributes,
                    ),
                ]
            )  # fmt: skip
        user = svc.users.add(
            username, password, role, display_name=name, email=email, attributes=attributes
        )
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
    attributes, problems = _attributes([assignment])
    if problems:
        fail(problems[0])
    ((name, values),) = attributes.items()
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
        where = f" at event {report.first_broken_seq}" if report.first_broken_seq else ""
        fail(f"audit chain broken{where}: {report.reason}")
    out.print(f"Audit chain intact: {report.checked:,} events verified.")
    if report.anchored_seq is not None:
        out.print(f"It reaches event {report.anchored_seq:,}, the head recorded outside the DB.")
    elif report.checked:
        err.print(
            "warning: no head is recorded outside the database yet, so the removal of the newest"
            " events cannot be ruled out.",
            highlight=False,
        )


@audit_app.command("list")
def audit_list(
    actor: Annotated[str | None, typer.Option(help="Only this actor.")] = None,
    action: Annotated[str | None, typer.Option(help="Only this action.")] = None,
    limit: Annotated[int, typer.Option(help="How many, newest first.")] = 50,
) -> None:
    """Show recent audit events; a damaged one is shown as such."""
    with services() as svc:
        events = svc.audit.recent(actor=actor, action=action, limit=limit)
    table = Table("seq", "at", "actor", "action", "target", "outcome")
    for e in events:
        when = f"{e.at:%Y-%m-%d %H:%M:%S}" if isinstance(e.at, datetime) else "(unreadable)"
        outcome = f"DAMAGED: {e.damage}" if e.damage else e.outcome
        table.add_row(str(e.seq), when, e.actor, e.action, e.target, outcome)
    out.print(table)


# -- query ----------------------------------------------------------------------------------

# Longest first, so that at one position "<=" wins over "<".
_OPERATORS = ("!=", ">=", "<=", "=", ">", "<", "~")
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_OPTIONS = {
    "dataset": "--dataset",
    "dimensions": "--dimension",
    "measures": "--measure",
    "limit": "--limit",
    "grain": "--grain",
    "preset": "--preset",
    "start": "--start",
    "end": "--end",
}
_DATE_ERRORS = {"date_parsing", "date_from_datetime_parsing", "date_from_datetime_inexact"}


def _describe(error: Mapping[str, Any], option: str) -> str:
    """One pydantic error about a command-line value as a sentence (no pydantic jargon)."""
    value = error.get("input")
    kind = error["type"]
    if kind == "string_pattern_mismatch":
        lower = str(value).lower()
        hint = f" (did you mean '{lower}'?)" if _NAME.match(lower) else ""
        return (
            f"{option} '{value}': names are lower-case letters, digits and underscores,"
            f" starting with a letter{hint}"
        )
    if kind == "greater_than_equal":
        return f"{option} must be at least {error['ctx']['ge']}, got {value}"
    if kind in _DATE_ERRORS or kind.startswith("date_"):
        return f"{option} '{value}' is not a date; write YYYY-MM-DD, e.g. 2025-01-31"
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{option}: {message}" if option else message


def _sentences(exc: ValidationError, whole: str) -> list[str]:
    problems = []
    for error in exc.errors(include_url=False):
        location = error["loc"]
        option = _OPTIONS.get(str(location[0]), str(location[0])) if location else whole
        problems.append(_describe(error, option))
    return problems


def parse_filter(text: str) -> Filter:
    """`col=value`, `col!=value`, `col>=5`, `col=a|b` (in), `col!=a|b` (not in), `col~text`.

    The operator is the leftmost one in the text, so values may hold operator characters:
    `product~a=b` is "contains a=b". Raises `InvalidInput` with a sentence when it cannot be read.
    """
    found = [(text.find(symbol), -len(symbol), symbol) for symbol in _OPERATORS if symbol in text]
    if not found:
        raise InvalidInput(
            f"--filter '{text}': write COLUMN=VALUE (also !=, >, >=, <, <=, ~ for contains,"
            " a|b for in)"
        )
    position, _, symbol = min(found)
    field, value = text[:position].strip(), text[position + len(symbol) :]
    try:
        if symbol == "~":
            return Filter(field=field, op=Operator.CONTAINS, value=value.strip())
        values = tuple(v.strip() for v in value.split("|"))
        if len(values) > 1 and symbol in {"=", "!="}:
            op = Operator.IN if symbol == "=" else Operator.NOT_IN
            return Filter(field=field, op=op, value=values)
        return Filter(field=field, op=Operator(symbol), value=value.strip())
    except ValidationError as exc:
        raise InvalidInput(
            [_describe(error, f"--filter '{text}': the column") for error in exc.errors()]
        ) from None


def build_request(  # one parameter per command-line option
    dataset: str,
    dimensions: list[str],
    measures: list[str],
    filters: list[str],
    grain: TimeGrain | None,
    preset: TimePreset | None,
    start: str | None,
    end: str | None,
    limit: int | None,
) -> QueryRequest:
    """The query the options describe; `InvalidInput` lists every problem with them at once."""
    problems: list[str] = []
    time_range = None
    if preset or start or end:
        try:
            time_range = TimeRange.model_validate({"preset": preset, "start": start, "end": end})
        except ValidationError as exc:
            problems += _sentences(exc, "time range")
    parsed: list[Filter] = []
    for text in filters:
        try:
            parsed.append(parse_filter(text))
        except InvalidInput as exc:
            problems += exc.problems
    try:
        request = QueryRequest(
            dataset=dataset,
            dimensions=tuple(dimensions),
            measures=tuple(measures),
            filters=tuple(parsed),
            grain=grain,
            time_range=time_range,
            limit=limit,
        )
    except ValidationError as exc:
        problems += _sentences(exc, "query")
    if problems:
        raise InvalidInput(problems)
    return request


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
    with sentences():
        request = build_request(
            dataset, dimension or [], measure or [], filter_ or [], grain, preset, start, end,
            limit,
        )  # fmt: skip
    with services() as svc:
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


def _parameters(pairs: list[str]) -> dict[str, tuple[str, ...]]:
    values: dict[str, tuple[str, ...]] = {}
    for pair in pairs:
        name, sep, text = pair.partition("=")
        if not sep or not name.strip():
            raise InvalidInput(f"--param '{pair}': write NAME=VALUE[,VALUE...], e.g. region=EMEA")
        values[name.strip()] = tuple(v.strip() for v in text.split(",") if v.strip())
    return values


def _as_of(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(
            f"--as-of '{text}': write a date and time such as 2026-11-30T08:00:00+00:00"
        ) from None


@app.command()
def render(
    spec_path: Annotated[Path, typer.Argument(metavar="SPEC", help="A report spec (YAML).")],
    as_user: Annotated[str, typer.Option("--as", help="Render with this user's permissions.")],
    out_dir: Annotated[Path, typer.Option("--out", help="Folder to copy the files into.")],
    formats: Annotated[str, typer.Option("--format", help="pdf, csv, xlsx, html.")] = "pdf",
    param: Annotated[
        list[str] | None, typer.Option(help="NAME=VALUE[,VALUE] (repeatable).")
    ] = None,
    as_of: Annotated[str | None, typer.Option(help="The run's logical time (ISO 8601).")] = None,
) -> None:
    """Render a report as a user into a bundle: files, manifest.json and checksums."""
    with sentences():
        chosen = parse_formats(formats)
        parameters = _parameters(param or [])
        moment = _as_of(as_of)
        spec_file = load_spec_file(spec_path)
    with services() as svc:
        principal = svc.users.principal(as_user)
        problems = check_spec(spec_file.spec, svc.reports.catalog, principal)
        if problems:
            raise InvalidInput(spec_file.explain(problems))
        result = svc.render.render(
            principal, spec_file.spec, formats=chosen, as_of=moment, parameters=parameters
        )
        out_dir.mkdir(parents=True, exist_ok=True)
        for artifact in (*result.bundle.files, result.bundle.manifest):
            name = artifact.key.rsplit("/", 1)[-1]
            (out_dir / name).write_bytes(svc.render.store.get(artifact.key))
            sys.stdout.write(f"{artifact.sha256}  {out_dir / name}\n")
        location = svc.render.store.url_for(result.bundle.prefix)
        err.print(
            f"Bundle {result.bundle.prefix} stored in {location}", highlight=False, soft_wrap=True
        )


def main() -> None:
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    app()
