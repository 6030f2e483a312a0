"""Steps several features share: signing in, opening a page from the navigation, and what a
scenario remembers from one step to the next. `conftest` imports them for every feature."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page
from pytest_bdd import given, parsers, when

from tests.browser.app_ui import AppServer, open_nav_page, screenshot, sign_in

HEADINGS = {"Catalog": "Data catalog"}
"""Navigation titles whose page heading says something else."""


@pytest.fixture
def seen() -> dict[str, Any]:
    """What the scenario read on one page, to compare with what a later step finds."""
    return {}


@given(parsers.parse("{user} is signed in"))
def signed_in(page: Page, app_server: AppServer, user: str, seen: dict[str, Any]) -> None:
    sign_in(page, app_server, user)
    seen["user"] = user


@when(parsers.parse('{user} opens the "{title}" page'))
def open_page(page: Page, user: str, title: str) -> None:
    open_nav_page(page, title, HEADINGS.get(title))
    screenshot(page, f"{user}-{title}")
