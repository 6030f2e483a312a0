"""Fixtures driving the Streamlit app with AppTest against a real small warehouse and metadata DB.

One data dir per session: the shared small demo warehouse (``warehouse_path``, generated once by
the root conftest with ``seed_demo_warehouse(rows=20_000, end_date=2026-10-31)``) and a SQLite
metadata DB migrated and seeded with the demo users. Each test points the ``REPORTGEN_*``
variables at it; the app builds its services once (``st.cache_resource``), and the cache is
cleared at the end of the session, which closes them.

The clock the catalog page measures data freshness with is frozen at `FROZEN_NOW`, so what the
tests read ("(40 days ago); within its SLA of 92 days") does not depend on the day they run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import streamlit as st
from streamlit.runtime.pages_manager import PagesManager
from streamlit.testing.v1 import AppTest, app_test

import reportgen.services.catalog
from reportgen.bootstrap import Services, build_services
from reportgen.domain.catalog import Catalog
from reportgen.services.catalog import CatalogService
from reportgen.services.queries import QueryService
from reportgen.services.users import seed_demo_users
from reportgen.settings import load_settings

APP = Path(__file__).resolve().parents[2] / "app.py"
# 32 bytes or more: PyJWT warns (an error here) about shorter HMAC keys for the sign-in cookie.
COOKIE_KEY = "test-key-for-the-app-tests-only-0123456789"
TIMEOUT_S = 30
FROZEN_NOW = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)
"""Ten and a half days after the demo data ends (2026-10-31)."""


def app_env(data_dir: Path, warehouse: Path) -> dict[str, str]:
    return {
        "REPORTGEN_DATA_DIR": str(data_dir),
        "REPORTGEN_DATABASE_URL": f"sqlite:///{data_dir / 'meta.db'}",
        "REPORTGEN_WAREHOUSE_URL": f"duckdb:///{warehouse}",
        "REPORTGEN_COOKIE_KEY": COOKIE_KEY,
        "REPORTGEN_CATALOG_DIR": str(APP.parent / "catalog"),
    }


@pytest.fixture(scope="session")
def app_data(tmp_path_factory: pytest.TempPathFactory, warehouse_path: Path) -> Iterator[Path]:
    """A data dir with a migrated metadata DB holding the demo users; the app's cache is
    emptied (and its services closed) when the session ends."""
    data_dir = tmp_path_factory.mktemp("app")
    with pytest.MonkeyPatch.context() as env:
        for name, value in app_env(data_dir, warehouse_path).items():
            env.setenv(name, value)
        seeded = build_services(load_settings(), upgrade=True)
        try:
            seed_demo_users(seeded.users)
        finally:
            seeded.close()
    st.cache_resource.clear()
    yield data_dir
    st.cache_resource.clear()


@pytest.fixture(scope="session", autouse=True)
def apptest_scratch() -> Iterator[None]:
    """Remove the scratch folder AppTest makes when imported, once the tests are done: left to
    the interpreter's exit, it warns "Implicitly cleaning up <TemporaryDirectory …>"."""
    yield
    app_test.TMP_DIR.cleanup()


@pytest.fixture(autouse=True)
def navigation_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run the app the way a warmed-up server does: in st.navigation mode.

    AppTest resets Streamlit's process-wide "legacy pages/ folder" flag before every run, and
    the app has a pages/ folder, so each run would start nested in the legacy mode that a real
    server leaves for good on its first run (see app.leave_legacy_pages_mode).
    """
    original = PagesManager.__init__

    def init(self: PagesManager, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    monkeypatch.setattr(PagesManager, "__init__", init)


@pytest.fixture(autouse=True)
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> datetime:
    """Freshness ages as of `FROZEN_NOW`: every CatalogService the app builds gets that clock."""
    original = reportgen.services.catalog.CatalogService.__init__

    def frozen(self: CatalogService, catalog: Catalog, queries: QueryService, **_: object) -> None:
        original(self, catalog, queries, clock=lambda: FROZEN_NOW)

    monkeypatch.setattr(reportgen.services.catalog.CatalogService, "__init__", frozen)
    return FROZEN_NOW


@pytest.fixture
def env(app_data: Path, warehouse_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The app's variables for this test only."""
    for name, value in app_env(app_data, warehouse_path).items():
        monkeypatch.setenv(name, value)
    return app_data


@pytest.fixture
def app_services(env: Path) -> Iterator[Services]:
    """A second set of services on the app's data, to read what the app wrote (the audit log)."""
    built = build_services(load_settings())
    yield built
    built.close()


@pytest.fixture
def app(env: Path) -> AppTest:
    """The app, not signed in."""
    return AppTest.from_file(APP, default_timeout=TIMEOUT_S)


@pytest.fixture
def signed_in(env: Path) -> Callable[[str], AppTest]:
    """The app with `username` signed in, the way streamlit-authenticator records a sign-in."""

    def sign_in(username: str) -> AppTest:
        at = AppTest.from_file(APP, default_timeout=TIMEOUT_S)
        at.session_state["authentication_status"] = True
        at.session_state["username"] = username
        return at

    return sign_in
