"""The `reportgen` command and its sub-command groups."""

from __future__ import annotations

import typer

app = typer.Typer(help="reportgen: governed reports, exports and schedules.", no_args_is_help=True)
users_app = typer.Typer(help="Manage accounts, roles and attributes.", no_args_is_help=True)
catalog_app = typer.Typer(help="Check the governed catalog.", no_args_is_help=True)
audit_app = typer.Typer(help="Read and verify the audit log.", no_args_is_help=True)
db_app = typer.Typer(help="Metadata database migrations.", no_args_is_help=True)
app.add_typer(users_app, name="users")
app.add_typer(catalog_app, name="catalog")
app.add_typer(audit_app, name="audit")
app.add_typer(db_app, name="db")
