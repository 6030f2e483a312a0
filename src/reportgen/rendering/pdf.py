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
import multiprocessing
import os
import threading
import time
import warnings
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
from reportgen.rendering import pdf_parts
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

    A report with the base layout's parts is laid out on two cores (`reportgen.rendering.
    pdf_parts`); the bytes are the same whether the second part runs in a child process or,
    on one core or when the child fails, in this one. PDF/A files are laid out in one piece.
    """
    base = base_url.resolve().as_uri() + "/"
    parts = None if document.pdfa else pdf_parts.split(html)
    with _layout_lock, _fewer_collections():
        if parts is not None:
            try:
                return _render_parts(document, parts, base, allowed_roots)
            except pdf_parts.CannotSplit as exc:
                _log.info("laying the report out in one piece: %s", exc)
        fetcher = ReportFetcher(allowed_roots)
        rendered = _layout(document, html, base, fetcher)
        data: bytes = rendered.write_pdf(attachments=_attachments(document), **_options(document))
        _refuse(fetcher.refused)
        return data


_layout_lock = threading.Lock()
"""One layout at a time per process. WeasyPrint is pure Python (threads would not run two
layouts at once anyway), and no thread is inside Pango when the front part forks."""

FRONT_DEADLINE_S = 120.0
"""How long the child laying out the front part may take before it is stopped and the front
is laid out here instead."""

_log = logging.getLogger(__name__)


def _layout(document: Document, html: str, base: str, fetcher: ReportFetcher) -> Any:
    page = _ReportHTML(string=html, base_url=base, url_fetcher=fetcher)
    rendered = page.render(color_profiles=_color_profiles(document), **_options(document))
    _set_metadata(rendered, document)
    return rendered


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


def _refuse(refused: Sequence[str]) -> None:
    if refused:
        raise ResourceRefused(sorted(set(refused)))


def _render_parts(
    document: Document, parts: pdf_parts.Parts, base: str, allowed_roots: list[Path]
) -> bytes:
    """The front in a child process (or here), the back and the stamp here, then joined."""
    fetcher = ReportFetcher(allowed_roots)
    options = _options(document)
    job = _FrontJob.start(document, parts.front, base, allowed_roots)
    try:
        back = _laid(_layout(document, parts.back, base, fetcher), options)
        covers = pdf_parts.back_cover_pages(parts, back)
        laid = job.pages() if job is not None else None
        front: pdf_parts.Laid | None = None
        if laid is None:
            front = _laid(_layout(document, parts.front, base, fetcher), options)
            laid = (front.pages, front.anchors)
        kept = pdf_parts.front_kept(parts, pdf_parts.Laid(b"", laid[1], laid[0]))
        stamp_html = parts.stamp(len(kept) + back.pages, covers)
        stamp = _layout(document, stamp_html, base, fetcher).write_pdf(**options)
        if front is None:
            data = job.pdf(fetcher.refused) if job is not None else None
            front = (
                pdf_parts.Laid(data, laid[1], laid[0])
                if data is not None
                else _laid(_layout(document, parts.front, base, fetcher), options)
            )
    finally:
        if job is not None:
            job.stop()
    _refuse(fetcher.refused)
    return pdf_parts.join(parts, front, back, stamp)


class _FrontJob:
    """The front part laid out in a forked child, which reports its pages after the layout
    and its PDF after writing it.

    Any failure of the child (a crash, a hang past `FRONT_DEADLINE_S`, an exception) makes
    the caller lay the front out itself, with the same bytes as a result: an error in the
    document then surfaces in this process, with its real traceback.
    """

    def __init__(self, process: Any, connection: Any) -> None:
        self._process = process
        self._connection = connection
        self._deadline = time.monotonic() + FRONT_DEADLINE_S

    @classmethod
    def start(
        cls, document: Document, html: str, base: str, allowed_roots: list[Path]
    ) -> _FrontJob | None:
        """The child started, or None on a single core (the parent does all the work)."""
        if len(os.sched_getaffinity(0)) < 2:
            return None
        context = multiprocessing.get_context("fork")
        receiver, sender = context.Pipe(duplex=False)
        process = context.Process(
            target=_front_in_child,
            args=(sender, document, html, base, allowed_roots),
            name="reportgen-pdf-front",
        )
        with warnings.catch_warnings():
            # Python 3.12+ warns about fork() in a process with threads. The layout lock is
            # held, so no thread is inside WeasyPrint or Pango; the child lays out, writes
            # and leaves with os._exit, and never touches the other threads' resources.
            warnings.simplefilter("ignore", DeprecationWarning)
            process.start()
        sender.close()
        return cls(process, receiver)

    def pages(self) -> tuple[int, dict[str, int]] | None:
        """The front's page count and anchor pages, or None if the child failed."""
        message = self._receive("laid")
        return (message[1], message[2]) if message else None

    def pdf(self, refused: list[str]) -> bytes | None:
        """The front's PDF, or None if the child failed; its refused URLs join `refused` and
        what WeasyPrint logged there is logged here."""
        message = self._receive("pdf")
        if message is None:
            return None
        _, data, child_refused, records = message
        refused.extend(child_refused)
        for name, level, text in records:
            logging.getLogger(name).log(level, "%s", text)
        return data  # type: ignore[no-any-return]

    def stop(self) -> None:
        self._connection.close()
        self._process.join(1.0)
        if self._process.exitcode is None:
            self._process.kill()
            self._process.join()
        self._process.close()

    def _receive(self, kind: str) -> tuple[Any, ...] | None:
        try:
            if self._connection.poll(max(0.0, self._deadline - time.monotonic())):
                message: tuple[Any, ...] = self._connection.recv()
                if message[0] == kind:
                    return message
                _log.warning("the PDF's front part failed in its process: %s", message[1])
            else:
                _log.warning("the PDF's front part took over %.0f s; stopped", FRONT_DEADLINE_S)
        except (EOFError, OSError) as exc:
            _log.warning("the PDF's front part ended early (%r)", exc)
        self._deadline = 0.0  # once failed, never wait for it again
        self._process.kill()
        return None


class _Records(logging.Handler):
    """What WeasyPrint logs in the child, to be logged again by the parent."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.records: list[tuple[str, int, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append((record.name, record.levelno, record.getMessage()))


def _front_in_child(
    connection: Any, document: Document, html: str, base: str, allowed_roots: list[Path]
) -> None:
    """The child's whole life: lay out, report the pages, write, send the PDF."""
    # Objects inherited from the parent are never collected here: their finalizers could
    # wait on locks that threads of the parent held at the fork.
    gc.freeze()
    records = _Records()
    for name in ("weasyprint", "fontTools"):
        logger = logging.getLogger(name)
        logger.handlers = [records]  # the parent's handlers write to copies of its files
        logger.propagate = False
    try:
        fetcher = ReportFetcher(allowed_roots)
        rendered = _layout(document, html, base, fetcher)
        connection.send(("laid", len(rendered.pages), _anchor_pages(rendered)))
        data = rendered.write_pdf(**_options(document))
        connection.send(("pdf", data, fetcher.refused, records.records))
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, which redoes the work
        connection.send(("failed", f"{type(exc).__name__}: {exc}"))
    finally:
        connection.close()


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
