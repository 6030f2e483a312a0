"""Saved reports in the builder with AppTest: a saved report reopened (from the builder's list,
from Home, or by its address), edited and saved as its next version under the same name, or
saved as a new report; the saved name becomes the title the builder shows."""

from __future__ import annotations

import secrets
from datetime import date
from urllib.parse import parse_qs

import pytest
from streamlit.testing.v1 import AppTest

from reportgen.bootstrap import Services
from reportgen.domain.query import TimeRange
from reportgen.domain.schedules import SavedReport
from reportgen.domain.spec import KpiBlock, KpiTile, ReportSpec
from tests.app.apptest import run
from tests.app.test_builder import SignIn, errors, key, open_builder, spec, successes

SPEC = ReportSpec(
    title="Revenue pulse",
    dataset="sales",
    time_range=TimeRange(start=date(2026, 10, 1), end=date(2026, 11, 1)),
    blocks=(KpiBlock(tiles=(KpiTile(measure="revenue", compare=()),)),),
)
BUILDER = "pages/builder.py"
SAVE = "FormSubmitter:builder_save_form-Save report"
SAVE_VERSION = "FormSubmitter:builder_save_form-Save a new version"


@pytest.fixture
def saved(app_services: Services) -> SavedReport:
    """One of ana's saved reports, its spec titled otherwise than its name."""
    ana = app_services.users.principal("ana")
    return app_services.saved_reports.save(
        ana, SPEC, name=f"EMEA pulse {secrets.token_hex(3)}", description="For the board"
    )


def open_saved(at: AppTest, report: SavedReport) -> AppTest:
    at.selectbox(key="builder_open_pick").set_value(report.id)
    at.button(key="builder_open_button").click()
    return run(at)


def versions(services: Services, report: SavedReport) -> list[int]:
    ana = services.users.principal("ana")
    return [v.version for v in services.saved_reports.versions(ana, report.id)]


def test_a_saved_report_reopens_and_saves_its_next_version_under_its_name(
    signed_in: SignIn, app_services: Services, saved: SavedReport
) -> None:
    at = open_saved(open_builder(signed_in, "ana"), saved)

    assert at.text_input(key=key(at, "title")).value == saved.name
    assert spec(at).dataset == "sales"
    assert at.text_input(key="builder_save_name").value == saved.name
    assert at.text_area(key="builder_save_description").value == "For the board"
    assert at.query_params["report"] == saved.id
    assert any(f"“{saved.name}” (version 1)" in str(c.value) for c in at.caption)

    at.text_input(key=key(at, "subtitle")).input("October")
    at.text_input(key="builder_save_comment").input("A subtitle")
    at.button(key=SAVE_VERSION).click()
    run(at)

    assert successes(at) == [f"Saved “{saved.name}” as version 2."]
    assert versions(app_services, saved) == [1, 2]
    ana = app_services.users.principal("ana")
    newest = app_services.saved_reports.get(ana, saved.id)
    assert (newest.name, newest.spec.subtitle, newest.spec.title) == (
        saved.name,
        "October",
        saved.name,
    )
    assert [r.name for r in app_services.saved_reports.list(ana)].count(saved.name) == 1


def test_save_as_a_new_report_keeps_the_original(
    signed_in: SignIn, app_services: Services, saved: SavedReport
) -> None:
    at = open_saved(open_builder(signed_in, "ana"), saved)
    copy = f"{saved.name} copy"
    at.text_input(key="builder_save_name").input(copy)
    at.checkbox(key="builder_save_as_new").check()
    at.button(key=SAVE_VERSION).click()
    run(at)

    assert successes(at) == [f"Saved “{copy}” as version 1."]
    assert versions(app_services, saved) == [1]
    new_id = at.query_params["report"]
    assert new_id != saved.id
    # The builder now edits the copy, titled after its name.
    assert at.text_input(key=key(at, "title")).value == copy
    at.button(key=SAVE_VERSION).click()
    run(at)
    assert successes(at) == [f"Saved “{copy}” as version 2."]


def test_saving_under_another_name_retitles_the_report(
    signed_in: SignIn, app_services: Services
) -> None:
    at = open_builder(signed_in, "ana")
    title = spec(at).title
    name = f"Board pack {secrets.token_hex(3)}"
    assert at.text_input(key="builder_save_name").value == title  # the name follows the title

    at.text_input(key="builder_save_name").input(name)
    at.button(key=SAVE).click()
    run(at)

    assert successes(at) == [f"Saved “{name}” as version 1."]
    assert at.text_input(key=key(at, "title")).value == name
    assert spec(at).title == name
    ana = app_services.users.principal("ana")
    (report,) = [r for r in app_services.saved_reports.list(ana) if r.name == name]
    assert report.spec.title == name

    # Editing the title again carries the name along, and saves a version of the same report.
    at.text_input(key=key(at, "title")).input(f"{name} v2")
    run(at)
    assert at.text_input(key="builder_save_name").value == f"{name} v2"
    at.button(key=SAVE_VERSION).click()
    run(at)
    assert successes(at) == [f"Saved “{name} v2” as version 2."]


def test_home_opens_a_saved_report_in_the_builder_by_its_address(
    signed_in: SignIn, app_services: Services, saved: SavedReport
) -> None:
    at = run(signed_in("ana"))  # Home
    at.selectbox(key="home_open_report").set_value(saved.id)
    run(at)
    (link,) = [e.proto for e in at.get("page_link") if e.proto.label == "Open in the builder"]
    assert link.page.endswith("report-builder")
    assert parse_qs(link.query_string) == {"report": [saved.id]}

    # Following the link: the builder at ?report=<id>.
    at.switch_page(BUILDER)
    at.query_params["report"] = saved.id
    run(at)
    assert at.text_input(key=key(at, "title")).value == saved.name
    assert at.query_params["report"] == saved.id
    at.button(key=SAVE_VERSION).click()
    run(at)
    assert successes(at) == [f"Saved “{saved.name}” as version 2."]

    # A fresh start from a template is no version of it: the address lets go of the report.
    at.button(key="builder_start_button").click()
    run(at)
    assert "report" not in at.query_params
    assert at.button(key=SAVE).label == "Save report"


def test_an_address_naming_someone_elses_report_says_so(
    signed_in: SignIn, app_services: Services
) -> None:
    admin = app_services.users.principal("admin")
    theirs = app_services.saved_reports.save(admin, SPEC, name="Admin's own")
    at = run(signed_in("ana"))
    at.switch_page(BUILDER)
    at.query_params["report"] = theirs.id
    run(at)

    assert any("names a saved report you cannot open" in str(w.value) for w in at.warning)
    assert "report" not in at.query_params
    assert at.text_input(key=key(at, "title")).value != "Admin's own"
    assert not errors(at)
