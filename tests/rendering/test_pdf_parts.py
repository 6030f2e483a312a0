"""The PDF laid out in parts on two cores: where a report splits, when it does not, and that
the joined file is the one-process file's equal whatever happens to the child.

The read-back guarantees (page X of Y, banners, outline, links, table of contents, metadata,
identical bytes) are tested in test_pdf.py, on reports that take this path.
"""

from __future__ import annotations

import io
import logging
import multiprocessing
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import cast

import pytest
from pypdf import PdfReader
from pypdf.generic import DictionaryObject

from reportgen.rendering import forked, pdf, pdf_parts
from reportgen.rendering.document import Document
from reportgen.rendering.pdf_parts import CannotSplit, Laid, split
from reportgen.rendering.templates import TemplateLibrary
from tests.rendering.documents import document, weasyprint_logs
from tests.rendering.documents import rendered_pdf as render


@pytest.fixture(scope="module")
def library() -> TemplateLibrary:
    return TemplateLibrary()


@pytest.fixture(scope="module")
def html(library: TemplateLibrary) -> str:
    return library.render_html(document(watermark="DRAFT"))


@pytest.fixture(scope="module")
def standard(library: TemplateLibrary) -> bytes:
    return render(document(), library)


def test_the_cover_and_the_lineage_go_to_the_back_leaving_stubs_with_their_anchors(
    html: str,
) -> None:
    parts = split(html)
    assert parts is not None
    assert parts.has_cover and parts.lineage_anchor == "lineage"
    assert '<h1 class="rg-lineage-title">' not in parts.front
    assert '<h1 class="rg-lineage-title">' in parts.back
    assert '<section class="rg-lineage" id="lineage"><span id="query-q-kpi"></span>' in parts.front
    assert '<span id="fact-revenue-total"></span>' in parts.front
    assert "fact-revenue-total" in parts.back_ids
    assert '<header class="rg-cover" id="cover"></header>' in parts.front
    assert '<h1 class="rg-cover-title">' in parts.back
    assert '<h1 class="rg-cover-title">' not in parts.front
    # The parts draw no page furniture; the stamp draws it, the watermark included.
    assert "DRAFT" not in parts.front and "DRAFT" not in parts.back
    for part in (parts.front, parts.back):
        assert "@bottom-right { content: none !important; }" in part
    stamp = parts.stamp(total_pages=9, cover_pages=1)
    assert "DRAFT" in stamp
    assert stamp.count('class="rg-stamp-page"') == 8
    assert "Key figures" not in stamp


@pytest.mark.parametrize(
    ("change", "why"),
    [
        (lambda h: h.replace("<!--rg:lineage-->", ""), "no lineage mark"),
        (lambda h: h.replace("<!--/rg:cover-->", "<!--/rg:cover--><!--/rg:cover-->"), "two marks"),
        (lambda h: h.replace("</style>", ".wide { page: wide; }</style>", 1), "named page"),
        (lambda h: h.replace("<main ", '<main style="page: wide" ', 1), "named in a style"),
        (lambda h: h.replace("</style>", "@page :blank { margin: 0 }</style>", 1), ":blank"),
        (lambda h: h.replace("</style>", "@page :left { margin: 0 }</style>", 1), ":left"),
        (lambda h: h.replace("</style>", "@page:right { margin: 0 }</style>", 1), ":right"),
        (
            lambda h: h.replace('<header class="rg-cover"', '<header class="my-cover"'),
            "a cover of the template's own",
        ),
    ],
)
def test_what_the_stamp_could_not_reproduce_is_laid_out_in_one_piece(
    html: str, change: object, why: str
) -> None:
    assert split(html) is not None
    assert callable(change)
    assert split(change(html)) is None, why


def test_first_left_and_right_pages_are_the_stamps_too(html: str) -> None:
    assert split(html.replace("</style>", "@page :first { margin-top: 30mm }</style>", 1))


def test_one_core_gives_the_same_bytes(
    standard: bytes, library: TemplateLibrary, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(forked, "usable_cores", lambda: 1)
    started: list[object] = []
    monkeypatch.setattr(forked.Child, "__init__", lambda *a: started.append(a))
    assert render(document(), library) == standard
    assert started == []


def test_cores_are_bounded_by_the_containers_cpu_quota(tmp_path: Path) -> None:
    cpu_max = tmp_path / "cpu.max"
    cores = forked.usable_cores(tmp_path / "absent")
    assert cores >= 1
    cpu_max.write_text("max 100000\n")
    assert forked.usable_cores(cpu_max) == cores
    cpu_max.write_text("100000 100000\n")
    assert forked.usable_cores(cpu_max) == 1
    cpu_max.write_text("50000 100000\n")
    assert forked.usable_cores(cpu_max) == 1
    cpu_max.write_text("800000 100000\n")
    assert forked.usable_cores(cpu_max) == min(cores, 8)


def _dies(*_args: object) -> Callable[..., None]:
    return lambda _send: os._exit(3)


def _fails(*_args: object) -> Callable[..., None]:
    def work(_send: object) -> None:
        raise RuntimeError("boom")

    return work


def _hangs(*_args: object) -> Callable[..., None]:
    # Never set: the parent's deadline ends it.
    return lambda _send: threading.Event().wait()


def _garbles(*_args: object) -> Callable[..., None]:
    def work(send: Callable[[object], None]) -> None:
        send(("laid", "nine", None))  # the right kind, unusable content

    return work


@pytest.mark.parametrize(
    ("child", "said"),
    [
        (_dies, "ended early"),
        (_fails, "RuntimeError: boom"),
        (_hangs, "took over"),
        (_garbles, "unusable answer"),
    ],
)
def test_a_child_that_fails_is_replaced_by_this_process_with_the_same_bytes(  # noqa: PLR0917
    standard: bytes,
    library: TemplateLibrary,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    child: object,
    said: str,
) -> None:
    monkeypatch.setattr(pdf, "_front_work", child)
    monkeypatch.setattr(forked, "DEADLINE_S", 1.0)
    with caplog.at_level(logging.WARNING, logger="reportgen.rendering"):
        assert render(document(), library) == standard
    assert any(said in record.getMessage() for record in caplog.records), caplog.text
    assert not [p for p in multiprocessing.active_children() if p.name.startswith("reportgen")]


def test_a_fork_that_fails_leaves_the_work_to_this_process(
    standard: bytes, library: TemplateLibrary, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_fork(_self: object) -> None:
        raise OSError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(multiprocessing.get_context("fork").Process, "start", no_fork)
    assert render(document(), library) == standard


def test_what_weasyprint_logs_in_the_child_is_logged_here(tmp_path: Path) -> None:
    user = tmp_path / "user"
    (user / "styled").mkdir(parents=True)
    (user / "styled" / "template.html.j2").write_text(
        '{% extends "base/layout.html.j2" %}\n'
        '{% block before_blocks %}<p style="colr: red">Before</p>{% endblock %}\n'
    )
    mine = TemplateLibrary(user_dir=user)
    doc = document(template="styled")
    html = mine.render_html(doc)
    parts = split(html)
    assert parts is not None and "colr" in parts.front and "colr" not in parts.back
    with weasyprint_logs() as logs:
        pdf.render_pdf(doc, html, base_url=mine.folder("styled"), allowed_roots=mine.roots)
    assert any("colr" in record.getMessage() for record in logs)


def test_the_joined_file_holds_what_one_piece_holds_page_by_page(
    standard: bytes, library: TemplateLibrary, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pdf_parts, "split", lambda _html: None)
    whole = render(document(), library)
    monkeypatch.undo()
    joined, single = page_texts(standard), page_texts(whole)
    assert len(joined) == len(single)
    # The stamp is drawn last, so its lines come last in a page's text: compare as sets.
    for number, (ours, theirs) in enumerate(zip(joined, single, strict=True), start=1):
        assert set(ours.splitlines()) == set(theirs.splitlines()), f"page {number}"
    reader = PdfReader(io.BytesIO(standard))
    pages = {page.indirect_reference.idnum for page in reader.pages}  # type: ignore[union-attr]
    for name, destination in reader.named_destinations.items():
        assert destination.page.idnum in pages, name  # type: ignore[union-attr]
    assert not set(reader.named_destinations) & pdf_parts.SENTINELS


def test_parts_that_do_not_fit_back_together_are_refused(html: str) -> None:
    parts = split(html)
    assert parts is not None
    front = {"lineage": 4, pdf_parts.LINEAGE_START: 3, pdf_parts.COVER_END: 1}
    assert pdf_parts.front_kept(parts, Laid(b"", front, 5)) == range(1, 4)
    with pytest.raises(CannotSplit, match="last page"):
        pdf_parts.front_kept(parts, Laid(b"", {**front, "lineage": 3}, 5))
    with pytest.raises(CannotSplit, match="lineage stub shares its page"):
        pdf_parts.front_kept(parts, Laid(b"", {**front, pdf_parts.LINEAGE_START: 4}, 5))
    with pytest.raises(CannotSplit, match="cover stub shares its page"):
        pdf_parts.front_kept(parts, Laid(b"", {**front, pdf_parts.COVER_END: 0}, 5))
    back = {"lineage": 1, pdf_parts.COVER_LAST: 0}
    assert pdf_parts.back_cover_pages(parts, Laid(b"", back, 3)) == 1
    with pytest.raises(CannotSplit, match="cover takes 2 pages"):
        pdf_parts.back_cover_pages(parts, Laid(b"", {**back, "lineage": 2}, 5))
    with pytest.raises(CannotSplit, match="cover runs past its page"):
        pdf_parts.back_cover_pages(parts, Laid(b"", {**back, pdf_parts.COVER_LAST: 1}, 5))


def _joined_or_whole(
    doc: Document, library: TemplateLibrary, monkeypatch: pytest.MonkeyPatch
) -> bool:
    joined: list[bytes] = []
    real = pdf_parts.join

    def spy(*args: object) -> bytes:
        joined.append(real(*args))  # type: ignore[arg-type]
        return joined[-1]

    monkeypatch.setattr(pdf_parts, "join", spy)
    render(doc, library)
    monkeypatch.setattr(pdf_parts, "join", real)
    return bool(joined)


def test_the_built_in_layout_is_laid_out_in_parts(
    library: TemplateLibrary, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _joined_or_whole(document(), library, monkeypatch)
    assert _joined_or_whole(document(watermark="DRAFT"), library, monkeypatch)


def page_texts(data: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]


@pytest.mark.parametrize(
    ("block", "why"),
    [
        (
            '{% block lineage %}<section class="sources" id="lineage"><h1>Sources</h1>'
            "</section>{% endblock %}",
            "a lineage that does not start a page",
        ),
        (
            '{% block cover %}<header class="rg-cover-top" id="cover"><h1>Own cover</h1>'
            "</header>{% endblock %}",
            "a cover that does not end its page",
        ),
    ],
)
def test_a_template_whose_parts_share_pages_loses_nothing(
    tmp_path: Path, library: TemplateLibrary, block: str, why: str
) -> None:
    user = tmp_path / "user"
    (user / "own").mkdir(parents=True)
    (user / "own" / "template.html.j2").write_text(
        '{% extends "base/layout.html.j2" %}\n' + block + "\n"
    )
    mine = TemplateLibrary(user_dir=user)
    doc = document(template="own")
    html = mine.render_html(doc)
    with weasyprint_logs():
        data = pdf.render_pdf(doc, html, base_url=mine.folder("own"), allowed_roots=mine.roots)
    monkey = pytest.MonkeyPatch()
    monkey.setattr(pdf_parts, "split", lambda _html: None)
    try:
        with weasyprint_logs():
            whole = pdf.render_pdf(doc, html, base_url=mine.folder("own"), allowed_roots=mine.roots)
    finally:
        monkey.undo()
    assert page_texts(data) == page_texts(whole), why


def test_fonts_of_different_parts_have_different_subset_tags(standard: bytes) -> None:
    reader = PdfReader(io.BytesIO(standard))
    subsets: dict[str, set[int]] = {}
    for page in reader.pages:
        resources = cast(DictionaryObject, page["/Resources"])
        fonts = dict(resources.get("/Font", {}))
        for form in dict(resources.get("/XObject", {})).values():
            inner = cast(DictionaryObject, form.get_object()).get("/Resources")
            if inner is not None:
                fonts.update(dict(cast(DictionaryObject, inner.get_object()).get("/Font", {})))
        for reference in fonts.values():
            font = reference.get_object()
            name = str(font["/BaseFont"])
            subsets.setdefault(name, set()).add(font.indirect_reference.idnum)
    assert subsets
    assert all(len(ids) == 1 for ids in subsets.values()), subsets
