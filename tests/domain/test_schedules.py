"""The schedule model's own rules: formats, channel targets, defaults."""

from __future__ import annotations

from datetime import time

import pytest
from pydantic import ValidationError

from reportgen.domain.schedules import (
    DailyAt,
    EmailChannel,
    MisfirePolicy,
    RunAs,
    ScheduleDraft,
    WebhookChannel,
)


def test_a_draft_defaults_to_bursting_email_pdf_and_run_once() -> None:
    draft = ScheduleDraft(name="Weekly", report_id="r1", cadence=DailyAt(at=time(8)))
    assert draft.channels == (EmailChannel(),)
    assert draft.formats == ("pdf",)
    assert draft.run_as is RunAs.RECIPIENT
    assert draft.misfire_policy is MisfirePolicy.RUN_ONCE


def test_unknown_formats_are_refused_and_repeats_dropped() -> None:
    with pytest.raises(ValidationError, match="unknown format 'docx'; use one of pdf, csv"):
        ScheduleDraft(name="x", report_id="r1", cadence=DailyAt(at=time(8)), formats=("docx",))
    draft = ScheduleDraft(
        name="x", report_id="r1", cadence=DailyAt(at=time(8)), formats=("pdf", "csv", "pdf")
    )
    assert draft.formats == ("pdf", "csv")


def test_a_slack_webhook_target_carries_the_slack_mark() -> None:
    url = "https://hooks.example.com/T000/B000"
    assert WebhookChannel(url=url).target == url
    assert WebhookChannel(url=url, slack=True).target == f"slack+{url}"
