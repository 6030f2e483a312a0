"""Journey: saving a report, scheduling it weekly by email, running it now, and following the
run to its delivery and the email at the test SMTP server
(features/schedule_report.feature)."""

from __future__ import annotations

import json
import re
import time
import urllib.request
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from pytest_bdd import given, parsers, scenarios, then, when

from reportgen.delivery.mailsink import MailSink
from tests.browser.app_ui import (
    STEP_TIMEOUT_MS,
    AppServer,
    choose,
    non_emea_in,
    rerun,
    screenshot,
    settle,
    table_rows,
)
from tests.browser.builder_steps import holds_number, pdf_text

pytestmark = pytest.mark.browser

scenarios("features/schedule_report.feature")


def _leading(api_url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{api_url}/readyz", timeout=2) as answer:
            return json.loads(answer.read()).get("scheduler") == "leader"
    except OSError:
        return False


@given("the scheduler and the test mail server are running")
def scheduler_running(scheduler: str, mail_sink: MailSink) -> None:
    deadline = time.monotonic() + STEP_TIMEOUT_MS / 1000
    while not _leading(scheduler):
        assert time.monotonic() < deadline, "the scheduler does not lead"
        time.sleep(0.2)  # a poll interval while waiting on a condition with a deadline
    assert mail_sink.folder.is_dir()


@when(parsers.parse('{user} saves the report as "{name}"'))
def save_report(page: Page, name: str) -> None:
    page.get_by_role("textbox", name="Report name", exact=True).fill(name)
    with rerun(page):
        page.get_by_role("button", name="Save report", exact=True).click()
    expect(page.get_by_text(f"Saved “{name}” as version 1.")).to_be_visible()


@when(parsers.parse('{user} clicks "Save as schedule…"'))
def save_as_schedule(page: Page) -> None:
    page.get_by_role("button", name="Save as schedule…", exact=True).click()
    expect(page.get_by_role("heading", name="New schedule", exact=True).first).to_be_visible()
    settle(page)


@then(parsers.parse('the Schedules form is open on the saved report "{name}"'))
def form_on_report(page: Page, name: str) -> None:
    expect(page).to_have_url(re.compile(r"/report-schedules$"))
    chosen = page.get_by_role("combobox", name="Saved report", exact=True).input_value()
    assert chosen.startswith(f"{name} (version 1"), chosen


@when(parsers.parse('{user} names the schedule "{name}"'))
def name_schedule(page: Page, name: str) -> None:
    page.get_by_role("textbox", name="Name", exact=True).fill(name)
    page.get_by_role("textbox", name="Name", exact=True).press("Tab")


@when(parsers.parse('{user} makes it repeat "{preset}"'))
def repeat(page: Page, preset: str) -> None:
    choose(page, "Repeats", preset)
    expect(page.get_by_role("combobox", name="Repeats", exact=True)).to_have_value(preset)


@when(parsers.parse("{user} sends it to herself by email"))
def to_herself_by_email(page: Page, seen: dict[str, Any]) -> None:
    people = page.get_by_test_id("stMultiSelect").filter(
        has=page.get_by_role("combobox", name="People", exact=True)
    )
    mine = re.compile(rf"\({seen['user']}\)")
    if not people.get_by_text(mine).count():
        choose(page, "People", mine)
    expect(people.get_by_text(mine)).to_be_visible()
    email = page.get_by_role("checkbox", name="Email to the recipients", exact=True)
    if not email.is_checked():
        with rerun(page):
            email.check()
    expect(email).to_be_checked()
    screenshot(page, f"{seen['user']}-schedules-form")


@when(parsers.parse("{user} creates the schedule"))
def create_schedule(page: Page) -> None:
    with rerun(page):
        page.get_by_role("button", name="Create schedule", exact=True).click()


@then(parsers.parse('the schedule "{name}" is listed, repeating "{cadence}"'))
def schedule_listed(page: Page, name: str, cadence: str, seen: dict[str, Any]) -> None:
    expect(page.get_by_text(f"Created “{name}”.")).to_be_visible()
    listed = page.get_by_test_id("stDataFrame").first
    rows = table_rows(page, listed)
    mine = [row for row in rows if row.get("Name") == name]
    assert len(mine) == 1, rows
    assert any(cadence in value for value in mine[0].values()), mine[0]
    screenshot(page, f"{seen['user']}-schedules")


@when(parsers.parse('{user} clicks "Run now" for "{name}"'))
def run_now(page: Page, name: str) -> None:
    manage = page.get_by_role("combobox", name="Schedule to manage", exact=True)
    if not manage.input_value().startswith(name):
        choose(page, "Schedule to manage", re.compile(re.escape(name)))
    with rerun(page):
        page.get_by_role("button", name="Run now", exact=True).click()
    expect(page.get_by_text(f"Run of “{name}” queued")).to_be_visible()


def _message_for(sink: MailSink, subject: str, deadline_s: float) -> EmailMessage:
    deadline = time.monotonic() + deadline_s
    while True:
        for path in sink.messages():
            message = message_from_bytes(path.read_bytes(), policy=default_policy)
            assert isinstance(message, EmailMessage)
            if subject in str(message["Subject"]):
                return message
        assert time.monotonic() < deadline, f"no email about {subject!r} in {deadline_s} s"
        time.sleep(0.2)  # a poll interval while waiting on a condition with a deadline


@then(
    parsers.parse(
        'the mail server received "{name}" for "{address}" with the PDF of the previewed totals'
    )
)
def email_arrived(
    mail_sink: MailSink, name: str, address: str, seen: dict[str, Any], tmp_path: Path
) -> None:
    message = _message_for(mail_sink, name, STEP_TIMEOUT_MS / 1000)
    assert address in str(message["To"])
    pdfs = [
        part for part in message.iter_attachments() if part.get_content_type() == "application/pdf"
    ]
    assert len(pdfs) == 1, [part.get_content_type() for part in message.iter_attachments()]
    attached = tmp_path / "attached.pdf"
    attached.write_bytes(pdfs[0].get_content())
    text = pdf_text(attached)
    revenue = seen["totals"]["Revenue"]
    assert holds_number(text, revenue), f"the emailed PDF lacks the previewed revenue {revenue}"
    assert non_emea_in(text) == [], "the emailed PDF names a region ana may not see"
    seen["email"] = message


@when(parsers.parse("{user} opens the email's link to the run in a new tab"))
def open_email_link(page: Page, app_server: AppServer, seen: dict[str, Any]) -> None:
    body = seen["email"].get_body(("plain",))
    assert body is not None
    links = re.findall(r"https?://\S+/run-history\?run=[\w-]+", body.get_content())
    assert links, "the email has no link to its run"
    assert links[0].startswith(app_server.url), links[0]
    tab = page.context.new_page()
    seen["tab"] = tab
    tab.goto(links[0])  # a fresh load: the session signs in from its cookie first
    settle(tab)


@then(
    parsers.parse('the new tab shows that run, succeeded, with its email delivered to "{address}"')
)
def email_link_shows_run(seen: dict[str, Any], address: str) -> None:
    tab = seen["tab"]
    expect(tab.get_by_role("heading", name="Runs", exact=True)).to_be_visible()
    verdict = tab.get_by_text(re.compile(r"^\W*(?:[a-z_]+\s+)?Succeeded\b.*· Run now · fire time"))
    expect(verdict).to_be_visible()
    expect(tab.get_by_text(f"email → {address}: delivered")).to_be_visible()
    screenshot(tab, f"{seen['user']}-run-from-email")
