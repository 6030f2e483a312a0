"""Journey: ana (EMEA) never sees a non-EMEA value: catalog sample, builder pickers and preview
table (features/emea_only.feature; the PDF and Runs page steps are in `builder_steps` and
`runs_steps`, run by the build and schedule journeys)."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect
from pytest_bdd import parsers, scenarios, then, when

from reportgen.warehouse.demo_company import COUNTRY_WEIGHTS
from tests.browser.app_ui import choose, open_choices, rerun, screenshot, table_rows
from tests.browser.builder_steps import preview_panel

pytestmark = pytest.mark.browser

scenarios("features/emea_only.feature")

EMEA_COUNTRIES = set(COUNTRY_WEIGHTS["EMEA"])
OTHER_COUNTRIES = {
    c for region, weights in COUNTRY_WEIGHTS.items() if region != "EMEA" for c in weights
}


@when(parsers.parse('{user} opens the sample rows of "{dataset}"'))
def open_sample(page: Page, dataset: str, seen: dict[str, Any]) -> None:
    card = page.locator(f".st-key-catalog_card_{dataset}")
    with rerun(page):
        card.get_by_text("Columns, measures and sample rows").click()
    card.get_by_role("tab", name="Sample", exact=True).click()
    expect(card.get_by_text("rows, as you may see them")).to_be_visible()
    seen["sample"] = table_rows(page, card.get_by_test_id("stDataFrame").filter(visible=True).last)
    screenshot(page, f"{seen['user']}-catalog-sample-{dataset}")


@then("every sample row is of region EMEA and an EMEA country")
def sample_is_emea(seen: dict[str, Any]) -> None:
    rows = seen["sample"]
    assert rows, "the sample has no row"
    assert {row["region"] for row in rows} == {"EMEA"}
    assert {row["country"] for row in rows} <= EMEA_COUNTRIES


@when(parsers.parse('{user} chooses to filter by "{first}" and "{second}"'))
def filter_dimensions(page: Page, first: str, second: str) -> None:
    for dimension in (first, second):
        choose(page, "Filter by", dimension)
        expect(page.get_by_role("combobox", name=dimension, exact=True)).to_be_visible()


def _options(page: Page, picker: str) -> set[str]:
    open_choices(page, picker)
    options = page.get_by_role("option")
    expect(options.first).to_be_visible()
    found = {text.strip() for text in options.all_inner_texts()} - {"Select all"}
    page.keyboard.press("Escape")
    return found


@then(parsers.parse('the "{picker}" picker offers only "{value}"'))
def picker_offers(page: Page, picker: str, value: str) -> None:
    assert _options(page, picker) == {value}


@then(parsers.parse('the "{picker}" picker offers only EMEA countries'))
def countries_offered(page: Page, picker: str) -> None:
    offered = _options(page, picker)
    assert offered, "the picker offers no country"
    assert offered <= EMEA_COUNTRIES, offered - EMEA_COUNTRIES
    assert not offered & OTHER_COUNTRIES


@then("the preview's table lists region EMEA only")
def preview_table_emea(page: Page) -> None:
    rows = table_rows(page, preview_panel(page).get_by_test_id("stDataFrame").first)
    assert rows, "the preview's table has no row"
    regions = {value for row in rows for name, value in row.items() if name.lower() == "region"}
    assert regions == {"EMEA"}, rows
