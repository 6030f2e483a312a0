"""Running the product: `up`, `seed-demo`, `db upgrade`, and the settings child processes get."""

from __future__ import annotations

import functools
import ipaddress
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Annotated, Any
from urllib.parse import urlsplit

import typer
from pydantic import SecretStr

from reportgen.bootstrap import duckdb_path, open_store
from reportgen.catalog.loader import load_catalog
from reportgen.cli._app import app, db_app
from reportgen.cli._boundary import err, fail, out, sentences, services, settings
from reportgen.delivery.mailsink import MailSink
from reportgen.domain.catalog import Catalog
from reportgen.errors import CatalogInvalid
from reportgen.services.users import seed_demo_users
from reportgen.settings import ENV_PREFIX, Settings
from reportgen.warehouse.demo import demo_warehouse_exists, seed_demo_warehouse

PROJECT_ROOT = Path(__file__).resolve().parents[3]
CHILD_POLL_S = 0.5
SCHEDULER_STOP_S = 40.0
"""The scheduler drains runs in flight for up to 25 s before it exits; a margin on top."""
WEB_STOP_S = 15.0


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


def scheduler_command() -> list[str]:
    """``reportgen scheduler`` in this interpreter (the console script when installed)."""
    script = Path(sys.executable).with_name("reportgen")
    if script.is_file():
        return [str(script), "scheduler"]
    return [sys.executable, "-c", "from reportgen.cli import main; main()", "scheduler"]


def start_mail_sink(config: Settings) -> MailSink | None:
    """The local SMTP sink on the SMTP URL's loopback port, when the settings ask for one."""
    if not config.mail_sink:
        return None
    parts = urlsplit(config.smtp_url)
    host = parts.hostname or ""
    if parts.scheme != "smtp" or not _loopback(host):
        out.print(f"No mail sink: {host or 'the SMTP URL'} is not this machine; mail goes there.")
        return None
    port = parts.port or 25
    sink = MailSink(host, port, config.data_dir / "mail")
    try:
        sink.start()
    except (OSError, RuntimeError) as exc:
        err.print(
            f"[yellow]warning:[/] the mail sink could not listen on {host}:{port} ({exc});"
            " report emails go to whatever listens there. Set REPORTGEN_SMTP_URL to a free port"
            " or REPORTGEN_MAIL_SINK=false.",
            highlight=False,
        )
        return None
    return sink


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class Child:
    """A process `up` started, how to ask it to stop, and how long it may take."""

    name: str
    process: subprocess.Popen[bytes]
    stop_signal: int
    stop_timeout_s: float


def supervise(children: list[Child], stop: threading.Event) -> int:
    """Wait until ``stop`` is set or a child exits, then stop every child; the exit code.

    A child that dies takes the others down, with a message naming it: half a product (a web
    app whose schedules never run, or a scheduler nobody can reach) is worse than a clear stop.
    """
    died: tuple[Child, int] | None = None
    while died is None and not stop.is_set():
        for child in children:
            code = child.process.poll()
            if code is not None:
                died = (child, code)
                break
        else:
            stop.wait(CHILD_POLL_S)
    if died is not None and stop.is_set():
        died = None  # Ctrl-C reached the child too, and it stopped first: not a failure
    if died is not None:
        child, code = died
        err.print(
            f"[bold red]error:[/] the {child.name} stopped unexpectedly (exit code {code});"
            " stopping the rest of reportgen. Its log above says why.",
            highlight=False,
        )
    for child in children:
        if child.process.poll() is None:
            child.process.send_signal(child.stop_signal)
    for child in children:
        try:
            child.process.wait(timeout=child.stop_timeout_s)
        except subprocess.TimeoutExpired:
            err.print(f"The {child.name} did not stop in {child.stop_timeout_s:.0f} s; killed.")
            child.process.kill()
            child.process.wait()
    if died is None:
        return 0
    return died[1] or 1


@app.command()
def up(
    port: Annotated[int, typer.Option(help="Port of the web app.")] = 8501,
    address: Annotated[str, typer.Option(help="Address the web app listens on.")] = "127.0.0.1",
    seed: Annotated[bool, typer.Option(help="Seed the demo data on first start.")] = True,
) -> None:
    """Start the product: migrate the metadata DB, seed the demo on first start, then run the
    scheduler (with the REST API), the local mail sink and the web app until Ctrl-C.

    Relative paths in the settings are resolved once, against the folder this is started in,
    and handed to every process as absolute ones. If one process dies, the others are stopped.
    """
    config = absolute(settings())
    catalog = checked_catalog(config)
    if seed:
        ensure_demo(config, catalog)
    else:
        with sentences():
            open_store(config, upgrade=True).dispose()
    stop = threading.Event()

    def request_stop(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    sink = start_mail_sink(config)
    environment = child_environment(config)
    children: list[Child] = []
    try:
        with sentences():
            scheduler = subprocess.Popen(  # noqa: S603 (fixed argv, no shell)
                scheduler_command(), cwd=PROJECT_ROOT, env=environment
            )
            children.append(Child("scheduler", scheduler, signal.SIGTERM, SCHEDULER_STOP_S))
            web = subprocess.Popen(  # noqa: S603 (fixed argv, no shell)
                web_command(port, address), cwd=PROJECT_ROOT, env=environment
            )
            children.append(Child("web app", web, signal.SIGINT, WEB_STOP_S))
        say = functools.partial(out.print, highlight=False, soft_wrap=True)
        say(f"reportgen is starting on http://localhost:{port} (Ctrl-C stops it).")
        say(f"REST API: http://{config.api_host}:{config.api_port}/api/v1 (health: /healthz)")
        if sink is not None:
            say(f"Mail sink: {config.smtp_url}, every message kept in {sink.folder}")
        code = supervise(children, stop)
    finally:
        for child in children:
            if child.process.poll() is None:
                child.process.kill()
        if sink is not None:
            sink.stop()
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
