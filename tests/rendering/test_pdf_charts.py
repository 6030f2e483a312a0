"""Charts drawn as PDFs: laid out as placeholders while they are still being drawn, and placed
into the report's file where WeasyPrint would have drawn them."""

from __future__ import annotations

import dataclasses
import io
import logging
import os
import shutil
import subprocess
import tempfile
from concurrent.futures import Future
from pathlib import Path

import pikepdf
import pytest
import weasyprint
from PIL import Image, ImageChops
from pypdf import PdfReader

from reportgen.errors import InternalError
from reportgen.rendering import forked, pdf, pdf_charts, pdf_parts
from reportgen.rendering.document import (
    CHART_SCHEME,
    PDF_CHART,
    ChartNotDrawn,
    Document,
    PendingChart,
)
from reportgen.rendering.images import ChartRenderer, ChartRenderError
from reportgen.rendering.templates import TemplateLibrary
from tests.rendering.documents import document
from tests.rendering.documents import rendered_pdf as render

PDFTOPPM = shutil.which("pdftoppm") or "pdftoppm"  # poppler-utils: scripts/system-packages.txt


@pytest.fixture(scope="module")
def library() -> TemplateLibrary:
    return TemplateLibrary()


def drawing(label: str, width_px: int, height_px: int) -> bytes:
    """A chart as the chart browser would draw it: one page of the chart's size, a lime frame
    (a colour no template uses) filling it, and its label as text."""
    html = (
        f"<style>@page {{ size: {width_px}px {height_px}px; margin: 0 }}"
        "body { margin: 0 } div { box-sizing: border-box; height: 100vh; "
        "border: 4px solid lime; font: 20px 'Liberation Sans' }</style>"
        f"<div>{label}</div>"
    )
    data: bytes = weasyprint.HTML(string=html).write_pdf()
    return data


def with_drawn_charts(doc: Document, *, fail: int | None = None) -> tuple[Document, list[str]]:
    """`doc` with each chart image replaced by a chart drawn as a PDF (pending, then drawn
    with its label; chart number `fail` fails instead), and the labels."""
    blocks, labels = [], []
    for original in doc.blocks:
        block, figure = original, original.figure
        if figure is not None and figure.image:
            label = f"chart-{len(labels)}-drawn"
            future: Future[bytes] = Future()
            if len(labels) == fail:
                future.set_exception(ChartRenderError("the chart could not be rendered: boom"))
            else:
                future.set_result(drawing(label, figure.width_px, figure.height_px))
            chart = PendingChart(
                f"{CHART_SCHEME}:{figure.id}",
                PDF_CHART,
                figure.width_px,
                figure.height_px,
                1.0,
                future,
            )
            labels.append(label)
            figure = dataclasses.replace(figure, image=b"", mime=PDF_CHART, pending=chart)
            block = dataclasses.replace(block, figure=figure)
        blocks.append(block)
    return dataclasses.replace(doc, blocks=tuple(blocks)), labels


def lime_frames(data: bytes) -> list[tuple[int, tuple[int, int, int, int]]]:
    """Each page's lime area (page number, pixel bounding box at 36 dpi), drawn by poppler."""
    with tempfile.TemporaryDirectory() as folder:
        subprocess.run(
            [PDFTOPPM, "-r", "36", "-png", "-", f"{folder}/page"], input=data, check=True
        )
        frames = []
        for number, path in enumerate(sorted(Path(folder).glob("page-*.png")), start=1):
            with Image.open(path) as image:
                r, g, b = image.convert("RGB").split()
                lime = ImageChops.multiply(
                    g.point(lambda v: 255 if v > 180 else 0),
                    ImageChops.multiply(
                        r.point(lambda v: 255 if v < 80 else 0),
                        b.point(lambda v: 255 if v < 80 else 0),
                    ),
                )
                box = lime.getbbox()
            if box is not None:
                frames.append((number, box))
    return frames


def page_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_the_html_refers_to_pending_charts_by_their_uri(library: TemplateLibrary) -> None:
    doc, labels = with_drawn_charts(document(rows=30))
    html = library.render_html(doc)
    assert html.count(f'src="{CHART_SCHEME}:') == len(labels) >= 2
    assert "data:image/svg+xml" not in html


def test_charts_are_placed_in_the_boxes_their_images_would_take(
    library: TemplateLibrary,
) -> None:
    original = document(rows=30)
    doc, labels = with_drawn_charts(original)
    placed = render(doc, library)

    # The same charts as SVGs of the same size (a lime frame filling them), drawn by WeasyPrint.
    svg_frame = (
        '<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}">'
        '<rect x="2" y="2" width="{iw}" height="{ih}" fill="none" stroke="lime" '
        'stroke-width="4"/></svg>'
    )
    blocks = []
    for block in original.blocks:
        figure = block.figure
        if figure is not None and figure.image:
            image = svg_frame.format(
                w=figure.width_px,
                h=figure.height_px,
                iw=figure.width_px - 4,
                ih=figure.height_px - 4,
            ).encode()
            figure = dataclasses.replace(figure, image=image, mime="image/svg+xml")
            blocks.append(dataclasses.replace(block, figure=figure))
        else:
            blocks.append(block)
    drawn = render(dataclasses.replace(original, blocks=tuple(blocks)), library)

    assert len(lime_frames(placed)) == len(labels)
    assert lime_frames(placed) == lime_frames(drawn)
    text = page_text(placed)
    assert all(label in text for label in labels)


def test_the_file_is_the_same_from_the_child_and_from_this_process(
    library: TemplateLibrary, monkeypatch: pytest.MonkeyPatch
) -> None:
    if forked.usable_cores() < 2:
        pytest.skip("one usable core: no child to compare with")
    doc, _ = with_drawn_charts(document(rows=30))
    from_child = render(doc, library)
    monkeypatch.setattr(forked, "usable_cores", lambda: 1)
    here = render(doc, library)
    assert from_child == here
    assert from_child == render(doc, library)  # and from one render to the next


def test_a_report_laid_out_in_one_piece_has_its_charts_placed_too(
    library: TemplateLibrary, monkeypatch: pytest.MonkeyPatch
) -> None:
    doc, labels = with_drawn_charts(document(rows=30))
    in_parts = render(doc, library)
    monkeypatch.setattr(pdf_parts, "split", lambda _html: None)
    in_one_piece = render(doc, library)
    assert lime_frames(in_one_piece) == lime_frames(in_parts)
    assert all(label in page_text(in_one_piece) for label in labels)


def test_no_placeholder_is_left_and_each_charts_fonts_have_their_own_tags(
    library: TemplateLibrary,
) -> None:
    doc, labels = with_drawn_charts(document(rows=30))
    with pikepdf.open(io.BytesIO(render(doc, library))) as placed:
        assert not [
            obj
            for obj in placed.objects
            if isinstance(obj, pikepdf.Stream) and pdf_charts.PLACEHOLDER_KEY in obj
        ]
        fonts = [
            str(obj.FontName)
            for obj in placed.objects
            if isinstance(obj, pikepdf.Dictionary) and obj.get("/Type") == "/FontDescriptor"
        ]
    # Every chart drew its label in a subset that WeasyPrint tagged alike in each drawing.
    assert len(fonts) >= len(labels)
    assert len(set(fonts)) == len(fonts), fonts


def test_a_chart_that_fails_to_draw_fails_the_render_naming_it(library: TemplateLibrary) -> None:
    doc, _ = with_drawn_charts(document(rows=30), fail=1)
    with pytest.raises(ChartRenderError, match="boom"):
        render(doc, library)


def placeholders_for(html: str, charts: list[PendingChart]) -> pikepdf.Pdf:
    """`html` laid out by WeasyPrint with `charts` as placeholders, waiting to be placed."""
    fetcher = pdf.ReportFetcher([], {chart.uri: chart for chart in charts})
    page = weasyprint.HTML(string=html, url_fetcher=fetcher)
    return pikepdf.open(io.BytesIO(page.render(cache=pdf_charts.placeholders(charts)).write_pdf()))


def a_chart(uri: str = f"{CHART_SCHEME}:one") -> PendingChart:
    return PendingChart(uri, PDF_CHART, 200, 100, 1.0, Future())


def test_a_drawing_that_cannot_be_placed_is_refused_saying_which(
    library: TemplateLibrary,
) -> None:
    doc, _ = with_drawn_charts(document(rows=30))
    with pikepdf.open(io.BytesIO(render(doc, library))) as placed:
        assert pdf_charts.place(placed, {}) == 0  # nothing left to place
    chart = a_chart()
    two_pages = weasyprint.HTML(string='<p>one</p><p style="break-before: page">two</p>')
    cut_short = drawing("x", 200, 100)[:-200]
    cases = [
        (b"<svg/>", "not a PDF"),
        (cut_short, "not a PDF"),
        (two_pages.write_pdf(), "has 2 pages"),
    ]
    with placeholders_for(f'<img src="{chart.uri}">', [chart]) as waiting:
        for data, said in cases:
            with pytest.raises(pdf_charts.ChartNotPlaced, match=f"{chart.uri}.*{said}"):
                pdf_charts.place(waiting, {chart.uri: data})
        with pytest.raises(pdf_charts.ChartNotPlaced, match=f"no drawing of the chart {chart.uri}"):
            pdf_charts.place(waiting, {})


def test_one_chart_placed_twice_shares_its_drawing() -> None:
    chart = a_chart()
    image = f'<img src="{chart.uri}">'
    html = f'{image}{image}<p style="break-before: page">{image}'
    with placeholders_for(html, [chart]) as waiting:
        assert pdf_charts.place(waiting, {chart.uri: drawing("twice", 200, 100)}) == 3
        fonts = {
            obj.objgen
            for obj in waiting.objects
            if isinstance(obj, pikepdf.Dictionary) and obj.get("/Type") == "/FontDescriptor"
        }
        data = io.BytesIO()
        waiting.save(data)
    assert len(fonts) == 1  # one copy of the drawing's resources
    assert page_text(data.getvalue()).count("twice") == 3


def test_a_drawing_whose_page_does_not_start_at_the_origin_lands_in_its_box() -> None:
    chart = a_chart()
    with pikepdf.open(io.BytesIO(drawing("moved", 200, 100))) as moved:
        page = moved.pages[0]
        x0, y0, x1, y1 = (float(v) for v in page.mediabox)
        page.contents_add(pikepdf.Stream(moved, b"1 0 0 1 40 30 cm"), prepend=True)
        page.mediabox = pikepdf.Array([x0 + 40, y0 + 30, x1 + 40, y1 + 30])
        shifted = io.BytesIO()
        moved.save(shifted)
    html = f'<img src="{chart.uri}">'
    results = []
    for data in (drawing("moved", 200, 100), shifted.getvalue()):
        with placeholders_for(html, [chart]) as waiting:
            pdf_charts.place(waiting, {chart.uri: data})
            out = io.BytesIO()
            waiting.save(out)
        results.append(lime_frames(out.getvalue()))
    assert results[0] == results[1]
    assert results[0]


def test_a_pdfa_report_with_charts_to_place_is_refused(library: TemplateLibrary) -> None:
    doc, _ = with_drawn_charts(document(rows=30))
    pdfa = dataclasses.replace(doc, pdfa=True)
    with pytest.raises(InternalError, match="PDF/A"):
        pdf.render_pdf(
            pdfa,
            library.render_html(pdfa),
            base_url=library.folder(pdfa.template),
            allowed_roots=library.roots,
        )


def test_a_chart_used_other_than_as_an_image_is_refused_saying_so(
    library: TemplateLibrary,
) -> None:
    doc, _ = with_drawn_charts(document(rows=30))
    uri = doc.pending_charts()[0].uri
    html = library.render_html(doc).replace(
        "</head>", f'<link rel="stylesheet" href="{uri}"></head>'
    )
    with pytest.raises(pdf.ResourceRefused, match="other than as an image"):
        pdf.render_pdf(
            doc, html, base_url=library.folder(doc.template), allowed_roots=library.roots
        )


def test_a_front_process_that_dies_leaves_the_same_file(
    library: TemplateLibrary, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    if forked.usable_cores() < 2:
        pytest.skip("one usable core: no child to lose")
    doc, _ = with_drawn_charts(document(rows=30))
    whole = render(doc, library)
    monkeypatch.setattr(pdf, "_front_work", lambda *_args: lambda _send: os._exit(3))
    with caplog.at_level(logging.WARNING, logger="reportgen.rendering"):
        assert render(doc, library) == whole
    assert "ended early" in caplog.text


@pytest.mark.parametrize(("resolution", "font_size"), [(1, 12), (1.5, 9), (2, 16)])
def test_a_placeholder_takes_the_size_weasyprint_reads_from_the_charts_svg(
    resolution: float, font_size: float
) -> None:
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" width="680" height="380"></svg>'
    chart = PendingChart(f"{CHART_SCHEME}:x", PDF_CHART, 680, 380, 1.0, Future())
    placeholder = pdf_charts.ChartPlaceholder(chart).get_intrinsic_size(resolution, font_size)
    fetcher = pdf.ReportFetcher([])
    real = weasyprint.images.get_image_from_uri(
        {}, fetcher, weasyprint.DEFAULT_OPTIONS, "data:image/svg+xml;utf8," + svg.decode()
    ).get_intrinsic_size(resolution, font_size)
    assert placeholder == real


def test_closing_the_renderer_ends_the_wait_for_charts_it_will_not_draw() -> None:
    renderer = ChartRenderer()
    renderer._ensure_loop()  # the renderer's thread, no browser yet
    waiting: Future[bytes] = Future()
    renderer._drawing["key"] = waiting
    renderer.close()
    chart = PendingChart(f"{CHART_SCHEME}:key", PDF_CHART, 10, 10, 1.0, waiting)
    with pytest.raises(ChartNotDrawn):
        chart.result(timeout_s=5)


def test_a_chart_uri_that_is_none_of_the_reports_charts_is_refused_by_name(
    library: TemplateLibrary,
) -> None:
    doc = document(rows=30)
    html = library.render_html(doc).replace("</body>", f'<img src="{CHART_SCHEME}:nope"></body>')
    with pytest.raises(pdf.ResourceRefused, match="none of its charts"):
        pdf.render_pdf(
            doc, html, base_url=library.folder(doc.template), allowed_roots=library.roots
        )
