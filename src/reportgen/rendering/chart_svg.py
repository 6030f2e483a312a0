"""Chart SVGs from Chromium made byte-stable and cheap for WeasyPrint to draw, same on paper.

`normalise` takes plotly's SVG as Chromium serialises it and

- sorts each element's attributes by name: in a reused page plotly.js sets some attributes in
  an order that depends on what it drew before (fonts already loaded, legends seen);
- turns each ``style="…"`` into presentation attributes: WeasyPrint parses every element's
  style attribute with tinycss2 while it draws, about a fifth of the drawing time of a chart;
  its SVG cascade then lets a style declaration override the attribute of the same name, so
  the declaration replaces it here;
- drops empty groups (``<g class="imagelayer"/>``…): plotly leaves a dozen per chart, and
  WeasyPrint walks and cascades each one.

Measured on the six charts of the Executive summary (benchmarks/bench_charts.py prints it):
≈25% less WeasyPrint drawing time, page images identical pixel for pixel.

Chromium's serialiser writes every attribute as ``name="value"`` with ``"``, ``&``, ``<`` and
``>`` escaped, so a regular expression over start tags is exact here. (xml.etree's C14N writer
would sort attributes too, but on plotly's SVG it emits duplicate xmlns attributes, CPython
3.11, and it cannot move styles.)
"""

from __future__ import annotations

import html
import re

import tinycss2

_START_TAG = re.compile(rb'<([A-Za-z][\w:.-]*)((?:\s+[\w:.-]+="[^"]*")*)\s*(/?)>')
_ATTRIBUTE = re.compile(rb'([\w:.-]+)="([^"]*)"')
# An empty group: no id (nothing can refer to it) and no children, in either spelling.
_EMPTY_GROUP = re.compile(rb'<g(?:\s+(?!id=)[\w:.-]+="[^"]*")*\s*(?:/>|></g>)')


def normalise(svg: bytes) -> bytes:
    """The SVG with sorted attributes, styles as attributes and no empty groups.

    An SVG with a ``<style>`` element keeps its style attributes: WeasyPrint lets a style
    sheet's rules override presentation attributes but not style attributes, so moving them
    could change what wins (plotly writes no style sheet).
    """
    if b"<style" in svg:
        return _START_TAG.sub(_sorted_tag, svg)
    svg = _START_TAG.sub(_normal_tag, svg)
    while True:
        fewer = _EMPTY_GROUP.sub(b"", svg)
        if fewer == svg:
            return svg
        svg = fewer  # a group that held only empty groups is empty now


def _sorted_tag(match: re.Match[bytes]) -> bytes:
    return _tag(match, dict(_ATTRIBUTE.findall(match[2])))


def _normal_tag(match: re.Match[bytes]) -> bytes:
    attributes = dict(_ATTRIBUTE.findall(match[2]))
    style = attributes.get(b"style")
    if style is not None:
        declarations = _declarations(html.unescape(style.decode()))
        if declarations is not None:
            del attributes[b"style"]
            for name, value in declarations:
                attributes[name.encode()] = _escape(value).encode()
    return _tag(match, attributes)


def _tag(match: re.Match[bytes], attributes: dict[bytes, bytes]) -> bytes:
    text = b" ".join(name + b'="' + value + b'"' for name, value in sorted(attributes.items()))
    return b"<" + match[1] + (b" " + text if text else b"") + match[3] + b">"


def _declarations(style: str) -> list[tuple[str, str]] | None:
    """The style's declarations as WeasyPrint's SVG cascade reads them, or None to keep the
    style attribute as it is (an ``!important`` has no attribute form; a parse error or a
    vendor-prefixed name would be dropped by WeasyPrint, so it is left for WeasyPrint)."""
    declarations = []
    for item in tinycss2.parse_blocks_contents(style, skip_comments=True, skip_whitespace=True):
        if item.type != "declaration" or item.important or item.name.startswith("-"):
            return None
        declarations.append((item.lower_name, tinycss2.serialize(item.value).strip()))
    return declarations


def _escape(value: str) -> str:
    return html.escape(value, quote=True).replace("&#x27;", "'")
