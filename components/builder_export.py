"""Preview, print preview and exports of the builder's spec, each made once per spec and data.

A `Rendition` is one preview of a spec (with its parameters) and every file rendered from it.
Renditions are kept in the session by the spec's fingerprint for as long as the data may be
reused (``REPORTGEN_FRESHNESS_TTL_S``), so a rerun that changes nothing queries nothing, and
the PDF the print preview drew is the very file the Export PDF button hands over.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import streamlit as st

from components.builder_pages import pdf_page_images
from components.session import services
from components.text import plain
from reportgen.artifacts import BundleFile
from reportgen.domain.principal import Principal
from reportgen.domain.spec import ReportSpec
from reportgen.errors import ConfigurationError
from reportgen.services.render import Format
from reportgen.services.reports import ReportPreview, describe_filters, logical_time

_RENDITIONS = "_builder_renditions"
KEEP = 8
"""Renditions kept per session: enough to flip back and forth between a few filter choices."""
FORMAT_LABELS = {Format.PDF: "PDF", Format.CSV: "CSV", Format.XLSX: "XLSX", Format.HTML: "HTML"}
Parameters = dict[str, tuple[str, ...]]


@dataclass
class Rendition:
    """One preview of a spec and the files rendered from it, at one logical time."""

    key: str
    spec: ReportSpec
    parameters: Parameters
    as_of: datetime
    preview: ReportPreview
    made_at: float
    files: dict[Format, tuple[BundleFile, ...]] = field(default_factory=dict)
    pages: tuple[bytes, ...] | None = None


def rendition_key(principal: Principal, spec: ReportSpec, parameters: Parameters) -> str:
    text = json.dumps(
        [principal.username, spec.fingerprint, sorted(parameters.items())], default=list
    )
    return hashlib.sha256(text.encode()).hexdigest()


def rendition(
    principal: Principal,
    spec: ReportSpec,
    parameters: Parameters,
    *,
    clock: Callable[[], float] = time.monotonic,
) -> Rendition:
    """The session's rendition of `spec`, previewed now unless a fresh one is kept."""
    cache: OrderedDict[str, Rendition] = st.session_state.setdefault(_RENDITIONS, OrderedDict())
    key = rendition_key(principal, spec, parameters)
    kept = cache.get(key)
    if kept is not None and clock() - kept.made_at < services().settings.freshness_ttl_s:
        cache.move_to_end(key)
        return kept
    as_of = logical_time()
    preview = services().reports.preview(
        principal, spec, parameters=parameters or None, today=as_of.date()
    )
    made = Rendition(key, spec, parameters, as_of, preview, clock())
    cache[key] = made
    cache.move_to_end(key)
    while len(cache) > KEEP:
        cache.popitem(last=False)
    return made


def empty_reason(preview: ReportPreview) -> str | None:
    """A sentence when the preview holds no data at all, None when there is something to show.

    Charts and tables count their rows; KPI tiles count when their value is neither missing nor
    zero. A report with none of these (only text) is never called empty.
    """
    counted = False
    for block in preview.blocks:
        results = [r.result for r in (block.chart, block.table) if r is not None]
        for result in results:
            counted = True
            if result.row_count:
                return None
        for kpi in block.kpis:
            counted = True
            if kpi.value.value not in (None, 0):
                return None
    if not counted:
        return None
    phrases = describe_filters(preview.spec, preview.dataset)
    where = f" ({'; '.join(phrases)})" if phrases else ""
    return (
        f"Nothing to export: no rows of {preview.dataset.title} match this period and these "
        f"filters{where}. Widen the period or remove a filter, then export."
    )


def _render(principal: Principal, made: Rendition, fmt: Format) -> tuple[BundleFile, ...]:
    """Render `fmt` once for this rendition, showing progress while it works."""
    if fmt in made.files:
        return made.files[fmt]
    label = FORMAT_LABELS[fmt]
    with st.status(f"Exporting {label}…", expanded=False) as status:
        try:
            rendered = services().render.render(
                principal,
                made.spec,
                formats=(fmt,),
                as_of=made.as_of,
                parameters=made.parameters or None,
            )
        except Exception:
            status.update(label=f"The {label} export failed", state="error")
            raise
        status.update(label=f"{label} ready", state="complete")
    suffix = f".{fmt.value}"
    made.files[fmt] = tuple(f for f in rendered.files if f.name.endswith(suffix))
    return made.files[fmt]


def _downloads(files: tuple[BundleFile, ...], fmt: Format, where: str) -> None:
    for i, file in enumerate(files):
        st.download_button(
            f"Download {file.name}" if len(files) > 1 else f"Download {FORMAT_LABELS[fmt]}",
            file.data,
            file_name=file.name,
            mime=file.content_type,
            key=f"builder_download_{where}_{fmt.value}_{i}",
            icon=":material/download:",
            on_click="ignore",
            type="primary" if fmt is Format.PDF else "secondary",
            help=f"{file.name}, {len(file.data) / 1024:,.0f} KB",
        )


def export_panel(principal: Principal, made: Rendition) -> None:
    """One button per format: it renders on first click, then downloads the kept file."""
    reason = empty_reason(made.preview)
    if reason is not None:
        st.warning(plain(reason), icon=":material/block:")
        return
    # A wrapping row of cells as wide as their buttons: equal columns clipped "Export HTML"
    # (and the Download labels) beside an open sidebar.
    row = st.container(horizontal=True)
    for fmt, label in FORMAT_LABELS.items():
        with row, st.container(width="content"):
            if fmt not in made.files:
                slot = st.empty()
                clicked = slot.button(
                    f"Export {label}",
                    key=f"builder_export_{fmt.value}",
                    icon=":material/ios_share:",
                    help="Renders the file; a Download button then hands it over.",
                )
                if not clicked:
                    continue
                slot.empty()
                _render(principal, made, fmt)
            _downloads(made.files[fmt], fmt, "export")
    if Format.CSV in made.files and not made.files[Format.CSV]:
        st.info("This report has no table, so there is no CSV. Add a table block for one.")


def print_preview(principal: Principal, made: Rendition) -> None:
    """The PDF's pages as the export hands them over, with its download button."""
    reason = empty_reason(made.preview)
    if reason is not None:
        st.info(plain(reason), icon=":material/block:")
        return
    (pdf,) = _render(principal, made, Format.PDF)
    _downloads((pdf,), Format.PDF, "print")
    if made.pages is None:
        try:
            made.pages = pdf_page_images(pdf.data)
        except ConfigurationError as exc:
            st.warning(f"The pages cannot be shown here: {exc}.")
            return
    count = len(made.pages)
    st.caption(f"{pdf.name}: {count} page{'s' if count != 1 else ''}, exactly as exported.")
    st.image(
        list(made.pages),
        caption=[f"Page {i} of {count}" for i in range(1, count + 1)],
        alt=[f"Page {i} of {count} of the PDF {pdf.name}" for i in range(1, count + 1)],
        width="stretch",
    )
