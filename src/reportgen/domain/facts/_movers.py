"""Movers and shares along a dimension: who rose and fell most, who contributes most."""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from reportgen.domain.facts._measure import MeasureFacts, _slug
from reportgen.domain.facts._model import Fact, FactSource
from reportgen.domain.facts._numbers import is_additive, number, relative_change


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
    with ``_value``, ``_prior``, ``_change`` (absolute) and ``_change_pct`` (relative).

    Fewer than two comparable members give no movers: "EMEA rose the most" of EMEA alone
    says nothing."""
    current_source, prior_source = sources
    if current is None or prior is None or prior_source is None:
        ranked: list[Mover] = []
        why = why_missing or "no earlier period to compare with"
    else:
        ranked = movers(current, prior, by, m.name, additive=additive)
        why = ""
        if len(ranked) < 2:
            # One group (a filter or a row policy leaves only EMEA) has nothing to rank against.
            ranked = []
            why = f"fewer than two {by.replace('_', ' ')} values to compare"
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
