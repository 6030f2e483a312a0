"""Freshness facts: how current a dataset's data is against its promise."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from reportgen.domain.catalog import MeasureFormat
from reportgen.domain.durations import spoken_age
from reportgen.domain.facts._measure import MeasureFacts
from reportgen.domain.facts._model import Fact, FactFormatter, FactSource
from reportgen.domain.facts._period import as_day


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
    `today`), ``freshness_sla`` (promised hours, written as people say them: "2 days") and
    ``freshness_within_sla``.

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
            "Freshness promise",
            sla_hours,  # in hours, as the catalog states it
            source,
            unit="number",
            formatted=spoken_age(sla_hours) if sla_hours is not None else "–",
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
