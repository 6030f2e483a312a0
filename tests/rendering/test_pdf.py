"""The PDF, read back: pages, running header and footer, banner, fonts, metadata, outline,
links, attachments, deterministic bytes and a fetcher that reaches nothing it should not."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import cast

import pytest
from pypdf import PdfReader
from pypdf.generic import DictionaryObject

from reportgen.rendering.pdf import ReportFetcher, ResourceRefused, render_pdf
from reportgen.rendering.templates import TemplateLibrary
from tests.rendering.documents import document, table_document, weasyprint_logs
from tests.rendering.documents import rendered_pdf as render

REPO = Path(__file__).resolve().parents[2]
A4 = (595.28, 841.89)
LOGO = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    '<rect width="10" height="10"/></svg>'
)
LETTER_LANDSCAPE = (792.0, 612.0)


@pytest.fixture(scope="module")
def library() -> TemplateLibrary:
    return TemplateLibrary()


def read(pdf: bytes) -> PdfReader:
    return PdfReader(io.BytesIO(pdf))


def texts(reader: PdfReader) -> list[str]:
    return [page.extract_text() for page in reader.pages]


@pytest.fixture(scope="module")
def standard(library: TemplateLibrary) -> bytes:
    return render(document(), library)


@pytest.fixture(scope="module")
def standard_reader(standard: bytes) -> PdfReader:
    return read(standard)


def test_every_page_but_the_cover_says_page_x_of_y(standard_reader: PdfReader) -> None:
    pages = texts(standard_reader)
    total = len(pages)
    assert total >= 5
    assert "Page 1 of" not in pages[0]
    for number, text in enumerate(pages[1:], start=2):
        assert f"Page {number} of {total}" in text


def test_running_header_names_report_and_dataset(standard_reader: PdfReader) -> None:
    for text in texts(standard_reader)[1:]:
        lines = text.splitlines()
        assert "Sales executive summary" in lines
        assert "Sales" in lines
        assert any(line.startswith("Generated for ana@example.com") for line in lines)


def test_the_classification_banner_is_on_every_page(standard_reader: PdfReader) -> None:
    for text in texts(standard_reader):
        assert text.count("CONFIDENTIAL") >= 2  # top and bottom


def test_fonts_are_embedded(standard_reader: PdfReader) -> None:
    seen = 0
    for page in standard_reader.pages:
        resources = cast(DictionaryObject, page["/Resources"].get_object())
        fonts = cast(DictionaryObject, resources.get("/Font", DictionaryObject()).get_object())
        for ref in fonts.values():
            font = ref.get_object()
            if font["/Subtype"] == "/Type0":
                font = font["/DescendantFonts"][0].get_object()
            descriptor = font["/FontDescriptor"].get_object()
            assert {"/FontFile", "/FontFile2", "/FontFile3"} & set(descriptor), font["/BaseFont"]
            seen += 1
    assert seen


def test_metadata_comes_from_the_document(standard_reader: PdfReader) -> None:
    meta = standard_reader.metadata
    assert meta is not None
    assert meta.title == "Sales executive summary"
    assert meta.author == "ana@example.com"
    assert meta.subject == "Year to date"
    assert str(meta["/Keywords"]) == "Sales, confidential, executive_summary"
    assert str(meta["/CreationDate"]) == "D:20261102060000Z"
    assert str(meta["/ModDate"]) == "D:20261102060000Z"


def test_the_outline_follows_the_sections(standard_reader: PdfReader) -> None:
    def titles(outline: Sequence[object], depth: int = 0) -> list[tuple[int, str]]:
        found: list[tuple[int, str]] = []
        for item in outline:
            if isinstance(item, list):
                found += titles(item, depth + 1)
            else:
                found.append((depth, item.title))  # type: ignore[attr-defined]
        return found

    outline = titles(standard_reader.outline)
    assert outline[:4] == [
        (0, "Sales executive summary"),
        (0, "Contents"),
        (0, "Key figures"),
        (0, "What happened"),
    ]
    assert (0, "Trends") in outline
    assert (1, "Revenue by month") in outline
    assert (0, "Lineage and sources") in outline
    assert (1, "Query 1 · Sales") in outline


def test_narrative_numbers_link_to_the_lineage_appendix(standard_reader: PdfReader) -> None:
    destinations = set(standard_reader.named_destinations)
    assert {
        "fact-revenue-total",
        "fact-revenue-yoy",
        "query-q-kpi",
        "query-q-table",
    } <= destinations
    targets = set()
    for page in standard_reader.pages:
        for reference in page.get("/Annots", []) or []:
            annotation = reference.get_object()
            action = annotation.get("/A")
            if action is not None and "/D" in action:
                targets.add(str(action["/D"]))
            elif "/Dest" in annotation:
                targets.add(str(annotation["/Dest"]))
    assert {"fact-revenue-total", "fact-revenue-yoy", "fact-top-country"} <= targets


def test_the_table_of_contents_has_page_numbers(standard_reader: PdfReader) -> None:
    contents = texts(standard_reader)[1]
    assert contents.startswith("Contents")
    lineage_page = next(
        number
        for number, text in enumerate(texts(standard_reader), start=1)
        if text.startswith("Lineage and sources")
    )
    line = next(line for line in contents.splitlines() if line.startswith("Lineage and sources"))
    assert line.endswith(f" {lineage_page}")


def test_page_size_and_orientation(standard_reader: PdfReader, library: TemplateLibrary) -> None:
    box = standard_reader.pages[0].mediabox
    assert (round(float(box.width), 2), round(float(box.height), 2)) == A4
    letter = read(render(document(page_size="Letter", orientation="landscape"), library))
    box = letter.pages[3].mediabox
    assert (float(box.width), float(box.height)) == LETTER_LANDSCAPE


def test_two_renders_are_byte_identical(standard: bytes, library: TemplateLibrary) -> None:
    assert render(document(), library) == standard
    assert b"/ID [" in standard


def test_another_process_gives_the_same_bytes(standard: bytes, tmp_path: Path) -> None:
    out = tmp_path / "again.pdf"
    script = (
        "import sys; from pathlib import Path\n"
        "from reportgen.rendering.pdf import render_pdf\n"
        "from reportgen.rendering.templates import TemplateLibrary\n"
        "from tests.rendering.documents import document\n"
        "lib = TemplateLibrary(); doc = document()\n"
        "pdf = render_pdf(doc, lib.render_html(doc), base_url=lib.folder(doc.template), "
        "allowed_roots=lib.roots)\n"
        "Path(sys.argv[1]).write_bytes(pdf)\n"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345", "TZ": "Pacific/Auckland"}
    subprocess.run([sys.executable, "-c", script, str(out)], cwd=REPO, env=env, check=True)
    assert out.read_bytes() == standard


def test_data_values_come_out_as_text(library: TemplateLibrary) -> None:
    pages = texts(read(render(document(hostile=True), library)))
    everything = "\n".join(pages)
    assert '<script>alert("x")</script> & <b>bold</b>' in everything
    assert 'Generated for <script>alert("x")</script>' in pages[2]


def test_a_long_table_repeats_its_header_and_never_splits_a_row(
    library: TemplateLibrary,
) -> None:
    doc = table_document(130)
    pages = [text.splitlines() for text in texts(read(render(doc, library)))]
    header = "Country Region Revenue Units Last order Change"
    rows = doc.blocks[2].table.rows  # type: ignore[union-attr]
    holding_rows = set()
    for row in rows:
        line = " ".join(cell.text for cell in row)
        holding = [number for number, lines in enumerate(pages) if line in lines]
        assert len(holding) == 1, line  # the whole row, on one line of one page
        holding_rows.add(holding[0])
    assert len(holding_rows) >= 3
    for number in holding_rows:
        assert header in pages[number], f"no header on page {number + 1}"


def test_a_very_long_table_becomes_a_listing_with_the_same_guarantees() -> None:
    doc = table_document(130)
    pdf = render(doc, TemplateLibrary(listing_rows=100))
    pages = [[" ".join(line.split()) for line in text.splitlines()] for text in texts(read(pdf))]
    header = "Country Region Revenue Units Last order Change"
    rows = doc.blocks[2].table.rows  # type: ignore[union-attr]
    holding_rows = set()
    for row in rows:
        line = " ".join(cell.text for cell in row)
        holding = [number for number, lines in enumerate(pages) if line in lines]
        assert len(holding) == 1, line
        holding_rows.add(holding[0])
    assert len(holding_rows) >= 3
    for number in holding_rows:
        assert header in pages[number], f"no header on page {number + 1}"
    assert "Total $1,234,567.00 98,765 +4.2%" in pages[max(holding_rows)]


def test_the_watermark_is_on_every_page(library: TemplateLibrary) -> None:
    pages = texts(read(render(document(watermark="DRAFT – for Ana"), library)))
    assert all("DRAFT – for Ana" in text for text in pages)


def test_pdfa_attaches_each_tables_csv(library: TemplateLibrary) -> None:
    doc = document(pdfa=True)
    pdf = render(doc, library)
    reader = read(pdf)
    assert reader.attachments["revenue-by-country.csv"] == [
        b"country,revenue\nGermany,1200\nFrance,900\n"
    ]
    xmp = reader.xmp_metadata
    assert xmp is not None
    raw = xmp.stream.get_data()
    assert b'pdfaid:part="3"' in raw or b"<pdfaid:part>3</pdfaid:part>" in raw
    assert b"2026-11-02T06:00:00Z" in raw
    assert "/AF" in cast(DictionaryObject, reader.trailer["/Root"])
    assert render(doc, library) == pdf


def test_without_pdfa_nothing_is_attached(standard_reader: PdfReader) -> None:
    assert dict(standard_reader.attachments) == {}


# ---- The URL fetcher ---------------------------------------------------------------------


@pytest.fixture
def fetcher(tmp_path: Path) -> ReportFetcher:
    root = tmp_path / "templates"
    (root / "mine").mkdir(parents=True)
    (root / "mine" / "logo.svg").write_text("<svg/>")
    (tmp_path / "secret.txt").write_text("secret")
    (root / "mine" / "link.txt").symlink_to(tmp_path / "secret.txt")
    return ReportFetcher([root])


def test_the_fetcher_reads_data_uris_and_files_in_the_allowed_folders(
    fetcher: ReportFetcher,
) -> None:
    assert fetcher.fetch("data:text/plain;base64,aGk=").read() == b"hi"
    logo = fetcher.allowed_roots[0] / "mine" / "logo.svg"
    assert fetcher.fetch(logo.as_uri()).read() == b"<svg/>"
    assert fetcher.refused == []


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/logo.png",
        "https://example.com/font.woff2",
        "ftp://example.com/x",
        "file:///etc/passwd",
        "{root}/mine/../../secret.txt",
        "{root}/mine/link.txt",
        "{root}/mine/missing.svg",
        "file://evil.example.com{root}/mine/logo.svg",
    ],
)
def test_the_fetcher_refuses_everything_else(fetcher: ReportFetcher, url: str) -> None:
    root = fetcher.allowed_roots[0]
    url = url.format(root=root)
    if url.startswith("/"):
        url = "file://" + url
    with pytest.raises(PermissionError):
        fetcher.fetch(url)
    assert fetcher.refused == [url]


def test_a_template_that_reaches_outside_fails_the_render(
    tmp_path: Path, library: TemplateLibrary
) -> None:
    user = tmp_path / "user"
    (user / "leaky").mkdir(parents=True)
    (user / "leaky" / "logo.svg").write_text(LOGO)
    (user / "leaky" / "template.html.j2").write_text(
        '{% extends "base/layout.html.j2" %}\n'
        '{% block before_blocks %}<img src="logo.svg" alt="ours">'
        '<img src="http://example.com/tracker.png" alt="theirs">'
        '<img src="../../etc/passwd" alt="traversal">{% endblock %}\n'
    )
    mine = TemplateLibrary(user_dir=user)
    doc = document(template="leaky")
    with weasyprint_logs(), pytest.raises(ResourceRefused) as caught:
        render_pdf(
            doc, mine.render_html(doc), base_url=mine.folder("leaky"), allowed_roots=mine.roots
        )
    refused = caught.value.urls
    assert len(refused) == 2
    assert refused[0].startswith("file://") and refused[0].endswith("/etc/passwd")
    assert refused[1] == "http://example.com/tracker.png"
    assert "http://example.com/tracker.png" in str(caught.value)


def test_a_template_may_use_files_from_its_own_folder(tmp_path: Path) -> None:
    user = tmp_path / "user"
    (user / "branded").mkdir(parents=True)
    (user / "branded" / "logo.svg").write_text(LOGO)
    (user / "branded" / "template.html.j2").write_text(
        '{% extends "base/layout.html.j2" %}\n'
        '{% block before_blocks %}<img src="logo.svg" alt="Our logo">{% endblock %}\n'
    )
    mine = TemplateLibrary(user_dir=user)
    pdf = render(document(template="branded"), mine)
    assert read(pdf).pages[2].images  # the logo (and the chart) were drawn
    assert replace(document(), template="branded").template == "branded"
