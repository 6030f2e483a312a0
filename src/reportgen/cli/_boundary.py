"""The error boundary every command runs inside: sentences, never tracebacks.

A person's mistake becomes one red line per problem, and a fault of ours becomes "Something went
wrong (incident 1a2b3c4d)" while the log keeps the details under that id. Audit events recorded
by a command carry the OS account that ran it (``operator``) and ``via: "cli"``.
"""

from __future__ import annotations

import getpass
import logging
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

import click
import typer
from rich.console import Console
from rich.markup import escape

from reportgen.bootstrap import Services, build_services
from reportgen.domain.catalog import Catalog
from reportgen.errors import (
    CatalogInvalid,
    ConfigurationError,
    InvalidInput,
    UserError,
)
from reportgen.logs import configure_logging
from reportgen.services.audit import audit_context
from reportgen.settings import Settings, load_settings

out = Console()
err = Console(stderr=True)
log = logging.getLogger("reportgen.cli")
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
