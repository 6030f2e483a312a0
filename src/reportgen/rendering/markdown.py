"""Free text in reports: Markdown turned into safe HTML.

Raw HTML in the source is shown as text, never interpreted, and markdown-it's link validation
drops `javascript:`, `vbscript:`, `file:` and non-image `data:` links, so a spec author cannot
inject script or reach local files through a report.
"""

from __future__ import annotations

from functools import cache

from markdown_it import MarkdownIt


@cache
def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False, "typographer": True}).enable(
        ["table", "strikethrough", "replacements", "smartquotes"]
    )


def markdown_to_html(text: str) -> str:
    """Safe HTML for `text`; empty input gives an empty string."""
    if not text.strip():
        return ""
    rendered: str = _parser().render(text)
    return rendered
