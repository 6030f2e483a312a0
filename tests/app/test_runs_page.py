"""The Runs page with AppTest: the history as each user may see it, the status filter, a run's
deliveries, a checksum-verified PDF download (and a refused one), retry and dead-letter replay.

Runs are made through the services once per module: Run now, then claimed and executed at once
by a `RunService` whose email channel refuses every address for good (so those runs die) and
whose storage channel is the deployment's real one (so those runs succeed).
"""

from __future__ import annotations

import ast
import hashlib
import json
import re
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest

from components import run_table
from reportgen.bootstrap import Services, build_services
from reportgen.delivery import email_body
from reportgen.domain.query import TimeRange
from reportgen.domain.runs import Run, RunStatus
from reportgen.domain.schedules import (
    DailyAt,
    EmailChannel,
    Recipient,
    RecipientKind,
    RetryPolicy,
    Schedule,
    ScheduleDraft,
    StorageChannel,
)
from reportgen.domain.spec import KpiBlock, KpiTile, ReportSpec
from reportgen.errors import PermanentDeliveryError
from reportgen.services.ports import Parcel, Receipt
from reportgen.services.runs import ArtifactFile, RunService
from reportgen.settings import load_settings
from reportgen.store.deliveries import DeliveryRepository
from reportgen.store.runs import RunRepository
from tests.app.apptest import run, unescaped
from tests.app.conftest import APP, app_env

SignIn = Callable[[str], AppTest]
PAGE = "pages/runs.py"
SPEC = ReportSpec(
    title="Runs page pulse",
    dataset="sales",
    time_range=TimeRange(start=date(2026, 10, 1), end=date(2026, 11, 1)),
    blocks=(KpiBlock(tiles=(KpiTile(measure="revenue", compare=()),)),),
)
WORKER = "app-test-worker"


class RefusingEmail:
    """An email channel that refuses every address for good."""

    kind = "email"

    def send(self, parcel: Parcel, target: str) -> Receipt:
        raise PermanentDeliveryError(f"mailbox {target} does not exist")

    def check_target(self, target: str) -> None:
        return None


@dataclass(frozen=True)
class Made:
    delivered: Schedule
    dying: Schedule
    retried: Schedule
    succeeded: Run
    dead: Run
    dead_to_retry: Run


def _draft(name: str, report_id: str, **fields: Any) -> ScheduleDraft:
    return ScheduleDraft(
        name=f"{name} {secrets.token_hex(3)}",
        report_id=report_id,
        cadence=DailyAt(at=time(8)),
        formats=("pdf",),
        **fields,
    )


@pytest.fixture(scope="module")
def made(app_data: Path, warehouse_path: Path) -> Iterator[Made]:
    with pytest.MonkeyPatch.context() as env:
        for name, value in app_env(app_data, warehouse_path).items():
            env.setenv(name, value)
        services = build_services(load_settings())
    try:
        yield _make_runs(services)
    finally:
        services.close()


def _make_runs(services: Services) -> Made:
    ana = services.users.principal("ana")
    report = services.saved_reports.save(ana, SPEC, name=f"Runs pulse {secrets.token_hex(3)}")
    to_ana = (Recipient(kind=RecipientKind.USER, value="ana"),)
    once = RetryPolicy(max_attempts=1)
    delivered = services.schedules.create(
        ana, _draft("Stored pulse", report.id, channels=(StorageChannel(prefix="runs-page"),))
    )
    dying = services.schedules.create(
        ana, _draft("Mailed pulse", report.id, recipients=to_ana, retry=once)
    )
    retried = services.schedules.create(
        ana, _draft("Mailed again", report.id, recipients=to_ana, retry=once)
    )
    assert isinstance(dying.channels[0], EmailChannel)
    ledger = RunRepository(services.store.engine)
    runner = RunService(
        ledger,
        DeliveryRepository(services.store.engine, ledger),
        schedules=services.schedules,
        reports=services.saved_reports,
        users=services.store.users,
        render=services.render,
        channels={"email": RefusingEmail(), "storage": services.channels["storage"]},
        audit=services.store.audit,
    )
    asked = {s.id: runner.run_now(ana, s.id).id for s in (delivered, dying, retried)}
    while (claimed := runner.claim(WORKER)) is not None:  # other tests' queued runs too
        runner.execute(claimed, WORKER)
    ended = {s: services.runs.get(ana, run_id).run for s, run_id in asked.items()}
    assert ended[delivered.id].status is RunStatus.SUCCEEDED, ended[delivered.id].error
    assert ended[dying.id].status is RunStatus.DEAD
    return Made(delivered, dying, retried, ended[delivered.id], ended[dying.id], ended[retried.id])


def open_page(signed_in: SignIn, username: str) -> AppTest:
    at = run(signed_in(username))
    at.switch_page(PAGE)
    return run(at)


def history(at: AppTest) -> pd.DataFrame:
    (frame,) = [df.value for df in at.dataframe if "Fire time" in df.value.columns]
    return frame


def show_run(at: AppTest, run_id: str) -> AppTest:
    at.selectbox(key="runs_pick").set_value(run_id)
    return run(at)


def texts(at: AppTest) -> list[str]:
    kinds = ("markdown", "caption", "error", "warning", "success", "info", "subheader")
    return [unescaped(e.value) for kind in kinds for e in at.get(kind)]


@pytest.fixture
def handed(monkeypatch: pytest.MonkeyPatch) -> list[tuple[bytes, str]]:
    """The bytes the page hands to download buttons, with their media type."""
    kept: list[tuple[bytes, str]] = []
    add = MediaFileManager.add

    def spy(self: MediaFileManager, data: Any, mimetype: str, *args: Any, **kwargs: Any) -> str:
        if isinstance(data, bytes):
            kept.append((data, mimetype))
        return add(self, data, mimetype, *args, **kwargs)

    monkeypatch.setattr(MediaFileManager, "add", spy)
    return kept


def test_the_history_lists_the_owners_runs(signed_in: SignIn, made: Made) -> None:
    at = open_page(signed_in, "ana")

    rows = history(at).set_index("Run")
    assert rows.loc[made.succeeded.id[:8], "Status"] == "✓ succeeded"
    assert rows.loc[made.succeeded.id[:8], "Schedule"] == made.delivered.name
    assert rows.loc[made.succeeded.id[:8], "Trigger"] == "Run now"
    assert re.match(
        r"^\d{4}-\d\d-\d\d \d\d:\d\d UTC$", rows.loc[made.succeeded.id[:8], "Fire time"]
    )
    assert rows.loc[made.dead.id[:8], "Status"] == "✗ dead"
    assert "does not exist" in rows.loc[made.dead.id[:8], "Error"]


def emoji_in(text: str) -> set[str]:
    """Characters that need an emoji font: without one they show as empty boxes."""
    return {
        ch
        for ch in text
        if ord(ch) >= 0x1F000
        or ch == "\ufe0f"
        or 0x2600 <= ord(ch) <= 0x26FF
        or ch in "⏳⏭⏩⌛✅❌❓➕➖"
    }


def test_the_page_shows_statuses_without_emoji(signed_in: SignIn, made: Made) -> None:
    at = show_run(open_page(signed_in, "ana"), made.dead.id)

    shown = [*texts(at), *(e.label for e in at.expander), *history(at)["Status"]]
    shown += [str(o) for o in at.selectbox(key="runs_status").options]
    assert not {ch for text in shown for ch in emoji_in(text)}
    assert any(":material/" in text and "-badge[" in text for text in texts(at))
    icons = [e.proto.icon for e in at.expander if "→" in e.label]  # the deliveries
    assert icons and all(icon.startswith(":material/") for icon in icons)


def test_a_viewer_opens_the_page_but_sees_none_of_anas_runs(signed_in: SignIn, made: Made) -> None:
    at = open_page(signed_in, "victor")

    assert [t.value for t in at.title] == ["Runs"]
    assert not at.error
    shown = [df.value for df in at.dataframe if "Fire time" in df.value.columns]
    names = set(shown[0]["Schedule"]) if shown else set()
    assert made.delivered.name not in names
    assert not any(made.dead.id[:8] in text for text in texts(at))


def test_the_status_filter_keeps_only_that_status(signed_in: SignIn, made: Made) -> None:
    at = open_page(signed_in, "ana")
    at.selectbox(key="runs_status").set_value(RunStatus.SUCCEEDED)
    run(at)

    rows = history(at)
    assert set(rows["Status"]) == {"✓ succeeded"}
    assert made.succeeded.id[:8] in set(rows["Run"])
    assert made.dead.id[:8] not in set(rows["Run"])


def test_a_run_shows_its_deliveries_and_attempts(signed_in: SignIn, made: Made) -> None:
    at = show_run(open_page(signed_in, "ana"), made.dead.id)

    labels = [e.label for e in at.expander]
    assert "email → ana@example.com: failed (1 attempt)" in labels
    attempts = [df.value for df in at.dataframe if "Outcome" in df.value.columns]
    assert any((frame["Outcome"] == "permanent").any() for frame in attempts)
    timeline = next(df.value for df in at.dataframe if "From" in df.value.columns)
    assert list(timeline["To"])[-1] == "dead"

    show_run(at, made.succeeded.id)
    assert any(
        label.startswith("storage → ") and "delivered" in label
        for label in (e.label for e in at.expander)
    )


def test_an_artifact_downloads_verified_with_its_lineage(
    signed_in: SignIn, made: Made, handed: list[tuple[bytes, str]]
) -> None:
    at = show_run(open_page(signed_in, "ana"), made.succeeded.id)

    (pdf_button,) = [b for b in at.download_button if b.label.endswith(".pdf")]
    (pdf,) = {data for data, mimetype in handed if mimetype == "application/pdf"}
    assert pdf.startswith(b"%PDF")
    digest = hashlib.sha256(pdf).hexdigest()
    assert f":material/verified: SHA-256 verified: `{digest}`" in texts(at)
    assert any(b.label == "Download manifest.json" for b in at.download_button)
    datasets = [df.value for df in at.dataframe if list(df.value.columns) == ["Dataset", "Version"]]
    assert list(datasets[0]["Dataset"]) == ["sales"]
    queries = next(df.value for df in at.dataframe if "Query hash" in df.value.columns)
    assert len(queries) >= 1
    assert pdf_button.label.startswith("Download ")


def test_a_file_that_fails_its_checksum_is_not_offered(
    signed_in: SignIn, made: Made, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = RunService.artifact

    def tampered(self: RunService, *args: Any, **kwargs: Any) -> ArtifactFile:
        stored = real(self, *args, **kwargs)
        return ArtifactFile(stored.data + b"tampered", stored.sha256, stored.content_type,
                            stored.filename)  # fmt: skip

    monkeypatch.setattr(RunService, "artifact", tampered)
    at = show_run(open_page(signed_in, "ana"), made.succeeded.id)

    assert not at.download_button
    assert any("does not match the checksum" in str(e.value) for e in at.error)


def test_retry_queues_a_dead_run_again(
    signed_in: SignIn, made: Made, app_services: Services
) -> None:
    at = show_run(open_page(signed_in, "ana"), made.dead_to_retry.id)
    at.button(key="runs_retry").click()
    run(at)

    ana = app_services.users.principal("ana")
    assert app_services.runs.get(ana, made.dead_to_retry.id).run.status is RunStatus.RETRYING
    assert any("queued again" in text for text in texts(at))
    events = app_services.audit.recent(actor="ana", action="run.retry")
    assert events[0].target == f"run:{made.dead_to_retry.id}"


def test_a_dead_letter_is_replayed(signed_in: SignIn, made: Made, app_services: Services) -> None:
    at = open_page(signed_in, "ana")
    assert any(made.dying.name in text for text in texts(at))  # listed under Dead letters
    at.button(key=f"runs_replay_{made.dead.id}").click()
    run(at)

    ana = app_services.users.principal("ana")
    replays = [
        r
        for r in app_services.runs.list(ana, schedule_id=made.dying.id).runs
        if r.replay_of == made.dead.id
    ]
    assert [(r.trigger, r.requested_by) for r in replays] == [("replay", "ana")]
    assert any(f"Replay queued as run `{replays[0].id[:8]}`" in text for text in texts(at))


def test_load_more_fetches_the_next_page(
    signed_in: SignIn, made: Made, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(run_table, "PAGE_SIZE", 1)
    at = open_page(signed_in, "ana")
    assert len(history(at)) == 1

    at.button(key="runs_load_more").click()
    run(at)
    assert len(history(at)) == 2
    assert "2 runs shown, newest first; more are older." in texts(at)


def test_the_runs_page_lives_where_email_links_point() -> None:
    # app.py runs the app when imported, so its page table is read from the source.
    calls = ast.walk(ast.parse((APP.parent / "app.py").read_text()))
    pages = [
        [arg.value for arg in call.args if isinstance(arg, ast.Constant)]
        for call in calls
        if isinstance(call, ast.Call) and getattr(call.func, "id", "") == "AppPage"
    ]
    (runs,) = [args for args in pages if args[0] == PAGE]
    assert runs[-1] == email_body.RUNS_PATH


def test_an_email_link_opens_its_run_even_beyond_the_loaded_page(
    signed_in: SignIn, made: Made, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(run_table, "PAGE_SIZE", 1)
    at = run(signed_in("ana"))
    at.switch_page(PAGE)
    at.query_params[email_body.RUN_PARAM] = made.dead.id
    run(at)

    assert made.dead.id[:8] not in set(history(at)["Run"])  # older than the first page
    assert at.selectbox(key="runs_pick").value == made.dead.id
    assert f"Run {made.dead.id[:8]}" in texts(at)
    assert at.query_params[email_body.RUN_PARAM] == made.dead.id  # still a bookmark

    at.button(key="runs_refresh").click()
    run(at)
    assert at.selectbox(key="runs_pick").value == made.dead.id
    assert at.query_params[email_body.RUN_PARAM] == made.dead.id


def test_the_address_names_the_run_shown_until_none_is_picked(
    signed_in: SignIn, made: Made
) -> None:
    at = run(signed_in("ana"))
    at.switch_page(PAGE)
    at.query_params[email_body.RUN_PARAM] = made.dead.id
    run(at)
    assert at.query_params[email_body.RUN_PARAM] == made.dead.id

    show_run(at, made.succeeded.id)
    assert at.query_params[email_body.RUN_PARAM] == made.succeeded.id
    assert f"Run {made.succeeded.id[:8]}" in texts(at)
    at.button(key="runs_refresh").click()
    run(at)
    assert at.selectbox(key="runs_pick").value == made.succeeded.id

    at.selectbox(key="runs_pick").set_value(None)
    run(at)
    assert email_body.RUN_PARAM not in at.query_params
    assert not any(text.startswith("Run ") and made.succeeded.id[:8] in text for text in texts(at))
    at.button(key="runs_refresh").click()
    run(at)
    assert at.selectbox(key="runs_pick").value is None


def test_a_link_to_someone_elses_run_says_so(signed_in: SignIn, made: Made) -> None:
    at = run(signed_in("victor"))
    at.switch_page(PAGE)
    at.query_params[email_body.RUN_PARAM] = made.dead.id
    run(at)

    assert any("names a run you cannot see" in str(w.value) for w in at.warning)
    assert not any(made.dead.id[:8] in text for text in texts(at))
    assert email_body.RUN_PARAM not in at.query_params  # the address names no run shown


def test_times_are_on_the_viewers_clock_with_the_zone_said(signed_in: SignIn, made: Made) -> None:
    at = signed_in("ana")
    at.context["timezone"] = "Asia/Kolkata"  # no daylight saving: always UTC+05:30
    run(at)
    at.switch_page(PAGE)
    show_run(run(at), made.succeeded.id)

    fired = made.succeeded.fire_time.astimezone(ZoneInfo("Asia/Kolkata"))
    shown = f"{fired:%Y-%m-%d %H:%M} IST (Asia/Kolkata)"
    assert history(at).set_index("Run").loc[made.succeeded.id[:8], "Fire time"] == shown
    assert any(f"fire time {shown}" in text for text in texts(at))
    timeline = next(df.value for df in at.dataframe if "From" in df.value.columns)
    assert all(at_.endswith("IST (Asia/Kolkata)") for at_ in timeline["At"])


def test_the_date_filters_count_days_on_the_viewers_clock() -> None:
    filters = run_table.RunFilters(
        since=date(2026, 11, 10), until=date(2026, 11, 10), timezone="Asia/Kolkata"
    )

    since, until = filters.window()
    assert since == datetime(2026, 11, 9, 18, 30, tzinfo=UTC)
    assert until == datetime(2026, 11, 10, 18, 30, tzinfo=UTC)


def test_long_values_get_wide_columns(signed_in: SignIn, made: Made) -> None:
    at = show_run(open_page(signed_in, "ana"), made.dead.id)

    (table,) = [df for df in at.dataframe if "Fire time" in df.value.columns]
    config = json.loads(table.proto.columns)
    assert config["Error"]["width"] == "large"
    assert config["Fire time"]["width"] == "medium"
    assert config["Schedule"]["width"] == "medium"
    timeline = next(df for df in at.dataframe if "From" in df.value.columns)
    assert json.loads(timeline.proto.columns)["Detail"]["width"] == "large"
