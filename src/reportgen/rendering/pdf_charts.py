"""Charts in the PDF as the chart browser's own vector drawings, placed after layout.

Chromium prints a plotly figure to a one-page PDF (vector paths, real text in an embedded
font subset) faster than WeasyPrint draws the same chart from its SVG, mark by mark and letter
by letter. So a PDF report's charts are drawn as PDFs (`reportgen.rendering.images`, format
``"pdf"``) and never pass through WeasyPrint:

- Layout needs only a chart's size, known from its figure. WeasyPrint lays the report out with
  each chart as a `ChartPlaceholder`: an image of the chart's intrinsic size that draws an
  empty form XObject where the chart goes, marked with the chart's URI.
- `place` then fills each marked form with the chart's page: its content stream and
  resources, scaled from the chart's page into the box WeasyPrint laid out. The chart's fonts
  get subset tags of their own (every chart names its subset ``AAAAAA+``).

So the process that lays a part out never waits for a chart, and the same figure gives the
same bytes (Chromium's page content is stable; its file's dates are not copied).

Relies on WeasyPrint's image protocol (``get_intrinsic_size``, ``draw``) and its drawing
stream's ``add_group`` (a form XObject), both stable across WeasyPrint 60-70; a placeholder
that is not where the tests expect it fails tests/rendering/test_pdf_charts.py.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

import pikepdf
import pydyf

from reportgen.errors import InternalError
from reportgen.rendering.document import PendingChart
from reportgen.rendering.pdf_fonts import retag_fonts

PLACEHOLDER_KEY = "/ReportgenChart"
"""The key marking a placeholder form: its value is the chart's URI."""


class ChartNotPlaced(InternalError):
    """A chart's placeholder could not be filled with its drawing."""


class ChartPlaceholder:
    """A chart WeasyPrint lays out by its size; it draws an empty, marked form XObject."""

    def __init__(self, chart: PendingChart) -> None:
        self.chart = chart

    def get_intrinsic_size(
        self, resolution: float, font_size: float
    ) -> tuple[float | None, float | None, float | None]:
        # As WeasyPrint reads plotly's SVG: width and height in CSS pixels, whatever the
        # resolution, so a placed chart takes the box its SVG would have taken.
        width, height = float(self.chart.width_px), float(self.chart.height_px)
        return width, height, width / height

    def draw(self, stream: Any, concrete_width: float, concrete_height: float, style: Any) -> None:
        form = stream.add_group(0, 0, 1, 1)
        form.extra[PLACEHOLDER_KEY[1:]] = pydyf.String(self.chart.uri)
        # The unit square, y up, onto the box (WeasyPrint's y points down), as it draws images.
        stream.transform(concrete_width, 0, 0, -concrete_height, 0, concrete_height)
        stream.draw_x_object(form.id)


def placeholders(charts: Iterable[PendingChart]) -> dict[str, ChartPlaceholder]:
    """A WeasyPrint image cache holding each chart as a placeholder, by URI."""
    return {chart.uri: ChartPlaceholder(chart) for chart in charts}


def place(pdf: pikepdf.Pdf, drawings: Mapping[str, bytes]) -> int:
    """Fill every placeholder in `pdf` with its chart's drawing (one-page PDFs by URI).

    Returns how many were filled; a placeholder whose chart is not in `drawings`, or a drawing
    that is not a one-page PDF, raises `ChartNotPlaced`.
    """
    resources: dict[str, tuple[pikepdf.Object, bytes, list[Decimal]]] = {}
    filled = 0
    for obj in pdf.objects:
        if not isinstance(obj, pikepdf.Stream) or PLACEHOLDER_KEY not in obj:
            continue
        uri = str(obj[PLACEHOLDER_KEY])
        if uri not in resources:
            drawing = drawings.get(uri)
            if drawing is None:
                raise ChartNotPlaced(f"no drawing of the chart {uri} to place")
            resources[uri] = _chart_page(pdf, uri, drawing)
        chart_resources, content, (x0, y0, x1, y1) = resources[uri]
        width, height = x1 - x0, y1 - y0
        obj.write(content)
        obj.BBox = pikepdf.Array([x0, y0, x1, y1])
        # The chart's page onto the placeholder's unit square.
        obj.Matrix = pikepdf.Array([1 / width, 0, 0, 1 / height, -x0 / width, -y0 / height])
        obj.Resources = chart_resources
        del obj[PLACEHOLDER_KEY]
        filled += 1
    return filled


def _chart_page(
    pdf: pikepdf.Pdf, uri: str, drawing: bytes
) -> tuple[pikepdf.Object, bytes, list[Decimal]]:
    """The chart's page resources (copied into `pdf`, fonts retagged), content and box."""
    try:
        # No repair: a drawing cut short must fail, not be placed half drawn.
        chart = pikepdf.open(io.BytesIO(drawing), attempt_recovery=False)
    except pikepdf.PdfError as exc:
        raise ChartNotPlaced(f"the drawing of the chart {uri} is not a PDF: {exc}") from None
    with chart:
        if len(chart.pages) != 1:
            raise ChartNotPlaced(f"the drawing of the chart {uri} has {len(chart.pages)} pages")
        retag_fonts(chart, uri)
        page = chart.pages[0]
        box = [Decimal(str(value)) for value in page.mediabox]
        if box[2] <= box[0] or box[3] <= box[1] or int(page.obj.get("/Rotate", 0)) % 360:
            raise ChartNotPlaced(
                f"the drawing of the chart {uri} is not an upright page with an area: "
                f"box {box}, rotated {page.obj.get('/Rotate', 0)}"
            )
        page.contents_coalesce()
        content = page.obj.Contents.read_bytes() if "/Contents" in page.obj else b""
        # The page's resources, inherited ones included; copy_foreign copies an indirect
        # object and everything it refers to.
        copied = pdf.copy_foreign(chart.make_indirect(page.resources))
    return copied, content, box
