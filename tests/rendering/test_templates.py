"""Report templates: the built-ins, the user's folder first, the sandbox and its error messages."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import pytest

from reportgen.errors import ConfigurationError, InvalidInput, NotFound
from reportgen.rendering.document import Block, Cell
from reportgen.rendering.templates import (
    LISTING_MIN_ROWS,
    TemplateInvalid,
    TemplateLibrary,
    column_widths,
    css_string,
    default_templates_dir,
    listing,
    script_json,
)
from tests.rendering.documents import HOSTILE, document, table

BUILTINS = [
    "executive_summary",
    "kpi_tracker",
    "operational_status",
    "regional_performance",
    "roi_analysis",
]


@pytest.fixture(scope="module")
def library() -> TemplateLibrary:
    return TemplateLibrary()


def user_library(tmp_path: Path, files: dict[str, str]) -> TemplateLibrary:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return TemplateLibrary(user_dir=tmp_path)


def test_the_builtin_folder_is_found_from_the_package() -> None:
    found = default_templates_dir()
    assert (found / "base" / "layout.html.j2").is_file()
    assert found == Path(__file__).resolve().parents[2] / "report_templates"


def test_names_lists_the_five_builtins(library: TemplateLibrary) -> None:
    assert library.names() == BUILTINS


@pytest.mark.parametrize("name", BUILTINS)
def test_every_builtin_renders_the_whole_document(library: TemplateLibrary, name: str) -> None:
    html = library.render_html(document(template=name))
    assert f"rg-template-{name}" in html
    assert "<title>Sales executive summary</title>" in html
    assert "CONFIDENTIAL" in html  # the running banner
    assert 'id="fact-revenue-total"' in html
    assert 'id="query-q-kpi"' in html
    assert 'href="#fact-revenue-total"' in html
    assert "Revenue by month" in html
    assert "data:image/svg+xml;base64," in html
    assert "data:image/png;base64," in html
    assert "Italy 12" in html  # the last table row
    assert "SELECT sum(net_amount) AS revenue" in html
    assert f"{name}/style.css" not in html  # the stylesheet is inlined, not linked
    assert "<script" not in html  # static output carries no scripts


def _untitled(block: Block) -> Block:
    # A chart or table still gets a heading from its figure or table; the others get none.
    return replace(block, title="") if block.kind != "cover" else block


@pytest.mark.parametrize("name", BUILTINS)
@pytest.mark.parametrize("titles", ["titled", "untitled", "empty"])
def test_every_link_has_one_target_on_a_heading_or_cell(
    library: TemplateLibrary, name: str, titles: str
) -> None:
    base = document(template=name)
    blocks = base.blocks
    if titles != "titled":
        blocks = tuple(_untitled(b) for b in blocks)
    if titles == "empty":
        blocks = tuple(replace(b, figure=None, table=None, tiles=()) for b in blocks)
    html = library.render_html(replace(base, blocks=blocks))
    ids = re.findall(r'\sid="([^"]+)"', html)
    targets = re.findall(r'href="#([^"]+)"', html)
    assert targets
    assert {t for t in targets if ids.count(t) != 1} == set()
    # WeasyPrint shares computed styles only between elements without an id: ids on rows or
    # query entries would have every cell's style computed anew (see print.css).
    assert re.findall(r"<(?:tr|article)\b[^>]*\sid=", html) == []


def test_templates_differ_by_their_own_stylesheet(library: TemplateLibrary) -> None:
    accents = {
        name: re.findall(
            r"--rg-accent: (#[0-9a-f]{6})", library.render_html(document(template=name))
        )
        for name in BUILTINS
    }
    # base accent first, then the template's own
    own = {name: found[-1] for name, found in accents.items()}
    assert len(set(own.values())) == len(BUILTINS)


def test_a_user_template_overrides_a_builtin_and_extends_it(tmp_path: Path) -> None:
    library = user_library(
        tmp_path,
        {
            "executive_summary/template.html.j2": (
                '{% extends "builtin:executive_summary/template.html.j2" %}\n'
                '{% block before_blocks %}<p class="house">Our house note</p>{% endblock %}\n'
            ),
        },
    )
    html = library.render_html(document())
    assert '<p class="house">Our house note</p>' in html
    assert "es-findings" in html  # still the built-in's own blocks
    assert library.folder("executive_summary") == tmp_path.resolve() / "executive_summary"
    assert library.roots == [tmp_path.resolve(), default_templates_dir()]


def test_a_new_user_template_extends_the_base_layout(tmp_path: Path) -> None:
    library = user_library(
        tmp_path,
        {
            "board_pack/template.html.j2": (
                '{% extends "base/layout.html.j2" %}\n'
                "{% block styles %}{{ super() }}"
                '<style>{{ stylesheet("board_pack/style.css") }}</style>{% endblock %}\n'
            ),
            "board_pack/style.css": ".rg-cover-title { color: #123456; }\n",
        },
    )
    assert "board_pack" in library.names()
    html = library.render_html(document(template="board_pack"))
    assert ".rg-cover-title { color: #123456; }" in html
    assert "Lineage and sources" in html


def test_a_syntax_error_names_the_template_and_line(tmp_path: Path) -> None:
    library = user_library(
        tmp_path,
        {
            "broken/template.html.j2": (
                '{% extends "base/layout.html.j2" %}\n\n{% block cover %}{% if %}{% endblock %}\n'
            )
        },
    )
    with pytest.raises(TemplateInvalid) as caught:
        library.render_html(document(template="broken"))
    assert caught.value.template == "broken/template.html.j2"
    assert caught.value.line == 3
    assert str(caught.value).startswith("broken/template.html.j2:3: ")
    assert isinstance(caught.value, InvalidInput)


def test_an_undefined_name_names_the_template_and_line(tmp_path: Path) -> None:
    library = user_library(
        tmp_path,
        {
            "typo/template.html.j2": (
                '{% extends "base/layout.html.j2" %}\n'
                "{% block before_blocks %}\n"
                "<p>fine</p>\n"
                "<p>{{ document.titel }}</p>\n"
                "{% endblock %}\n"
            )
        },
    )
    with pytest.raises(TemplateInvalid) as caught:
        library.render_html(document(template="typo"))
    assert caught.value.template == "typo/template.html.j2"
    assert caught.value.line == 4
    assert "titel" in str(caught.value)


def test_an_error_in_the_base_layout_is_located_there(tmp_path: Path) -> None:
    library = user_library(
        tmp_path,
        {
            "base/layout.html.j2": "<html>\n{{ missing_value }}\n</html>\n",
            "x/template.html.j2": '{% extends "base/layout.html.j2" %}',
        },
    )
    with pytest.raises(TemplateInvalid) as caught:
        library.render_html(document(template="x"))
    assert (caught.value.template, caught.value.line) == ("base/layout.html.j2", 2)


def test_a_missing_parent_template_is_named(tmp_path: Path) -> None:
    library = user_library(
        tmp_path, {"orphan/template.html.j2": '{% extends "base/nowhere.html.j2" %}'}
    )
    with pytest.raises(TemplateInvalid, match=r"base/nowhere\.html\.j2"):
        library.render_html(document(template="orphan"))


@pytest.mark.parametrize(
    "expression",
    [
        "''.__class__.__mro__",
        "document.__class__.__init__.__globals__",
        "document.blocks.__class__",
        "stylesheet.__globals__",
        "cycler.__init__.__globals__",
    ],
)
def test_the_sandbox_refuses_to_reach_outside(tmp_path: Path, expression: str) -> None:
    library = user_library(
        tmp_path,
        {
            "escape/template.html.j2": (
                '{% extends "base/layout.html.j2" %}\n'
                f"{{% block before_blocks %}}{{{{ {expression} }}}}{{% endblock %}}\n"
            )
        },
    )
    with pytest.raises(TemplateInvalid, match="outside its sandbox") as caught:
        library.render_html(document(template="escape"))
    assert caught.value.template == "escape/template.html.j2"
    assert caught.value.line == 2


def test_the_sandbox_refuses_to_mutate(tmp_path: Path) -> None:
    library = user_library(
        tmp_path,
        {
            "mutate/template.html.j2": (
                '{% extends "base/layout.html.j2" %}\n'
                "{% block before_blocks %}{% set d = {} %}{{ d.update(a=1) }}{% endblock %}\n"
            )
        },
    )
    with pytest.raises(TemplateInvalid, match="sandbox"):
        library.render_html(document(template="mutate"))


def test_stylesheet_reads_only_css_inside_the_template_folders(tmp_path: Path) -> None:
    (tmp_path.parent / "secret.css").write_text("body { color: red }")
    for call in ('stylesheet("base/layout.html.j2")', 'stylesheet("../secret.css")'):
        library = user_library(
            tmp_path,
            {
                "peek/template.html.j2": (
                    '{% extends "base/layout.html.j2" %}\n'
                    f"{{% block styles %}}<style>{{{{ {call} }}}}</style>{{% endblock %}}\n"
                )
            },
        )
        with pytest.raises(TemplateInvalid):
            library.render_html(document(template="peek"))


def test_unknown_and_malformed_template_names(library: TemplateLibrary) -> None:
    with pytest.raises(NotFound, match="executive_summary"):
        library.render_html(document(template="no_such_template"))
    with pytest.raises(InvalidInput):
        library.render_html(document(template="../base"))


def test_missing_folders_are_configuration_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="REPORTGEN_TEMPLATES_DIR"):
        TemplateLibrary(user_dir=tmp_path / "missing")


def test_data_values_are_escaped(library: TemplateLibrary) -> None:
    html = library.render_html(document(hostile=True))
    assert "<script>" not in html
    assert "<b>bold</b>" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html


def test_running_header_values_cannot_break_out_of_css(library: TemplateLibrary) -> None:
    title = '"; } body { display: none } </style><script>alert(1)</script>'
    html = library.render_html(replace(document(), title=title))
    style = html.split("<style>")[2].split("</style>")[0]
    assert "</style" not in style
    header = next(line for line in style.splitlines() if "@top-left" in line)
    assert header.count('"') == 2  # the title's own quote is escaped: the string never closes early
    assert css_string('a"b\\c</style>') == '"a\\22 b\\5c c\\3c /style\\3e "'


def test_chart_json_is_safe_inside_a_script_element() -> None:
    text = json.dumps({"title": "</script><script>alert(1)</script> & \u2028"})
    safe = str(script_json(text))
    assert "</script" not in safe and "<" not in safe
    assert json.loads(safe) == json.loads(text)


def test_interactive_mode_draws_charts_from_their_json(library: TemplateLibrary) -> None:
    html = library.render_html(document(), interactive=True, plotly_js="/* plotly */")
    assert 'data-figure="figure-f1"' in html
    assert "<script>/* plotly */</script>" in html
    assert 'class="rg-chart-image"' not in html


def test_empty_charts_and_tables_say_so(library: TemplateLibrary) -> None:
    base = document()
    blocks = (
        *base.blocks,
        Block(kind="chart", id="nothing", title="Nothing here"),
        Block(kind="table", id="empty", title="Empty", table=table("empty", 0)),
    )
    html = library.render_html(replace(base, blocks=blocks))
    assert html.count("No data for this selection") == 2


def test_column_widths_follow_the_content() -> None:
    widths = column_widths(table("t", 30))
    assert abs(sum(widths) - 100) < 0.1
    assert widths[0] > widths[1]  # "United Kingdom 3" is longer than "Americas"
    assert column_widths(replace(table("t", 0), columns=())) == []


def test_a_document_without_cover_gets_a_masthead(library: TemplateLibrary) -> None:
    base = document()
    html = library.render_html(
        replace(base, blocks=base.blocks[1:], table_of_contents=False, watermark="DRAFT")
    )
    assert 'class="rg-masthead"' in html
    assert 'class="rg-cover"' not in html
    assert 'class="rg-toc"' not in html
    assert 'class="rg-watermark" aria-hidden="true">DRAFT<' in html
    assert HOSTILE not in html


def test_long_tables_are_listed_with_aligned_columns() -> None:
    doc = document()
    assert listing(table("t", LISTING_MIN_ROWS - 1), doc) is None
    listed = listing(table("t", 450), doc)
    assert listed is not None
    assert len(listed.rows) == 450
    lines = ["".join(text for text, _ in row) for row in listed.rows]
    header = listed.header
    revenue_end = header.index("Revenue") + len("Revenue")
    for line, row in zip(lines, table("t", 450).rows, strict=True):
        assert line[:revenue_end].endswith(row[2].text)  # right-aligned under its header
        assert line.startswith(row[0].text)
    styled = [segment for row in listed.rows for segment in row if segment[1]]
    assert styled and all(text.strip() == text for text, _ in styled)
    assert listed.totals is not None
    assert "".join(text for text, _ in listed.totals).startswith("Total")


def test_a_listing_truncates_long_text_to_the_page() -> None:
    long = table("t", 450)
    long = replace(
        long, rows=((Cell("A very long customer name " * 6), *long.rows[0][1:]), *long.rows[1:])
    )
    portrait = listing(long, document())
    landscape = listing(long, document(orientation="landscape"))
    assert portrait is not None and landscape is not None
    first = "".join(text for text, _ in portrait.rows[0])
    assert "…" in first
    assert len(first) < len("".join(text for text, _ in landscape.rows[0]))


def test_tables_that_cannot_be_listed_stay_tables() -> None:
    wide = table("t", 450)
    wide = replace(
        wide,
        columns=tuple(f"Measure {i}" for i in range(14)),
        numeric=(True,) * 14,
        rows=tuple(
            tuple(Cell("1,234,567.89", numeric=True) for _ in range(14)) for _ in range(450)
        ),
        totals=None,
    )
    assert listing(wide, document()) is None
    cjk = table("t", 450)
    cjk = replace(cjk, rows=((Cell("東京"), *cjk.rows[0][1:]), *cjk.rows[1:]))
    assert listing(cjk, document()) is None


def test_the_html_export_keeps_long_tables_as_tables(library: TemplateLibrary) -> None:
    base = document()
    blocks = (
        *base.blocks[:-2],
        Block(kind="table", id="big", title="Big", table=table("big", 450)),
    )
    doc = replace(base, blocks=blocks)
    assert 'class="rg-listing"' in library.render_html(doc)
    assert 'class="rg-listing"' not in library.render_html(doc, interactive=True)
