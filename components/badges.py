"""One-line Markdown for a dataset's trust signals: certification, classification, freshness and
what the signed-in user's access is limited to."""

from __future__ import annotations

from reportgen.domain.catalog import Classification, Dataset
from reportgen.services.catalog import AccessSummary, Freshness

CLASSIFICATION_COLORS = {
    Classification.PUBLIC: "gray",
    Classification.INTERNAL: "blue",
    Classification.CONFIDENTIAL: "orange",
    Classification.RESTRICTED: "red",
}


def dataset_badges(dataset: Dataset) -> str:
    certified = (
        ":green-badge[:material/verified: Certified]"
        if dataset.certified
        else ":gray-badge[Not certified]"
    )
    color = CLASSIFICATION_COLORS[dataset.classification]
    classification = (
        f":{color}-badge[:material/shield: {dataset.classification.value.capitalize()}]"
    )
    tags = " ".join(f":gray-badge[{tag}]" for tag in dataset.tags)
    return " ".join(part for part in (certified, classification, tags) if part)


def freshness_description(freshness: Freshness) -> str:
    """``latest 2026-10-31 00:00, 10 days old; breaks its SLA of 2 days``."""
    return freshness.describe()


def freshness_note(freshness: Freshness) -> str:
    """✓ when the data is within its SLA, ⚠ when it breaks it, plain text when there is no SLA."""
    description = freshness_description(freshness)
    match freshness.within_sla:
        case True:
            return f":green[✓ Fresh: {description}]"
        case False:
            return f":orange[⚠ Late: {description}]"
        case None:
            return f":gray[Freshness: {description}]"


def access_note(access: AccessSummary) -> str:
    """The limits the user works under on a dataset, or that there are none."""
    notes = list(access.rows)
    if access.masked_columns:
        notes.append(f"masked columns: {', '.join(access.masked_columns)}")
    if not notes:
        return ":material/lock_open: **Your access:** every row, every column in clear."
    return f":material/lock: **Your access:** {'; '.join(notes)}."
