"""Browsing the governed catalog: which datasets a principal may use, and how fresh they are."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from reportgen.domain.catalog import Catalog, Dataset
from reportgen.domain.durations import spoken_age
from reportgen.domain.governance import visible_datasets
from reportgen.domain.principal import Principal
from reportgen.services.queries import QueryResult, QueryService, freshness_age_hours


@dataclass(frozen=True)
class Freshness:
    """How recent the rows a principal may see are, against the promise the owner made."""

    latest: date | datetime | None
    age_hours: float | None
    sla_hours: float | None

    @property
    def within_sla(self) -> bool | None:
        if self.sla_hours is None or self.age_hours is None:
            return None
        return self.age_hours <= self.sla_hours

    def describe(self) -> str:
        if self.sla_hours is None:
            return "no freshness promise"
        if self.latest is None or self.age_hours is None:
            return "no data yet"
        state = "within" if self.within_sla else "breaks"
        return f"latest {self._when()}; {state} its SLA of {spoken_age(self.sla_hours)}"

    def _when(self) -> str:
        """The latest row and its age: a date in days (a date column says nothing of the hour,
        and counts from the end of its day), a moment as people say it."""
        assert self.latest is not None and self.age_hours is not None
        if not isinstance(self.latest, datetime):
            days = math.ceil(self.age_hours / 24)
            age = {0: "today", 1: "yesterday"}.get(days, f"{days:,} days ago")
            return f"{self.latest:%Y-%m-%d} ({age})"
        if self.age_hours * 60 < 1:
            return f"{self.latest:%Y-%m-%d %H:%M}, just now"
        return f"{self.latest:%Y-%m-%d %H:%M}, {spoken_age(self.age_hours)} old"


@dataclass(frozen=True)
class AccessSummary:
    """What limits apply to the principal on a dataset, in plain sentences."""

    rows: tuple[str, ...]
    masked_columns: tuple[str, ...]


class CatalogService:
    def __init__(
        self,
        catalog: Catalog,
        queries: QueryService,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.catalog = catalog
        self.queries = queries
        self._clock = clock

    def datasets(self, principal: Principal, search: str = "") -> list[Dataset]:
        """Datasets the principal may use, optionally matching `search` in name, title or tags."""
        needle = search.strip().lower()
        return [
            d
            for d in visible_datasets(list(self.catalog), principal)
            if not needle
            or needle in f"{d.name} {d.title} {d.description} {' '.join(d.tags)}".lower()
        ]

    def dataset(self, principal: Principal, name: str) -> Dataset:
        return self.queries.dataset(principal, name)

    def access(self, principal: Principal, name: str) -> AccessSummary:
        dataset = self.queries.dataset(principal, name)
        plan = self.queries.plan(principal, dataset)
        return AccessSummary(rows=tuple(plan.row_notes()), masked_columns=tuple(sorted(plan.masks)))

    def freshness(self, principal: Principal, name: str) -> Freshness:
        dataset = self.queries.dataset(principal, name)
        latest = self.queries.freshness(principal, dataset)
        return Freshness(
            latest=latest,
            age_hours=freshness_age_hours(latest, self._clock()),
            sla_hours=dataset.freshness.sla_hours if dataset.freshness else None,
        )

    def sample(self, principal: Principal, name: str, rows: int = 20) -> QueryResult:
        return self.queries.sample(principal, name, rows)
