"""Shared fixtures: a small seeded demo warehouse, the repo's catalog, the demo principals."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from reportgen.bootstrap import Services, build_services
from reportgen.catalog.loader import load_catalog
from reportgen.domain.catalog import Catalog
from reportgen.domain.principal import Principal, Role
from reportgen.services.users import seed_demo_users
from reportgen.settings import Settings
from reportgen.warehouse.demo import seed_demo_warehouse

REPO = Path(__file__).resolve().parents[1]
CATALOG_DIR = REPO / "catalog"
DEMO_END = date(2026, 10, 31)
SMALL_ROWS = 20_000


# `make test` runs the suite on two xdist workers with `--dist loadgroup`. Each test file is a
# group, so a file's tests run in order on one worker and its module fixtures are built once;
# the files that start servers, browsers or scheduler processes form one group together, so
# they run one after another, as they would alone, while the other worker takes the rest.
PROCESS_HEAVY = (
    "tests/browser/",
    "tests/scheduler/test_command.py",
    "tests/scheduler/test_failures.py",
    "tests/scheduler/test_process.py",
    "tests/test_up.py",
)


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups off the items
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        path = item.path.relative_to(REPO).as_posix()
        group = "processes" if path.startswith(PROCESS_HEAVY) else path
        item.add_marker(pytest.mark.xdist_group(group))


@pytest.fixture(scope="session")
def warehouse_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small demo warehouse, generated once per test session."""
    path = tmp_path_factory.mktemp("warehouse") / "demo.duckdb"
    seed_demo_warehouse(path, rows=SMALL_ROWS, end_date=DEMO_END)
    return path


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog(CATALOG_DIR)


def make_settings(tmp: Path, warehouse: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "data_dir": tmp,
        "database_url": f"sqlite:///{tmp / 'meta.db'}",
        "warehouse_url": f"duckdb:///{warehouse}",
        "catalog_dir": CATALOG_DIR,
        "cookie_key": "test-cookie-key-0123456789abcdef-0123",
        # Port 1 refuses at once: a test that sends mail says where, never the demo sink.
        "smtp_url": "smtp://127.0.0.1:1",
        "mail_sink": False,
        "mask_key": "test-mask-key-0123456789abcdef-0123456",
        "audit_key": "test-audit-key-0123456789abcdef-012345",
        **overrides,
    }
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def seeded_metadata(tmp_path_factory: pytest.TempPathFactory, warehouse_path: Path) -> Path:
    """A migrated SQLite metadata DB with the demo users, made once and copied per test."""
    folder = tmp_path_factory.mktemp("metadata")
    built = build_services(make_settings(folder, warehouse_path), upgrade=True)
    seed_demo_users(built.users)
    built.close()
    return folder / "meta.db"


@pytest.fixture
def services(
    tmp_path: Path, warehouse_path: Path, catalog: Catalog, seeded_metadata: Path
) -> Iterator[Services]:
    """Services on a fresh copy of the seeded metadata DB and the shared small warehouse."""
    shutil.copyfile(seeded_metadata, tmp_path / "meta.db")
    built = build_services(make_settings(tmp_path, warehouse_path), catalog=catalog)
    yield built
    built.close()


ADMIN = Principal(
    username="admin", roles={Role.ADMIN}, attributes={"region": ("EMEA", "Americas", "APAC")}
)
ANA = Principal(username="ana", roles={Role.AUTHOR}, attributes={"region": ("EMEA",)})
VICTOR = Principal(username="victor", roles={Role.VIEWER}, attributes={"region": ("Americas",)})
