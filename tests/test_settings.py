"""Settings: every one documented, bad values named by their variable."""

from __future__ import annotations

import pytest

from reportgen.errors import ConfigurationError
from reportgen.settings import ENV_PREFIX, Settings, load_settings
from tests.conftest import REPO


@pytest.mark.parametrize("field", sorted(Settings.model_fields))
def test_every_setting_is_in_the_readme(field: str) -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert f"`{ENV_PREFIX}{field.upper()}`" in readme


@pytest.mark.parametrize("field", sorted(Settings.model_fields))
def test_every_setting_has_a_description(field: str) -> None:
    assert Settings.model_fields[field].description


def test_defaults_are_embedded(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in Settings.model_fields:
        monkeypatch.delenv(f"{ENV_PREFIX}{name.upper()}", raising=False)
    settings = load_settings(_env_file=None)
    assert settings.resolved_database_url == "sqlite:///var/reportgen.db"
    assert settings.resolved_warehouse_url == "duckdb:///var/warehouse.duckdb"
    assert settings.resolved_artifacts_url.startswith("file://")
    assert settings.resolved_artifacts_url.endswith("/var/artifacts")


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        (
            "REPORTGEN_QUERY_ROW_CAP",
            "lots",
            "REPORTGEN_QUERY_ROW_CAP: Input should be a valid integer",
        ),
        (
            "REPORTGEN_QUERY_TIMEOUT_S",
            "-1",
            "REPORTGEN_QUERY_TIMEOUT_S: Input should be greater than 0",
        ),
        (
            "REPORTGEN_WAREHOUSE_URL",
            "mysql://x/y",
            "REPORTGEN_WAREHOUSE_URL: Value error, must start with duckdb://",
        ),
        (
            "REPORTGEN_DATABASE_URL",
            "just-a-path",
            "REPORTGEN_DATABASE_URL: Value error, must be a URL",
        ),
        ("REPORTGEN_LOG_LEVEL", "LOUD", "REPORTGEN_LOG_LEVEL: Input should be 'DEBUG'"),
    ],
)
def test_bad_values_name_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, message: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigurationError) as caught:
        load_settings(_env_file=None)
    assert message in str(caught.value)


def test_secrets_do_not_print(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REPORTGEN_COOKIE_KEY", "super-secret-value-0123456789abcdef")
    settings = load_settings(_env_file=None)
    assert "super-secret-value" not in repr(settings)
    assert settings.cookie_key is not None
    assert settings.cookie_key.get_secret_value() == "super-secret-value-0123456789abcdef"
