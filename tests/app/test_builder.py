"""The report builder with AppTest: role gating, templates filling the spec, filters driving the
preview's numbers, what a region-limited author sees, problems beside their fields, blocks added,
moved and removed, refused empty exports and the PDF export."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import date
from typing import Any

import pandas as pd
import pytest
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import Block, Column, Node

from components import builder_preview
from reportgen.bootstrap import Services
from reportgen.domain.catalog import MeasureFormat
from reportgen.domain.spec import ReportSpec
from reportgen.services.render import RenderService
from tests.app.apptest import run

SignIn = Callable[[str], AppTest]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BUILDER = "pages/builder.py"
DATA_YEAR = (date(2026, 1, 1), date(2026, 10, 31))
"""A period inside the test warehouse's data (it ends 2026-10-31), whatever day the tests run."""


def open_builder(signed_in: SignIn, username: str) -> AppTest:
    at = run(signed_in(username))
    at.switch_page(BUILDER)
    return run(at)


def key(at: AppTest, name: str) -> str:
    return f"builder_{at.session_state['_builder_generation']}_{name}"


def block_key(at: AppTest, index: int, name: str) -> str:
    block_id = at.session_state["_builder_block_ids"][index]
    return key(at, f"block_{block_id}_{name}")


def spec(at: AppTest) -> ReportSpec:
    current = at.session_state["builder_spec"]
    assert isinstance(current, ReportSpec)
    return current


def metrics(at: AppTest) -> dict[str, str]:
    return {metric.label: str(metric.value) for metric in at.metric}


def unescaped(text: object) -> str:
    """Markdown text as the reader sees it (the app escapes what users and data supply)."""
    return re.sub(r"\\(.)", r"\1", str(text))


def errors(at: AppTest) -> list[str]:
    return [unescaped(error.value) for error in at.error]


def table_with(at: AppTest, column: str) -> pd.DataFrame:
    (frame,) = [df.value for df in at.dataframe if column in df.value.columns]
    assert isinstance(frame, pd.DataFrame)
    return frame


def set_period(at: AppTest, first: date, last: date) -> AppTest:
    at.selectbox(key=key(at, "period")).select("custom")
    run(at)
    at.date_input(key=key(at, "dates")).set_value((first, last))
    return run(at)


def test_a_viewer_opening_the_builder_by_url_is_refused_and_audited(
    signed_in: SignIn, app_services: Services
) -> None:
    at = open_builder(signed_in, "victor")

    assert errors(at) == [
        "You are not allowed to open the report builder; it is for the roles: admin, author."
    ]
    assert "Report builder" not in [title.value for title in at.title]
    assert not at.metric
    denied = app_services.audit.recent(actor="victor", action="page.open")
    assert denied[0].outcome == "denied"
    assert denied[0].target == "the report builder"


def test_an_author_starts_from_the_executive_summary_with_a_live_preview(
    signed_in: SignIn,
) -> None:
    at = open_builder(signed_in, "ana")

    assert [title.value for title in at.title] == ["Report builder"]
    assert spec(at).title == "Executive summary"
    assert [block.kind for block in spec(at).blocks] == [
        "cover",
        "kpis",
        "narrative",
        "chart",
        "table",
    ]
    assert list(metrics(at)) == ["Revenue", "Units", "Orders"]
    assert at.text_input(key=key(at, "title")).value == "Executive summary"
    # "No split" is a choice of its own, so the browser shows it rather than a placeholder.
    split = at.selectbox(key=block_key(at, 3, "color"))
    assert (split.options[0], split.index) == ("No split", 0)
    assert not errors(at)


def test_choosing_a_template_fills_the_spec_and_the_fields(signed_in: SignIn) -> None:
    at = open_builder(signed_in, "ana")
    at.selectbox(key="builder_start").select("operational_status/spec")
    at.button(key="builder_start_button").click()
    run(at)

    assert spec(at).title == "Operational status"
    assert spec(at).dataset == "support_tickets"
    assert [block.kind for block in spec(at).blocks] == ["cover", "kpis", "narrative", "chart"]
    assert at.text_input(key=key(at, "title")).value == "Operational status"
    assert at.selectbox(key=key(at, "dataset")).value == "support_tickets"
    assert list(metrics(at)) == ["Tickets", "Open tickets", "SLA breaches"]


def test_every_built_in_start_opens_and_asks_only_for_what_it_needs(signed_in: SignIn) -> None:
    at = open_builder(signed_in, "ana")
    starts = at.selectbox(key="builder_start").options
    assert len(starts) == 11  # blank, then a starting point and a sample per template
    # Named as their specs name them, acronyms kept.
    assert {"KPI tracker", "KPI tracker (sample)", "ROI analysis (sample)"} <= set(starts)
    for start in starts:
        at.selectbox(key="builder_start").select(start)
        at.button(key="builder_start_button").click()
        run(at)
        if start.startswith("Regional performance"):
            # Its region is chosen per run; ana may see EMEA only, so it is chosen for her.
            assert at.multiselect(key=key(at, "param_region")).value == ["EMEA"], start
        assert not errors(at), (start, errors(at))
        assert at.metric, start


def test_a_parameter_with_several_values_to_see_is_asked_for(signed_in: SignIn) -> None:
    at = open_builder(signed_in, "admin")
    at.selectbox(key="builder_start").select("Regional performance")
    at.button(key="builder_start_button").click()
    run(at)

    assert at.multiselect(key=key(at, "param_region")).value == []
    assert errors(at) == ["Choose at least one region"]
    at.multiselect(key=key(at, "param_region")).set_value(["APAC"])
    run(at)
    assert not errors(at)
    assert at.metric


def test_another_dataset_starts_a_blank_report_on_it(signed_in: SignIn) -> None:
    at = open_builder(signed_in, "ana")
    at.text_input(key=key(at, "title")).input("Support review")
    run(at)
    at.selectbox(key=key(at, "dataset")).select("support_tickets")
    run(at)

    assert spec(at).dataset == "support_tickets"
    assert spec(at).title == "Support review"
    assert [block.kind for block in spec(at).blocks] == ["kpis", "chart"]
    assert at.selectbox(key=key(at, "period")).value == "last_90_days"
    assert not errors(at)


def test_changing_a_filter_changes_the_preview_numbers(signed_in: SignIn) -> None:
    at = set_period(open_builder(signed_in, "ana"), *DATA_YEAR)
    every_channel = table_with(at, "region")["units"].sum()
    revenue = metrics(at)["Revenue"]
    at.multiselect(key=key(at, "filter_dimensions")).set_value(["channel"])
    run(at)
    channels = at.multiselect(key=key(at, "filter_channel")).options
    at.multiselect(key=key(at, "filter_channel")).set_value([channels[0]])
    run(at)

    one_channel = table_with(at, "region")["units"].sum()
    assert 0 < one_channel < every_channel
    assert metrics(at)["Revenue"] != revenue
    assert spec(at).filters[0].field == "channel"
    period = spec(at).time_range
    assert period is not None
    assert period.end == date(2026, 11, 1)  # the last day is included


def test_ana_only_sees_emea_in_the_pickers_and_the_preview(
    signed_in: SignIn, app_services: Services
) -> None:
    def lookups() -> int:
        return len(app_services.audit.recent(actor="ana", action="dataset.values", limit=1000))

    at = set_period(open_builder(signed_in, "ana"), *DATA_YEAR)
    before = lookups()
    at.multiselect(key=key(at, "filter_dimensions")).set_value(["region"])
    run(at)

    assert at.multiselect(key=key(at, "filter_region")).options == ["EMEA"]
    assert table_with(at, "region")["region"].tolist() == ["EMEA"]
    # The picker's values are one governed, audited lookup, not one per rerun.
    run(at)
    run(at)
    assert lookups() == before + 1


def test_an_invalid_block_shows_its_problem_and_holds_the_preview(signed_in: SignIn) -> None:
    at = open_builder(signed_in, "ana")
    at.selectbox(key=block_key(at, 3, "chart")).select("pie")
    at.text_input(key=key(at, "title")).input("   ")
    run(at)

    assert "X axis: a pie chart slices a dimension, not time" in errors(at)
    assert "Give the report a title, such as “EMEA sales review”" in errors(at)
    assert not at.metric
    assert "Fix the problems shown beside the fields to see the preview." in [
        info.value for info in at.info
    ]


def test_a_chart_without_measures_says_what_to_choose(signed_in: SignIn) -> None:
    at = open_builder(signed_in, "ana")
    at.multiselect(key=block_key(at, 3, "y")).set_value([])
    run(at)

    assert errors(at) == ["Y axis: choose at least one"]
    assert not at.metric
    assert [block.kind for block in spec(at).blocks] == ["cover", "kpis", "narrative", "table"]


def test_blocks_can_be_added_moved_and_removed(signed_in: SignIn) -> None:
    at = open_builder(signed_in, "ana")
    at.selectbox(key=key(at, "add_kind")).select("text")
    at.button(key="builder_add_block").click()
    run(at)
    assert [block.kind for block in spec(at).blocks][-1] == "text"

    text_id = at.session_state["_builder_block_ids"][-1]
    at.button(key=f"builder_up_{text_id}").click()
    run(at)
    assert [block.kind for block in spec(at).blocks][-2:] == ["text", "table"]

    at.button(key=f"builder_remove_{text_id}").click()
    run(at)
    assert [block.kind for block in spec(at).blocks] == [
        "cover",
        "kpis",
        "narrative",
        "chart",
        "table",
    ]


def test_an_export_of_an_empty_selection_is_refused_with_a_sentence(signed_in: SignIn) -> None:
    at = set_period(open_builder(signed_in, "ana"), date(2020, 1, 1), date(2020, 1, 31))

    warnings = [unescaped(warning.value) for warning in at.warning]
    assert warnings == [
        "Nothing to export: no rows of Sales orders match this period and these filters "
        "(Order date: 2020-01-01 to 2020-01-31). Widen the period or remove a filter, then export."
    ]
    assert not [button for button in at.button if button.label.startswith("Export ")]
    assert not at.download_button


def successes(at: AppTest) -> list[str]:
    return [unescaped(success.value) for success in at.success]


def test_saving_checks_the_name_then_keeps_versions(
    signed_in: SignIn, app_services: Services
) -> None:
    at = open_builder(signed_in, "ana")
    at.text_input(key="builder_save_name").input("  ")
    at.button(key="FormSubmitter:builder_save_form-Save report").click()
    run(at)
    assert "Give the report a name, such as “EMEA sales review”." in errors(at)
    assert not successes(at)

    at.text_input(key="builder_save_name").input("EMEA sales review")
    at.button(key="FormSubmitter:builder_save_form-Save report").click()
    run(at)
    assert successes(at) == ["Saved “EMEA sales review” as version 1."]

    at.text_input(key="builder_save_comment").input("Added a channel filter")
    at.button(key="FormSubmitter:builder_save_form-Save a new version").click()
    run(at)
    assert successes(at) == ["Saved “EMEA sales review” as version 2."]
    saves = app_services.audit.recent(actor="ana", action="report.save")
    assert [event.outcome for event in saves[:2]] == ["succeeded", "succeeded"]

    # "Save as schedule" opens the Schedules page's form with this report chosen.
    saved_id = at.session_state["_builder_saved_report"][1]
    at.button(key="builder_schedule").click()
    run(at)
    assert "Schedules" in [title.value for title in at.title]
    assert "New schedule" in [header.value for header in at.subheader]
    assert saved_id in [box.value for box in at.selectbox]


def layout_around(node: Node, key: str, around: tuple[Node, ...] = ()) -> tuple[Node, ...]:
    """The blocks holding the widget `key`, outermost first (empty when it is not there)."""
    if getattr(node, "key", None) == key:
        return around
    children = node.children.values() if isinstance(node, Block) else ()
    for child in children:
        found = layout_around(child, key, (*around, node))
        if found:
            return found
    return ()


def test_the_export_buttons_wrap_rather_than_clip(signed_in: SignIn) -> None:
    # In four equal columns "Export HTML" was cut short beside an open sidebar; in a wrapping
    # row each button is as wide as its label and moves to the next line when space runs out.
    at = set_period(open_builder(signed_in, "ana"), *DATA_YEAR)
    at.button(key="builder_export_csv").click()
    run(at)

    for widget in ("builder_export_pdf", "builder_export_html", "builder_download_export_csv_0"):
        blocks = layout_around(at.main, widget)
        assert blocks, f"{widget} is not drawn"
        assert not isinstance(blocks[-1], Column), f"{widget} sits in a column"
        row = blocks[-2].proto.flex_container
        cell = blocks[-1].proto
        assert (row.direction, row.wrap) == (row.HORIZONTAL, True), widget
        assert cell.width_config.use_content, f"{widget}'s cell is not as wide as its button"


def test_exports_render_on_click_then_download_csv_xlsx_and_html(
    signed_in: SignIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    handed: list[tuple[bytes, str, str | None]] = []
    add = MediaFileManager.add

    def spy(self: MediaFileManager, data: Any, mimetype: str, *args: Any, **kwargs: Any) -> str:
        if isinstance(data, bytes):
            handed.append((data, mimetype, kwargs.get("file_name")))
        return add(self, data, mimetype, *args, **kwargs)

    monkeypatch.setattr(MediaFileManager, "add", spy)
    at = set_period(open_builder(signed_in, "ana"), *DATA_YEAR)
    assert not [
        b for b in at.download_button if (b.key or "").startswith("builder_download_export_csv")
    ]
    at.button(key="builder_export_csv").click()
    run(at)

    (download,) = [b for b in at.download_button if b.key == "builder_download_export_csv_0"]
    assert download.label == "Download CSV"
    assert [(s.label, s.state) for s in at.status] == [("CSV ready", "complete")]
    (csv,) = [data for data, mimetype, _ in handed if mimetype.startswith("text/csv")]
    lines = csv.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("Region,")
    assert [line.split(",")[0] for line in lines[1:]] == ["EMEA"]

    at.button(key="builder_export_xlsx").click()
    run(at)
    at.button(key="builder_export_html").click()
    run(at)
    kinds = {mimetype.split(";")[0]: data for data, mimetype, _ in handed}
    assert kinds[XLSX].startswith(b"PK")  # a zip, as every .xlsx is
    assert b"Executive summary" in kinds["text/html"]
    labels = {b.key: b.label for b in at.download_button}
    assert labels["builder_download_export_xlsx_0"] == "Download XLSX"
    assert labels["builder_download_export_html_0"] == "Download HTML"


@pytest.mark.slow
def test_the_pdf_export_hands_over_the_pdf_the_print_preview_shows(
    signed_in: SignIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    handed: list[tuple[bytes, str, str | None]] = []
    add = MediaFileManager.add

    def spy(self: MediaFileManager, data: Any, mimetype: str, *args: Any, **kwargs: Any) -> str:
        if isinstance(data, bytes):
            handed.append((data, mimetype, kwargs.get("file_name")))
        return add(self, data, mimetype, *args, **kwargs)

    renders: list[tuple[str, ...]] = []
    render = RenderService.render

    def count(self: RenderService, *args: Any, **kwargs: Any) -> Any:
        renders.append(tuple(f.value for f in kwargs.get("formats", ())))
        return render(self, *args, **kwargs)

    monkeypatch.setattr(MediaFileManager, "add", spy)
    monkeypatch.setattr(RenderService, "render", count)
    at = set_period(open_builder(signed_in, "ana"), *DATA_YEAR)
    at.session_state["builder_tabs"] = "Print preview"
    run(at)

    # The print preview rendered the PDF once and drew its pages.
    assert renders == [("pdf",)]
    (pages,) = at.image
    assert len(pages.value) >= 2
    assert pages.captions[0] == f"Page 1 of {len(pages.value)}"
    shown = [data for data, mimetype, _ in handed if mimetype == "application/pdf"]
    assert shown and shown[0].startswith(b"%PDF-")

    # Export PDF hands over those very bytes at once: no second render.
    at.session_state["builder_tabs"] = "Preview"
    run(at)
    (download,) = [b for b in at.download_button if b.key == "builder_download_export_pdf_0"]
    assert download.label == "Download PDF"
    assert renders == [("pdf",)]
    exported = [data for data, mimetype, _ in handed if mimetype == "application/pdf"]
    assert set(exported) == {shown[0]}


def preview_caption(at: AppTest) -> str:
    (caption,) = [unescaped(c.value) for c in at.caption if " may see it" in c.value]
    return caption


def test_the_whole_draft_survives_leaving_the_builder_and_coming_back(
    signed_in: SignIn,
) -> None:
    # Streamlit forgets the state of widgets a run does not draw: opening Home must not cost
    # the draft any of its parts when the author comes back.
    at = open_builder(signed_in, "ana")
    at.selectbox(key="builder_start").select("blank")
    at.button(key="builder_start_button").click()
    run(at)
    at.text_input(key=key(at, "title")).input("EMEA orders")
    at.selectbox(key=key(at, "period")).select("last_year")
    at.multiselect(key=key(at, "filter_dimensions")).set_value(["region"])
    run(at)
    at.multiselect(key=key(at, "filter_region")).set_value(["EMEA"])
    at.text_input(key=block_key(at, 1, "title")).input("Revenue by month")
    run(at)
    before = spec(at)
    assert [(f.field, f.value) for f in before.filters] == [("region", ("EMEA",))]
    assert preview_caption(at).endswith(" · Region in EMEA")

    at.switch_page("pages/home.py")
    run(at)
    assert "Home" in [title.value for title in at.title]
    at.switch_page(BUILDER)
    run(at)

    assert [(f.field, f.value) for f in spec(at).filters] == [("region", ("EMEA",))]
    assert preview_caption(at).endswith(" · Region in EMEA")
    assert spec(at) == before  # the title, period and block edits too
    assert at.selectbox(key="builder_start").value == "blank"
    assert at.text_input(key=key(at, "title")).value == "EMEA orders"
    assert at.selectbox(key=key(at, "period")).value == "last_year"
    assert at.multiselect(key=key(at, "filter_dimensions")).value == ["region"]
    assert at.multiselect(key=key(at, "filter_region")).value == ["EMEA"]
    assert at.text_input(key=block_key(at, 1, "title")).value == "Revenue by month"


def test_the_preview_table_writes_amounts_like_the_pdf(signed_in: SignIn) -> None:
    at = set_period(open_builder(signed_in, "ana"), *DATA_YEAR)

    (total,) = [unescaped(c.value) for c in at.caption if str(c.value).startswith("Total: ")]
    assert re.fullmatch(r"Total: Revenue \$[\d,]+\.\d\d · Units [\d,]+ · Orders [\d,]+", total)
    (shown,) = [df for df in at.dataframe if "region" in df.value.columns]
    columns = json.loads(shown.proto.columns)
    assert columns["revenue"]["type_config"]["format"] == "dollar"
    assert columns["units"]["type_config"]["format"] == "localized"
    assert shown.value["revenue"].dtype == "float64"


@pytest.mark.parametrize(
    ("currency", "label", "shown_as"),
    [
        ("USD", "Revenue", "dollar"),
        ("EUR", "Revenue", "euro"),
        ("GBP", "Revenue (GBP)", "accounting"),
    ],
)
def test_amount_columns_follow_the_reports_currency(
    currency: str, label: str, shown_as: str
) -> None:
    column = builder_preview.number_column("Revenue", MeasureFormat.CURRENCY, currency, None)

    assert column["label"] == label
    assert column["type_config"]["format"] == shown_as


def test_percent_columns_show_percentages() -> None:
    column = builder_preview.number_column("Margin %", MeasureFormat.PERCENT, "USD", None)

    assert column["type_config"]["format"] == "percent"
