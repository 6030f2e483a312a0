"""Wiring: build the adapters named by the settings and hand them to the services."""

from __future__ import annotations

import logging
import os
import secrets
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from pydantic import SecretStr

from reportgen.artifacts import ArtifactStore, open_artifact_store
from reportgen.catalog.loader import load_catalog
from reportgen.domain.catalog import Catalog
from reportgen.errors import ConfigurationError
from reportgen.observability import record_delivery, record_run
from reportgen.rendering.document import ChartFormat, PendingChart
from reportgen.rendering.templates import TemplateLibrary
from reportgen.services.audit import AuditService
from reportgen.services.backup import BackupService
from reportgen.services.catalog import CatalogService
from reportgen.services.facts import FactService
from reportgen.services.ports import DeliveryChannel, Warehouse
from reportgen.services.queries import QueryService
from reportgen.services.render import RenderService
from reportgen.services.reports import ReportService
from reportgen.services.runs import Limits as RunLimits
from reportgen.services.runs import RunService
from reportgen.services.saved_reports import SavedReportService
from reportgen.services.schedules import ScheduleService
from reportgen.services.tokens import ApiTokenService
from reportgen.services.users import UserService
from reportgen.settings import MIN_SECRET_LENGTH, Settings
from reportgen.store import MetadataStore
from reportgen.store.backup import MetadataBackups
from reportgen.store.deliveries import DeliveryRepository
from reportgen.store.runs import RunRepository
from reportgen.store.tokens import TokenRepository

log = logging.getLogger("reportgen")


@dataclass(frozen=True)
class Services:
    """Everything a door (UI, API, CLI, scheduler) calls. Built once per process."""

    settings: Settings
    catalog: CatalogService
    queries: QueryService
    users: UserService
    audit: AuditService
    store: MetadataStore
    warehouse: Warehouse
    reports: ReportService
    render: RenderService
    tokens: ApiTokenService
    saved_reports: SavedReportService
    schedules: ScheduleService
    channels: Mapping[str, DeliveryChannel]  # by kind: email, storage, webhook
    runs: RunService

    def close(self) -> None:
        """Release what the services hold: each channel that has a ``close`` (its connections
        or clients), the warehouse, the metadata DB's pool. One failing does not keep the rest
        open."""
        try:
            for channel in self.channels.values():
                close = getattr(channel, "close", None)
                if callable(close):
                    try:
                        close()
                    except Exception:
                        log.exception("closing the %s channel failed", channel.kind)
        finally:
            try:
                self.warehouse.close()
            finally:
                self.store.dispose()


def duckdb_path(url: str) -> Path:
    """The file of a ``duckdb:///path`` URL (relative unless the path starts with //)."""
    parts = urlsplit(url)
    return Path(unquote(parts.netloc + parts.path).removeprefix("/"))


def build_warehouse(settings: Settings) -> Warehouse:
    """The warehouse named by the settings, holding the deployment's mask key for hashed masks."""
    url = settings.resolved_warehouse_url
    mask_key = deployment_secret(settings, "mask", settings.mask_key)
    if url.startswith("duckdb:"):
        from reportgen.warehouse.duckdb import DuckDBWarehouse

        return DuckDBWarehouse(
            duckdb_path(url), memory_limit=settings.duckdb_memory_limit, mask_key=mask_key
        )
    from reportgen.warehouse.snowflake import SnowflakeWarehouse

    password = settings.warehouse_password
    return SnowflakeWarehouse(
        url, password.get_secret_value() if password else None, mask_key=mask_key
    )


AUDIT_HEAD_FILE = "audit.head"
"""Where in data_dir the audit chain's newest event is recorded, beside the audit key."""


def open_store(settings: Settings, *, upgrade: bool = False, check: bool = True) -> MetadataStore:
    """The metadata store; refuses a database behind its migrations unless told to upgrade.

    ``check=False`` opens a database in any state (a restore fills an empty one).
    """
    store = MetadataStore(
        settings.resolved_database_url,
        audit_key=deployment_secret(settings, "audit", settings.audit_key),
        audit_head=settings.data_dir / AUDIT_HEAD_FILE,
    )
    if not check:
        return store
    if upgrade:
        store.upgrade()
    else:
        store.check_current()
    return store


def build_services(
    settings: Settings,
    *,
    catalog: Catalog | None = None,
    warehouse: Warehouse | None = None,
    upgrade: bool = False,
) -> Services:
    catalog = catalog or load_catalog(settings.catalog_dir)
    store = open_store(settings, upgrade=upgrade)
    warehouse = warehouse or build_warehouse(settings)
    audit = AuditService(store.audit)
    queries = QueryService(
        catalog,
        warehouse,
        store.audit,
        row_cap=settings.query_row_cap,
        timeout_s=settings.query_timeout_s,
        cache_entries=settings.cache_max_entries,
        freshness_ttl_s=settings.freshness_ttl_s,
    )
    reports = ReportService(catalog, queries, FactService(queries), store.audit)
    render = RenderService(
        catalog,
        reports,
        images=ChartImagesOnFirstUse(settings.chromium_path),
        library=TemplateLibrary(user_dir=settings.templates_dir),
        store=artifact_store(settings),
        audit=store.audit,
    )
    saved_reports = SavedReportService(store.reports, reports, store.audit)
    # Schedules check webhook and storage targets with the delivery channels at save time.
    from reportgen.delivery import build_channels

    webhook_key = deployment_secret(settings, "webhook", settings.webhook_key)
    channels = build_channels(settings, webhook_key)
    schedules = ScheduleService(
        store.schedules, saved_reports, reports, store.users, channels=channels, audit=store.audit
    )
    run_ledger = RunRepository(store.engine)
    runs = RunService(
        run_ledger,
        DeliveryRepository(store.engine, run_ledger),
        schedules=schedules,
        reports=saved_reports,
        users=store.users,
        render=render,
        channels=channels,
        audit=store.audit,
        limits=RunLimits(
            render_timeout_s=settings.render_timeout_s,
            deliver_timeout_s=settings.deliver_timeout_s,
            attachment_limit_bytes=int(settings.email_attachment_limit_mb * 1024 * 1024),
        ),
        # A run is stale after three missed heartbeats (workers beat every poll interval).
        stale_after_s=max(3 * settings.scheduler_poll_s, 15.0),
        on_run_finished=lambda run, seconds: record_run(run.status.value, seconds),
        on_delivery=record_delivery,
    )
    return Services(
        runs=runs,
        saved_reports=saved_reports,
        schedules=schedules,
        channels=channels,
        reports=reports,
        render=render,
        settings=settings,
        catalog=CatalogService(catalog, queries),
        queries=queries,
        users=UserService(store.users, store.audit, store.sign_ins),
        audit=audit,
        store=store,
        warehouse=warehouse,
        tokens=ApiTokenService(TokenRepository(store.engine), store.users, store.audit),
    )


class ChartImagesOnFirstUse:
    """The process's chart renderer (`reportgen.rendering.images.chart_renderer`), imported
    with kaleido and its browser driver when the first chart is drawn: most processes that
    wire the services (the scheduler until a run renders, the CLI, the API) draw none."""

    def __init__(self, chromium_path: str | Path) -> None:
        self.chromium_path = chromium_path

    def submit(
        self, fig: Any, *, fmt: ChartFormat, width: int, height: int, scale: float = 2.0
    ) -> PendingChart:
        from reportgen.rendering.images import chart_renderer

        renderer = chart_renderer(self.chromium_path)
        return renderer.submit(fig, fmt=fmt, width=width, height=height, scale=scale)


def artifact_store(settings: Settings) -> ArtifactStore:
    """The artifact store the settings name (a folder, or an S3 bucket)."""
    return open_artifact_store(
        settings.resolved_artifacts_url,
        endpoint_url=settings.s3_endpoint_url,
        kms_key_id=settings.s3_kms_key_id,
    )


def build_backups(settings: Settings) -> tuple[BackupService, MetadataStore]:
    """The backup service over a store opened in any state; the caller disposes the store."""
    store = open_store(settings, check=False)
    artifacts = artifact_store(settings)
    return BackupService(MetadataBackups(store), artifacts, store.audit), store


def deployment_secret(settings: Settings, name: str, configured: SecretStr | None) -> str:
    """A deployment's secret: the setting when given, else one generated once into data_dir.

    The generated file is written whole under a temporary name and linked into place, so a
    crash or a concurrent start never leaves an empty or half-written key; when two processes
    race, one key wins and both use it.
    """
    if configured is not None:
        return configured.get_secret_value()
    path = settings.data_dir / f"{name}.key"
    try:
        if not path.is_file():
            path.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(
                "w", dir=path.parent, prefix=f".{name}.", delete=False, encoding="utf-8"
            ) as handle:
                handle.write(secrets.token_urlsafe(48))
            Path(handle.name).chmod(0o600)
            try:
                os.link(handle.name, path)  # fails if another process got there first
            except FileExistsError:
                pass
            finally:
                Path(handle.name).unlink()
        key = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        variable = f"REPORTGEN_{name.upper()}_KEY"
        raise ConfigurationError(f"cannot read or create {path}; set {variable}") from exc
    if len(key) < MIN_SECRET_LENGTH:
        raise ConfigurationError(
            f"{path} holds no usable key; delete it to have one generated, or set "
            f"REPORTGEN_{name.upper()}_KEY"
        )
    return key


def cookie_key(settings: Settings) -> str:
    """The key signing sign-in cookies."""
    return deployment_secret(settings, "cookie", settings.cookie_key)
