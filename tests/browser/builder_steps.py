"""Steps on the Report builder page: starting a report, filtering it, reading the live preview,
the Print preview and the exported PDF. Shared by the build, schedule and EMEA-only features."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from playwright.sync_api import Locator, Page, expect
from pypdf import PdfReader
from pytest_bdd import parsers, then, when

from tests.browser.app_ui import choose, non_emea_in, rerun, screenshot, settle, table_rows

RENDER_TIMEOUT_MS = 90_000
"""Rendering the PDF (WeasyPrint, chart images from Chromium) on a busy two-core machine."""
# "Revenue $1,701,965.57", "Units 6,183", "Margin −3.5%": a label, then the figure as shown.
_TOTAL = re.compile(r"(?P<measure>[A-Za-z][\w ]*?) (?P<value>[^\s\d]?-?[\d,]+(?:\.\d+)?%?)$")


def preview_panel(page: Page) -> Locator:
    return page.get_by_role("tabpanel", name="Preview")


def preview_totals(page: Page) -> dict[str, str]:
    """The totals line under the preview's table: measure label → value as shown."""
    caption = preview_panel(page).get_by_text(re.compile(r"^Total: "))
    text = caption.inner_text().removeprefix("Total: ")
    found = {}
    for part in text.split(" · "):
        match = _TOTAL.match(part.strip())
        assert match, f"cannot read the total {part!r} in {text!r}"
        found[match["measure"]] = match["value"]
    return found


def preview_kpis(page: Page) -> dict[str, str]:
    """The KPI tiles of the preview: label → value as shown (e.g. "Revenue" → "$653.7K")."""
    tiles = preview_panel(page).get_by_test_id("stMetric")
    return {
        tile.get_by_test_id("stMetricLabel").inner_text().strip(): tile.get_by_test_id(
            "stMetricValue"
        )
        .inner_text()
        .strip()
        for tile in tiles.all()
    }


def holds_number(text: str, number: str) -> bool:
    """Whether `text` holds `number` as a whole number ("686" is not in "1,686" or "6.86")."""
    return re.search(rf"(?<![\d.,]){re.escape(number)}(?![\d]|[.,]\d)", text) is not None


def pdf_text(path: Path) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(path).pages)


@when(parsers.parse('{user} starts from "{start}"'))
def start_from(page: Page, start: str) -> None:
    chooser = page.get_by_role("combobox", name="Start from", exact=True)
    if chooser.input_value() != start:  # choosing the current start again reruns nothing
        choose(page, "Start from", start)
    with rerun(page):
        page.get_by_role("button", name="Start", exact=True).click()
    expect(page.get_by_role("textbox", name="Title", exact=True)).to_have_value(start)
    expect(preview_panel(page).get_by_text(re.compile(r"^Total: "))).to_be_visible()


@when(parsers.parse("{user} notes the preview's totals"))
def note_totals(page: Page, seen: dict[str, Any]) -> None:
    seen["unfiltered_totals"] = preview_totals(page)


@when(parsers.parse('{user} filters "{dimension}" to "{value}"'))
def filter_to(page: Page, dimension: str, value: str) -> None:
    choose(page, "Filter by", dimension)
    choose(page, dimension, value)
    expect(page.get_by_text("may see it")).to_contain_text(f"{dimension} in {value}")


@then(parsers.parse('the preview shows a chart, a table and a narrative for "{phrase}"'))
def preview_shows(page: Page, phrase: str, seen: dict[str, Any]) -> None:
    panel = preview_panel(page)
    expect(panel.get_by_text("may see it")).to_contain_text(phrase)
    expect(panel.get_by_test_id("stPlotlyChart").first).to_be_visible()
    expect(panel.get_by_test_id("stDataFrame").first).to_be_visible()
    narrative = panel.get_by_role("heading", name="Summary", exact=True)
    expect(narrative).to_be_visible()
    expect(panel.get_by_role("listitem").filter(has_text="Revenue was").first).to_be_visible()
    seen["totals"] = preview_totals(page)
    seen["kpis"] = preview_kpis(page)
    assert seen["kpis"], "the preview shows no KPI tile"
    rows = table_rows(page, panel.get_by_test_id("stDataFrame").first)
    assert rows, "the preview's table has no row"
    seen["table_rows"] = rows
    screenshot(page, f"{seen.get('user', 'someone')}-report-builder-preview")


@then("the preview's totals changed with the filter")
def totals_changed(seen: dict[str, Any]) -> None:
    assert seen["totals"].keys() == seen["unfiltered_totals"].keys()
    assert seen["totals"] != seen["unfiltered_totals"], seen["totals"]


@when(parsers.parse("{user} opens the Print preview"))
def open_print_preview(page: Page, seen: dict[str, Any]) -> None:
    page.get_by_role("tab", name="Print preview", exact=True).click()
    expect(page.get_by_text("exactly as exported")).to_be_visible(timeout=RENDER_TIMEOUT_MS)
    settle(page)
    screenshot(page, f"{seen.get('user', 'someone')}-print-preview")


@then("the Print preview shows every page of the PDF")
def print_preview_pages(page: Page) -> None:
    caption = page.get_by_text("exactly as exported").inner_text()
    match = re.search(r"(\d+) pages?, exactly as exported", caption)
    assert match, caption
    count = int(match[1])
    assert count >= 2, f"a PDF of {count} page lacks its cover or contents"
    panel = page.get_by_role("tabpanel", name="Print preview")
    expect(panel.get_by_role("img", name=re.compile(r"^Page \d+ of \d+ of the PDF"))).to_have_count(
        count
    )
    expect(panel.get_by_role("button", name="Download PDF")).to_be_visible()


@when(parsers.parse("{user} downloads the PDF with Export PDF"))
def download_pdf(page: Page, seen: dict[str, Any]) -> None:
    export = page.locator(".st-key-builder_export_pdf").get_by_role("button")
    if export.count():  # not rendered yet: the first click renders, then offers the file
        with rerun(page, RENDER_TIMEOUT_MS):
            export.click()
    download = page.locator(".st-key-builder_download_export_pdf_0").get_by_role("button")
    with page.expect_download() as started:
        download.click()
    path = Path(started.value.path())
    assert started.value.suggested_filename.endswith(".pdf")
    seen["pdf_text"] = pdf_text(path)


@then("the PDF holds the totals and key figures the preview showed")
def pdf_holds_preview_numbers(seen: dict[str, Any]) -> None:
    text = seen["pdf_text"]
    numbers = [*seen["totals"].values(), *seen["kpis"].values()]
    missing = [number for number in numbers if not holds_number(text, number)]
    assert not missing, f"the PDF lacks {missing} that the preview showed"


@then("the PDF does not hold the totals of the unfiltered report")
def pdf_lacks_unfiltered(seen: dict[str, Any]) -> None:
    text = seen["pdf_text"]
    changed = {
        name: value
        for name, value in seen["unfiltered_totals"].items()
        if value != seen["totals"][name]
    }
    assert changed
    found = {name: value for name, value in changed.items() if holds_number(text, value)}
    assert not found, f"the PDF holds unfiltered totals {found}"


@then("the PDF names no region but EMEA")
def pdf_has_only_emea(seen: dict[str, Any]) -> None:
    text = seen["pdf_text"]
    assert "EMEA" in text
    assert non_emea_in(text) == [], "the PDF names a region ana may not see"
