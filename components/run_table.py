"""Run history a page at a time: the filters' runs, kept in the session until the filters change,
with "Load more" fetching the next page by the service's cursor."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pandas as pd
import streamlit as st

from components.home_times import moment, viewer_timezone
from components.schedule_text import duration
from components.session import services
from components.table_columns import moment_column, name_column, prose_column, short_id_column
from reportgen.domain.principal import Principal
from reportgen.domain.runs import Run, RunStatus

PAGE_SIZE = 25
_PAGES = "_runs_pages"  # (filters, pages of runs to show)

STATUS_COLORS = {
    RunStatus.PENDING: "blue",
    RunStatus.RUNNING: "blue",
    RunStatus.SUCCEEDED: "green",
    RunStatus.SKIPPED: "gray",
    RunStatus.FAILED: "red",
    RunStatus.RETRYING: "orange",
    RunStatus.DEAD: "red",
}
STATUS_ICONS = {
    # Plain text, as Home shows statuses: emoji render as empty boxes without an emoji font.
    # For tables, select boxes and labels that show text only.
    RunStatus.PENDING: "○",
    RunStatus.RUNNING: "▶",
    RunStatus.SUCCEEDED: "✓",
    RunStatus.SKIPPED: "–",
    RunStatus.FAILED: "✗",
    RunStatus.RETRYING: "↻",
    RunStatus.DEAD: "✗",
}
STATUS_MATERIAL = {
    # Streamlit's Material icons, where markdown is rendered (badges, icon parameters).
    RunStatus.PENDING: ":material/schedule:",
    RunStatus.RUNNING: ":material/autorenew:",
    RunStatus.SUCCEEDED: ":material/check_circle:",
    RunStatus.SKIPPED: ":material/skip_next:",
    RunStatus.FAILED: ":material/error:",
    RunStatus.RETRYING: ":material/replay:",
    RunStatus.DEAD: ":material/block:",
}
TRIGGERS = {
    "schedule": "Scheduled",
    "manual": "Run now",
    "replay": "Replay",
    "misfire": "Missed time",
}


@dataclass(frozen=True)
class RunFilters:
    status: RunStatus | None = None
    schedule_id: str | None = None
    since: date | None = None
    until: date | None = None
    timezone: str = "UTC"  # whose days `since` and `until` are: the viewer's

    def window(self) -> tuple[datetime | None, datetime | None]:
        """The fire-time bounds in UTC: from the first day's start to the last day's end, both
        on the clock of `timezone`."""
        zone = ZoneInfo(self.timezone)
        since = datetime.combine(self.since, time(), zone) if self.since else None
        last = self.until + timedelta(days=1) if self.until else None
        until = datetime.combine(last, time(), zone) if last else None
        return (
            since.astimezone(UTC) if since else None,
            until.astimezone(UTC) if until else None,
        )


@dataclass
class History:
    filters: RunFilters
    runs: list[Run] = field(default_factory=list)
    cursor: str | None = None


def status_badge(status: RunStatus) -> str:
    return f":{STATUS_COLORS[status]}-badge[{STATUS_MATERIAL[status]} {status.value.capitalize()}]"


def run_duration(run: Run, now: datetime | None = None) -> float | None:
    if run.started_at is None:
        return None
    end = run.finished_at or (now or datetime.now(UTC))
    return (end - run.started_at).total_seconds()


def _pages(filters: RunFilters) -> int:
    kept = st.session_state.get(_PAGES)
    if isinstance(kept, tuple) and kept[0] == filters:
        return int(kept[1])
    st.session_state[_PAGES] = (filters, 1)
    return 1


def history(principal: Principal, filters: RunFilters) -> History:
    """The runs of as many pages as were asked for with these filters, read afresh each time
    (so a run that moved on shows its new status); other filters start again at one page."""
    since, until = filters.window()
    found = History(filters)
    for _ in range(_pages(filters)):
        page = services().runs.list(
            principal,
            status=filters.status,
            schedule_id=filters.schedule_id,
            since=since,
            until=until,
            cursor=found.cursor,
            limit=PAGE_SIZE,
        )
        found.runs.extend(page.runs)
        found.cursor = page.next_cursor
        if found.cursor is None:
            break
    return found


def load_more(filters: RunFilters) -> None:
    """Button callback: one page more of these filters' runs."""
    st.session_state[_PAGES] = (filters, _pages(filters) + 1)


def runs_frame(runs: list[Run], schedule_names: dict[str, str]) -> pd.DataFrame:
    now = datetime.now(UTC)
    rows = [
        {
            "Status": f"{STATUS_ICONS[run.status]} {run.status.value}",
            "Schedule": schedule_names.get(run.schedule_id or "", "(deleted schedule)"),
            "Trigger": TRIGGERS.get(run.trigger, run.trigger),
            "Fire time": moment(run.fire_time),
            "Stage": run.stage.value if run.stage else "",
            "Attempt": run.attempt,
            "Duration": duration(run_duration(run, now)),
            "Error": run.error or "",
            "Run": run.id[:8],
        }
        for run in runs
    ]
    columns = ["Status", "Schedule", "Trigger", "Fire time", "Stage", "Attempt", "Duration"]
    return pd.DataFrame(rows, columns=[*columns, "Error", "Run"])


def runs_table(runs: list[Run], schedule_names: dict[str, str]) -> None:
    st.dataframe(
        runs_frame(runs, schedule_names),
        hide_index=True,
        key="runs_table",
        column_config={
            "Schedule": name_column(),
            "Fire time": moment_column(
                f"When the run was due, on your clock ({viewer_timezone()})"
            ),
            "Attempt": st.column_config.NumberColumn(format="%d"),
            "Error": prose_column(),
            "Run": short_id_column("The first 8 characters of the run's id"),
        },
    )
