"""The Home page with AppTest: the landing page of every user, showing ana her saved report, her
schedule with its next run, a dead run that needs her, recent runs and the late datasets; what a
viewer and a brand-new author are told to do next."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from reportgen.bootstrap import Services
from reportgen.domain.query import TimeRange
from reportgen.domain.runs import Run, RunStatus
from reportgen.domain.schedules import (
    Recipient,
    RecipientKind,
    SavedReport,
    Schedule,
    ScheduleDraft,
    WeekdaysAt,
)
from reportgen.domain.spec import KpiBlock, KpiTile, ReportSpec
from tests.app.apptest import run

SignIn = Callable[[str], AppTest]
SPEC = ReportSpec(
    title="Revenue pulse",
    dataset="sales",
    time_range=TimeRange(start=date(2026, 10, 1), end=date(2026, 11, 1)),
    blocks=(KpiBlock(tiles=(KpiTile(measure="revenue", compare=()),)),),
)
WHY = "SMTP relay refused: 550 mailbox unavailable"


def unescaped(text: object) -> str:
    """Markdown as the reader sees it (the app escapes what users typed)."""
    return re.sub(r"\\(.)", r"\1", str(text))


def texts(at: AppTest, *kinds: str) -> list[str]:
    kinds = kinds or ("title", "subheader", "markdown", "caption", "error", "info", "success")
    return [unescaped(getattr(e, "value", "")) for kind in kinds for e in at.get(kind)]


TABLES = {
    "saved reports": ("Report", "Dataset", "Version", "Updated"),
    "schedules": ("Schedule", "Report", "When", "Next run"),
    "runs": ("Schedule", "Status", "Trigger", "Fired", "Run"),
}


def tables(at: AppTest, which: str) -> list[pd.DataFrame]:
    return [df.value for df in at.dataframe if set(TABLES[which]) <= set(df.value.columns)]


def table(at: AppTest, which: str) -> pd.DataFrame:
    (frame,) = tables(at, which)
    assert isinstance(frame, pd.DataFrame)
    return frame


@dataclass(frozen=True)
class AnasWork:
    report: SavedReport
    schedule: Schedule
    dead: Run


def anas_work(services: Services, owner: str = "ana") -> AnasWork:
    """A saved report, a schedule of it and one of its runs that died, each named uniquely
    (the app's metadata DB is shared by the whole test session)."""
    principal = services.users.principal(owner)
    tag = uuid.uuid4().hex[:6]
    report = services.saved_reports.save(principal, SPEC, name=f"Revenue pulse {tag}")
    schedule = services.schedules.create(
        principal,
        ScheduleDraft(
            name=f"Weekday pulse {tag}",
            report_id=report.id,
            cadence=WeekdaysAt(at=time(8)),
            timezone="Europe/London",
            recipients=(Recipient(kind=RecipientKind.USER, value=owner),),
        ),
    )
    queued = services.runs.run_now(principal, schedule.id)
    dead = services.runs.ledger.move(
        queued.id,
        [RunStatus.RUNNING, RunStatus.FAILED, RunStatus.DEAD],
        now=datetime.now(UTC),
        expect=[RunStatus.PENDING],
        detail="test: out of retries",
        values={"error": WHY, "finished_at": datetime.now(UTC)},
    )
    return AnasWork(report, schedule, dead)


def test_home_is_where_ana_lands_and_shows_her_work(
    signed_in: SignIn, app_services: Services
) -> None:
    work = anas_work(app_services)
    at = run(signed_in("ana"))

    assert [title.value for title in at.title] == ["Home"]
    assert [str(s.value) for s in at.subheader] == [
        "Needs your attention",
        "Late data",
        "My saved reports",
        "My schedules",
        "Recent runs",
    ]

    reports = table(at, "saved reports").set_index("Report")
    assert reports.loc[work.report.name, "Dataset"] == "sales"
    assert reports.loc[work.report.name, "Version"] == 1
    assert re.fullmatch(
        r"\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC", reports.loc[work.report.name, "Updated"]
    )

    schedules = table(at, "schedules").set_index("Schedule")
    row = schedules.loc[work.schedule.name]
    assert row["Report"] == work.report.name
    assert row["When"] == "Every weekday at 08:00 (Europe/London)"
    assert row["State"] == "active"
    next_run = re.fullmatch(
        r"(\d{4}-\d{2}-\d{2}) 08:00 (GMT|BST) \(Europe/London\)", row["Next run"]
    )
    assert next_run is not None, row["Next run"]
    days_ahead = date.fromisoformat(next_run[1]) - datetime.now(UTC).date()
    assert timedelta(0) <= days_ahead <= timedelta(days=3)  # the next weekday at the latest

    [attention] = [e.value for e in at.error if work.schedule.name in unescaped(e.value)]
    assert "✗ dead" in attention and WHY in unescaped(attention)
    runs_page = [str(link.label) for link in at.get("page_link")] + texts(at, "caption")
    assert any("Runs page" in text for text in runs_page)

    recent = table(at, "runs")
    mine = recent[recent["Run"] == work.dead.id[:8]]
    assert mine[["Schedule", "Status", "Trigger"]].values.tolist() == [
        [work.schedule.name, "✗ dead", "run now"]
    ]

    # As of the frozen clock (2026-11-10 12:00 UTC) the demo data ends ten days earlier.
    late = texts(at, "markdown")
    said = "(10 days ago); breaks its SLA of 2 days"
    assert any("Sales orders" in text and "⚠ Late" in text and said in text for text in late)
    assert not any("Monthly targets" in text for text in late)  # within its SLA


def test_home_writes_times_on_the_viewers_clock(signed_in: SignIn, app_services: Services) -> None:
    work = anas_work(app_services)
    at = signed_in("ana")
    at.context["timezone"] = "Asia/Kolkata"  # no daylight saving: always UTC+05:30
    run(at)

    fired = work.dead.fire_time.astimezone(ZoneInfo("Asia/Kolkata"))
    shown = f"{fired:%Y-%m-%d %H:%M} IST (Asia/Kolkata)"
    recent = table(at, "runs").set_index("Run")
    assert recent.loc[work.dead.id[:8], "Fired"] == shown
    [attention] = [e.value for e in at.error if work.schedule.name in unescaped(e.value)]
    assert f"fired {shown}" in unescaped(attention)
    reports = table(at, "saved reports").set_index("Report")
    assert reports.loc[work.report.name, "Updated"].endswith(" IST (Asia/Kolkata)")


def test_home_tables_leave_room_for_times_and_problems(
    signed_in: SignIn, app_services: Services
) -> None:
    anas_work(app_services)
    at = run(signed_in("ana"))

    def config(which: str) -> dict[str, Any]:
        (table,) = [df for df in at.dataframe if set(TABLES[which]) <= set(df.value.columns)]
        return dict(json.loads(table.proto.columns))

    assert config("runs")["Problem"]["width"] == "large"
    assert config("runs")["Fired"]["width"] == "medium"
    assert config("saved reports")["Updated"]["width"] == "medium"
    assert config("schedules")["Next run"]["width"] == "medium"


def test_a_run_of_someone_elses_schedule_does_not_need_ana(
    signed_in: SignIn, app_services: Services
) -> None:
    admins = anas_work(app_services, owner="admin")
    at = run(signed_in("ana"))

    assert not any(admins.schedule.name in unescaped(e.value) for e in at.error)
    shown_reports = {name for df in tables(at, "saved reports") for name in df["Report"]}
    assert admins.report.name not in shown_reports
    shown_runs = {run_id for df in tables(at, "runs") for run_id in df["Run"]}
    assert admins.dead.id[:8] not in shown_runs


def test_a_viewer_is_told_what_home_holds_for_them(signed_in: SignIn) -> None:
    at = run(signed_in("victor"))

    shown = texts(at)
    assert "No failed runs: every schedule of yours is running fine." in shown
    assert any(text.startswith("Saving reports is for authors.") for text in shown)
    assert any(text.startswith("Schedules are for authors") for text in shown)
    assert not tables(at, "saved reports")
    assert not tables(at, "schedules")


@pytest.fixture
def new_author(app_services: Services) -> str:
    name = f"nora{uuid.uuid4().hex[:6]}"
    app_services.users.add(name, "nora-demo-pass", ["author"], attributes={"region": ["APAC"]})
    return name


def test_a_new_author_is_shown_where_to_start(signed_in: SignIn, new_author: str) -> None:
    at = run(signed_in(new_author))

    shown = texts(at)
    assert "No saved reports yet — open the Report builder, shape a report and save it." in shown
    assert [link.label for link in at.get("page_link")][:1] == ["Open the Report builder"]
    assert any(text.startswith("No schedules yet") for text in shown)
    assert any(text.startswith("No runs yet.") for text in shown)
