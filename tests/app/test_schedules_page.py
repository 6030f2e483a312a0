"""The Schedules page with AppTest: role gating, creating through the form with the live timing
preview, an invalid cron refused beside its field, a stale edit that keeps the draft, pause,
resume, delete after a yes, an idempotent Run now and the builder's prefill."""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Callable
from datetime import date, time
from urllib.parse import parse_qs

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from reportgen.bootstrap import Services
from reportgen.domain.principal import Principal
from reportgen.domain.query import TimeRange
from reportgen.domain.schedules import (
    DailyAt,
    Recipient,
    RecipientKind,
    SavedReport,
    Schedule,
    ScheduleDraft,
)
from reportgen.domain.spec import KpiBlock, KpiTile, ReportSpec
from tests.app.apptest import run

SignIn = Callable[[str], AppTest]
PAGE = "pages/schedules.py"
SPEC = ReportSpec(
    title="Revenue pulse",
    dataset="sales",
    time_range=TimeRange(start=date(2026, 10, 1), end=date(2026, 11, 1)),
    blocks=(KpiBlock(tiles=(KpiTile(measure="revenue", compare=()),)),),
)
NEXT_RUN_AT_8_UTC = re.compile(r"^\d{4}-\d\d-\d\d 08:00 UTC$")


def unescaped(text: object) -> str:
    """Markdown text as the reader sees it (the app escapes what users and data supply)."""
    return re.sub(r"\\(.)", r"\1", str(text))


def open_page(signed_in: SignIn, username: str) -> AppTest:
    at = run(signed_in(username))
    at.switch_page(PAGE)
    return run(at)


def field(at: AppTest, name: str) -> str:
    """The key of form field `name` in the open form."""
    return f"schedules_{at.session_state['_schedules_form']['gen']}_{name}"


def unique(name: str) -> str:
    return f"{name} {secrets.token_hex(3)}"


def ana(services: Services) -> Principal:
    return services.users.principal("ana")


@pytest.fixture
def report(app_services: Services) -> SavedReport:
    return app_services.saved_reports.save(ana(app_services), SPEC, name=unique("Pulse"))


@pytest.fixture
def schedule(app_services: Services, report: SavedReport) -> Schedule:
    draft = ScheduleDraft(
        name=unique("Morning pulse"),
        report_id=report.id,
        cadence=DailyAt(at=time(8)),
        recipients=(Recipient(kind=RecipientKind.USER, value="ana"),),
    )
    return app_services.schedules.create(ana(app_services), draft)


def table(at: AppTest) -> pd.DataFrame:
    (frame,) = [df.value for df in at.dataframe if "Next run" in df.value.columns]
    return frame.set_index("Name")


def notices(at: AppTest) -> list[str]:
    return [str(e.value) for kind in ("success", "warning", "error") for e in at.get(kind)]


def pick(at: AppTest, schedule: Schedule) -> AppTest:
    at.selectbox(key="schedules_pick").set_value(schedule.id)
    return run(at)


def test_a_viewer_is_not_allowed_and_the_attempt_is_audited(
    signed_in: SignIn, app_services: Services
) -> None:
    at = open_page(signed_in, "victor")

    assert "not allowed to open schedules" in at.error[0].value
    assert "schedules_new" not in [b.key for b in at.button]
    assert not [title for title in at.title if title.value == "Schedules"]
    [event, *_] = app_services.audit.recent(actor="victor", action="page.open")
    assert (event.target, event.outcome) == ("schedules", "denied")


def test_creating_through_the_form_lists_the_schedule_with_its_next_run(
    signed_in: SignIn, app_services: Services, report: SavedReport
) -> None:
    at = open_page(signed_in, "ana")
    at.button(key="schedules_new").click()
    run(at)
    name = unique("Weekly EMEA")
    at.text_input(key=field(at, "name")).input(name)
    at.selectbox(key=field(at, "report")).set_value(report.id)
    at.selectbox(key=field(at, "kind")).set_value("weekdays")
    run(at)

    # The description and the next five fire times follow the cadence as it changes.
    shown = [unescaped(m.value) for m in at.markdown]
    assert any("Every weekday at 08:00 (UTC)" in text for text in shown)
    (times,) = [unescaped(c.value) for c in at.caption if str(c.value).startswith("Next 5 runs")]
    assert len(re.findall(r"(Mon|Tue|Wed|Thu|Fri) \d{4}-\d\d-\d\d 08:00 UTC", times)) == 5

    at.button(key="schedules_save").click()
    run(at)

    assert f"Created “{name}”." in notices(at)
    row = table(at).loc[name]
    assert row["Repeats"] == "Every weekday at 08:00 (UTC)"
    assert NEXT_RUN_AT_8_UTC.match(row["Next run"])
    assert (row["Report"], row["Status"], row["Owner"]) == (report.name, "▶ Active", "ana")
    [saved] = [s for s in app_services.schedules.list(ana(app_services)) if s.name == name]
    assert saved.report_id == report.id
    assert saved.cadence.kind == "weekdays"


def test_an_invalid_cron_is_shown_beside_the_cadence_and_nothing_is_saved(
    signed_in: SignIn, app_services: Services, report: SavedReport
) -> None:
    at = open_page(signed_in, "ana")
    at.button(key="schedules_new").click()
    run(at)
    name = unique("Broken cron")
    at.text_input(key=field(at, "name")).input(name)
    at.selectbox(key=field(at, "kind")).set_value("cron")
    run(at)
    at.text_input(key=field(at, "cron")).input("61 * * * *")
    at.text_area(key=field(at, "emails")).input("not-an-address")
    at.button(key="schedules_save").click()
    run(at)

    (cadence_column,) = [
        c for c in at.columns if any(t.label == "Cron expression" for t in c.text_input)
    ]
    cadence_errors = [str(e.value) for e in cadence_column.error]
    assert any(
        "minute 61 is outside 0–59" in e and "Example: '0 8 * * 1-5'" in e for e in cadence_errors
    ), cadence_errors
    # Every problem at once: the bad address too, beside the addresses field.
    assert any("'not-an-address' is not an email address" in str(e.value) for e in at.error)
    assert not [s for s in app_services.schedules.list(ana(app_services)) if s.name == name]
    assert at.session_state["_schedules_form"] is not None  # the form stays open with the draft


def test_a_stale_edit_shows_the_conflict_and_keeps_the_draft(
    signed_in: SignIn, app_services: Services, schedule: Schedule
) -> None:
    at = pick(open_page(signed_in, "ana"), schedule)
    at.button(key="schedules_edit").click()
    run(at)
    mine = unique("My edit")
    at.text_input(key=field(at, "name")).input(mine)
    run(at)
    theirs = unique("Their edit")
    their_draft = schedule.draft().model_copy(update={"name": theirs})
    app_services.schedules.update(ana(app_services), schedule.id, their_draft, expected_version=1)

    at.button(key="schedules_save").click()
    run(at)

    assert any(
        "This schedule was changed by ana" in e and "Your changes were not saved" in e
        for e in notices(at)
    )
    assert at.text_input(key=field(at, "name")).value == mine
    assert app_services.schedules.get(ana(app_services), schedule.id).name == theirs

    at.button(key="schedules_reload").click()
    run(at)
    assert at.text_input(key=field(at, "name")).value == theirs
    assert at.session_state["_schedules_form"]["version"] == 2


def test_pause_resume_and_delete_after_confirming(
    signed_in: SignIn, app_services: Services, schedule: Schedule
) -> None:
    at = pick(open_page(signed_in, "ana"), schedule)
    at.button(key="schedules_pause").click()
    run(at)
    assert app_services.schedules.get(ana(app_services), schedule.id).paused
    assert table(at).loc[schedule.name, "Status"] == "⏸ Paused"
    assert table(at).loc[schedule.name, "Next run"] == "Paused"

    at.button(key="schedules_resume").click()
    run(at)
    assert not app_services.schedules.get(ana(app_services), schedule.id).paused
    assert table(at).loc[schedule.name, "Status"] == "▶ Active"

    at.button(key="schedules_delete").click()
    run(at)
    assert any("This cannot be undone" in str(w.value) for w in at.warning)
    assert schedule.id in {s.id for s in app_services.schedules.list(ana(app_services))}
    at.button(key="schedules_delete_cancel").click()
    run(at)
    assert not any("This cannot be undone" in str(w.value) for w in at.warning)

    at.button(key="schedules_delete").click()
    run(at)
    at.button(key="schedules_delete_confirm").click()
    run(at)
    assert f"Deleted “{schedule.name}”. Its runs keep their history." in notices(at)
    assert schedule.id not in {s.id for s in app_services.schedules.list(ana(app_services))}
    events = app_services.audit.recent(actor="ana", action="schedule.delete")
    assert events[0].target == f"schedule:{schedule.id}"


def test_run_now_twice_makes_one_run(
    signed_in: SignIn, app_services: Services, schedule: Schedule
) -> None:
    at = pick(open_page(signed_in, "ana"), schedule)
    at.button(key="schedules_run_now").click()
    run(at)
    at.button(key="schedules_run_now").click()
    run(at)

    runs = app_services.runs.list(ana(app_services), schedule_id=schedule.id).runs
    assert len(runs) == 1
    assert (runs[0].trigger, runs[0].requested_by) == ("manual", "ana")
    assert any(f"queued (run `{runs[0].id[:8]}`" in n for n in notices(at))
    # The notice links to that run on the Runs page.
    (link,) = [e.proto for e in at.get("page_link") if "Runs page" in e.proto.label]
    assert link.label == "Follow it on the Runs page"
    assert link.page.endswith("run-history")
    assert parse_qs(link.query_string) == {"run": [runs[0].id]}


def test_the_builder_prefill_opens_the_form_on_the_report(
    signed_in: SignIn, report: SavedReport
) -> None:
    at = run(signed_in("ana"))
    at.switch_page(PAGE)
    at.session_state["schedule_prefill_report_id"] = report.id
    run(at)

    assert at.selectbox(key=field(at, "report")).value == report.id
    assert at.text_input(key=field(at, "name")).value == report.name
    assert at.subheader[0].value == "New schedule"
    assert "schedule_prefill_report_id" not in at.session_state


def test_sharing_my_view_warns_what_it_means(signed_in: SignIn, report: SavedReport) -> None:
    at = open_page(signed_in, "ana")
    at.button(key="schedules_new").click()
    run(at)
    assert not any("Sharing your view" in str(w.value) for w in at.warning)

    at.radio(key=field(at, "run_as")).set_value("owner")
    run(at)
    assert any("Sharing your view" in str(w.value) for w in at.warning)


def test_the_repeat_choices_tell_weekdays_from_chosen_days(
    signed_in: SignIn, report: SavedReport
) -> None:
    at = open_page(signed_in, "ana")
    at.button(key="schedules_new").click()
    run(at)

    repeats = at.selectbox(key=field(at, "kind"))
    assert "Every weekday (Mon–Fri)" in repeats.options
    assert "On chosen days of the week" in repeats.options
    repeats.set_value("weekly")
    run(at)
    assert at.multiselect(key=field(at, "days")).label == "Days of the week"


def test_the_table_fits_a_1400_px_window_with_the_next_run_second(
    signed_in: SignIn, schedule: Schedule
) -> None:
    at = open_page(signed_in, "ana")

    (shown,) = [df for df in at.dataframe if "Next run" in df.value.columns]
    config = json.loads(shown.proto.columns)
    widths = {column: config.get(column, {}).get("width") for column in shown.value.columns}
    # Beside the sidebar, a 1400 px window leaves the table about 940 px.
    assert all(isinstance(width, int) for width in widths.values()), widths
    assert sum(widths.values()) <= 940, widths
    assert list(shown.value.columns)[:2] == ["Name", "Next run"]
    assert widths["Next run"] >= len("2026-11-16 08:00 CEST") * 7, widths
