"""Stylesheets parsed once per process: the same file as parsing each time, and no parsing on
the second layout of a report."""

from __future__ import annotations

import io

import pytest
import weasyprint
import weasyprint.css
from pypdf import PdfReader

from reportgen.rendering import pdf, pdf_css
from reportgen.rendering.templates import TemplateLibrary
from tests.rendering.documents import document
from tests.rendering.documents import rendered_pdf as render


@pytest.fixture(scope="module")
def library() -> TemplateLibrary:
    return TemplateLibrary()


def test_the_finder_parses_through_the_cache() -> None:
    # What the cache hooks into: WeasyPrint's finder builds <style> sheets through this name.
    assert pdf.PRODUCER  # importing the PDF module installs the cache
    assert weasyprint.css.CSS is pdf_css._parsed_once


def test_a_reports_second_layout_parses_no_stylesheet(library: TemplateLibrary) -> None:
    doc = document(rows=30)
    render(doc, library)
    before = pdf_css.counts()
    render(doc, library)
    after = pdf_css.counts()
    assert after["parsed"] == before["parsed"]
    assert after["reused"] > before["reused"]


def test_the_file_is_the_same_with_stylesheets_parsed_each_time(
    library: TemplateLibrary, monkeypatch: pytest.MonkeyPatch
) -> None:
    doc = document(rows=30)
    render(doc, library)  # the cache holds the template's sheets
    cached = render(doc, library)
    monkeypatch.setattr(weasyprint.css, "CSS", pdf_css._parse)
    assert render(doc, library) == cached


def page_size(html: str) -> tuple[float, float]:
    data = weasyprint.HTML(string=html).write_pdf()
    box = PdfReader(io.BytesIO(data)).pages[0].mediabox
    return round(float(box.width)), round(float(box.height))


def test_a_kept_stylesheets_page_rules_apply_to_every_document() -> None:
    pdf_css.clear()
    style = "<style>@page { size: 100mm 50mm; margin: 5mm }</style>"
    before = pdf_css.counts()
    first = page_size(f"{style}<p>one</p>")
    second = page_size(f"{style}<p>two</p>")  # the same <style>: reused, not parsed
    assert pdf_css.counts()["reused"] == before["reused"] + 1
    assert first == second == (283, 142)


def test_stylesheets_that_change_the_documents_state_are_parsed_each_time() -> None:
    pdf_css.clear()
    html = (
        "<style>@font-face { font-family: Own; src: local('DejaVu Sans') }"
        " p { font-family: Own }</style><p>text</p>"
    )
    before = pdf_css.counts()
    weasyprint.HTML(string=html).write_pdf()
    weasyprint.HTML(string=html).write_pdf()
    assert pdf_css.counts() == before  # neither parsed into nor taken from the cache


def test_page_rules_win_as_when_parsed_each_time_beside_sheets_that_are_not_kept(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A sheet the cache skips (@font-face) before and after a kept one: WeasyPrint applies
    # the @page rules in the order parsing gathered them, whichever sheets were kept.
    face = "@font-face { font-family: Own; src: local('DejaVu Sans') }"
    html = (
        f"<style>{face} @page {{ size: 100mm 50mm }}</style>"
        "<style>@page { size: 200mm 80mm }</style>"
        f"<style>{face}</style><p>text</p>"
    )
    pdf_css.clear()
    first, second = page_size(html), page_size(html)  # parsed, then taken from the cache
    monkeypatch.setattr(weasyprint.css, "CSS", pdf_css._parse)
    assert first == second == page_size(html) == (567, 227)


def test_an_escaped_at_rule_is_not_kept() -> None:
    assert pdf_css._stateful("p { color: red } @\\69mport url(x.css);")
    assert not pdf_css._stateful("p { color: red } @page { size: A4 }")
