"""Home: the runs the signed-in user should know about, the latest first, and those that failed.

"Needs your attention" holds the failed and dead runs of the user's own schedules: a dead run
stopped retrying and waits for someone to retry or replay it on the Runs page.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd
import streamlit as st

from components.home_links import RUNS_PAGE, link
from components.home_times import NOTHING, moment, took
from components.session import services
from components.table_columns import moment_column, name_column, prose_column, short_id_column
from components.text import counted, plain
from reportgen.domain.principal import Principal
from reportgen.domain.runs import Run, RunStatus

RECENT_RUNS = 10
ATTENTION_LIMIT = 20
NEEDS_ATTENTION = (RunStatus.DEAD, RunStatus.FAILED)
STATUS_LABELS = {
    RunStatus.PENDING: "○ waiting",
    RunStatus.RUNNING: "▶ running",
    RunStatus.SUCCEEDED: "✓ succeeded",
    RunStatus.SKIPPED: "– skipped",
    RunStatus.FAILED: "✗ failed",
    RunStatus.RETRYING: "↻ retrying",
    RunStatus.DEAD: "✗ dead",
}
TRIGGER_LABELS = {
    "schedule": "on schedule",
    "manual": "run now",
    "replay": "replay",
    "misfire": "missed fire",
}


def status_label(status: RunStatus) -> str:
    return STATUS_LABELS.get(status, str(status))


def schedule_names(principal: Principal) -> dict[str, str]:
    """Schedule id → name, for the schedules this user may see."""
    schedules = services().schedules.list(principal, everyone=principal.is_admin)
    return {schedule.id: schedule.name for schedule in schedules}


def runs_frame(runs: Iterable[Run], names: Mapping[str, str]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "Schedule": names.get(run.schedule_id or "", NOTHING),
                "Status": status_label(run.status),
                "Trigger": TRIGGER_LABELS.get(run.trigger, run.trigger),
                "Fired": moment(run.fire_time),
                "Took": took(run.started_at, run.finished_at),
                "Problem": run.error or "",
                "Run": run.id[:8],
            }
            for run in runs
        ],
        columns=["Schedule", "Status", "Trigger", "Fired", "Took", "Problem", "Run"],
    )


def runs_columns() -> dict[str, Any]:
    """Column settings of `runs_frame`'s tables."""
    return {
        "Schedule": name_column(),
        "Fired": moment_column(),
        "Problem": prose_column(),
        "Run": short_id_column("The first 8 characters of the run's id"),
    }


def failures(principal: Principal) -> list[Run]:
    """Failed and dead runs of the user's own schedules, newest first."""
    runs = services().runs
    found = [
        run
        for status in NEEDS_ATTENTION
        for run in runs.list(principal, status=status, limit=ATTENTION_LIMIT).runs
        if run.owner == principal.username
    ]
    return sorted(found, key=lambda run: (run.created_at, run.id), reverse=True)


def attention_section(principal: Principal, names: Mapping[str, str]) -> None:
    st.subheader("Needs your attention", anchor=False)
    failed = failures(principal)
    if not failed:
        st.success(
            "No failed runs: every schedule of yours is running fine.", icon=":material/check:"
        )
        return
    st.caption(
        f"{counted(len(failed), 'run')} of your schedules failed and stopped retrying. "
        "Read why below, fix the cause, then retry or replay them on the Runs page."
    )
    for run in failed:
        name = names.get(run.schedule_id or "", "A schedule")
        st.error(
            f"**{plain(name)}** — {status_label(run.status)} (fired {moment(run.fire_time)}): "
            f"{plain(run.error or 'no reason was recorded')}",
            icon=":material/error:",
        )
    link(
        RUNS_PAGE,
        "Open the Runs page to retry or replay them",
        icon=":material/history:",
        fallback="Retry or replay them on the Runs page (coming soon).",
    )


def recent_runs_section(principal: Principal, names: Mapping[str, str]) -> None:
    st.subheader("Recent runs", anchor=False)
    runs = services().runs.list(principal, limit=RECENT_RUNS).runs
    if not runs:
        st.info(
            "No runs yet. A schedule runs at its next fire time, or at once with "
            "Run now on the Schedules page.",
            icon=":material/schedule:",
        )
        return
    st.caption(
        f"{counted(len(runs), 'run')}, newest first: of your schedules, or asked for by you."
    )
    st.dataframe(
        runs_frame(runs, names),
        hide_index=True,
        key="home_recent_runs",
        column_config=runs_columns(),
    )
    link(RUNS_PAGE, "All runs", icon=":material/history:", fallback="")
