"""Journey: signing in as each demo user (features/sign_in.feature)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from pytest_bdd import given, parsers, scenarios, then, when

from tests.browser.app_ui import PASSWORDS, AppServer, screenshot, settle

pytestmark = pytest.mark.browser

scenarios("features/sign_in.feature")


@given("the app is open in a browser")
def open_app(page: Page, app_server: AppServer) -> None:
    page.goto(app_server.url)
    expect(page.get_by_role("textbox", name="Username")).to_be_visible()


@when(parsers.parse('I sign in as "{user}"'))
def sign_in_as(page: Page, user: str) -> None:
    page.get_by_role("textbox", name="Username").fill(user)
    page.get_by_role("textbox", name="Password").fill(PASSWORDS[user])
    page.get_by_role("button", name="Sign in").click()


@when(parsers.parse('I sign in as "{user}" with the password "{password}"'))
def sign_in_with(page: Page, user: str, password: str) -> None:
    page.get_by_role("textbox", name="Username").fill(user)
    page.get_by_role("textbox", name="Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


@then(parsers.parse('the sidebar says I am signed in as "{name}"'))
def signed_in_as(page: Page, name: str) -> None:
    sidebar = page.get_by_test_id("stSidebar")
    expect(sidebar.get_by_text(f"Signed in as {name}")).to_be_visible()


@then("the sign-in form is gone")
def form_gone(page: Page) -> None:
    expect(page.get_by_role("button", name="Sign in")).to_have_count(0)
    expect(page.get_by_role("textbox", name="Password")).to_have_count(0)


@then(parsers.parse('the navigation offers "{pages}"'))
def navigation_offers(page: Page, pages: str) -> None:
    titles = pages.split(", ")
    navigation = page.get_by_test_id("stSidebarNav")
    if len(titles) == 1:  # Streamlit shows no menu for a single page
        expect(navigation).to_have_count(0)
    else:
        links = navigation.get_by_role("link")
        expect(links).to_have_count(len(titles))
        for title in titles:
            expect(navigation.get_by_text(title, exact=True)).to_be_visible()
    expect(page.get_by_role("heading", name="Home", exact=True).first).to_be_visible()
    settle(page)
    user = page.get_by_test_id("stSidebar").inner_text().split("Signed in as ")[-1].split()[0]
    screenshot(page, f"home-{user}")


@then(parsers.parse('I see "{text}"'))
def i_see(page: Page, text: str) -> None:
    expect(page.get_by_text(text)).to_be_visible()
