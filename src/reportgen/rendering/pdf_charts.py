"""Chart images in the PDF: laid out before they are drawn, drawn once their bytes arrive.

A report's HTML refers to each chart by its ``reportgen-chart:`` URI while the chart browser
may still be drawing it (`reportgen.rendering.document.PendingChart`). Layout needs only a
chart's size, which is known from the figure; its bytes are needed only when its page is
drawn. So the process that lays out the PDF's front part (`reportgen.rendering.pdf`) is
started as soon as the data is in, and is fed each chart as the browser finishes it.

`DeferredChart` is what WeasyPrint lays out meanwhile: an image with the chart's intrinsic
size whose ``draw`` builds WeasyPrint's own image from the chart's URI (through the report's
URL fetcher, which by then has the bytes) and draws that. The same URI gives WeasyPrint the
same image object a direct fetch would have, so the PDF has the same bytes either way
(tests/rendering/test_pdf_charts.py compares them).

Relies on WeasyPrint's image protocol (``get_intrinsic_size``, ``draw``) and on its
`get_image_from_uri`, both stable across WeasyPrint 60-70; a WeasyPrint that changed them
would fail the comparison test, and a size that does not match the drawn image fails the
render of that part, which is then laid out again with the images fetched directly.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from weasyprint.images import get_image_from_uri

from reportgen.rendering.document import PendingChart
from reportgen.rendering.forked import Message, Receive


class ChartNotDrawable(RuntimeError):
    """A deferred chart could not be drawn as it was laid out."""


class DeferredChart:
    """A chart WeasyPrint lays out by its size and draws once its bytes have arrived."""

    def __init__(self, chart: PendingChart) -> None:
        self.chart = chart
        self._sizes: set[tuple[float, float]] = set()  # (resolution, font size) laid out with
        self._drawing: tuple[Any, Any, dict[str, Any]] | None = None
        self._image: Any = None  # WeasyPrint's image of the chart, once built

    def get_intrinsic_size(
        self, resolution: float, font_size: float
    ) -> tuple[float | None, float | None, float | None]:
        self._sizes.add((resolution, font_size))
        return self._size(resolution, font_size)

    def _size(
        self, resolution: float, font_size: float
    ) -> tuple[float | None, float | None, float | None]:
        if self.chart.mime == "image/png":
            # As WeasyPrint's RasterImage: the chart's pixels at the image resolution.
            width = self.chart.width_px * self.chart.scale
            height = self.chart.height_px * self.chart.scale
            return width / resolution, height / resolution, width / height
        # As WeasyPrint's SVGImage reads plotly's root <svg>: width and height in CSS pixels.
        width, height = float(self.chart.width_px), float(self.chart.height_px)
        return width, height, width / height

    def ready_to_draw(self, fetcher: Any, font_config: Any, options: dict[str, Any]) -> None:
        """What drawing needs once layout is done: the fetcher that has the bytes, the laid
        out document's fonts and its options."""
        self._drawing = (fetcher, font_config, options)

    def draw(self, stream: Any, concrete_width: float, concrete_height: float, style: Any) -> None:
        if self._drawing is None:
            raise ChartNotDrawable(f"{self.chart.uri} was drawn before it was ready to draw")
        if self._image is None:
            fetcher, font_config, options = self._drawing
            context = _DrawContext(font_config, fetcher, options)
            image = get_image_from_uri(
                {},
                fetcher,
                options,
                self.chart.uri,
                context=context,
                orientation=style["image_orientation"],  # as WeasyPrint's <img> does
            )
            if image is None:
                raise ChartNotDrawable(f"{self.chart.uri} could not be read")
            for resolution, font_size in self._sizes:
                laid_out = self._size(resolution, font_size)
                if image.get_intrinsic_size(resolution, font_size) != laid_out:
                    raise ChartNotDrawable(f"{self.chart.uri} is not the size it was laid out with")
            self._image = image
        self._image.draw(stream, concrete_width, concrete_height, style)


class _DrawContext:
    """What WeasyPrint's SVG drawing reads from a layout context: the document's fonts (for
    the chart's text), hyphenation dictionaries, and a way to images inside the SVG."""

    def __init__(self, font_config: Any, fetcher: Any, options: dict[str, Any]) -> None:
        self.font_config = font_config
        self.dictionaries: dict[Any, Any] = {}
        self.get_image_from_uri = functools.partial(
            get_image_from_uri, {}, fetcher, options, context=self
        )


def deferred(charts: Iterable[PendingChart]) -> dict[str, DeferredChart]:
    """A WeasyPrint image cache holding each chart as a `DeferredChart`, by URI."""
    return {chart.uri: DeferredChart(chart) for chart in charts}


def feed(charts: Iterable[PendingChart]) -> Callable[[threading.Event], Iterator[Message]]:
    """What feeds a child the charts (`Child.feed`): each once drawn, in document order (the
    browser may finish them in another order: a chart drawn early waits for those before
    it). A chart that fails ends the feed with its error; `stopping` ends it early."""

    def messages(stopping: threading.Event) -> Iterator[Message]:
        for chart in charts:
            while not stopping.is_set():
                try:
                    data = chart.result(timeout_s=STOP_CHECK_S)
                except TimeoutError:
                    continue  # still drawing: look at `stopping` again
                yield ("chart", chart.uri, data)
                break

    return messages


STOP_CHECK_S = 0.25
"""How often a feed waiting for a chart looks whether it should stop."""


class Inbox:
    """The charts a child has been fed, read from its feed as drawing asks for them."""

    def __init__(self, receive: Receive) -> None:
        self._receive = receive
        self._received: dict[str, bytes] = {}

    def bytes_of(self, uri: str) -> bytes:
        while uri not in self._received:
            _, fed_uri, data = self._receive("chart")
            self._received[fed_uri] = data
        return self._received[uri]


ChartBytes = Callable[[str], bytes]
"""A chart's bytes by URI (waiting for them if they are not there yet)."""


def chart_bytes_of(charts: Mapping[str, PendingChart]) -> ChartBytes:
    """Bytes from pending charts in this process: each waits for its drawing."""
    return lambda uri: charts[uri].result()
