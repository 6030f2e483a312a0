"""Free text in reports: Markdown turned into safe HTML.

Raw HTML in the source is shown as text, never interpreted, and markdown-it's link validation
drops `javascript:`, `vbscript:`, `file:` and non-image `data:` links, so a spec author cannot
inject script or reach local files through a report. Images must be relative to the template
(`![Logo](logo.png)`): any other source (`https://…`, `data:`, `/abs/path`) is dropped and its alt
text kept, so a report never fetches from the network and a dead link cannot abort a render.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from urllib.parse import urlsplit

from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict


def is_relative(src: str) -> bool:
    """Whether an image source is a path relative to the template: no scheme, host or root."""
    parts = urlsplit(src.strip())
    return not (parts.scheme or parts.netloc or src.strip().startswith(("/", "\\")))


def _image(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    token = tokens[idx]
    src = str(token.attrGet("src") or "")
    if is_relative(src):
        return self.image(tokens, idx, options, env)
    return escapeHtml(self.renderInlineAsText(token.children or [], options, env))


@cache
def _parser() -> MarkdownIt:
    parser = MarkdownIt("commonmark", {"html": False, "typographer": True}).enable(
        ["table", "strikethrough", "replacements", "smartquotes"]
    )
    parser.add_render_rule("image", _image)
    return parser


def markdown_to_html(text: str) -> str:
    """Safe HTML for `text`; empty input gives an empty string."""
    if not text.strip():
        return ""
    rendered: str = _parser().render(text)
    return rendered
