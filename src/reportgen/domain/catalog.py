"""Governed dataset definitions: what a dataset is, who may use it, and how it is protected.

A `Dataset` is read from one YAML file in the catalog folder. It names its source, its columns
(with PII tags and masks), the dimensions and measures people may ask for, the row policies that
limit which rows a principal sees and the roles allowed to use it at all.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from enum import StrEnum
from functools import cached_property
from typing import Annotated, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
    model_validator,
)

from reportgen.domain.principal import Principal, Role

Identifier = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,62}$")]
"""A lower-case SQL identifier. Catalog names are emitted into SQL, so nothing else passes."""

TableName = Annotated[
    str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,62}(\.[a-z][a-z0-9_]{0,62}){0,2}$")
]
RoleSet = Annotated[frozenset[Role], PlainSerializer(sorted, return_type=list[Role])]
"""Roles serialise sorted, so a dataset's version hash does not depend on set order."""


class Classification(StrEnum):
    PUBLIC = "public"
    INTERNAL = "internal"
    CONFIDENTIAL = "confidential"
    RESTRICTED = "restricted"


class ColumnType(StrEnum):
    STRING = "string"
    INTEGER = "integer"
    DECIMAL = "decimal"
    BOOLEAN = "boolean"
    DATE = "date"
    TIMESTAMP = "timestamp"

    @property
    def is_numeric(self) -> bool:
        return self in {ColumnType.INTEGER, ColumnType.DECIMAL}

    @property
    def is_temporal(self) -> bool:
        return self in {ColumnType.DATE, ColumnType.TIMESTAMP}


class MaskKind(StrEnum):
    """How a protected column reads for a principal who may not see it in clear."""

    HASH = "hash"  # keyed SHA-256 hex: still joinable and countable, not readable or guessable
    REDACT = "redact"  # a fixed marker
    PARTIAL = "partial"  # only the last four characters survive


class MeasureFormat(StrEnum):
    NUMBER = "number"
    INTEGER = "integer"
    CURRENCY = "currency"
    PERCENT = "percent"


class TimeGrain(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Source(_Strict):
    """Where the rows come from: a table, or a SELECT reviewed with the catalog."""

    table: TableName | None = None
    sql: str | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        if (self.table is None) == (self.sql is None):
            raise ValueError("give exactly one of 'table' or 'sql'")
        return self


class Column(_Strict):
    name: Identifier
    type: ColumnType
    description: str = ""
    pii: bool = False
    mask: MaskKind | None = None
    unmasked_roles: RoleSet = frozenset({Role.ADMIN})

    @model_validator(mode="after")
    def _pii_needs_mask(self) -> Self:
        if self.pii and self.mask is None:
            raise ValueError("a pii column needs a mask (hash, redact or partial)")
        return self

    def masked_for(self, principal: Principal) -> MaskKind | None:
        """The mask this principal reads the column through, or None when they see it in clear."""
        if self.mask is None or principal.has_any_role(self.unmasked_roles):
            return None
        return self.mask


class Dimension(_Strict):
    """Something to group or filter by. `expr` defaults to the column of the same name."""

    name: Identifier
    title: str = ""
    description: str = ""
    type: ColumnType | None = None  # taken from the column when expr is a plain column
    expr: str | None = None

    @property
    def sql(self) -> str:
        return self.expr or self.name

    @property
    def label(self) -> str:
        return self.title or self.name.replace("_", " ").capitalize()


class Measure(_Strict):
    """An aggregate people may ask for, defined once so every report computes it the same way."""

    name: Identifier
    title: str = ""
    description: str = ""
    expr: str
    format: MeasureFormat = MeasureFormat.NUMBER
    # None: every role the dataset allows; otherwise only these (e.g. margins for finance).
    allowed_roles: RoleSet | None = None

    @property
    def label(self) -> str:
        return self.title or self.name.replace("_", " ").capitalize()

    def allows(self, principal: Principal) -> bool:
        return self.allowed_roles is None or principal.has_any_role(self.allowed_roles)


class TimeDimension(_Strict):
    column: Identifier
    grains: tuple[TimeGrain, ...] = tuple(TimeGrain)


class Freshness(_Strict):
    """The column whose latest value says how recent the data is, and the promise about it."""

    column: Identifier
    sla_hours: float = Field(gt=0)


class RowPolicy(_Strict):
    """Rows where `column` is one of the principal's values of `attribute`.

    A principal holding any of `exempt_roles` is not limited. A principal without the attribute
    sees no rows: policies fail closed.
    """

    name: Identifier
    description: str = ""
    column: Identifier
    attribute: Identifier
    exempt_roles: RoleSet = frozenset({Role.ADMIN})


class Dataset(_Strict):
    name: Identifier
    title: str
    description: str
    owner: str
    steward: str
    certified: bool = False
    classification: Classification
    source: Source
    columns: tuple[Column, ...] = Field(min_length=1)
    dimensions: tuple[Dimension, ...] = ()
    measures: tuple[Measure, ...] = ()
    time_dimension: TimeDimension | None = None
    freshness: Freshness | None = None
    row_policies: tuple[RowPolicy, ...] = ()
    allowed_roles: RoleSet = Field(min_length=1)
    tags: tuple[str, ...] = ()

    @cached_property
    def version(self) -> str:
        """A short hash of the whole definition: any change to the YAML's meaning changes it."""
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)

    def dimension(self, name: str) -> Dimension | None:
        return next((d for d in self.dimensions if d.name == name), None)

    def measure(self, name: str) -> Measure | None:
        return next((m for m in self.measures if m.name == name), None)

    def allows(self, principal: Principal) -> bool:
        return principal.has_any_role(self.allowed_roles)

    def dimension_type(self, dimension: Dimension) -> ColumnType:
        if dimension.type is not None:
            return dimension.type
        column = self.column(dimension.sql)
        return column.type if column is not None else ColumnType.STRING

    @property
    def pii_columns(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.pii)


PRINCIPAL_ATTRIBUTES: dict[str, str] = {
    "region": "Sales region the user covers: EMEA, Americas or APAC.",
    "country": "Country the user covers.",
    "department": "The user's department, e.g. Finance or Support.",
}
"""The attributes a user may hold and row policies may name."""


class Catalog:
    """The validated datasets of a deployment, by name."""

    def __init__(self, datasets: dict[str, Dataset]) -> None:
        self._datasets = dict(sorted(datasets.items()))

    def __iter__(self) -> Iterator[Dataset]:
        return iter(self._datasets.values())

    def __len__(self) -> int:
        return len(self._datasets)

    def get(self, name: str) -> Dataset | None:
        return self._datasets.get(name)

    @property
    def names(self) -> list[str]:
        return list(self._datasets)
