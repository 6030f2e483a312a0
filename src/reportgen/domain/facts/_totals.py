"""Facts about a measure's total: the period, the total, changes to earlier periods, a target."""

from __future__ import annotations

import pandas as pd

from reportgen.domain.catalog import MeasureFormat
from reportgen.domain.facts._measure import MeasureFacts, unit_of
from reportgen.domain.facts._model import NOT_COMPARABLE, Fact, FactSource
from reportgen.domain.facts._numbers import number, relative_change, scalar
from reportgen.domain.facts._period import EarlierPeriod, Window


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
