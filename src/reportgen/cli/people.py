"""`reportgen users ...`: manage accounts, roles and attributes."""

# Typer commands take their options as parameters.

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from reportgen.cli._app import users_app
from reportgen.cli._boundary import fail, out, services
from reportgen.errors import InvalidInput


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
