"""Numbers from query results: cells as floats, relative changes, whether parts add up."""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import Decimal

import pandas as pd

_ADDITIVE_TOLERANCE = 1e-9


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
