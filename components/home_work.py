"""Home: the signed-in user's saved reports (any one opens in the builder, to edit and save its
next version) and schedules, each schedule with its next run."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pandas as pd
import streamlit as st

from components.builder_save import REPORT_PARAM
from components.home_links import BUILDER_PAGE, CATALOG_PAGE, SCHEDULES_PAGE, link
from components.home_times import NOTHING, moment
from components.session import services
from components.table_columns import moment_column, name_column, prose_column
from components.text import counted
from reportgen.domain.principal import Principal, Role
from reportgen.domain.schedules import SavedReport, Schedule
from reportgen.services.schedules import TimingPreview

AUTHORS = frozenset({Role.AUTHOR, Role.ADMIN})
OPEN_KEY = "home_open_report"


def reports_frame(reports: Iterable[SavedReport]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "Report": report.name,
                "Dataset": report.dataset,
                "Version": report.version,
                "Updated": moment(report.updated_at),
            }
            for report in sorted(reports, key=lambda r: r.updated_at, reverse=True)
        ],
        columns=["Report", "Dataset", "Version", "Updated"],
    )


def next_run(schedule: Schedule, timing: TimingPreview) -> str:
    """When the schedule fires next, in its own timezone; why not, when it will not."""
    if schedule.paused:
        return "paused"
    if timing.problems or not timing.next_fire_times:
        return "; ".join(timing.problems) or "never"
    return moment(timing.next_fire_times[0], schedule.timezone)


def schedules_frame(schedules: Iterable[Schedule], report_names: Mapping[str, str]) -> pd.DataFrame:
    rows = []
    for schedule in sorted(schedules, key=lambda s: s.name.lower()):
        timing = services().schedules.timing(schedule.cadence, schedule.timezone, count=1)
        rows.append(
            {
                "Schedule": schedule.name,
                "Next run": next_run(schedule, timing),
                "When": timing.description or "; ".join(timing.problems),
                "Report": report_names.get(schedule.report_id, NOTHING),
                "State": "paused" if schedule.paused else "active",
            }
        )
    return pd.DataFrame(rows, columns=["Schedule", "Next run", "When", "Report", "State"])


def saved_reports_section(principal: Principal) -> dict[str, str]:
    """Draw the user's saved reports; returns report id → name for the schedules section."""
    st.subheader("My saved reports", anchor=False)
    # An admin's list holds everyone's reports; Home shows the user's own.
    reports = [
        report
        for report in services().saved_reports.list(principal)
        if report.owner == principal.username
    ]
    names = {report.id: report.name for report in reports}
    if not principal.has_any_role(AUTHORS):
        st.info(
            "Saving reports is for authors. Browse the data you may use in the Catalog, "
            "or ask an admin for the author role.",
            icon=":material/info:",
        )
        link(CATALOG_PAGE, "Open the Catalog", icon=":material/menu_book:", fallback="")
        return names
    if not reports:
        st.info(
            "No saved reports yet — open the Report builder, shape a report and save it.",
            icon=":material/lightbulb:",
        )
        link(BUILDER_PAGE, "Open the Report builder", icon=":material/design_services:")
        return names
    st.caption(f"{counted(len(reports), 'report')}, the latest changed first.")
    st.dataframe(
        reports_frame(reports),
        hide_index=True,
        key="home_saved_reports",
        column_config={
            "Report": name_column(),
            "Version": st.column_config.NumberColumn(format="%d"),
            "Updated": moment_column(),
        },
    )
    _open_in_builder(reports)
    link(BUILDER_PAGE, "New report", icon=":material/add:", fallback="")
    return names


def _open_in_builder(reports: Iterable[SavedReport]) -> None:
    """Pick a saved report and open it in the builder, to edit and save its next version."""
    latest_first = sorted(reports, key=lambda r: r.updated_at, reverse=True)
    labels = {report.id: f"{report.name} (version {report.version})" for report in latest_first}
    if st.session_state.get(OPEN_KEY) not in labels:
        st.session_state[OPEN_KEY] = next(iter(labels))
    with st.container(horizontal=True, vertical_alignment="bottom"):
        chosen = st.selectbox(
            "Edit a saved report",
            list(labels),
            format_func=labels.__getitem__,
            key=OPEN_KEY,
            width=420,
        )
        link(
            BUILDER_PAGE,
            "Open in the builder",
            icon=":material/edit:",
            fallback="",
            query_params={REPORT_PARAM: chosen},
        )


def schedules_section(principal: Principal, report_names: Mapping[str, str]) -> None:
    st.subheader("My schedules", anchor=False)
    if not principal.has_any_role(AUTHORS):
        st.info("Schedules are for authors: they send a saved report on a timetable.")
        return
    schedules = services().schedules.list(principal)
    if not schedules:
        st.info(
            "No schedules yet — save a report, then schedule it to be sent every week or "
            "every month.",
            icon=":material/lightbulb:",
        )
        link(SCHEDULES_PAGE, "Open Schedules", icon=":material/schedule:", fallback="")
        return
    paused = sum(schedule.paused for schedule in schedules)
    st.caption(
        f"{counted(len(schedules), 'schedule')}"
        + (f", {paused:,} paused." if paused else ", all active.")
    )
    st.dataframe(
        schedules_frame(schedules, report_names),
        hide_index=True,
        key="home_schedules",
        column_config={
            "Schedule": name_column(),
            "Next run": moment_column("On the schedule's own timezone's clock"),
            "When": prose_column(),
            "Report": name_column(),
        },
    )
    link(SCHEDULES_PAGE, "Manage schedules", icon=":material/schedule:", fallback="")
