"""The PDF: a report's HTML laid out by WeasyPrint, with metadata, outline and attachments.

Same document, same bytes: WeasyPrint derives the file identifier from the content, and every
date written into the file (info dictionary, XMP, attachment dates) is the run's logical time.
The URL fetcher reads only ``data:`` URIs and files under the template folders; a reference to
anything else fails the render with `ResourceRefused` instead of a silently missing image.
"""

from __future__ import annotations

import gc
import io
import logging
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

import pikepdf
import weasyprint
from weasyprint.urls import URLFetcher, URLFetcherResponse

from reportgen.errors import InternalError, InvalidInput
from reportgen.rendering import pdf_charts, pdf_css, pdf_parts
from reportgen.rendering.document import (
    CHART_SCHEME,
    PDF_CHART,
    ChartNotDrawn,
    Document,
    PendingChart,
)
from reportgen.rendering.forked import Child, Send, Work
from reportgen.rendering.framestack import on_roomy_stack

PRODUCER = "reportgen"

pdf_css.install()  # the template's stylesheets are parsed once per process, not per layout


class ResourceRefused(InvalidInput):
    """The report's HTML refers to something the renderer may not read."""

    def __init__(self, urls: Sequence[str], placed: Iterable[str] = ()) -> None:
        self.urls = tuple(urls)
        placed = set(placed)
        super().__init__(_refusal(url, placed=url in placed) for url in self.urls)


def _refusal(url: str, *, placed: bool = False) -> str:
    if placed:
        return (
            f"the report uses the chart {url} other than as an image; a chart is placed "
            'only where an <img src="{{ figure | data_uri }}"> lays it out'
        )
    if url.startswith(f"{CHART_SCHEME}:"):
        return (
            f"the report refers to {url}, which is none of its charts; refer to a chart's "
            "image with the data_uri filter (`figure | data_uri`)"
        )
    return (
        f"the report refers to {url}, outside the template and asset folders; "
        "put the file in the template's folder and refer to it by a relative path"
    )


class ReportFetcher(URLFetcher):  # type: ignore[misc]  # weasyprint ships no type hints
    """Fetches ``data:`` URIs, files under the allowed folders and the report's SVG and PNG
    charts (by their ``reportgen-chart:`` URIs, from `drawn`), and nothing else. A chart drawn
    as a PDF is never fetched: it is laid out as a placeholder (`pdf_charts`)."""

    def __init__(
        self,
        allowed_roots: Sequence[Path],
        charts: Mapping[str, PendingChart] | None = None,
        drawn: Mapping[str, bytes] | None = None,
    ) -> None:
        super().__init__(allowed_protocols=("data", "file"))
        self.allowed_roots = tuple(root.resolve() for root in allowed_roots)
        self.charts = dict(charts or {})
        self.drawn = dict(drawn or {})
        self.refused: list[str] = []

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        chart = self.charts.get(url)
        if chart is not None and chart.mime != PDF_CHART:
            # Drawn before layout (a forked child has only these); else wait for it here.
            body = self.drawn[url] if url in self.drawn else chart.result()
            return URLFetcherResponse(url, body=body, headers={"Content-Type": chart.mime})
        scheme = urlsplit(url).scheme.lower()
        if scheme == "data":
            return super().fetch(url, headers)
        if scheme == "file":
            path = self._allowed_path(url)
            if path is not None:
                return URLFetcherResponse(path.as_uri(), body=path.read_bytes())
        self.refused.append(url)
        raise PermissionError(f"reportgen does not fetch {url}")

    def _allowed_path(self, url: str) -> Path | None:
        parts = urlsplit(url)
        if parts.netloc not in ("", "localhost"):
            return None
        try:
            path = Path(url2pathname(unquote(parts.path))).resolve(strict=True)
        except (OSError, RuntimeError):
            return None
        if not path.is_file():
            return None
        if any(path.is_relative_to(root) for root in self.allowed_roots):
            return path
        return None


def render_pdf(
    document: Document, html: str, *, base_url: Path, allowed_roots: list[Path]
) -> bytes:
    """Lay out ``html`` (the document's rendered template) as a PDF.

    ``base_url`` is the template's folder, for its relative URLs; ``allowed_roots`` are the
    folders the fetcher may read. ``document.pdfa`` makes a PDF/A-3b file that carries each
    table's CSV as an attachment.

    A report with the base layout's parts is laid out on two cores (`reportgen.rendering.
    pdf_parts`); the bytes are the same whether the second part runs in a child process or,
    on one core or when the child fails, in this one. PDF/A files are laid out in one piece.

    WeasyPrint's deep recursion runs on a roomy frame stack (`reportgen.rendering.framestack`),
    here and in the child, which forks from under it.
    """
    return on_roomy_stack(
        _render_pdf, document, html, base_url=base_url, allowed_roots=allowed_roots
    )


def _render_pdf(
    document: Document, html: str, *, base_url: Path, allowed_roots: list[Path]
) -> bytes:
    base = base_url.resolve().as_uri() + "/"
    charts = _charts(document)
    placed = any(chart.mime == PDF_CHART for chart in charts.values())
    if document.pdfa and placed:
        # Chromium's PDF drawing is not checked against PDF/A: such a file draws its charts
        # itself (`images.print_format`), and a caller that asked otherwise is a bug.
        raise InternalError("a PDF/A report's charts must be SVG or PNG, not PDFs to place")
    # Every wait happens outside the layout lock, which would hold up the process's other
    # renders: for the charts WeasyPrint draws, before layout; for the others, after.
    drawn = _drawn(document, placed=False)
    parts = None if document.pdfa else pdf_parts.split(html)
    if parts is not None:
        try:
            with _layout_lock, _fewer_collections():
                front, back, stamp = _render_parts(document, parts, base, allowed_roots, drawn)
            return pdf_parts.join(parts, front, back, stamp, _drawn(document))
        except pdf_parts.CannotSplit as exc:
            _log.info("laying the report out in one piece: %s", exc)
    with _layout_lock, _fewer_collections():
        fetcher = ReportFetcher(allowed_roots, charts, drawn)
        rendered = _layout(document, html, base, fetcher, _placeholders(charts))
        data: bytes = rendered.write_pdf(attachments=_attachments(document), **_options(document))
    _refuse(fetcher.refused, charts)
    if placed:
        with pikepdf.open(io.BytesIO(data)) as laid:
            pdf_charts.place(laid, _drawn(document))
            data = pdf_parts.saved(laid)
    return data


_layout_lock = threading.Lock()
"""One layout at a time per process. WeasyPrint is pure Python (threads would not run two
layouts at once anyway), and no thread is inside Pango when the front part forks."""

_log = logging.getLogger(__name__)


def _layout(
    document: Document,
    html: str,
    base: str,
    fetcher: ReportFetcher,
    images: Mapping[str, Any] | None = None,
) -> Any:
    """`html` laid out; `images` are chart placeholders by URL (WeasyPrint's image cache)."""
    page = _ReportHTML(string=html, base_url=base, url_fetcher=fetcher)
    rendered = page.render(
        color_profiles=_color_profiles(document),
        cache=dict(images or {}),  # WeasyPrint adds what it fetches: a cache of this layout's
        **_options(document),
    )
    _set_metadata(rendered, document)
    return rendered


CHART_WAIT_S = 300.0
"""How long a render waits for its charts in all (each has its own deadline in the chart
renderer, retry included: this only ends a wait for a renderer that went away)."""


def _charts(document: Document) -> dict[str, PendingChart]:
    return {chart.uri: chart for chart in document.pending_charts()}


def _placeholders(charts: Mapping[str, PendingChart]) -> dict[str, pdf_charts.ChartPlaceholder]:
    return pdf_charts.placeholders(c for c in charts.values() if c.mime == PDF_CHART)


def _drawn(document: Document, *, placed: bool = True) -> dict[str, bytes]:
    """The document's charts' drawings by URI, once every one is drawn (without `placed`:
    only those WeasyPrint draws itself, SVG and PNG). A chart that failed raises its error
    here, naming the chart, before WeasyPrint could log a failed image and leave it out."""
    deadline = time.monotonic() + CHART_WAIT_S
    drawings: dict[str, bytes] = {}
    for block in document.blocks:
        figure = block.figure
        if figure is None or figure.pending is None:
            continue
        chart = figure.pending
        if chart.mime == PDF_CHART and not placed:
            continue
        try:
            drawings[chart.uri] = chart.result(timeout_s=max(0.0, deadline - time.monotonic()))
        except TimeoutError:
            raise ChartNotDrawn(
                f"the chart “{figure.title}” was not drawn within {CHART_WAIT_S:.0f} s"
            ) from None
        except Exception as exc:
            raise _naming(exc, figure.title) from exc
    return drawings


def _naming(error: Exception, title: str) -> Exception:
    """`error` with the chart's title in front of its message, when its type allows."""
    try:
        return type(error)(f"the chart “{title}”: {error}")
    except TypeError:
        return error


def _anchor_pages(rendered: Any) -> dict[str, int]:
    """Each anchor's 0-based page index (the first, where a name is used twice)."""
    anchors: dict[str, int] = {}
    for index, page in enumerate(rendered.pages):
        for name in page.anchors:
            anchors.setdefault(name, index)
    return anchors


def _laid(rendered: Any, options: dict[str, Any]) -> pdf_parts.Laid:
    return pdf_parts.Laid(
        rendered.write_pdf(**options), _anchor_pages(rendered), len(rendered.pages)
    )


def _refuse(refused: Sequence[str], charts: Mapping[str, PendingChart]) -> None:
    if refused:
        placed = (uri for uri, chart in charts.items() if chart.mime == PDF_CHART)
        raise ResourceRefused(sorted(set(refused)), placed)


def _render_parts(
    document: Document,
    parts: pdf_parts.Parts,
    base: str,
    allowed_roots: list[Path],
    drawn: Mapping[str, bytes],
) -> tuple[pdf_parts.Laid, pdf_parts.Laid, bytes]:
    """The front in a child process (or here), the back and the stamp here, for the join.

    The child starts while the chart browser may still be drawing: charts drawn as PDFs are
    laid out as placeholders and filled in when the parts are joined, so no part waits for
    them; `drawn` holds the SVG and PNG charts WeasyPrint draws itself.
    """
    charts = _charts(document)
    fetcher = ReportFetcher(allowed_roots, charts, drawn)
    images = _placeholders(charts)
    options = _options(document)
    job = Child.start(_front_work(document, parts.front, base, fetcher, images), "pdf-front")
    try:
        back = _laid(_layout(document, parts.back, base, fetcher, images), options)
        covers = pdf_parts.back_cover_pages(parts, back)
        laid = job.receive("laid") if job is not None else None
        if laid is not None and not _shaped(laid, int, dict):
            _log.warning("the PDF's front part sent an unusable answer: %.200r", laid)
            laid = None  # not what _front_work sends: lay the front out here
        front: pdf_parts.Laid | None = None
        if laid is None:
            front = _laid(_layout(document, parts.front, base, fetcher, images), options)
            laid = ("laid", front.pages, front.anchors)
        kept = pdf_parts.front_kept(parts, pdf_parts.Laid(b"", laid[2], laid[1]))
        stamp_html = parts.stamp(len(kept) + back.pages, covers)
        stamp = _layout(document, stamp_html, base, fetcher).write_pdf(**options)
        if front is None:
            written = job.receive("pdf", last=True) if job is not None else None
            if written is not None and _shaped(written, bytes, list):
                front = pdf_parts.Laid(written[1], laid[2], laid[1])
                fetcher.refused.extend(written[2])
            else:
                front = _laid(_layout(document, parts.front, base, fetcher, images), options)
    finally:
        if job is not None:
            job.stop()
    _refuse(fetcher.refused, charts)
    return front, back, stamp


def _shaped(message: tuple[Any, ...], *types: type) -> bool:
    """Whether `message` is its kind followed by values of `types`, as `_front_work` sends."""
    return len(message) == len(types) + 1 and all(
        isinstance(value, kind) for value, kind in zip(message[1:], types, strict=True)
    )


def _front_work(
    document: Document,
    html: str,
    base: str,
    fetcher: ReportFetcher,
    images: Mapping[str, pdf_charts.ChartPlaceholder],
) -> Work:
    """What the child does with the front: lay it out, report its pages, and send its file.
    It needs no chart that is still being drawn: `fetcher` holds those WeasyPrint draws."""

    def work(send: Send) -> None:
        rendered = _layout(document, html, base, fetcher, images)
        send(("laid", len(rendered.pages), _anchor_pages(rendered)))
        send(("pdf", rendered.write_pdf(**_options(document)), fetcher.refused))

    return work


def _options(document: Document) -> dict[str, Any]:
    options: dict[str, Any] = {"pdf_identifier": True}
    if document.pdfa:
        options["pdf_variant"] = "pdf/a-3b"
        options["output_intent"] = _SRGB
    return options


_SRGB = "reportgen-srgb"


def _color_profiles(document: Document) -> dict[str, Any] | None:
    """PDF/A's output intent, the sRGB profile WeasyPrint ships.

    WeasyPrint's own ``output_intent="srgb"`` opens the profile and never closes the file (a
    ResourceWarning on every PDF/A render); reading it ourselves avoids that.
    """
    if not document.pdfa:
        return None
    from weasyprint.css import ColorProfile  # noqa: PLC0415 - WeasyPrint internals

    rgb = (["r"], ["g"], ["b"])
    return {
        _SRGB: ColorProfile(io.BytesIO(_srgb_icc()), "sRGB2014.icc", "relative-colorimetric", rgb)
    }


@cache
def _srgb_icc() -> bytes:
    return (resources.files("weasyprint.pdf") / "sRGB2014.icc").read_bytes()


def _set_metadata(rendered: Any, document: Document) -> None:
    """The info dictionary and XMP, from the document rather than from whatever the template
    put in its ``<head>``, so every template yields the same metadata."""
    stamp = _utc(document.generated_at).strftime("%Y-%m-%dT%H:%M:%SZ")
    metadata = rendered.metadata
    metadata.title = document.title
    metadata.authors = [document.generated_for]
    metadata.description = document.subtitle or f"{document.dataset_title} report"
    metadata.keywords = [document.dataset_title, document.classification, document.template]
    metadata.generator = PRODUCER
    metadata.created = stamp
    metadata.modified = stamp
    metadata.lang = document.locale.replace("_", "-")


def _attachments(document: Document) -> list[weasyprint.Attachment]:
    if not document.pdfa:
        return []
    stamp = _utc(document.generated_at).replace(tzinfo=None)
    return [
        weasyprint.Attachment(
            string=content,
            name=name,
            description=f"{name}: table data of {document.title}",
            created=stamp,
            modified=stamp,
            relationship="Data",
        )
        for name, content in document.attachments
    ]


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@cache
def _lean_user_agent_stylesheet() -> weasyprint.CSS:
    """WeasyPrint's user-agent stylesheet without footnote and marker pseudo-elements on table
    rows and cells.

    The stock sheet gives every element six pseudo-element styles (``::marker``,
    ``::footnote-call``…), each computed without sharing: a third of the style time of a long
    table. A table cell can be neither a list item nor a footnote, so nothing changes on paper.
    """
    from weasyprint.css.counters import CounterStyle  # noqa: PLC0415 - WeasyPrint internals
    from weasyprint.html import UA  # noqa: PLC0415

    lean = UA
    for pseudo in (
        "marker",
        "footnote-call",
        "footnote-marker",
        "note-call",
        "note-marker",
        "note-callback",
    ):
        lean = lean.replace(f"\n::{pseudo} {{", f"\n:not(tr, td, th)::{pseudo} {{")
    # The counter styles this sheet defines are already in WeasyPrint's shared set: parse them
    # into a throwaway one rather than redefine them.
    return weasyprint.CSS(string=lean, counter_style=CounterStyle())


class _ReportHTML(weasyprint.HTML):  # type: ignore[misc]  # weasyprint ships no type hints
    def _ua_stylesheets(self, forms: bool = False) -> list[Any]:
        sheets: list[Any] = super()._ua_stylesheets(forms)
        return [_lean_user_agent_stylesheet(), *sheets[1:]]


_gc_lock = threading.Lock()
_gc_users = 0
_gc_saved: tuple[int, int, int] = gc.get_threshold()


@contextmanager
def _fewer_collections() -> Iterator[None]:
    """Collect young objects less often while WeasyPrint lays out.

    Layout allocates millions of small, mostly long-lived objects; at Python's default
    threshold the collector walks them over and over, about 40% of the time of a long
    table. Thresholds are process-wide, so concurrent renders share one raised setting.
    """
    global _gc_users, _gc_saved  # noqa: PLW0603 - one process-wide setting, guarded by a lock
    with _gc_lock:
        if _gc_users == 0:
            _gc_saved = gc.get_threshold()
            gc.set_threshold(10_000, 10, 10)
        _gc_users += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_users -= 1
            if _gc_users == 0:
                gc.set_threshold(*_gc_saved)
