"""The `reportgen` command: run the product, seed the demo, manage users, query, verify.

Every command turns errors into sentences, never a traceback: a person's mistake becomes one red
line per problem, and a fault of ours becomes "Something went wrong (incident 1a2b3c4d)" while
the log keeps the details under that id. Audit events recorded by a command carry the OS account
that ran it (``operator``) and ``via: "cli"``.

`app` is the Typer application and `main` the console script; each concern lives in its own
module, imported here in the order its commands are listed.
"""

from __future__ import annotations

import os
import subprocess  # re-exported: tests patch `reportgen.cli.subprocess.Popen`

# isort: off
# Importing a module registers its commands on `app`, in the order `--help` lists them.
from reportgen.cli import running, scheduler, catalog, people, audit, query, render, backup, tokens

# isort: on
from reportgen.cli._app import app
from reportgen.cli._boundary import fail, operator, sentences, services, settings
from reportgen.cli.query import build_request, parse_filter

__all__ = [
    "app",
    "audit",
    "backup",
    "build_request",
    "catalog",
    "fail",
    "main",
    "operator",
    "parse_filter",
    "people",
    "query",
    "render",
    "running",
    "scheduler",
    "sentences",
    "services",
    "settings",
    "subprocess",
    "tokens",
]


def main() -> None:
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    app()
