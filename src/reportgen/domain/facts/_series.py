"""Facts about the time series: its complete buckets, outliers among them and the trend."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd

from reportgen.domain.catalog import TimeGrain
from reportgen.domain.facts._measure import MeasureFacts
from reportgen.domain.facts._model import Fact, FactSource
from reportgen.domain.facts._numbers import number
from reportgen.domain.facts._period import as_day, bucket_end
from reportgen.domain.facts._statistics import (
    MIN_OUTLIER_POINTS,
    MIN_TREND_POINTS,
    OUTLIER_THRESHOLD,
    least_squares_slope,
    robust_z_scores,
    trend_direction,
)


@dataclass(frozen=True)
class Point:
    """One time bucket of the series."""

    start: date
    end: date
    value: float


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
