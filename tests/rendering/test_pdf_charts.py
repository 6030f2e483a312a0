"""Charts drawn as PDFs: laid out as placeholders while they are still being drawn, and placed
into the report's file where WeasyPrint would have drawn them."""

from __future__ import annotations

import dataclasses
import io
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


def test_a_drawing_that_is_not_a_pdf_is_not_placed_and_says_which(
    library: TemplateLibrary,
) -> None:
    doc, _ = with_drawn_charts(document(rows=30))
    chart = doc.pending_charts()[0]
    with pikepdf.open(io.BytesIO(render(doc, library))) as placed:
        assert pdf_charts.place(placed, {}) == 0  # nothing left to place
    fetcher = pdf.ReportFetcher(library.roots, {chart.uri: chart})
    page = weasyprint.HTML(string=f'<img src="{chart.uri}">', url_fetcher=fetcher)
    rendered = page.render(cache=pdf_charts.placeholders([chart]))
    with pikepdf.open(io.BytesIO(rendered.write_pdf())) as waiting:
        with pytest.raises(pdf_charts.ChartNotPlaced, match=f"{chart.uri}.*not a PDF"):
            pdf_charts.place(waiting, {chart.uri: b"<svg/>"})
        with pytest.raises(pdf_charts.ChartNotPlaced, match=f"no drawing of the chart {chart.uri}"):
            pdf_charts.place(waiting, {})


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
