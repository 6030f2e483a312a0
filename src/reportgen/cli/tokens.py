"""`reportgen tokens ...`: API tokens for scripts and other systems calling the REST API."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from reportgen.cli._app import app
from reportgen.cli._boundary import out, services
from reportgen.domain.tokens import ApiToken
from reportgen.errors import NotFound
from reportgen.services.tokens import DEFAULT_EXPIRY_DAYS

tokens_app = typer.Typer(help="Manage API tokens for the REST API.", no_args_is_help=True)
app.add_typer(tokens_app, name="tokens")


def _when(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M}" if moment else ""


def _token_line(token: ApiToken, now: datetime) -> str:
    """One token per line (ids whole, so they can be copied into `tokens revoke`)."""
    expires = f"{token.expires_at:%Y-%m-%d}" if token.expires_at else "never"
    used = f"{token.last_used_at:%Y-%m-%d}" if token.last_used_at else "never"
    return (
        f"{token.id}  {token.username}  {token.state(now)}  {','.join(sorted(token.scopes))}"
        f"  expires {expires}  last used {used}  {token.name}"
    )


@tokens_app.command("create")
def tokens_create(
    username: Annotated[str, typer.Argument(help="Whose token: requests act as this user.")],
    name: Annotated[str, typer.Option(help="What the token is for, e.g. 'nightly export'.")],
    scope: Annotated[
        list[str] | None,
        typer.Option(help="A role the token may use (repeatable); default: all the user's."),
    ] = None,
    days: Annotated[int, typer.Option(help="Days until the token expires (1 to 365).")] = (
        DEFAULT_EXPIRY_DAYS
    ),
) -> None:
    """Create a token; its secret is printed once and cannot be shown again."""
    with services() as svc:
        principal = svc.users.principal(username)
        secret, token = svc.tokens.create(principal, name, scopes=scope, expires_in_days=days)
        out.print(
            f"Token {token.id} for {token.username} ({', '.join(sorted(token.scopes))}),"
            f" expires {_when(token.expires_at)} UTC. Keep the secret now; it is not shown again:"
        )
        # On a line of its own, so `reportgen tokens create ... | tail -1` captures it.
        out.print(secret, markup=False, highlight=False, soft_wrap=True)


@tokens_app.command("list")
def tokens_list(
    username: Annotated[str | None, typer.Argument(help="Only this user's tokens.")] = None,
) -> None:
    """List tokens (never their secrets): whose, what for, and whether still usable."""
    with services() as svc:
        users = (
            [svc.users.principal(username)]
            if username
            else [user.principal() for user in svc.users.list()]
        )
        tokens = [token for principal in users for token in svc.tokens.list(principal)]
        now = datetime.now(UTC)
        for token in tokens:
            out.print(_token_line(token, now), markup=False, highlight=False, soft_wrap=True)
        if not tokens:
            out.print("No tokens.")


@tokens_app.command("revoke")
def tokens_revoke(
    token_id: Annotated[str, typer.Argument(help="The id `tokens list` shows.")],
) -> None:
    """Revoke a token at once; requests with it are refused from now on."""
    with services() as svc:
        token = svc.tokens.store.get(token_id)
        if token is None:
            raise NotFound(f"there is no token '{token_id}'; `reportgen tokens list` shows them")
        owner = svc.users.store.get(token.username)  # disabled owners' tokens can be revoked too
        if owner is None:
            raise NotFound(f"token '{token_id}' has no owner any more")
        revoked = svc.tokens.revoke(owner.principal(), token_id)
        out.print(f"Token {revoked.id} ({revoked.name}) of {revoked.username} is revoked.")
