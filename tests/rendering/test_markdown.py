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


@pytest.mark.parametrize(
    "source",
    [
        "https://example.com/logo.png",
        "http://example.com/logo.png",
        "//example.com/logo.png",
        "data:image/png;base64,AAAA",
        "/etc/logo.png",
    ],
)
def test_an_image_that_is_not_relative_keeps_only_its_alt_text(source: str) -> None:
    """An external image would make the PDF fetch from the network (and abort when it fails)."""
    html = markdown_to_html(f"Before ![Our <b>logo</b>]({source}) after.")
    assert "<img" not in html
    assert source not in html
    assert "Before Our &lt;b&gt;logo&lt;/b&gt; after." in html


def test_a_relative_image_is_kept() -> None:
    html = markdown_to_html("![Chart](images/chart.png)")
    assert '<img src="images/chart.png" alt="Chart" />' in html
