"""The report email's bodies, composed without a relay: the link back to the run in the app."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from typing import cast

import pytest

from reportgen.delivery.email_body import compose, run_url
from tests.delivery.conftest import make_parcel

NOW = datetime(2026, 11, 2, 7, 5, tzinfo=UTC)


def bodies(message: EmailMessage) -> tuple[str, str]:
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    return str(cast(EmailMessage, text).get_content()), str(cast(EmailMessage, html).get_content())


def composed(public_url: str | None, run_id: str = "run-42") -> tuple[str, str]:
    message = compose(
        make_parcel(run_id=run_id),
        sender="Reportgen <reports@example.com>",
        recipient="ana@example.com",
        limit_bytes=10_000_000,
        now=NOW,
        public_url=public_url,
    )
    return bodies(message)


def test_both_bodies_link_to_the_run_on_the_runs_page() -> None:
    text, html = composed("https://reports.example.com")

    link = "https://reports.example.com/run-history?run=run-42"
    assert f"See this run in reportgen: {link}" in text
    assert f'<a href="{link}">See this run in reportgen</a>' in html


def test_the_link_keeps_the_apps_path_and_drops_its_query() -> None:
    assert (
        run_url("https://example.com/reports/?x=1#top", "r1")
        == "https://example.com/reports/run-history?run=r1"
    )


def test_the_run_id_is_encoded_in_the_link_and_escaped_in_the_html() -> None:
    text, html = composed("https://reports.example.com", run_id='a&b"<x>')

    assert "https://reports.example.com/run-history?run=a%26b%22%3Cx%3E" in text
    assert 'href="https://reports.example.com/run-history?run=a%26b%22%3Cx%3E"' in html
    assert "<x>" not in html


@pytest.mark.parametrize("public_url", ["javascript:alert(1)", "mailto:x@example.com", "https://"])
def test_only_a_web_address_becomes_a_link(public_url: str) -> None:
    text, html = composed(public_url)

    assert run_url(public_url, "run-42") is None
    assert "See this run" not in text
    assert "See this run" not in html


def test_without_the_apps_address_there_is_no_link() -> None:
    text, html = composed(None)

    assert "See this run" not in text
    assert "run-history" not in html
