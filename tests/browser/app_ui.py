"""What a person does in the app's UI, as the journeys' steps need it: sign in, open a page,
wait for Streamlit to finish a run, read a table's rows, keep a screenshot.

Streamlit reruns the page script after every interaction and keeps the previous run's elements
on screen (marked stale) until the new ones replace them, so a step first waits for something
its action must change, then for the app to settle.
"""

from __future__ import annotations

import csv
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import Locator, Page, expect

from tests.conftest import REPO

SCREENSHOTS = REPO / "test-artifacts" / "screenshots"
STEP_TIMEOUT_MS = 30_000
PASSWORDS = {"admin": "admin-demo-pass", "ana": "ana-demo-pass", "victor": "victor-demo-pass"}
AUTH_COOKIE = "reportgen_auth"
NON_EMEA = ("Americas", "APAC")
"""The regions ana (author, EMEA) may never see."""


@dataclass
class AppServer:
    url: str
    data_dir: Path
    env: dict[str, str] = field(default_factory=dict)


def settle(page: Page, timeout_ms: float = STEP_TIMEOUT_MS) -> None:
    """Wait until the page script is not running and no element of an older run is left."""
    app = page.get_by_test_id("stApp")
    expect(app).to_have_attribute("data-test-script-state", "notRunning", timeout=timeout_ms)
    expect(page.locator("[data-stale=true]")).to_have_count(0, timeout=timeout_ms)


# Counts the page script's runs: each time the app's script state turns to "running".
_COUNT_RUNS = """() => {
    if (window.__scriptRuns === undefined) {
        window.__scriptRuns = 0;
        new MutationObserver(changes => {
            for (const change of changes) {
                if (change.target.getAttribute('data-test-script-state') === 'running') {
                    window.__scriptRuns += 1;
                }
            }
        }).observe(document.body, {
            subtree: true, attributes: true, attributeFilter: ['data-test-script-state'],
        });
    }
    return window.__scriptRuns;
}"""


@contextmanager
def rerun(page: Page, timeout_ms: float = STEP_TIMEOUT_MS) -> Iterator[None]:
    """Around an action that reruns the page: afterwards, wait for a new run to start and for
    the app to settle. Closes the gap in which the old run's page still looks finished."""
    before = int(page.evaluate(_COUNT_RUNS))
    yield
    page.wait_for_function("n => window.__scriptRuns > n", arg=before, timeout=timeout_ms)
    settle(page, timeout_ms)


def sign_in(page: Page, server: AppServer, username: str) -> None:
    """Sign in through the form and wait until the sign-in cookie is written (it is written by
    a component in the page, just after the run that signs in)."""
    page.goto(server.url)
    page.get_by_role("textbox", name="Username").fill(username)
    page.get_by_role("textbox", name="Password").fill(PASSWORDS[username])
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Signed in as")).to_be_visible()
    wait_for_sign_in_cookie(page)  # writing it reruns the page: let that run end too
    settle(page)


def wait_for_sign_in_cookie(page: Page, deadline_s: float = STEP_TIMEOUT_MS / 1000) -> None:
    """Wait until the browser holds the sign-in cookie (a fresh load signs in from it)."""
    deadline = time.monotonic() + deadline_s
    while not any(c["name"] == AUTH_COOKIE for c in page.context.cookies()):
        assert time.monotonic() < deadline, f"no {AUTH_COOKIE} cookie within {deadline_s} s"
        page.wait_for_timeout(100)  # a poll interval while waiting on a condition


def open_nav_page(page: Page, title: str, heading: str | None = None) -> None:
    """Open a page from the sidebar navigation and wait for its heading and its run's end."""
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=title, exact=True).click()
    expect(page.get_by_role("heading", name=heading or title, exact=True).first).to_be_visible()
    settle(page)


def open_url_in_session(page: Page, path: str) -> None:
    """Go to `path` inside the running session, as the browser's back and forward buttons do:
    Streamlit's router reads the new URL and runs that page. The page in hand finishes its run
    first: a run still drawing it (Home's late-data section, on a loaded machine) could draw
    over the page the address asks for."""
    settle(page)
    page.evaluate(
        """path => {
            window.history.pushState({}, '', path);
            window.dispatchEvent(new PopStateEvent('popstate', {state: {}}));
        }""",
        path,
    )


def open_choices(page: Page, label: str) -> Locator:
    """Open the option list of the select box or multiselect labelled `label`.

    A click right after another list was closed with Escape is sometimes taken as the end of
    that list's outside interaction and opens nothing, so click until the list is open.
    """
    box = page.get_by_role("combobox", name=label, exact=True)
    for _ in range(3):
        box.click()
        try:
            expect(box).to_have_attribute("aria-expanded", "true", timeout=2_000)
        except AssertionError:
            continue
        return box
    raise AssertionError(f"the list of {label!r} does not open")


def choose(page: Page, label: str, option: str | re.Pattern[str]) -> None:
    """Choose `option` in the select box or multiselect labelled `label` (the app reruns);
    a multiselect's list, which stays open, is closed afterwards."""
    with rerun(page):
        box = open_choices(page, label)
        if isinstance(option, str):
            page.keyboard.type(option)
        page.get_by_role("option", name=option, exact=isinstance(option, str)).click()
    if box.get_attribute("aria-expanded") == "true":
        page.keyboard.press("Escape")


def table_rows(page: Page, table: Locator) -> list[dict[str, str]]:
    """Every row of an ``st.dataframe``, read from its own "Download as CSV" (the grid draws
    on a canvas and keeps only the visible cells in the DOM)."""
    table.hover()
    with page.expect_download() as download:
        # Dispatched, not clicked: while a rerun redraws the page, another table's scroller
        # can sit over this one's toolbar for a while and take the pointer. This reads the
        # table's data; the toolbar itself is Streamlit's.
        table.get_by_role("button", name="Download as CSV").dispatch_event("click")
    path = download.value.path()
    with Path(path).open(encoding="utf-8-sig", newline="") as rows:
        return list(csv.DictReader(rows))


def non_emea_in(text: str) -> list[str]:
    """The non-EMEA region names `text` holds as words."""
    return [name for name in NON_EMEA if re.search(rf"\b{name}\b", text)]


# Streamlit scrolls inside these containers, so the document itself is only a window high.
_CONTENT_HEIGHT = """() => Math.max(...[...document.querySelectorAll(
    '[data-testid=stMain], [data-testid=stAppViewContainer], [data-testid=stSidebarContent]'
)].map(element => element.scrollHeight))"""


def screenshot(page: Page, name: str) -> Path:
    """Keep a full-page screenshot as a test artifact; returns its path.

    The window is made as tall as the page's content for the shot (again while images that
    load once in view make it taller), then put back.
    """
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{re.sub(r'[^a-z0-9-]+', '-', name.lower()).strip('-')}.png"
    size = page.viewport_size or {"width": 1280, "height": 800}
    try:
        height = size["height"]
        for _ in range(5):  # images loaded once in view (the PDF's pages) make the page taller
            content = int(page.evaluate(_CONTENT_HEIGHT))
            if content <= height:
                break
            height = content
            page.set_viewport_size({"width": size["width"], "height": height})
            page.wait_for_function("() => [...document.images].every(image => image.complete)")
        page.screenshot(path=path, full_page=True)
    finally:
        page.set_viewport_size(size)
    return path
