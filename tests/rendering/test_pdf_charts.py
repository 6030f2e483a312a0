"""Charts still being drawn when the PDF is laid out: the front part's process lays them out by
their size and draws them as they are fed, and the file is the same as when every chart was
there from the start."""

from __future__ import annotations

import dataclasses
import logging
import struct
import threading
from concurrent.futures import Future

import pytest

from reportgen.rendering import forked, pdf, pdf_charts
from reportgen.rendering.document import CHART_SCHEME, Document, PendingChart
from reportgen.rendering.images import ChartRenderError
from reportgen.rendering.templates import TemplateLibrary
from tests.rendering.documents import document
from tests.rendering.documents import rendered_pdf as render


@pytest.fixture(scope="module")
def library() -> TemplateLibrary:
    return TemplateLibrary()


def with_pending_charts(
    doc: Document, *, width_off_by: int = 0
) -> tuple[Document, list[Future[bytes]], list[bytes]]:
    """`doc` with each chart image replaced by a pending one (not yet drawn), the futures to
    complete, and the bytes to complete them with."""
    blocks, futures, images = [], [], []
    for original in doc.blocks:
        block, figure = original, original.figure
        if figure is not None and figure.image:
            future: Future[bytes] = Future()
            if figure.mime == "image/png":
                pixels = struct.unpack(">I", figure.image[16:20])[0]  # IHDR width
                scale = pixels / figure.width_px
            else:
                scale = 1.0
            chart = PendingChart(
                f"{CHART_SCHEME}:{figure.id}",
                figure.mime,
                figure.width_px + width_off_by,
                figure.height_px,
                scale,
                future,
            )
            futures.append(future)
            images.append(figure.image)
            figure = dataclasses.replace(figure, image=b"", pending=chart)
            block = dataclasses.replace(block, figure=figure)
        blocks.append(block)
    return dataclasses.replace(doc, blocks=tuple(blocks)), futures, images


def a_report() -> Document:
    return document(rows=30)


def test_the_html_refers_to_pending_charts_by_their_uri(library: TemplateLibrary) -> None:
    doc, _, _ = with_pending_charts(a_report())
    html = library.render_html(doc)
    assert f'src="{CHART_SCHEME}:' in html
    assert "data:image/svg+xml" not in html
    # The offline HTML waits for them and embeds their bytes instead.
    assert len(doc.pending_charts()) >= 2


def test_a_front_laid_out_before_its_charts_exist_equals_one_with_charts_fetched(
    library: TemplateLibrary, monkeypatch: pytest.MonkeyPatch
) -> None:
    doc, futures, images = with_pending_charts(a_report())
    started = forked.Child.start

    def start_then_draw(work: forked.Work, name: str) -> forked.Child | None:
        child = started(work, name)
        # The charts are finished only once the child runs: it must lay out without them.
        for future, image in zip(futures, images, strict=True):
            threading.Thread(target=future.set_result, args=(image,)).start()
        return child

    monkeypatch.setattr(forked.Child, "start", start_then_draw)
    fed = render(doc, library)
    monkeypatch.undo()

    # Laid out in this process, the charts fetched when their boxes are built.
    monkeypatch.setattr(forked, "usable_cores", lambda: 1)
    fetched = render(doc, library)
    assert fed == fetched
    assert fed.startswith(b"%PDF-")


def test_a_chart_that_fails_to_draw_fails_the_render_with_its_error(
    library: TemplateLibrary,
) -> None:
    doc, futures, images = with_pending_charts(a_report())
    futures[0].set_result(images[0])
    futures[1].set_exception(ChartRenderError("the chart could not be rendered: boom"))
    for future, image in zip(futures[2:], images[2:], strict=True):
        future.set_result(image)
    with pytest.raises(ChartRenderError, match="boom"):
        pdf.render_pdf(
            doc,
            library.render_html(doc),
            base_url=library.folder(doc.template),
            allowed_roots=library.roots,
        )


def test_a_chart_not_the_size_it_was_laid_out_with_is_laid_out_again(
    library: TemplateLibrary, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    doc, futures, images = with_pending_charts(a_report(), width_off_by=40)
    for future, image in zip(futures, images, strict=True):
        future.set_result(image)
    with caplog.at_level(logging.WARNING, logger="reportgen.rendering"):
        fed = render(doc, library)
    assert "not the size it was laid out with" in caplog.text
    monkeypatch.setattr(forked, "usable_cores", lambda: 1)
    assert fed == render(doc, library)


def test_a_deferred_png_reports_the_size_weasyprint_reads_from_its_pixels() -> None:
    future: Future[bytes] = Future()
    chart = PendingChart(f"{CHART_SCHEME}:x", "image/png", 680, 380, 2.0, future)
    assert pdf_charts.DeferredChart(chart).get_intrinsic_size(1, 12) == (1360, 760, 1360 / 760)


def test_an_inbox_keeps_charts_fed_out_of_order() -> None:
    fed = iter([("chart", "b", b"B"), ("chart", "a", b"A")])
    inbox = pdf_charts.Inbox(lambda kind: next(fed))
    assert inbox.bytes_of("a") == b"A"
    assert inbox.bytes_of("b") == b"B"
