"""The fact model: one traceable number (`Fact`), its lineage and a measure's set of facts."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Annotated, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from reportgen.domain.catalog import Identifier, MeasureFormat, TimeGrain

FactUnit = Literal["number", "integer", "currency", "percent", "change", "date", "text", "flag"]
"""A measure's format, or: ``change`` (a relative change, "+12.4%"), ``date``, ``text`` (a name
such as a region), ``flag`` (yes or no)."""

FactValue = bool | int | float | str | date | None

NOT_COMPARABLE = "not comparable"


class FactSource(BaseModel):
    """The governed query a fact was computed from, as lineage shows it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    query_hash: str
    sql: str
    params: tuple[str, ...]
    dataset: str
    dataset_version: str

    @property
    def query_id(self) -> str:
        """The query's anchor in the lineage appendix (``#query-…``)."""
        return f"query-{self.query_hash[:16]}"


class Fact(BaseModel):
    """One number (or name, or date) a report states, with where it came from."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: Annotated[str, Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")]
    key: Identifier
    label: str
    value: FactValue
    unit: FactUnit
    formatted: str
    source: FactSource
    derived_from: tuple[str, ...] = ()  # ids of the facts this one is computed from
    note: str = ""  # why the value is missing, or a caveat about it

    @property
    def available(self) -> bool:
        return self.value is not None


@dataclass(frozen=True)
class FactSet:
    """Every fact about one measure, by key, plus what sentences need to name them."""

    measure: str
    label: str
    facts: tuple[Fact, ...]
    dimension: str | None = None
    dimension_label: str | None = None
    grain: TimeGrain | None = None
    _by_key: dict[str, Fact] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_key: dict[str, Fact] = {}
        for fact in self.facts:
            if fact.key in by_key:
                raise ValueError(f"two facts share the key '{fact.key}'")
            by_key[fact.key] = fact
        object.__setattr__(self, "_by_key", by_key)

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(self._by_key)

    def get(self, key: str) -> Fact | None:
        return self._by_key.get(key)

    def __getitem__(self, key: str) -> Fact:
        try:
            return self._by_key[key]
        except KeyError:
            raise KeyError(f"no fact '{key}'; available: {', '.join(self.keys)}") from None

    def __contains__(self, key: object) -> bool:
        return key in self._by_key

    def __iter__(self) -> Iterator[Fact]:
        return iter(self.facts)

    def __len__(self) -> int:
        return len(self.facts)

    def has(self, key: str) -> bool:
        """Whether the fact exists and has a value."""
        fact = self._by_key.get(key)
        return fact is not None and fact.available


class FactFormatter(Protocol):
    """Turns values into the report's locale; `reportgen.rendering.formatting` implements it."""

    def measure(self, value: float | None, fmt: MeasureFormat, *, signed: bool = False) -> str:
        """A measure's value; `signed` for a difference ("+$1.2M", "−3.0 pp")."""

    def change(self, ratio: float | None) -> str:
        """A relative change: "+12.4%"."""

    def day(self, day: date) -> str:
        """A day: "Oct 31, 2026"."""

    def period(self, start: date, end_exclusive: date) -> str:
        """A half-open range of days: "Q3 2026"."""
