"""Rendering a report into its distribution formats and storing them as one bundle.

`RenderService.render` previews the spec as the reader (governed queries, facts, figures),
lays it out as a `Document`, writes the chosen formats (PDF, CSV per table, XLSX, interactive
HTML) and stores them with a manifest (spec, SQL, parameters, dataset versions, row counts,
renderer versions, timings) and a SHA-256 per file. The same spec, data and logical time give
byte-identical files.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from functools import partial
from importlib import metadata
from typing import TYPE_CHECKING, Any

from reportgen.artifacts import (
    ArtifactStore,
    Bundle,
    BundleFile,
    safe_filename,
    slug,
    write_bundle,
)
from reportgen.domain.catalog import Catalog, ColumnType, MeasureFormat
from reportgen.domain.principal import Principal
from reportgen.domain.spec import ReportSpec, TableBlock
from reportgen.errors import InvalidInput
from reportgen.rendering.charts import print_size
from reportgen.rendering.document import ChartFormat, PendingChart
from reportgen.rendering.templates import TemplateLibrary
from reportgen.services.ports import AuditSink, ChartImages
from reportgen.services.reports import ReportPreview, ReportService, logical_time

if TYPE_CHECKING:
    from reportgen.rendering.exports import ColumnKind, ExportTable

# The PDF, image, export and document modules (WeasyPrint, kaleido, xlsxwriter: about 30 MB)
# are imported by the first render that needs them, not by every process that wires this
# service: the scheduler leads, and the API answers, long before a run renders anything.


class Format(StrEnum):
    PDF = "pdf"
    CSV = "csv"
    XLSX = "xlsx"
    HTML = "html"


CONTENT_TYPES = {
    Format.PDF: "application/pdf",
    Format.CSV: "text/csv; charset=utf-8",
    Format.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    Format.HTML: "text/html; charset=utf-8",
}
_RENDERER_PACKAGES = (
    "weasyprint",
    "plotly",
    "kaleido",
    "pandas",
    "pyarrow",
    "jinja2",
    "xlsxwriter",
)


def parse_formats(text: str) -> tuple[Format, ...]:
    """`pdf,csv` → (PDF, CSV); unknown names are one InvalidInput naming the choices."""
    names = [part.strip().lower() for part in text.split(",") if part.strip()]
    unknown = [n for n in names if n not in {f.value for f in Format}]
    if unknown or not names:
        choices = ", ".join(f.value for f in Format)
        raise InvalidInput(
            f"unknown format {', '.join(unknown) or '(none)'}; choose from {choices}"
        )
    return tuple(dict.fromkeys(Format(n) for n in names))


@dataclass(frozen=True)
class RenderedReport:
    bundle: Bundle
    files: tuple[BundleFile, ...]
    manifest: dict[str, Any]
    preview: ReportPreview


class _Timer:
    def __init__(self) -> None:
        self.stages: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.stages[name] = round((time.perf_counter() - started) * 1000, 1)


def _export_kind(kind: MeasureFormat | ColumnType) -> ColumnKind:
    kinds: dict[MeasureFormat | ColumnType, ColumnKind] = {
        MeasureFormat.NUMBER: "number",
        MeasureFormat.INTEGER: "integer",
        MeasureFormat.CURRENCY: "currency",
        MeasureFormat.PERCENT: "percent",
        ColumnType.STRING: "text",
        ColumnType.INTEGER: "integer",
        ColumnType.DECIMAL: "number",
        ColumnType.BOOLEAN: "boolean",
        ColumnType.DATE: "date",
        ColumnType.TIMESTAMP: "datetime",
    }
    return kinds[kind]


def renderer_versions() -> dict[str, str]:
    versions = {"reportgen": metadata.version("reportgen")}
    for package in _RENDERER_PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return versions


class _EachFigureOnce:
    """One render's chart images: each figure is submitted to the renderer once, and asked for
    again (by the document) it is the same pending image, not a second drawing."""

    def __init__(self, images: ChartImages) -> None:
        self.images = images
        self._submitted: dict[int, tuple[Any, PendingChart]] = {}
        self._lock = threading.Lock()  # preview workers may submit at once

    def submit(
        self, fig: Any, *, fmt: ChartFormat, width: int, height: int, scale: float = 2.0
    ) -> PendingChart:
        with self._lock:
            kept = self._submitted.get(id(fig))
            if kept is not None and kept[0] is fig:
                return kept[1]
        chart = self.images.submit(fig, fmt=fmt, width=width, height=height, scale=scale)
        with self._lock:
            # The figure is kept with its chart, so its id cannot be reused by another.
            self._submitted.setdefault(id(fig), (fig, chart))
            return self._submitted[id(fig)][1]


class RenderService:
    def __init__(
        self,
        catalog: Catalog,
        reports: ReportService,
        *,
        images: ChartImages,
        library: TemplateLibrary,
        store: ArtifactStore,
        audit: AuditSink,
        run_id: Callable[[], str] = lambda: secrets.token_hex(4),
    ) -> None:
        self.catalog = catalog
        self.reports = reports
        self.images = images
        self.library = library
        self.store = store
        self.audit = audit
        self._run_id = run_id

    @staticmethod
    def _draw(images: ChartImages, pdfa: bool, fig: Any) -> None:
        """Start drawing a chart's image as soon as its figure exists; the document asks for
        the same image later and gets this drawing."""
        from reportgen.rendering.images import print_format  # noqa: PLC0415 - see top

        width, height = print_size(fig)
        images.submit(fig, fmt=print_format(fig, pdfa=pdfa), width=width, height=height)

    def export_tables(self, preview: ReportPreview) -> list[ExportTable]:
        """Every table block with ALL its rows, typed for CSV and XLSX."""
        from reportgen.rendering.exports import ExportColumn, ExportTable  # noqa: PLC0415

        tables = []
        dataset = preview.dataset
        for block in preview.blocks:
            spec_block = block.block
            if not isinstance(spec_block, TableBlock) or block.table is None:
                continue
            frame = block.table.result.frame
            columns = []
            for name in frame.columns:
                if (measure := dataset.measure(name)) is not None:
                    columns.append(ExportColumn(name, measure.label, _export_kind(measure.format)))
                elif (dimension := dataset.dimension(name)) is not None:
                    kind = _export_kind(dataset.dimension_type(dimension))
                    columns.append(ExportColumn(name, dimension.label, kind))
                else:  # the time bucket
                    columns.append(
                        ExportColumn(
                            name, name.replace("__", " by ").replace("_", " ").capitalize(), "date"
                        )
                    )
            tables.append(
                ExportTable(
                    name=f"table-{block.index}",
                    title=spec_block.title,
                    columns=tuple(columns),
                    frame=frame,
                )
            )
        return tables

    def render(
        self,
        principal: Principal,
        spec: ReportSpec,
        *,
        formats: tuple[Format, ...] = (Format.PDF,),
        as_of: datetime | None = None,
        parameters: dict[str, tuple[str, ...]] | None = None,
    ) -> RenderedReport:
        from reportgen.rendering.exports import to_csv, to_xlsx  # noqa: PLC0415 - see top
        from reportgen.rendering.html import render_standalone_html  # noqa: PLC0415
        from reportgen.rendering.pdf import render_pdf  # noqa: PLC0415
        from reportgen.services.documents import DocumentBuilder  # noqa: PLC0415

        moment = logical_time(as_of)
        timer = _Timer()
        images = _EachFigureOnce(self.images)
        with timer.stage("prepare"):
            # Chart images are drawn while the other blocks query, and while the PDF is laid
            # out: its pages need their bytes only when they are drawn.
            preview = self.reports.preview(
                principal,
                spec,
                parameters=parameters,
                today=moment.date(),
                on_figure=(
                    partial(self._draw, images, spec.layout.pdfa) if Format.PDF in formats else None
                ),
            )
        name = slug(spec.title)
        tables = self.export_tables(preview)
        files: list[BundleFile] = []
        needs_csv = Format.CSV in formats or (Format.PDF in formats and spec.layout.pdfa)
        csvs = (
            [(safe_filename(f"{name}-{t.title}", "csv"), to_csv(t)) for t in tables]
            if needs_csv
            else []
        )
        titles = {d.name: d.title for d in self.catalog}
        with timer.stage("document"):
            builder = DocumentBuilder(
                preview, images if Format.PDF in formats else None, moment, titles
            )
            document = builder.document(attachments=tuple(csvs) if spec.layout.pdfa else ())
        if Format.PDF in formats:
            with timer.stage("pdf"):
                html = self.library.render_html(document)
                pdf = render_pdf(
                    document,
                    html,
                    base_url=self.library.folder(document.template),
                    allowed_roots=self.library.roots,
                )
            files.append(BundleFile(f"{name}.pdf", pdf, CONTENT_TYPES[Format.PDF]))
        if Format.CSV in formats:
            files += [BundleFile(name, data, CONTENT_TYPES[Format.CSV]) for name, data in csvs]
        lineage = [
            {
                "id": q.id,
                "dataset": q.dataset,
                "dataset_version": q.dataset_version,
                "sql": q.sql,
                "params": ", ".join(q.params),
                "rows": str(q.rows),
                "query_hash": q.query_hash,
                "result_sha256": q.result_sha256,
                "freshness": q.freshness,
            }
            for q in document.queries
        ]
        if Format.XLSX in formats:
            with timer.stage("xlsx"):
                workbook = to_xlsx(
                    tables,
                    lineage=lineage,
                    title=spec.title,
                    created=moment,
                    currency=spec.layout.currency,
                    locale=spec.layout.locale,
                )
            files.append(BundleFile(f"{name}.xlsx", workbook, CONTENT_TYPES[Format.XLSX]))
        if Format.HTML in formats:
            with timer.stage("html"):
                page = render_standalone_html(document, self.library)
            files.append(BundleFile(f"{name}.html", page.encode(), CONTENT_TYPES[Format.HTML]))
        manifest: dict[str, Any] = {
            "report": {
                "title": spec.title,
                "template": spec.template,
                "spec_fingerprint": spec.fingerprint,
                "spec": spec.model_dump(mode="json"),
                "resolved_time_range": preview.spec.time_range.model_dump(mode="json")
                if preview.spec.time_range
                else None,
            },
            "generated_for": principal.username,
            "generated_at": moment.isoformat(),
            "parameters": {k: list(v) for k, v in sorted((parameters or {}).items())},
            "access": list(document.access),
            "datasets": sorted({(q.dataset, q.dataset_version) for q in document.queries}),
            "queries": lineage,
            "renderer": renderer_versions(),
            "timings_ms": {
                **timer.stages,
                **{f"preview.{k}": round(v, 1) for k, v in preview.timings_ms.items()},
            },
        }
        prefix = f"renders/{name}/{moment:%Y%m%dT%H%M%SZ}-{self._run_id()}"
        bundle = write_bundle(self.store, prefix, files, manifest)
        self.audit.append(
            principal.username,
            "report.render",
            spec.dataset,
            "succeeded",
            {
                "title": spec.title,
                "spec_fingerprint": spec.fingerprint,
                "formats": [f.value for f in formats],
                "bundle": prefix,
                "files": {a.key.rsplit("/", 1)[-1]: a.sha256 for a in bundle.files},
            },
        )
        return RenderedReport(bundle=bundle, files=tuple(files), manifest=manifest, preview=preview)
