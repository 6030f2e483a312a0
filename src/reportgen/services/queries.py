"""Governed queries: the one way any door reads data from the warehouse.

`QueryService.run` checks the request against the catalog, plans the principal's access
(denials are audited), compiles parameterised SQL with the policies inside it, serves a cached
result when the same SQL, values, dataset version and data freshness were seen before, and
records the query in the audit log.

Freshness is read under the principal's row limits (the latest date among the rows they may
see), so a region-limited user learns nothing about other regions' latest activity.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import pandas as pd
import pyarrow as pa
from cachetools import LRUCache, TTLCache

from reportgen.domain.catalog import Catalog, Dataset
from reportgen.domain.governance import AccessPlan, plan_access, visible_datasets
from reportgen.domain.principal import Principal
from reportgen.domain.query import QueryRequest, Scalar, check_request
from reportgen.domain.sql import (
    CompiledQuery,
    compile_distinct,
    compile_freshness,
    compile_query,
    compile_sample,
    is_plain_column,
    reads_values_of,
)
from reportgen.errors import NotAllowed, NotFound, QueryTooLarge
from reportgen.observability import record_query, span
from reportgen.services.ports import AuditSink, Warehouse


@dataclass(frozen=True)
class QueryResult:
    """Rows plus everything lineage needs to trace them back to their query."""

    dataset: str
    dataset_version: str
    table: pa.Table
    query: CompiledQuery
    freshness: date | datetime | None
    access: tuple[str, ...]
    elapsed_ms: float
    cached: bool = False
    _frame: pd.DataFrame | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def frame(self) -> pd.DataFrame:
        """The rows as a DataFrame, converted once (pandas copies on write: readers share it).

        Small results convert on this thread: handing a few rows to Arrow's pool costs more
        than it saves when the preview's blocks convert theirs at the same time."""
        if self._frame is None:
            frame = self.table.to_pandas(use_threads=self.table.num_rows > 10_000)
            object.__setattr__(self, "_frame", frame)  # a cache, not a field: still immutable
        assert self._frame is not None
        return self._frame

    @property
    def row_count(self) -> int:
        return int(self.table.num_rows)

    @property
    def query_hash(self) -> str:
        return self.query.fingerprint


@dataclass
class _Cache:
    """Results by query identity; thread-safe; disabled when `size` is 0."""

    size: int
    _entries: LRUCache[Hashable, pa.Table] = field(init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._entries = LRUCache(maxsize=max(self.size, 1))

    def get(self, key: Hashable) -> pa.Table | None:
        if self.size == 0:
            return None
        with self._lock:
            return self._entries.get(key)

    def put(self, key: Hashable, table: pa.Table) -> None:
        if self.size:
            with self._lock:
                self._entries[key] = table

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


class SharedRuns:
    """The results of one piece of work, such as a report's preview, by principal and request.

    A request asked again within it (by another block, or at the same moment from another
    thread) is answered with the first answer: checked, run and audited once.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._runs: dict[Hashable, Future[QueryResult]] = {}

    def run(self, key: Hashable, compute: Callable[[], QueryResult]) -> tuple[QueryResult, bool]:
        """The result for `key` and whether this call computed it."""
        with self._lock:
            future = self._runs.get(key)
            first = future is None
            if future is None:
                future = self._runs[key] = Future()
        if first:
            try:
                future.set_result(compute())
            except BaseException as exc:
                future.set_exception(exc)
                raise
        return future.result(), first


_recorder: ContextVar[list[QueryResult] | None] = ContextVar("query_recorder", default=None)
_shared: ContextVar[SharedRuns | None] = ContextVar("shared_runs", default=None)


class QueryService:
    def __init__(
        self,
        catalog: Catalog,
        warehouse: Warehouse,
        audit: AuditSink,
        *,
        row_cap: int,
        timeout_s: float,
        cache_entries: int,
        freshness_ttl_s: float,
        today: Callable[[], date] = date.today,
    ) -> None:
        self.catalog = catalog
        self.warehouse = warehouse
        self.audit = audit
        self.row_cap = row_cap
        self.timeout_s = timeout_s
        self._today = today
        self._cache = _Cache(cache_entries)
        # One reading per (dataset definition, access plan): principals who see the same rows
        # share it, and no principal is served another's.
        self._freshness: TTLCache[Hashable, date | datetime | None] = TTLCache(
            maxsize=1024, ttl=freshness_ttl_s or 1e-9
        )
        self._freshness_lock = threading.Lock()
        self._compiled: LRUCache[Hashable, CompiledQuery] = LRUCache(maxsize=1024)
        self._compiled_lock = threading.Lock()

    # -- access -----------------------------------------------------------------------------

    def dataset(self, principal: Principal, name: str) -> Dataset:
        """The dataset `name` if `principal` may use it; the denial is audited."""
        dataset = self.catalog.get(name)
        if dataset is None:
            # Only what the principal may use: the error must not reveal the rest of the catalog.
            names = [d.name for d in visible_datasets(list(self.catalog), principal)]
            if not names:
                raise NotFound(
                    f"there is no dataset '{name}', and you may use none; ask an admin for access"
                )
            raise NotFound(f"there is no dataset '{name}'; available: {', '.join(names)}")
        self.plan(principal, dataset)
        return dataset

    def plan(self, principal: Principal, dataset: Dataset) -> AccessPlan:
        try:
            return plan_access(dataset, principal)
        except NotAllowed:
            self.audit.append(
                principal.username,
                "dataset.access",
                dataset.name,
                "denied",
                {"roles": sorted(principal.roles)},
            )
            raise

    def _check_measures(
        self, principal: Principal, dataset: Dataset, names: tuple[str, ...]
    ) -> None:
        """Measures restricted to some roles are refused to others; the denial is audited."""
        measures = [m for name in names if (m := dataset.measure(name)) is not None]
        denied = [m for m in measures if not m.allows(principal)]
        if not denied:
            return
        self.audit.append(
            principal.username,
            "measure.access",
            dataset.name,
            "denied",
            {"measures": [m.name for m in denied]},
        )
        roles = sorted({r.value for m in denied for r in m.allowed_roles or ()})
        raise NotAllowed(
            f"you are not allowed to use the measure {', '.join(repr(m.name) for m in denied)} "
            f"of {dataset.name}; it is open to the roles: {', '.join(roles)}"
        )

    def _check_masked_reads(
        self,
        principal: Principal,
        dataset: Dataset,
        plan: AccessPlan,
        *,
        measures: tuple[str, ...] = (),
        dimensions: tuple[str, ...] = (),
        uses_time: bool = False,
    ) -> None:
        """Refuse what would compute on values the principal reads masked; audited.

        A masked column holds text, so a sum over it would fail in the warehouse and anything
        else would be computed on masks rather than data. Grouping or filtering by the masked
        column itself, and counting it, stay allowed: they see only masked values.
        """
        masked = plan.masks.keys()
        if not masked:
            return
        refused: dict[str, dict[str, list[str]]] = {"measure": {}, "dimension": {}}
        for name in measures:
            measure = dataset.measure(name)
            if measure is not None and (reads := reads_values_of(measure.expr) & masked):
                refused["measure"][name] = sorted(reads)
        for name in dict.fromkeys(dimensions):
            dimension = dataset.dimension(name)
            if dimension is None or is_plain_column(dimension.sql):
                continue
            if reads := reads_values_of(dimension.sql) & masked:
                refused["dimension"][name] = sorted(reads)
        time = dataset.time_dimension
        if uses_time and time is not None and time.column in masked:
            refused["dimension"][time.column] = [time.column]
        if not any(refused.values()):
            return
        for kind, fields in refused.items():
            if fields:
                self.audit.append(
                    principal.username,
                    f"{kind}.access",
                    dataset.name,
                    "denied",
                    {
                        f"{kind}s": sorted(fields),
                        "masked_columns": sorted({c for cs in fields.values() for c in cs}),
                    },
                )
        names = [f"the {kind} '{name}'" for kind, fields in refused.items() for name in fields]
        columns = sorted({c for fields in refused.values() for cs in fields.values() for c in cs})
        raise NotAllowed(
            f"you are not allowed to use {' or '.join(names)} of {dataset.name}: "
            f"{'it reads' if len(names) == 1 else 'they read'} {', '.join(columns)}, which you "
            f"see masked. Ask an admin or the dataset's steward ({dataset.steward}) for access."
        )

    # -- reading -----------------------------------------------------------------------------

    def run(self, principal: Principal, request: QueryRequest) -> QueryResult:
        """Run an aggregate query as `principal` (once per `sharing` context)."""
        shared = _shared.get()
        if shared is None:
            return self._run(principal, request)
        key = (principal.model_dump_json(), request)
        result, first = shared.run(key, lambda: self._run(principal, request))
        recorder = _recorder.get()
        if not first and recorder is not None:
            recorder.append(result)
        return result

    def _run(self, principal: Principal, request: QueryRequest) -> QueryResult:
        dataset = self.dataset(principal, request.dataset)
        plan = self.plan(principal, dataset)
        request = check_request(dataset, request, masked=plan.masks.keys())
        self._check_measures(principal, dataset, request.measures)
        self._check_masked_reads(
            principal,
            dataset,
            plan,
            measures=request.measures,
            dimensions=(*request.dimensions, *(f.field for f in request.filters)),
            uses_time=request.grain is not None or request.time_range is not None,
        )
        query = self._compile(dataset, request, plan, self._today())
        return self._execute(principal, dataset, plan, query, action="query")

    def _compile(
        self, dataset: Dataset, request: QueryRequest, plan: AccessPlan, today: date
    ) -> CompiledQuery:
        """Compile once per distinct (definition, request, access, day): sqlglot costs ~2 ms."""
        key = (dataset.version, request, plan.key, today)
        with self._compiled_lock:
            query = self._compiled.get(key)
        if query is None:
            query = compile_query(
                dataset,
                request,
                plan,
                dialect=self.warehouse.dialect,
                today=today,
                limit=self.row_cap + 1,
            )
            with self._compiled_lock:
                self._compiled[key] = query
        return query

    def sample(self, principal: Principal, name: str, rows: int = 20) -> QueryResult:
        """A few rows of every column, masked and limited as the principal sees them."""
        dataset = self.dataset(principal, name)
        plan = self.plan(principal, dataset)
        query = compile_sample(dataset, plan, self.warehouse.dialect, min(rows, self.row_cap))
        return self._execute(principal, dataset, plan, query, action="sample")

    def distinct_values(
        self, principal: Principal, name: str, dimension: str, limit: int = 1000
    ) -> list[Scalar]:
        """The values of `dimension` the principal may see, for filter pickers."""
        dataset = self.dataset(principal, name)
        if dataset.dimension(dimension) is None:
            dims = ", ".join(d.name for d in dataset.dimensions)
            raise NotFound(f"{name} has no dimension '{dimension}'; choose from: {dims}")
        plan = self.plan(principal, dataset)
        self._check_masked_reads(principal, dataset, plan, dimensions=(dimension,))
        query = compile_distinct(dataset, plan, self.warehouse.dialect, dimension, limit)
        result = self._execute(principal, dataset, plan, query, action="values")
        return [v for v in result.table.column(0).to_pylist() if v is not None]

    def freshness(self, principal: Principal, dataset: Dataset) -> date | datetime | None:
        """The latest value of the dataset's freshness column among the rows `principal` sees."""
        return self._latest(dataset, self.plan(principal, dataset))

    def _latest(self, dataset: Dataset, plan: AccessPlan) -> date | datetime | None:
        """The freshness reading under `plan`, re-read at most once per TTL."""
        key = (dataset.version, plan.key)
        with self._freshness_lock:
            if key in self._freshness:
                return self._freshness[key]
        query = compile_freshness(dataset, plan, self.warehouse.dialect)
        latest = None
        if query is not None and not plan.sees_no_rows:
            table = self.warehouse.fetch(query, timeout_s=self.timeout_s)
            latest = table.column(0)[0].as_py() if table.num_rows else None
        with self._freshness_lock:
            self._freshness[key] = latest
        return latest

    def clear_cache(self, *, freshness: bool = True) -> None:
        """Forget cached results (and, unless told otherwise, freshness readings)."""
        self._cache.clear()
        if freshness:
            with self._freshness_lock:
                self._freshness.clear()

    def _execute(
        self,
        principal: Principal,
        dataset: Dataset,
        plan: AccessPlan,
        query: CompiledQuery,
        *,
        action: str,
    ) -> QueryResult:
        started = time.perf_counter()
        freshness = self._latest(dataset, plan)
        key = (query.fingerprint, dataset.version, str(freshness))
        table = self._cache.get(key)
        cached = table is not None
        if table is None:
            with span("warehouse.fetch", dataset=dataset.name):
                asked = time.perf_counter()
                table = self.warehouse.fetch(query, timeout_s=self.timeout_s)
                record_query(dataset.name, time.perf_counter() - asked)
            if table.num_rows > self.row_cap:
                raise QueryTooLarge(
                    f"the result has more than {self.row_cap:,} rows, the most one query may "
                    "return; add filters, choose a coarser time grain or fewer dimensions, or "
                    "set a limit"
                )
            self._cache.put(key, table)
        elapsed_ms = (time.perf_counter() - started) * 1000
        self.audit.append(
            principal.username,
            f"dataset.{action}",
            dataset.name,
            "allowed",
            {
                "query_hash": query.fingerprint,
                "dataset_version": dataset.version,
                "rows": table.num_rows,
                "cached": cached,
            },
        )
        result = QueryResult(
            dataset=dataset.name,
            dataset_version=dataset.version,
            table=table,
            query=query,
            freshness=freshness,
            access=tuple(plan.describe()),
            elapsed_ms=elapsed_ms,
            cached=cached,
        )
        recorder = _recorder.get()
        if recorder is not None:
            recorder.append(result)
        return result

    @contextmanager
    def sharing(self, runs: SharedRuns) -> Iterator[SharedRuns]:
        """Answer a request asked again within this context (in any thread entering it with
        the same `runs`) with its first result, instead of running and auditing it again."""
        token = _shared.set(runs)
        try:
            yield runs
        finally:
            _shared.reset(token)

    @contextmanager
    def recording(self) -> Iterator[list[QueryResult]]:
        """Collect every result this context runs, e.g. all the queries behind one report."""
        results: list[QueryResult] = []
        token = _recorder.set(results)
        try:
            yield results
        finally:
            _recorder.reset(token)


def freshness_age_hours(
    latest: date | datetime | None, now: datetime | None = None
) -> float | None:
    """Hours since `latest` (a date counts from the end of that day)."""
    if latest is None:
        return None
    now = now or datetime.now(UTC)
    if isinstance(latest, datetime):
        moment = latest if latest.tzinfo else latest.replace(tzinfo=UTC)
    else:
        moment = datetime(latest.year, latest.month, latest.day, 23, 59, 59, tzinfo=UTC)
    return max(0.0, (now - moment).total_seconds() / 3600)
