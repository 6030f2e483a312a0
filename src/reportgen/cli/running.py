"""Running the product: `up`, `seed-demo` and `db upgrade`, and the settings for the web app."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import SecretStr

from reportgen.bootstrap import duckdb_path, open_store
from reportgen.catalog.loader import load_catalog
from reportgen.cli._app import app, db_app
from reportgen.cli._boundary import err, fail, out, sentences, services, settings
from reportgen.domain.catalog import Catalog
from reportgen.errors import CatalogInvalid
from reportgen.services.users import seed_demo_users
from reportgen.settings import ENV_PREFIX, Settings
from reportgen.warehouse.demo import demo_warehouse_exists, seed_demo_warehouse

PROJECT_ROOT = Path(__file__).resolve().parents[3]


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
