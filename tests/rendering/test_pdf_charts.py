"""Charts still being drawn when the PDF is laid out: the front part's process lays them out by
their size and draws them as they are fed, and the file is the same as when every chart was
there from the start."""

from __future__ import annotations

import base64
import dataclasses
import io
import logging
import struct
import threading
from collections.abc import Iterator
from concurrent.futures import Future
from typing import Any

import pytest
import weasyprint
from PIL import Image
from weasyprint.images import get_image_from_uri

from reportgen.rendering import forked, pdf, pdf_charts
from reportgen.rendering.document import (
    CHART_SCHEME,
    ChartMime,
    ChartNotDrawn,
    Document,
    PendingChart,
)
from reportgen.rendering.images import ChartRenderer, ChartRenderError
from reportgen.rendering.templates import TemplateLibrary
from tests.rendering.documents import document
from tests.rendering.documents import rendered_pdf as render
from tests.rendering.test_chart_svg import PLOTLY_BARS


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


@pytest.mark.skipif(forked.usable_cores() < 2, reason="one usable core: no child to test")
def test_a_front_laid_out_before_its_charts_exist_equals_one_with_charts_fetched(
    library: TemplateLibrary, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    doc, futures, images = with_pending_charts(a_report())
    received: list[str] = []
    receive = forked.Child.receive

    def charts_drawn_once_laid_out(
        child: forked.Child, kind: str, *, last: bool = False
    ) -> forked.Message | None:
        message = receive(child, kind, last=last)
        received.append(message[0] if message else "nothing")
        if kind == "laid":
            # The child has laid the front out without a single chart: draw them now.
            for future, image in zip(futures, images, strict=True):
                future.set_result(image)
        return message

    monkeypatch.setattr(forked.Child, "receive", charts_drawn_once_laid_out)
    with caplog.at_level(logging.WARNING, logger="reportgen.rendering"):
        fed = render(doc, library)
    monkeypatch.undo()
    assert received == ["laid", "pdf"]  # the child's file, not a fallback
    assert not caplog.records, caplog.text

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


def weasyprint_image(data: bytes, mime: str) -> Any:
    encoded = base64.b64encode(data).decode()
    fetcher = pdf.ReportFetcher([])
    return get_image_from_uri(
        {}, fetcher, weasyprint.DEFAULT_OPTIONS, f"data:{mime};base64,{encoded}"
    )


@pytest.mark.parametrize(("resolution", "font_size"), [(1, 12), (1.5, 9), (2, 16)])
def test_deferred_charts_report_the_size_weasyprint_reads_from_the_image(
    resolution: float, font_size: float
) -> None:
    png = io.BytesIO()
    Image.new("RGB", (1360, 760), "white").save(png, format="PNG")  # kaleido's 2x PNG
    svg = PLOTLY_BARS.read_bytes()  # width="680" height="380"
    cases: list[tuple[bytes, ChartMime, float]] = [
        (png.getvalue(), "image/png", 2.0),
        (svg, "image/svg+xml", 1.0),
    ]
    for data, mime, scale in cases:
        chart = PendingChart(f"{CHART_SCHEME}:x", mime, 680, 380, scale, Future())
        deferred = pdf_charts.DeferredChart(chart).get_intrinsic_size(resolution, font_size)
        real = weasyprint_image(data, mime).get_intrinsic_size(resolution, font_size)
        assert deferred == real, mime


def test_a_child_is_told_when_its_feed_fails_and_the_parent_takes_over(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def work(send: forked.Send, receive: forked.Receive) -> None:
        send(("got", receive("chart")))

    def failing(_stopping: threading.Event) -> Iterator[forked.Message]:
        raise OSError("the chart browser went away")
        yield ("chart", "never")  # pragma: no cover - makes this a generator

    job = forked.Child.start(work, "fed")
    if job is None:
        pytest.skip("one usable core: no child")
    try:
        job.feed(failing)
        with caplog.at_level(logging.WARNING, logger="reportgen.rendering"):
            assert job.receive("got") is None
    finally:
        job.stop()
    assert "the chart browser went away" in caplog.text


def test_stopping_a_child_stops_a_feed_still_waiting_for_its_chart() -> None:
    never: Future[bytes] = Future()  # a chart whose drawing never ends
    chart = PendingChart(f"{CHART_SCHEME}:slow", "image/svg+xml", 10, 10, 1.0, never)
    job = forked.Child.start(lambda send, receive: send(("done",)), "slow")
    if job is None:
        pytest.skip("one usable core: no child")
    job.feed(pdf_charts.feed([chart]))
    assert job.receive("done", last=True) is not None
    job.stop()
    assert job._feeder is not None
    assert not job._feeder.is_alive()


def test_closing_the_renderer_ends_the_wait_for_charts_it_will_not_draw() -> None:
    renderer = ChartRenderer()
    renderer._ensure_loop()  # the renderer's thread, no browser yet
    waiting: Future[bytes] = Future()
    renderer._drawing["key"] = waiting
    renderer.close()
    chart = PendingChart(f"{CHART_SCHEME}:key", "image/svg+xml", 10, 10, 1.0, waiting)
    with pytest.raises(ChartNotDrawn):
        chart.result(timeout_s=5)


def test_an_inbox_keeps_charts_fed_out_of_order() -> None:
    fed = iter([("chart", "b", b"B"), ("chart", "a", b"A")])
    inbox = pdf_charts.Inbox(lambda kind: next(fed))
    assert inbox.bytes_of("a") == b"A"
    assert inbox.bytes_of("b") == b"B"


def test_a_chart_uri_that_is_none_of_the_reports_charts_is_refused_by_name(
    library: TemplateLibrary,
) -> None:
    doc = a_report()
    html = library.render_html(doc).replace("</body>", f'<img src="{CHART_SCHEME}:nope"></body>')
    with pytest.raises(pdf.ResourceRefused, match="none of its charts"):
        pdf.render_pdf(
            doc, html, base_url=library.folder(doc.template), allowed_roots=library.roots
        )
