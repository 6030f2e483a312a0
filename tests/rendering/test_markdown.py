"""Markdown in text blocks is sanitised."""

from __future__ import annotations

import pytest

from reportgen.rendering.markdown import markdown_to_html


def test_formatting_survives() -> None:
    html = markdown_to_html("**Bold** and *it* -- a [link](https://example.com).\n\n- one\n- two")
    assert "<strong>Bold</strong>" in html and "<em>it</em>" in html
    assert '<a href="https://example.com">link</a>' in html
    assert "<li>one</li>" in html and "–" in html


@pytest.mark.parametrize(
    ("source", "forbidden"),
    [
        ("<script>alert(1)</script>", "<script>"),
        ('<img src=x onerror="alert(1)">', "<img"),
        ("[x](javascript:alert(1))", 'href="javascript:'),
        ("[x](file:///etc/passwd)", 'href="file:'),
        ("[x](vbscript:msgbox)", 'href="vbscript:'),
    ],
)
def test_html_and_dangerous_links_are_neutralised(source: str, forbidden: str) -> None:
    html = markdown_to_html(source)
    assert forbidden not in html


def test_empty_text() -> None:
    assert markdown_to_html("  \n") == ""
