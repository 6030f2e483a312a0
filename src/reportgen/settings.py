"""Every setting of a deployment, read once from the environment (prefix ``REPORTGEN_``).

The defaults run the whole product on one machine with nothing to set up: a SQLite file for
metadata, a DuckDB file for the warehouse and a local folder for artifacts. Production points the
same settings at PostgreSQL, Snowflake and S3.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from reportgen.errors import ConfigurationError

ENV_PREFIX = "REPORTGEN_"
MIN_SECRET_LENGTH = 32


class Settings(BaseSettings):
    """The deployment's configuration. Each field is documented in the README."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_file=".env", extra="ignore", frozen=True
    )

    data_dir: Path = Field(
        default=Path("var"),
        description="Folder for the embedded defaults: metadata DB, demo warehouse, artifacts.",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the metadata DB. Default: sqlite file in data_dir.",
    )
    warehouse_url: str | None = Field(
        default=None,
        description="duckdb:///path.duckdb or snowflake://user@account/db/schema?warehouse=W&role=R."
        " Default: the demo DuckDB file in data_dir.",
    )
    duckdb_memory_limit: str = Field(
        default="512MB",
        pattern=r"^\d+(\.\d+)?\s*(KB|MB|GB|KiB|MiB|GiB)$",
        description="Most memory the embedded DuckDB warehouse may hold (it spills beyond).",
    )
    warehouse_password: SecretStr | None = Field(
        default=None, description="Password for the Snowflake warehouse, kept out of the URL."
    )
    artifacts_url: str | None = Field(
        default=None,
        description="file:///folder or s3://bucket/prefix. Default: data_dir/artifacts.",
    )
    catalog_dir: Path = Field(
        default=Path("catalog"), description="Folder of governed dataset definitions (*.yml)."
    )
    templates_dir: Path | None = Field(
        default=None,
        description="Folder of your own report templates, searched before the built-in ones.",
    )
    chromium_path: Path = Field(
        default=Path("/usr/bin/chromium"),
        description="The Chromium that draws chart images (Debian's chromium package).",
    )
    cookie_key: SecretStr | None = Field(
        default=None,
        description="Key signing sign-in cookies. Default: generated once into data_dir.",
    )
    mask_key: SecretStr | None = Field(
        default=None,
        description="Key mixed into hashed PII masks so they cannot be reversed by guessing."
        " Default: generated once into data_dir.",
    )
    audit_key: SecretStr | None = Field(
        default=None,
        description="Key of the audit chain's HMAC: without it no one can rewrite the chain."
        " Default: generated once into data_dir.",
    )
    cookie_expiry_days: float = Field(
        default=1.0, gt=0, le=30, description="Days a sign-in cookie stays valid."
    )
    query_row_cap: int = Field(
        default=100_000, ge=1, description="Most rows one query may return to the app."
    )
    query_timeout_s: float = Field(
        default=30.0, gt=0, description="Seconds a warehouse query may run before it is cancelled."
    )
    cache_max_entries: int = Field(
        default=512, ge=0, description="Query results kept in memory per process (0 disables)."
    )
    freshness_ttl_s: float = Field(
        default=60.0,
        ge=0,
        description="Seconds a dataset's freshness reading is reused before it is read again.",
    )
    demo_rows: int = Field(
        default=5_000_000, ge=1_000, description="Order rows in the generated demo warehouse."
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO", description="Lowest level written to the log."
    )
    log_format: Literal["json", "console"] = Field(
        default="json", description="json for machines, console for people."
    )
    public_url: str = Field(
        default="http://localhost:8501",
        description="Address people use to reach the app; links in emails start with it.",
    )
    api_host: str = Field(
        default="127.0.0.1", description="Interface the REST API listens on (0.0.0.0 in a pod)."
    )
    api_port: int = Field(default=8600, ge=1, le=65535, description="Port of the REST API.")
    api_rate_limit_per_minute: int = Field(
        default=120, ge=1, description="Requests one API token may make per minute."
    )
    smtp_url: str = Field(
        default="smtp://127.0.0.1:8025",
        description="smtp://user@host:587?starttls=true or smtps://user@host:465."
        " Default: the local mail sink that `reportgen up` starts.",
    )
    smtp_password: SecretStr | None = Field(
        default=None, description="Password for the SMTP relay, kept out of the URL."
    )
    smtp_from: str = Field(
        default="Reportgen <reports@localhost>", description="From address of report emails."
    )
    smtp_timeout_s: float = Field(
        default=30.0, gt=0, description="Seconds one SMTP conversation may take."
    )
    mail_sink: bool = Field(
        default=True,
        description="`reportgen up` starts a local SMTP sink on the smtp_url's loopback port"
        " that keeps each message in data_dir/mail (for demos; off in production).",
    )
    email_attachment_limit_mb: float = Field(
        default=10.0, gt=0, description="Largest attachments an email carries; beyond, a link."
    )
    delivery_url: str | None = Field(
        default=None,
        description="Where the storage channel writes: file:///folder or s3://bucket/prefix."
        " Default: data_dir/deliveries.",
    )
    s3_endpoint_url: str | None = Field(
        default=None, description="Endpoint of an S3-compatible store (unset for AWS S3)."
    )
    s3_kms_key_id: str | None = Field(
        default=None, description="KMS key for SSE-KMS encryption of S3 objects (unset: SSE-S3)."
    )
    webhook_key: SecretStr | None = Field(
        default=None,
        description="Key of the HMAC-SHA256 signature on webhook calls."
        " Default: generated once into data_dir.",
    )
    webhook_allowlist: str = Field(
        default="",
        description="Comma-separated hosts or CIDR ranges webhooks may reach even though they"
        " are private, loopback or link-local (refused by default).",
    )
    webhook_timeout_s: float = Field(
        default=10.0, gt=0, le=120, description="Seconds a webhook call may take."
    )
    scheduler_workers: int = Field(
        default=2, ge=1, le=64, description="Runs the scheduler executes at once."
    )
    scheduler_poll_s: float = Field(
        default=2.0,
        gt=0,
        le=5,
        description="Seconds between the scheduler's reads of the schedules table (changes are"
        " live within this long).",
    )
    render_timeout_s: float = Field(
        default=300.0, gt=0, description="Seconds a run may spend rendering before it fails."
    )
    deliver_timeout_s: float = Field(
        default=120.0, gt=0, description="Seconds a run may spend delivering before it fails."
    )
    otlp_endpoint: str | None = Field(
        default=None,
        description="OTLP/HTTP endpoint for traces, such as http://collector:4318 (unset: off).",
    )

    @field_validator(
        "database_url", "warehouse_url", "artifacts_url", "delivery_url", "smtp_url", "public_url"
    )
    @classmethod
    def _has_scheme(cls, value: str | None) -> str | None:
        if value is not None and not urlsplit(value).scheme:
            raise ValueError("must be a URL with a scheme, such as sqlite:///var/reportgen.db")
        return value

    @field_validator("warehouse_url")
    @classmethod
    def _known_warehouse(cls, value: str | None) -> str | None:
        if value is not None and urlsplit(value).scheme not in {"duckdb", "snowflake"}:
            raise ValueError("must start with duckdb:// or snowflake://")
        return value

    @field_validator("cookie_key", "mask_key", "audit_key", "webhook_key")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < MIN_SECRET_LENGTH:
            raise ValueError(f"must be at least {MIN_SECRET_LENGTH} characters")
        return value

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'reportgen.db'}"

    @property
    def resolved_warehouse_url(self) -> str:
        return self.warehouse_url or f"duckdb:///{self.data_dir / 'warehouse.duckdb'}"

    @property
    def resolved_artifacts_url(self) -> str:
        return self.artifacts_url or (self.data_dir / "artifacts").resolve().as_uri()

    @property
    def resolved_delivery_url(self) -> str:
        return self.delivery_url or (self.data_dir / "deliveries").resolve().as_uri()


def load_settings(**overrides: object) -> Settings:
    """Read the settings, turning a bad value into one message naming each variable at fault."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            field = str(error["loc"][0]) if error["loc"] else "?"
            lines.append(f"{ENV_PREFIX}{field.upper()}: {error['msg']}")
        raise ConfigurationError("invalid settings:\n" + "\n".join(lines)) from None
