"""Steps on the Runs page: following a run to its end and reading what it shows. Shared by
the schedule and EMEA-only features."""

from __future__ import annotations

import re
import time
from typing import Any

from playwright.sync_api import Page, expect
from pytest_bdd import parsers, then

from tests.browser.app_ui import choose, non_emea_in, rerun, screenshot, table_rows

RUN_DEADLINE_S = 120
"""A run renders the PDF and mails it; the machine is shared and has two cores."""


@then(parsers.parse('the run of "{name}" succeeded'))
def run_succeeded(page: Page, name: str, seen: dict[str, Any]) -> None:
    choose(page, "Schedule", name)
    # The badge starts with its Material icon, whose name is the icon font's ligature text.
    verdict = page.get_by_text(
        re.compile(r"^\W*(?:[a-z_]+\s+)?(Succeeded|Failed|Dead)\b.*· Run now · fire time")
    )
    deadline = time.monotonic() + RUN_DEADLINE_S
    while not verdict.count():
        assert time.monotonic() < deadline, f"the run of {name} did not end in {RUN_DEADLINE_S} s"
        with rerun(page):  # the page shows the runs as they were when it ran
            page.get_by_role("button", name="Refresh", exact=True).click()
        page.wait_for_timeout(500)  # a poll interval while waiting on the run with a deadline
    expect(verdict).to_contain_text("Succeeded")
    screenshot(page, f"{seen['user']}-runs")


@then(parsers.parse('its email to "{address}" was delivered'))
def email_delivered(page: Page, address: str) -> None:
    expect(page.get_by_text(f"email → {address}: delivered")).to_be_visible()


@then("the Runs page names no region but EMEA")
def runs_page_emea_only(page: Page) -> None:
    main = page.get_by_test_id("stMain")
    assert non_emea_in(main.inner_text()) == []
    tables = main.get_by_test_id("stDataFrame").filter(visible=True).all()
    assert tables, "the Runs page shows no table"
    for table in tables:
        cells = " | ".join(value for row in table_rows(page, table) for value in row.values())
        assert non_emea_in(cells) == [], cells
