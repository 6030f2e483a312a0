"""Facts: the numbers a narrative or a KPI tile quotes, each traceable to the query behind it.

Pure computations over governed query results (pandas frames), no I/O: totals, changes against
the prior period and the prior year, top and bottom movers along a dimension, the share of the
top contributor, outliers and trend in the time series, attainment of a target and freshness.

Rules every fact follows:

- A fact has a stable, URL-safe `id` (``revenue-total``; the PDF links ``#fact-{id}``), a
  template `key` (``total``), its raw `value`, a `formatted` text and the `source` query.
- A value that cannot be computed (no data, a zero or missing base, no time range, too few
  points) is ``None``; the fact still exists, its `note` says why and a change reads
  "not comparable". Nothing divides by zero.
- Which keys a fact set holds depends on the spec alone (a `by` dimension, a target), never on
  the data, so a sentence template that works today still works next month.
"""

from __future__ import annotations

import math
import re
import statistics
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Annotated, Literal, Protocol

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from reportgen.domain.catalog import Identifier, MeasureFormat, TimeGrain
from reportgen.domain.query import TimeRange

FactUnit = Literal["number", "integer", "currency", "percent", "change", "date", "text", "flag"]
"""A measure's format, or: ``change`` (a relative change, "+12.4%"), ``date``, ``text`` (a name
such as a region), ``flag`` (yes or no)."""

FactValue = bool | int | float | str | date | None

NOT_COMPARABLE = "not comparable"
OUTLIER_THRESHOLD = 3.5
"""Modified z-score beyond which a point is an outlier (Iglewicz and Hoaglin, 1993)."""
MIN_OUTLIER_POINTS = 5
TREND_FLAT_BAND = 0.01
"""A least-squares slope within ±1% of the series mean per period counts as flat."""
MIN_TREND_POINTS = 3
_MAD_SCALE = 0.6745  # the normal distribution's MAD / standard deviation
_MEAN_AD_SCALE = 1.253314  # sqrt(pi/2): mean absolute deviation / standard deviation
_ADDITIVE_TOLERANCE = 1e-9

EarlierPeriod = Literal["prior_period", "prior_year"]


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


# -- periods -------------------------------------------------------------------------------


def _months_between(start: date, end: date) -> int:
    return (end.year - start.year) * 12 + end.month - start.month


def add_months(day: date, months: int) -> date:
    """`day` moved by whole months, clamped to the month's end (31 Mar - 1 month = 28/29 Feb)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    following = date(year + (month == 12), month % 12 + 1, 1)
    return date(year, month, min(day.day, (following - timedelta(days=1)).day))


@dataclass(frozen=True)
class Period:
    """A half-open range of days [start, end)."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.start >= self.end:
            raise ValueError(f"a period needs start before end, got {self.start} to {self.end}")

    @property
    def whole_months(self) -> bool:
        return self.start.day == 1 and self.end.day == 1

    def prior(self) -> Period:
        """The same length right before: whole months shift by months (Q3 -> Q2), else days."""
        if self.whole_months:
            months = _months_between(self.start, self.end)
            return Period(add_months(self.start, -months), self.start)
        return Period(self.start - (self.end - self.start), self.start)

    def prior_year(self) -> Period:
        return Period(add_months(self.start, -12), add_months(self.end, -12))

    def time_range(self) -> TimeRange:
        return TimeRange(start=self.start, end=self.end)

    def iso(self) -> str:
        return f"{self.start.isoformat()}/{self.end.isoformat()}"


@dataclass(frozen=True)
class Window:
    """What a report's time range means on a given day: its resolved ends, either may be open."""

    start: date | None = None
    end: date | None = None
    why_not_comparable: str = ""  # set when there is no bounded period to compare

    @property
    def current(self) -> TimeRange | None:
        """The filter for the report's own period; None reads all the data."""
        if self.start is None and self.end is None:
            return None
        return TimeRange(start=self.start, end=self.end)

    @property
    def period(self) -> Period | None:
        if self.start is None or self.end is None:
            return None
        return Period(self.start, self.end)

    @property
    def prior_period(self) -> Period | None:
        period = self.period
        return period.prior() if period else None

    @property
    def prior_year(self) -> Period | None:
        period = self.period
        return period.prior_year() if period else None


def resolve_window(time_range: TimeRange | None, today: date) -> Window:
    """The report's period: presets counted back from `today`, an open end closed after today.

    Only a period with both ends has a prior period and a prior year.
    """
    if time_range is None:
        return Window(why_not_comparable="the report has no time range")
    start, end = time_range.resolve(today)
    if start is None:
        return Window(None, end, "the time range has no start")
    end = end or today + timedelta(days=1)
    if end <= start:
        return Window(start, None, "the time range starts in the future")
    return Window(start, end)


def bucket_end(start: date, grain: TimeGrain) -> date:
    """The first day after the time bucket starting at `start`."""
    match grain:
        case TimeGrain.DAY:
            return start + timedelta(days=1)
        case TimeGrain.WEEK:
            return start + timedelta(days=7)
        case TimeGrain.MONTH:
            return add_months(start, 1)
        case TimeGrain.QUARTER:
            return add_months(start, 3)
        case TimeGrain.YEAR:
            return add_months(start, 12)


# -- numbers -------------------------------------------------------------------------------


def number(raw: object) -> float | None:
    """A cell as a float: None for missing (None, NA, NaN), Decimals and numpy types converted."""
    if raw is None or raw is pd.NA:
        return None
    if isinstance(raw, Decimal | int | float) or hasattr(raw, "__float__"):
        value = float(raw)
        return value if math.isfinite(value) else None
    return None


def scalar(frame: pd.DataFrame, column: str) -> float | None:
    """The value of an ungrouped aggregate (one row), or None when there is none."""
    if frame.empty or column not in frame.columns:
        return None
    return number(frame[column].iloc[0])


def relative_change(current: float | None, prior: float | None) -> tuple[float | None, str]:
    """(current - prior) / |prior|, or None with the reason it is not comparable."""
    if current is None:
        return None, "not comparable: there is no data for this period"
    if prior is None:
        return None, "not comparable: there is no data for the earlier period"
    if prior == 0:
        return None, "not comparable: the earlier value is zero"
    return (current - prior) / abs(prior), ""


def is_additive(members: Sequence[float], total: float | None) -> bool:
    """Whether the members add up to the total (a sum or count), so shares make sense."""
    if total is None or not members:
        return False
    return math.isclose(math.fsum(members), total, rel_tol=_ADDITIVE_TOLERANCE, abs_tol=1e-6)


def robust_z_scores(values: Sequence[float]) -> list[float]:
    """Modified z-scores: 0.6745 (x - median) / MAD.

    When more than half the values are equal the MAD is zero; the mean absolute deviation
    (scaled by 1.2533) stands in. All zeros when every value is the same.
    """
    if not values:
        return []
    median = statistics.median(values)
    deviations = [abs(v - median) for v in values]
    mad = statistics.median(deviations)
    if mad > 0:
        return [_MAD_SCALE * (v - median) / mad for v in values]
    mean_ad = statistics.fmean(deviations)
    if mean_ad > 0:
        return [(v - median) / (_MEAN_AD_SCALE * mean_ad) for v in values]
    return [0.0 for _ in values]


def least_squares_slope(values: Sequence[float]) -> float:
    """The slope of the least-squares line through (0, v0), (1, v1), …; 0 for one point."""
    n = len(values)
    if n < 2:
        return 0.0
    mean_x = (n - 1) / 2
    mean_y = statistics.fmean(values)
    numerator = math.fsum((i - mean_x) * (v - mean_y) for i, v in enumerate(values))
    denominator = math.fsum((i - mean_x) ** 2 for i in range(n))
    return numerator / denominator


def trend_direction(relative_slope: float, flat_band: float = TREND_FLAT_BAND) -> str:
    if relative_slope > flat_band:
        return "up"
    if relative_slope < -flat_band:
        return "down"
    return "flat"


# -- building facts --------------------------------------------------------------------------


_UNITS: dict[MeasureFormat, FactUnit] = {
    MeasureFormat.NUMBER: "number",
    MeasureFormat.INTEGER: "integer",
    MeasureFormat.CURRENCY: "currency",
    MeasureFormat.PERCENT: "percent",
}


def unit_of(fmt: MeasureFormat) -> FactUnit:
    return _UNITS[fmt]


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


@dataclass(frozen=True)
class MeasureFacts:
    """Makes the facts about one measure: ids, labels and formatting in one place."""

    name: str
    label: str
    format: MeasureFormat
    formatter: FactFormatter

    def fact(
        self,
        suffix: str,
        key: str,
        label: str,
        value: float | str | date | bool | None,
        source: FactSource,
        *,
        unit: FactUnit | None = None,
        signed: bool = False,
        formatted: str | None = None,
        derived_from: tuple[str, ...] = (),
        note: str = "",
    ) -> Fact:
        unit = unit or unit_of(self.format)
        if formatted is None:
            formatted = self._format(value, unit, signed=signed)
        if unit == "integer" and isinstance(value, float):
            value = round(value)
        return Fact(
            id=self.id(suffix),
            key=key,
            label=label,
            value=value,
            unit=unit,
            formatted=formatted,
            source=source,
            derived_from=derived_from,
            note=note,
        )

    def id(self, suffix: str) -> str:
        return f"{_slug(self.name)}-{suffix}"

    def _format(self, value: object, unit: str | None, *, signed: bool) -> str:
        if unit == "change":
            ratio = value if isinstance(value, float | int) else None
            return self.formatter.change(ratio) if ratio is not None else NOT_COMPARABLE
        if isinstance(value, bool | str):
            return str(value)
        if isinstance(value, date):
            return self.formatter.day(value)
        fmt = MeasureFormat(unit) if unit in set(MeasureFormat) else self.format
        return self.formatter.measure(
            value if isinstance(value, float | int) else None, fmt, signed=signed
        )


def period_fact(m: MeasureFacts, window: Window, source: FactSource) -> Fact:
    """The period the report describes, named ("Q3 2026"); its value is the ISO interval."""
    if window.period is None:
        return m.fact(
            "period",
            "period",
            "Period",
            None,
            source,
            unit="text",
            formatted="–",
            note=window.why_not_comparable,
        )
    return m.fact(
        "period",
        "period",
        "Period",
        window.period.iso(),
        source,
        unit="text",
        formatted=m.formatter.period(window.period.start, window.period.end),
    )


def total_fact(m: MeasureFacts, frame: pd.DataFrame, source: FactSource) -> Fact:
    """The measure over the report's period (an ungrouped query)."""
    value = scalar(frame, m.name)
    note = "" if value is not None else "there is no data for this period"
    return m.fact("total", "total", m.label, value, source, note=note)


_EARLIER_WORDS: dict[EarlierPeriod, str] = {
    "prior_period": "prior period",
    "prior_year": "same period a year earlier",
}


def comparison_facts(
    m: MeasureFacts,
    comparison: EarlierPeriod,
    total: Fact,
    frame: pd.DataFrame | None,
    source: FactSource | None,
    *,
    why_missing: str = "",
) -> tuple[Fact, Fact]:
    """The earlier total and the relative change to it: ``prior_period_total``, ``change_…``.

    Without an earlier query (`frame` None) both are unavailable, saying `why_missing`.
    """
    slug = comparison.replace("_", "-")
    words = _EARLIER_WORDS[comparison]
    if frame is None or source is None:
        reason = f"{NOT_COMPARABLE}: {why_missing}" if why_missing else NOT_COMPARABLE
        prior = m.fact(
            f"{slug}-total",
            f"{comparison}_total",
            f"{m.label}, {words}",
            None,
            total.source,
            note=reason,
        )
        change = m.fact(
            f"change-{slug}",
            f"change_{comparison}",
            f"Change vs {words}",
            None,
            total.source,
            unit="change",
            note=reason,
            derived_from=(total.id,),
        )
        return prior, change
    prior_value = scalar(frame, m.name)
    prior = m.fact(
        f"{slug}-total",
        f"{comparison}_total",
        f"{m.label}, {words}",
        prior_value,
        source,
        note="" if prior_value is not None else "there is no data for this period",
    )
    ratio, reason = relative_change(number(total.value), prior_value)
    change = m.fact(
        f"change-{slug}",
        f"change_{comparison}",
        f"Change vs {words}",
        ratio,
        source,
        unit="change",
        derived_from=(total.id, prior.id),
        note=reason,
    )
    return prior, change


@dataclass(frozen=True)
class Mover:
    """A member's value in two periods and its change."""

    member: str
    current: float
    prior: float
    change: float
    change_ratio: float | None


def _members(frame: pd.DataFrame, by: str, measure: str) -> dict[str, float | None]:
    return {
        _member_name(row[0]): number(row[1])
        for row in frame[[by, measure]].itertuples(index=False, name=None)
    }


def _member_name(raw: object) -> str:
    if raw is None or raw is pd.NA or (isinstance(raw, float) and math.isnan(raw)):
        return "(blank)"
    return str(raw)


def movers(
    current: pd.DataFrame, prior: pd.DataFrame, by: str, measure: str, *, additive: bool
) -> list[Mover]:
    """Every member's change between two periods, largest increase first (ties by name).

    For an additive measure a member missing from one period counts as zero there (a new
    product's whole revenue is its change); otherwise it cannot be compared and is left out.
    """
    now = _members(current, by, measure)
    before = _members(prior, by, measure)
    rows: list[Mover] = []
    for member in sorted(set(now) | set(before)):
        cur, old = now.get(member), before.get(member)
        if additive:
            cur_n, old_n = cur or 0.0, old or 0.0
        elif cur is None or old is None:
            continue
        else:
            cur_n, old_n = cur, old
        ratio, _ = relative_change(cur_n, old_n)
        rows.append(Mover(member, cur_n, old_n, cur_n - old_n, ratio))
    rows.sort(key=lambda r: (-r.change, r.member))
    return rows


def mover_facts(
    m: MeasureFacts,
    by: str,
    current: pd.DataFrame | None,
    prior: pd.DataFrame | None,
    sources: tuple[FactSource, FactSource | None],
    *,
    additive: bool,
    why_missing: str = "",
) -> tuple[Fact, ...]:
    """``top_mover`` (largest increase) and ``bottom_mover`` (largest decrease) along `by`, each
    with ``_value``, ``_prior``, ``_change`` (absolute) and ``_change_pct`` (relative)."""
    current_source, prior_source = sources
    if current is None or prior is None or prior_source is None:
        ranked: list[Mover] = []
        why = why_missing or "no earlier period to compare with"
    else:
        ranked = movers(current, prior, by, m.name, additive=additive)
        why = ""
    top = ranked[0] if ranked and ranked[0].change > 0 else None
    bottom = ranked[-1] if ranked and ranked[-1].change < 0 else None
    facts: list[Fact] = []
    by_slug = _slug(by)
    for role, mover, verb in (("top", top, "rose"), ("bottom", bottom, "fell")):
        note = why or ("" if mover else f"no {by.replace('_', ' ')} {verb}")
        base = f"by-{by_slug}-{role}-mover"
        key = f"{role}_mover"
        name = m.fact(
            base,
            key,
            f"{m.label}: {by} that {verb} most",
            mover.member if mover else None,
            current_source,
            unit="text",
            formatted=mover.member if mover else "–",
            note=note,
        )
        value = m.fact(
            f"{base}-value",
            f"{key}_value",
            f"{m.label} of the {role} mover",
            mover.current if mover else None,
            current_source,
            note=note,
        )
        before = m.fact(
            f"{base}-prior",
            f"{key}_prior",
            f"{m.label} of the {role} mover, prior period",
            mover.prior if mover else None,
            prior_source or current_source,
            note=note,
        )
        change = m.fact(
            f"{base}-change",
            f"{key}_change",
            f"Change of the {role} mover",
            mover.change if mover else None,
            prior_source or current_source,
            signed=True,
            derived_from=(value.id, before.id),
            note=note,
        )
        ratio_note = note or (
            ""
            if mover and mover.change_ratio is not None
            else "not comparable: the earlier value is zero"
        )
        change_pct = m.fact(
            f"{base}-change-pct",
            f"{key}_change_pct",
            f"Relative change of the {role} mover",
            mover.change_ratio if mover else None,
            prior_source or current_source,
            unit="change",
            derived_from=(value.id, before.id),
            note=ratio_note,
        )
        facts += [name, value, before, change, change_pct]
    return tuple(facts)


def share_facts(
    m: MeasureFacts, by: str, members: pd.DataFrame | None, total: Fact, source: FactSource
) -> tuple[Fact, ...]:
    """``top_contributor``, its ``_value`` and ``_share`` of the total.

    Only for a measure whose members add up to the total (sums and counts, not averages or
    ratios), with no negative member and a positive total; otherwise the share is unavailable.
    """
    total_value = number(total.value)
    values = _members(members, by, m.name) if members is not None else {}
    present = {k: v for k, v in values.items() if v is not None}
    note = ""
    leader: tuple[str, float] | None = None
    if not present or total_value is None:
        note = "there is no data for this period"
    elif not is_additive(list(present.values()), total_value):
        note = f"not comparable: {m.label} does not add up across {by.replace('_', ' ')}"
    elif total_value <= 0 or min(present.values()) < 0:
        note = "not comparable: a share needs a positive total and no negative parts"
    else:
        leader = min(present.items(), key=lambda item: (-item[1], item[0]))
    base = f"by-{_slug(by)}-top-contributor"
    name = m.fact(
        base,
        "top_contributor",
        f"Largest {by.replace('_', ' ')} by {m.label}",
        leader[0] if leader else None,
        source,
        unit="text",
        formatted=leader[0] if leader else "–",
        note=note,
    )
    value = m.fact(
        f"{base}-value",
        "top_contributor_value",
        f"{m.label} of the top contributor",
        leader[1] if leader else None,
        source,
        note=note,
    )
    share = m.fact(
        f"{base}-share",
        "top_contributor_share",
        "Share of the total",
        leader[1] / total_value if leader and total_value else None,
        source,
        unit="percent",
        derived_from=(value.id, total.id),
        note=note,
    )
    return name, value, share


@dataclass(frozen=True)
class Point:
    """One time bucket of the series."""

    start: date
    end: date
    value: float


def as_day(moment: date | datetime | None) -> date | None:
    return moment.date() if isinstance(moment, datetime) else moment


def complete_points(
    frame: pd.DataFrame,
    bucket: str,
    measure: str,
    grain: TimeGrain,
    *,
    start: date | None,
    end: date | None,
    latest: date | None,
) -> list[Point]:
    """The series' buckets lying wholly inside [start, end) and the data up to `latest`: a
    half-finished month would look like a collapse. Missing values are dropped. Without a
    start the first bucket is kept, as nothing says where the data begins."""
    limit = end
    if latest is not None:
        data_end = latest + timedelta(days=1)
        limit = min(limit, data_end) if limit else data_end
    points = []
    for raw_start, raw_value in frame[[bucket, measure]].itertuples(index=False, name=None):
        value = number(raw_value)
        first = as_day(raw_start) if isinstance(raw_start, date) else None
        if value is None or first is None:
            continue
        last = bucket_end(first, grain)
        if (start is not None and first < start) or (limit is not None and last > limit):
            continue
        points.append(Point(first, last, value))
    return sorted(points, key=lambda p: p.start)


def outlier_facts(
    m: MeasureFacts,
    points: Sequence[Point] | None,
    grain: TimeGrain | None,
    source: FactSource,
    *,
    why_missing: str = "",
) -> tuple[Fact, ...]:
    """``outlier_count``, the most unusual bucket (``outlier``, ``outlier_value``) and the
    ``series_median`` it is measured against, by modified z-score beyond 3.5."""
    grain_word = grain.value if grain else "period"
    note = why_missing
    count: int | None = None
    worst: tuple[Point, float] | None = None
    median: float | None = None
    if points is not None and not note:
        if len(points) < MIN_OUTLIER_POINTS:
            note = (
                f"needs at least {MIN_OUTLIER_POINTS} complete {grain_word}s; "
                f"the period has {len(points)}"
            )
        else:
            values = [p.value for p in points]
            median = statistics.median(values)
            scored = [
                (p, z)
                for p, z in zip(points, robust_z_scores(values), strict=True)
                if abs(z) > OUTLIER_THRESHOLD
            ]
            count = len(scored)
            if scored:
                worst = max(scored, key=lambda item: (abs(item[1]), -item[0].start.toordinal()))
    elif points is None and not note:
        note = "there is no time series"
    outlier_note = note or ("" if worst else f"no {grain_word} stood out")
    return (
        m.fact(
            "outliers",
            "outlier_count",
            f"Unusual {grain_word}s",
            count,
            source,
            unit="integer",
            note=note,
        ),
        m.fact(
            "outlier",
            "outlier",
            f"Most unusual {grain_word}",
            worst[0].start if worst else None,
            source,
            unit="date",
            formatted=m.formatter.period(worst[0].start, worst[0].end) if worst else "–",
            note=outlier_note,
        ),
        m.fact(
            "outlier-value",
            "outlier_value",
            f"{m.label} in the most unusual {grain_word}",
            worst[0].value if worst else None,
            source,
            note=outlier_note,
        ),
        m.fact(
            "series-median",
            "series_median",
            f"Median {m.label} per {grain_word}",
            median,
            source,
            note=note,
        ),
    )


def trend_facts(
    m: MeasureFacts,
    points: Sequence[Point] | None,
    grain: TimeGrain | None,
    source: FactSource,
    *,
    why_missing: str = "",
) -> tuple[Fact, ...]:
    """``trend`` (up, down or flat), ``trend_slope`` (least-squares slope per bucket relative
    to the mean) and ``trend_points`` (how many complete buckets it is fitted on)."""
    grain_word = grain.value if grain else "period"
    note = why_missing
    direction: str | None = None
    relative: float | None = None
    count = len(points) if points is not None else None
    if points is None and not note:
        note = "there is no time series"
    elif points is not None and not note:
        values = [p.value for p in points]
        mean = statistics.fmean(values) if values else 0.0
        if len(values) < MIN_TREND_POINTS:
            note = (
                f"needs at least {MIN_TREND_POINTS} complete {grain_word}s; "
                f"the period has {len(values)}"
            )
        elif mean == 0:
            note = "not comparable: the average is zero"
        else:
            relative = least_squares_slope(values) / abs(mean)
            direction = trend_direction(relative)
    words = {"up": "upward", "down": "downward", "flat": "flat"}
    return (
        m.fact(
            "trend",
            "trend",
            "Trend",
            direction,
            source,
            unit="text",
            formatted=words.get(direction or "", "–"),
            note=note,
        ),
        m.fact(
            "trend-slope",
            "trend_slope",
            f"Slope per {grain_word}, relative to the mean",
            relative,
            source,
            unit="change",
            note=note,
        ),
        m.fact(
            "trend-points",
            "trend_points",
            f"Complete {grain_word}s in the trend",
            count if relative is not None else None,
            source,
            unit="integer",
            note=note,
        ),
    )


def attainment_facts(
    m: MeasureFacts,
    actual: Fact,
    target: float | None,
    target_format: MeasureFormat,
    source: FactSource,
    *,
    note: str = "",
) -> tuple[Fact, Fact, Fact]:
    """``target``, ``attainment`` (actual / target) and ``target_gap`` (actual - target)."""
    actual_value = number(actual.value)
    target_fact = m.fact(
        "target",
        "target",
        f"{m.label} target",
        target,
        source,
        unit=unit_of(target_format),
        note=note if target is not None else "there is no target for this period",
    )
    if actual_value is None:
        why = "not comparable: there is no data for this period"
    elif target is None:
        why = "not comparable: there is no target for this period"
    elif target <= 0:
        why = "not comparable: the target is not positive"
    else:
        why = ""
    ratio = actual_value / target if not why and actual_value is not None and target else None
    gap = actual_value - target if actual_value is not None and target is not None else None
    derived = (actual.id, target_fact.id)
    return (
        target_fact,
        m.fact(
            "attainment",
            "attainment",
            "Attainment of target",
            ratio,
            source,
            unit="percent",
            derived_from=derived,
            note="; ".join(filter(None, (why, note))),
        ),
        m.fact(
            "target-gap",
            "target_gap",
            "Difference to target",
            gap,
            source,
            signed=True,
            derived_from=derived,
            note=note if gap is not None else why,
        ),
    )


def freshness_facts(
    dataset: str,
    *,
    latest: date | datetime | None,
    sla_hours: float | None,
    today: date,
    source: FactSource,
    formatter: FactFormatter,
) -> tuple[Fact, ...]:
    """``freshness_latest`` (the newest day in the data), ``freshness_age`` (days before
    `today`), ``freshness_sla`` (promised hours) and ``freshness_within_sla``.

    Age is measured from the end of the latest day (or the latest moment) to the start of
    `today`, so the same logical day gives the same facts.
    """
    m = MeasureFacts(dataset, dataset, MeasureFormat.NUMBER, formatter)
    day = as_day(latest)
    hours: float | None = None
    if latest is not None:
        if isinstance(latest, datetime):
            moment = latest.astimezone(UTC) if latest.tzinfo else latest.replace(tzinfo=UTC)
        else:
            moment = datetime.combine(latest, time.max, tzinfo=UTC)
        now = datetime.combine(today, time.min, tzinfo=UTC)
        hours = max(0.0, (now - moment).total_seconds() / 3600)
    missing = "" if latest is not None else "the dataset does not say how fresh it is"
    no_sla = "" if sla_hours is not None else "the dataset promises no freshness"
    within = hours <= sla_hours if hours is not None and sla_hours is not None else None
    age = max(0, (today - day).days) if day is not None else None
    return (
        m.fact(
            "freshness-latest",
            "freshness_latest",
            "Data current to",
            day,
            source,
            unit="date",
            note=missing,
        ),
        m.fact(
            "freshness-age",
            "freshness_age",
            "Data age (days)",
            age,
            source,
            unit="integer",
            note=missing,
        ),
        m.fact(
            "freshness-sla",
            "freshness_sla",
            "Freshness promise (hours)",
            sla_hours,
            source,
            unit="number",
            note=no_sla,
        ),
        m.fact(
            "freshness-within-sla",
            "freshness_within_sla",
            "Within the freshness promise",
            within,
            source,
            unit="flag",
            formatted={True: "yes", False: "no"}.get(within, "–") if within is not None else "–",
            note=missing or no_sla,
        ),
    )
