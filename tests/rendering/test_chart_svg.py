"""Chart SVG normalisation: stable bytes, cheaper for WeasyPrint, the same on paper."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
import weasyprint

from reportgen.rendering.chart_svg import normalise

# Charts of the demo data as plotly.js drew them in Chromium, before normalisation.
DATA = Path(__file__).parent / "data"
PLOTLY_BARS = DATA / "plotly_bars.svg"
PLOTLY_CHARTS = [DATA / "plotly_bars.svg", DATA / "plotly_line.svg", DATA / "plotly_donut.svg"]


def pdf_of(svg: bytes) -> bytes:
    data = base64.b64encode(svg).decode()
    page = f'<img style="width: 170mm" src="data:image/svg+xml;base64,{data}">'
    pdf: bytes = weasyprint.HTML(string=page).write_pdf(pdf_identifier=b"chart")
    return pdf


def test_attributes_are_sorted_and_everything_else_kept() -> None:
    svg = b'<svg b="2" a="1"><rect y="0" x="&quot;&gt;"/><text z="1">a &lt; b</text></svg>'
    assert normalise(svg) == (
        b'<svg a="1" b="2"><rect x="&quot;&gt;" y="0"/><text z="1">a &lt; b</text></svg>'
    )


def test_a_style_becomes_attributes_and_overrides_its_namesakes() -> None:
    svg = (
        b'<text fill="red" style="fill: rgb(0, 0, 255); '
        b'font-family: &quot;Open Sans&quot;, verdana; white-space: pre;" x="1">A&amp;B</text>'
    )
    assert normalise(svg) == (
        b'<text fill="rgb(0, 0, 255)" font-family="&quot;Open Sans&quot;, verdana" '
        b'white-space="pre" x="1">A&amp;B</text>'
    )


def test_styles_without_an_attribute_form_are_left_to_weasyprint() -> None:
    important = b'<rect style="fill: red !important;" x="1"/>'
    prefixed = b'<rect style="-webkit-mask: none; fill: red" x="1"/>'
    broken = b'<rect style="fill red" x="1"/>'
    for svg in (important, prefixed, broken):
        assert b"style=" in normalise(svg)


def test_an_empty_style_is_dropped() -> None:
    assert normalise(b'<svg style="" width="1"></svg>') == b'<svg width="1"></svg>'


def test_empty_groups_go_and_groups_with_content_or_an_id_stay() -> None:
    svg = (
        b'<svg><g class="a"/><g class="b"><g class="c"></g><g/></g>'
        b'<g id="kept"/><g class="full"><path d="M0,0h1"/></g></svg>'
    )
    assert normalise(svg) == b'<svg><g id="kept"/><g class="full"><path d="M0,0h1"/></g></svg>'


def test_an_svg_with_a_style_sheet_keeps_its_style_attributes() -> None:
    svg = b'<svg><style>rect { fill: red }</style><rect style="fill: blue" y="1" x="0"/></svg>'
    assert normalise(svg) == (
        b'<svg><style>rect { fill: red }</style><rect style="fill: blue" x="0" y="1"/></svg>'
    )


@pytest.mark.parametrize("chart", PLOTLY_CHARTS, ids=lambda path: path.stem)
def test_weasyprint_draws_a_normalised_plotly_chart_exactly_as_before(chart: Path) -> None:
    original = chart.read_bytes()
    normalised = normalise(original)
    assert b"style=" in original
    assert b"style=" not in normalised
    assert len(normalised) < len(original)
    assert pdf_of(normalised) == pdf_of(original)


def test_normalising_twice_changes_nothing() -> None:
    once = normalise(PLOTLY_BARS.read_bytes())
    assert normalise(once) == once
