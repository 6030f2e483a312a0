"""The interfaces services need from adapters, and what each raises.

Bootstrap hands concrete adapters (DuckDB or Snowflake, SQLAlchemy store) to the services;
the services know them only through these protocols.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from typing import Protocol

import pyarrow as pa

from reportgen.domain.audit import AuditEvent, ChainReport
from reportgen.domain.principal import Role, User
from reportgen.domain.sql import CompiledQuery, Dialect


class Warehouse(Protocol):
    """Runs compiled, parameterised SQL.

    Raises `QueryTimeout` when the query runs longer than `timeout_s` (and cancels it), and
    `WarehouseError` for any other warehouse failure; never returns partial results.
    """

    @property
    def dialect(self) -> Dialect: ...

    def fetch(self, query: CompiledQuery, *, timeout_s: float) -> pa.Table: ...

    def close(self) -> None: ...


class UserStore(Protocol):
    """Accounts. Raises `InvalidInput` for bad values or duplicates, `NotFound` for unknown
    users."""

    def add(
        self,
        username: str,
        *,
        display_name: str,
        email: str,
        password: str,
        roles: frozenset[Role] | set[Role],
        attributes: Mapping[str, tuple[str, ...] | builtins.list[str]],
    ) -> User: ...

    def get(self, username: str) -> User | None: ...

    def require(self, username: str) -> User: ...

    def list(self) -> builtins.list[User]: ...

    def set_roles(self, username: str, roles: frozenset[Role] | set[Role]) -> User: ...

    def set_attribute(
        self, username: str, name: str, values: tuple[str, ...] | builtins.list[str]
    ) -> User: ...

    def set_password(self, username: str, password: str) -> None: ...

    def verify_password(self, username: str, password: str) -> User | None: ...

    def password_hash(self, username: str) -> str | None: ...


class AuditSink(Protocol):
    """The append-only, hash-chained audit log."""

    def append(
        self,
        actor: str,
        action: str,
        target: str,
        outcome: str,
        details: Mapping[str, object] | None = None,
    ) -> AuditEvent: ...

    def list(
        self,
        actor: str | None = None,
        action: str | None = None,
        limit: int = 100,
    ) -> builtins.list[AuditEvent]: ...

    def verify(self) -> ChainReport: ...
