"""`TokenRepository`: API tokens in the ``api_tokens`` table, kept as SHA-256 hashes only.

The secret itself never reaches this module: `reportgen.services.tokens` makes it, shows it once
and hands over its hash. Lookups go by that hash (unique, indexed), so finding a token costs the
same whatever the secret, and the service compares the hashes in constant time on top.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, insert, or_, select, update

from reportgen.domain.principal import Role
from reportgen.domain.tokens import ApiToken
from reportgen.store.tables import api_tokens, new_id

_table = api_tokens


class TokenRepository:
    """Stored API tokens. Every method is one short transaction."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def add(
        self,
        *,
        username: str,
        name: str,
        token_hash: str,
        scopes: Iterable[Role],
        created_at: datetime,
        expires_at: datetime | None,
    ) -> ApiToken:
        """Store a new token for ``username`` (who must exist) and return it."""
        row: dict[str, Any] = {
            "id": new_id(),
            "username": username,
            "name": name,
            "token_hash": token_hash,
            "scopes": sorted(role.value for role in scopes),
            "created_at": created_at,
            "expires_at": expires_at,
            "last_used_at": None,
            "revoked_at": None,
        }
        with self._engine.begin() as connection:
            connection.execute(insert(_table).values(**row))
        return _token(row)

    def by_hash(self, token_hash: str) -> tuple[ApiToken, str] | None:
        """The token whose secret hashes to ``token_hash``, with the stored hash, or ``None``."""
        with self._engine.connect() as connection:
            row = connection.execute(
                select(_table).where(_table.c.token_hash == token_hash)
            ).first()
        return None if row is None else (_token(row._mapping), row.token_hash)

    def get(self, token_id: str) -> ApiToken | None:
        with self._engine.connect() as connection:
            row = connection.execute(select(_table).where(_table.c.id == token_id)).first()
        return None if row is None else _token(row._mapping)

    def list(self, username: str | None = None) -> builtins.list[ApiToken]:
        """Tokens of ``username`` (every user's when ``None``), newest first."""
        statement = select(_table).order_by(_table.c.created_at.desc(), _table.c.id)
        if username is not None:
            statement = statement.where(_table.c.username == username)
        with self._engine.connect() as connection:
            rows = connection.execute(statement).all()
        return [_token(row._mapping) for row in rows]

    def revoke(self, token_id: str, at: datetime) -> ApiToken | None:
        """Mark the token revoked at ``at`` (a token revoked earlier keeps its first time);
        ``None`` when there is no such token."""
        with self._engine.begin() as connection:
            connection.execute(
                update(_table)
                .where(_table.c.id == token_id, _table.c.revoked_at.is_(None))
                .values(revoked_at=at)
            )
            row = connection.execute(select(_table).where(_table.c.id == token_id)).first()
        return None if row is None else _token(row._mapping)

    def touch(self, token_id: str, at: datetime, *, unless_since: datetime) -> None:
        """Record a use at ``at``, unless one was recorded at or after ``unless_since``.

        Busy tokens would otherwise cost a write per request; a minute's precision is plenty
        for "last used".
        """
        with self._engine.begin() as connection:
            connection.execute(
                update(_table)
                .where(
                    _table.c.id == token_id,
                    or_(_table.c.last_used_at.is_(None), _table.c.last_used_at < unless_since),
                )
                .values(last_used_at=at)
            )


def _token(row: Mapping[Any, Any]) -> ApiToken:
    return ApiToken(
        id=row["id"],
        username=row["username"],
        name=row["name"],
        scopes=frozenset(Role(scope) for scope in row["scopes"]),
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        last_used_at=row["last_used_at"],
        revoked_at=row["revoked_at"],
    )
