"""Browser journeys: the real app (`streamlit run app.py`) on loopback, driven by Playwright.

The server runs in its own data dir (a migrated metadata DB with the demo users, the shared
small demo warehouse) and is started once per session and stopped at the end. Playwright drives
Debian's Chromium (`/usr/bin/chromium`): nothing is downloaded. Every scenario keeps a
screenshot of each page it visits under ``test-artifacts/screenshots/``.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Playwright, expect, sync_playwright

from reportgen.bootstrap import build_services
from reportgen.services.users import seed_demo_users
from tests.conftest import REPO, make_settings

CHROMIUM = Path(os.environ.get("REPORTGEN_CHROMIUM_PATH", "/usr/bin/chromium"))
SCREENSHOTS = REPO / "test-artifacts" / "screenshots"
START_TIMEOUT_S = 60
STEP_TIMEOUT_MS = 30_000
PASSWORDS = {"admin": "admin-demo-pass", "ana": "ana-demo-pass", "victor": "victor-demo-pass"}
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = pytest.mark.browser
expect.set_options(timeout=STEP_TIMEOUT_MS)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until_healthy(url: str, process: subprocess.Popen[bytes], deadline_s: float) -> None:
    """Poll ``url`` until it answers 200, the process dies, or the deadline passes."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode} before it was ready")
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)  # a poll interval while waiting on a condition with a deadline
    raise TimeoutError(f"{url} did not become healthy within {deadline_s} s")


@dataclass
class AppServer:
    url: str
    data_dir: Path
    env: dict[str, str] = field(default_factory=dict)


@pytest.fixture(scope="session")
def browser_env(tmp_path_factory: pytest.TempPathFactory, warehouse_path: Path) -> dict[str, str]:
    """The REPORTGEN_* variables of the app under test (and any process started beside it)."""
    data_dir = tmp_path_factory.mktemp("browser")
    settings = make_settings(data_dir, warehouse_path)
    built = build_services(settings, upgrade=True)
    try:
        seed_demo_users(built.users)
    finally:
        built.close()
    env = {
        "REPORTGEN_DATA_DIR": str(data_dir),
        "REPORTGEN_DATABASE_URL": settings.resolved_database_url,
        "REPORTGEN_WAREHOUSE_URL": settings.resolved_warehouse_url,
        "REPORTGEN_CATALOG_DIR": str(settings.catalog_dir),
        "REPORTGEN_LOG_LEVEL": "WARNING",
    }
    for name in ("cookie_key", "mask_key", "audit_key"):
        secret = getattr(settings, name)
        assert secret is not None
        env[f"REPORTGEN_{name.upper()}"] = secret.get_secret_value()
    return env


@pytest.fixture(scope="session")
def app_server(browser_env: dict[str, str]) -> Iterator[AppServer]:
    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} is missing; `make system` installs Debian's chromium")
    port = _free_port()
    env = {**os.environ, **browser_env, "PYTHONUNBUFFERED": "1"}
    log = Path(browser_env["REPORTGEN_DATA_DIR"]) / "streamlit.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [
                sys.executable, "-m", "streamlit", "run", str(REPO / "app.py"),
                "--server.address", "127.0.0.1", "--server.port", str(port),
                "--server.headless", "true", "--browser.gatherUsageStats", "false",
                "--server.fileWatcherType", "none",
            ],
            cwd=REPO, env=env, stdout=sink, stderr=subprocess.STDOUT,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(f"{url}/_stcore/health", process, START_TIMEOUT_S)
        yield AppServer(url, Path(browser_env["REPORTGEN_DATA_DIR"]), browser_env)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    yield launched
    launched.close()


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 800}, accept_downloads=True)
    context.set_default_timeout(STEP_TIMEOUT_MS)
    opened = context.new_page()
    yield opened
    context.close()


def screenshot(page: Page, name: str) -> Path:
    """Keep a full-page screenshot as a test artifact; returns its path."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{re.sub(r'[^a-z0-9-]+', '-', name.lower()).strip('-')}.png"
    page.screenshot(path=path, full_page=True)
    return path


def sign_in(page: Page, server: AppServer, username: str) -> None:
    page.goto(server.url)
    page.get_by_role("textbox", name="Username").fill(username)
    page.get_by_role("textbox", name="Password").fill(PASSWORDS[username])
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Signed in as")).to_be_visible()


def clean_screenshots() -> None:
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
