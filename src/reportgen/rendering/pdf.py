"""The PDF: a report's HTML laid out by WeasyPrint, with metadata, outline and attachments.

Same document, same bytes: WeasyPrint derives the file identifier from the content, and every
date written into the file (info dictionary, XMP, attachment dates) is the run's logical time.
The URL fetcher reads only ``data:`` URIs and files under the template folders; a reference to
anything else fails the render with `ResourceRefused` instead of a silently missing image.
"""

from __future__ import annotations

import gc
import io
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

import weasyprint
from weasyprint.urls import URLFetcher, URLFetcherResponse

from reportgen.errors import InvalidInput
from reportgen.rendering.document import Document

PRODUCER = "reportgen"


class ResourceRefused(InvalidInput):
    """The report's HTML refers to something the renderer may not read."""

    def __init__(self, urls: Sequence[str]) -> None:
        self.urls = tuple(urls)
        super().__init__(
            f"the report refers to {url}, outside the template and asset folders; "
            "put the file in the template's folder and refer to it by a relative path"
            for url in self.urls
        )


class ReportFetcher(URLFetcher):  # type: ignore[misc]  # weasyprint ships no type hints
    """Fetches ``data:`` URIs and files under the allowed folders, and nothing else."""

    def __init__(self, allowed_roots: Sequence[Path]) -> None:
        super().__init__(allowed_protocols=("data", "file"))
        self.allowed_roots = tuple(root.resolve() for root in allowed_roots)
        self.refused: list[str] = []

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
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
    """
    fetcher = ReportFetcher(allowed_roots)
    with _fewer_collections():
        page = _ReportHTML(
            string=html, base_url=base_url.resolve().as_uri() + "/", url_fetcher=fetcher
        )
        rendered = page.render(color_profiles=_color_profiles(document), **_options(document))
        _set_metadata(rendered, document)
        data: bytes = rendered.write_pdf(
            attachments=_attachments(document),
            **_options(document),
        )
    if fetcher.refused:
        raise ResourceRefused(sorted(set(fetcher.refused)))
    return data


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
