"""The interfaces services need from adapters, and what each raises.

Bootstrap hands concrete adapters (DuckDB or Snowflake, SQLAlchemy store) to the services;
the services know them only through these protocols.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import pyarrow as pa

from reportgen.domain.audit import AuditEvent, ChainReport
from reportgen.domain.backups import BackupSummary, IndexedArtifact
from reportgen.domain.delivery import Attachment, Parcel, Receipt
from reportgen.domain.principal import Role, User
from reportgen.domain.sql import CompiledQuery, Dialect
from reportgen.rendering.document import ChartFormat, PendingChart

# Data the adapters and services share lives in the domain; re-exported for the services.
__all__ = [
    "Attachment",
    "AuditSink",
    "BackupSummary",
    "ChartImages",
    "DeliveryChannel",
    "IndexedArtifact",
    "MetadataBackups",
    "Parcel",
    "Receipt",
    "SignInAttempts",
    "UserStore",
    "Warehouse",
]


class Warehouse(Protocol):
    """Runs compiled, parameterised SQL.

    Raises `QueryTimeout` when the query runs longer than `timeout_s` (and cancels it), and
    `WarehouseError` for any other warehouse failure; never returns partial results.
    """

    @property
    def dialect(self) -> Dialect: ...

    @property
    def concurrent_queries(self) -> int:
        """How many queries a preview runs at once: 1 where each query already keeps every
        core of this machine busy (an in-process engine), more where queries mostly wait on
        the network."""
        ...

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

    def new_user_problems(
        self,
        username: str,
        *,
        display_name: str,
        email: str,
        password: str,
        attributes: Mapping[str, tuple[str, ...] | builtins.list[str]],
    ) -> builtins.list[str]:
        """Every problem `add` would refuse in these fields (roles aside); adds nothing."""
        ...


class SignInAttempts(Protocol):
    """Failed sign-ins per attempted (normalised) username, shared by every process."""

    def locked_until(self, username: str) -> datetime | None: ...

    def record_failure(self, username: str, *, at: datetime, forget_before: datetime) -> int:
        """Count a failure; returns the failures in a row (those before ``forget_before`` are
        forgotten)."""
        ...

    def lock(self, username: str, until: datetime) -> None:
        """Refuse the name until ``until``, unless it is locked for longer already."""
        ...

    def clear(self, username: str) -> None: ...


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


class ChartImages(Protocol):
    """Static chart images from plotly figures (one serialised browser per process).

    A pending chart's `result` raises `ConfigurationError` when the browser is missing (the
    message names the fix) and `InternalError` when drawing fails or times out after a retry
    with a fresh browser.
    """

    def submit(
        self, fig: Any, *, fmt: ChartFormat, width: int, height: int, scale: float = 2.0
    ) -> PendingChart:
        """Start drawing and return at once: the PDF lays out while the browser draws."""
        ...


class DeliveryChannel(Protocol):
    """Sends a parcel to one target of one channel kind ("email", "storage", "webhook").

    ``target`` is the email address, the storage prefix, or the webhook URL. Raises
    `TransientDeliveryError` for failures worth retrying and `PermanentDeliveryError` for the
    others (an address refused, a URL inside the network); never sends a parcel half-way twice:
    a retry of the same delivery id is recognisable by the receiver (Message-ID, object key,
    ``X-Reportgen-Delivery`` header).
    """

    kind: str

    def send(self, parcel: Parcel, target: str) -> Receipt: ...

    def check_target(self, target: str) -> None:
        """Raise `InvalidInput` when the target can never work (bad address, URL not allowed)."""
        ...


class MetadataBackups(Protocol):
    """Portable archives of the metadata database (and the audit head recorded beside it).

    Every method raises `InvalidInput` naming the problem when an archive is damaged, is not a
    backup, or does not fit the database; a refused restore writes nothing.
    """

    def create(self, destination: Path) -> BackupSummary: ...

    def restore(self, source: Path) -> BackupSummary: ...

    def inspect(self, path: Path) -> BackupSummary: ...

    def artifact_index(self) -> builtins.list[IndexedArtifact]: ...
