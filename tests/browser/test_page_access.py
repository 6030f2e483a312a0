"""Journey: a viewer cannot reach author or admin pages, and an admin reaches every page
(features/page_access.feature)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from pytest_bdd import parsers, scenarios, then, when

from reportgen.bootstrap import Services
from tests.browser.app_ui import (
    AppServer,
    open_url_in_session,
    screenshot,
    settle,
)

pytestmark = pytest.mark.browser

FRESH_LOAD_CHECK_MS = 5_000
"""How long a fresh load may take to show the page once the app has settled."""


scenarios("features/page_access.feature")


def _navigation_titles(page: Page) -> list[str]:
    links = page.get_by_test_id("stSidebarNav").get_by_role("link")
    return [
        re.sub(r"^\S+\s+", "", link.inner_text().strip().replace("\n", " ")) for link in links.all()
    ]


@then(parsers.parse('the navigation lists "{shown}" and not "{hidden}"'))
def navigation_lists(page: Page, shown: str, hidden: str, seen: dict[str, Any]) -> None:
    navigation = page.get_by_test_id("stSidebarNav")
    expect(navigation.get_by_role("link")).to_have_count(len(shown.split(", ")))
    for title in shown.split(", "):
        expect(navigation.get_by_role("link", name=title, exact=True)).to_be_visible()
    for title in hidden.split(", "):
        expect(page.get_by_role("link", name=title, exact=True)).to_have_count(0)
    screenshot(page, f"{seen['user']}-home")


@when(parsers.parse('{user} goes to "{path}" in the app'))
def go_to(page: Page, path: str) -> None:
    open_url_in_session(page, path)


@then(parsers.parse('{user} is told "{refusal}"'))
def told(page: Page, user: str, refusal: str) -> None:
    main = page.get_by_test_id("stMain")
    expect(main.get_by_text(refusal)).to_be_visible()
    settle(page)
    expect(main.get_by_role("heading", level=1)).to_have_count(0)  # no page drawn past the gate
    screenshot(page, f"{user}-not-allowed-{page.url.rsplit('/', 1)[-1]}")


@then(parsers.parse('the audit log holds {user}\'s denied openings of "{targets}"'))
def audited(app_services: Services, user: str, targets: str) -> None:
    events = app_services.audit.recent(actor=user, action="page.open")
    denied = {event.target for event in events if event.outcome == "denied"}
    missing = set(targets.split(", ")) - denied
    assert not missing, f"no denied page.open of {missing} for {user}; found {denied}"


@pytest.fixture
def new_tab(page: Page) -> Iterator[list[Page]]:
    opened: list[Page] = []
    yield opened
    for tab in opened:
        tab.close()


@when(parsers.parse('{user} loads "{path}" in a new tab'))
def load_in_new_tab(page: Page, app_server: AppServer, path: str, new_tab: list[Page]) -> None:
    tab = page.context.new_page()
    new_tab.append(tab)
    tab.goto(f"{app_server.url}{path}")
    expect(tab.get_by_text("Signed in as")).to_be_visible()
    settle(tab)


@then(parsers.parse('the page in the new tab says "{refusal}"'))
def new_tab_told(new_tab: list[Page], refusal: str) -> None:
    expect(new_tab[0].get_by_text(refusal)).to_be_visible(timeout=FRESH_LOAD_CHECK_MS)


@then(parsers.parse('the Admin page shows its "{tabs}" tabs'))
def admin_tabs(page: Page, tabs: str) -> None:
    for title in tabs.split(", "):
        expect(page.get_by_role("tab", name=title, exact=True)).to_be_visible()
    expect(page.get_by_text(re.compile(r"Something went wrong"))).to_have_count(0)
