"""Series statistics: robust z-scores for outliers, the least-squares slope for trend."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence

OUTLIER_THRESHOLD = 3.5
"""Modified z-score beyond which a point is an outlier (Iglewicz and Hoaglin, 1993)."""
MIN_OUTLIER_POINTS = 5
TREND_FLAT_BAND = 0.01
"""A least-squares slope within ±1% of the series mean per period counts as flat."""
MIN_TREND_POINTS = 3
_MAD_SCALE = 0.6745  # the normal distribution's MAD / standard deviation
_MEAN_AD_SCALE = 1.253314  # sqrt(pi/2): mean absolute deviation / standard deviation


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
