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

The package re-exports every public name; its private modules hold one concept each.
"""

from reportgen.domain.facts._freshness import freshness_facts
from reportgen.domain.facts._measure import MeasureFacts, unit_of
from reportgen.domain.facts._model import (
    NOT_COMPARABLE,
    Fact,
    FactFormatter,
    FactSet,
    FactSource,
    FactUnit,
    FactValue,
)
from reportgen.domain.facts._movers import Mover, mover_facts, movers, share_facts
from reportgen.domain.facts._numbers import is_additive, number, relative_change, scalar
from reportgen.domain.facts._period import (
    EarlierPeriod,
    Period,
    Window,
    add_months,
    as_day,
    bucket_end,
    bucket_start,
    resolve_window,
)
from reportgen.domain.facts._series import Point, complete_points, outlier_facts, trend_facts
from reportgen.domain.facts._statistics import (
    MIN_OUTLIER_POINTS,
    MIN_TREND_POINTS,
    OUTLIER_THRESHOLD,
    TREND_FLAT_BAND,
    least_squares_slope,
    robust_z_scores,
    trend_direction,
)
from reportgen.domain.facts._totals import (
    attainment_facts,
    comparison_facts,
    period_fact,
    total_fact,
)

__all__ = [
    "MIN_OUTLIER_POINTS",
    "MIN_TREND_POINTS",
    "NOT_COMPARABLE",
    "OUTLIER_THRESHOLD",
    "TREND_FLAT_BAND",
    "EarlierPeriod",
    "Fact",
    "FactFormatter",
    "FactSet",
    "FactSource",
    "FactUnit",
    "FactValue",
    "MeasureFacts",
    "Mover",
    "Period",
    "Point",
    "Window",
    "add_months",
    "as_day",
    "attainment_facts",
    "bucket_end",
    "bucket_start",
    "comparison_facts",
    "complete_points",
    "freshness_facts",
    "is_additive",
    "least_squares_slope",
    "mover_facts",
    "movers",
    "number",
    "outlier_facts",
    "period_fact",
    "relative_change",
    "resolve_window",
    "robust_z_scores",
    "scalar",
    "share_facts",
    "total_fact",
    "trend_direction",
    "trend_facts",
    "unit_of",
]
