"""Browser journeys: the real app (`streamlit run app.py`) on loopback, driven by Playwright.

The server runs in its own data dir (a migrated metadata DB with the demo users, the shared
small demo warehouse) and is started once per session and stopped at the end. Journeys that
schedule reports also start, once, an SMTP sink on a free loopback port and `reportgen
scheduler` on the same data dir. Playwright drives Debian's Chromium (`/usr/bin/chromium`):
nothing is downloaded. Every scenario keeps a screenshot of each page it visits under
``test-artifacts/screenshots/``. Steps shared by several features live in `common_steps`.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Playwright, expect, sync_playwright

from reportgen.bootstrap import Services, build_services
from reportgen.delivery.mailsink import MailSink
from reportgen.services.users import seed_demo_users
from reportgen.settings import Settings
from tests.browser.app_ui import STEP_TIMEOUT_MS, AppServer

# Steps several features share: pytest-bdd keeps each step as a fixture of the module that
# defines it, and a star import makes those fixtures this conftest's.
from tests.browser.builder_steps import *  # noqa: F403
from tests.browser.common_steps import *  # noqa: F403
from tests.browser.runs_steps import *  # noqa: F403
from tests.conftest import REPO, make_settings

CHROMIUM = Path(os.environ.get("REPORTGEN_CHROMIUM_PATH", "/usr/bin/chromium"))
START_TIMEOUT_S = 60
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


@pytest.fixture(scope="session")
def browser_settings(tmp_path_factory: pytest.TempPathFactory, warehouse_path: Path) -> Settings:
    """The settings of the app under test: a migrated metadata DB with the demo users."""
    settings = make_settings(tmp_path_factory.mktemp("browser"), warehouse_path)
    built = build_services(settings, upgrade=True)
    try:
        seed_demo_users(built.users)
    finally:
        built.close()
    return settings


@pytest.fixture(scope="session")
def browser_env(browser_settings: Settings) -> dict[str, str]:
    """The REPORTGEN_* variables of the app under test (and any process started beside it)."""
    settings = browser_settings
    data_dir = settings.data_dir
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
def app_services(browser_settings: Settings, app_server: AppServer) -> Iterator[Services]:
    """The app's services in the test process: to read what the journeys leave behind (the
    audit log) and to prepare what a journey starts from."""
    built = build_services(browser_settings)
    yield built
    built.close()


@pytest.fixture(scope="session")
def mail_sink(browser_env: dict[str, str]) -> Iterator[MailSink]:
    """The test SMTP server: keeps every message it receives as an .eml file."""
    sink = MailSink("127.0.0.1", _free_port(), Path(browser_env["REPORTGEN_DATA_DIR"]) / "mail")
    with sink:
        yield sink


@pytest.fixture(scope="session")
def scheduler(
    browser_env: dict[str, str], app_server: AppServer, mail_sink: MailSink
) -> Iterator[str]:
    """`reportgen scheduler` beside the app, mailing through `mail_sink`; yields its API URL."""
    port = _free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("REPORTGEN_")},
        **browser_env,
        "REPORTGEN_SMTP_URL": f"smtp://127.0.0.1:{mail_sink.port}",
        "REPORTGEN_MAIL_SINK": "false",
        "REPORTGEN_API_PORT": str(port),
        "REPORTGEN_SCHEDULER_POLL_S": "1",
        "REPORTGEN_PUBLIC_URL": app_server.url,
        "REPORTGEN_LOG_FORMAT": "console",
    }
    log = Path(browser_env["REPORTGEN_DATA_DIR"]) / "scheduler.log"
    reportgen = Path(sys.executable).with_name("reportgen")  # the console script of the venv
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [str(reportgen), "scheduler"], cwd=REPO, env=env, stdout=sink, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(f"{url}/healthz", process, START_TIMEOUT_S)
        yield url
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


# Package scope: Playwright's sync API runs an event loop in this thread while it is open, which
# would stop later test modules from starting loops of their own.
@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="package")
def browser(playwright: Playwright) -> Iterator[Browser]:
    launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    yield launched
    launched.close()


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 800}, accept_downloads=True)
    context.set_default_timeout(STEP_TIMEOUT_MS)
    # Without the File System Access API, a table's "Download as CSV" is a plain download.
    context.add_init_script("delete window.showSaveFilePicker;")
    opened = context.new_page()
    yield opened
    context.close()
