"""The list of schedules: what each sends, when, to whom it belongs and when it runs next."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from components.schedule_text import local_time
from components.session import services
from reportgen.domain.schedules import SavedReport, Schedule

# Widths in pixels, adding up to what a 1400 px wide window leaves the table beside the
# sidebar (about 940 px), so every column shows without scrolling sideways; the next run comes
# right after the name. The timezone has no column of its own: "Repeats" ends with it
# ("Every weekday at 08:00 (Europe/London)") and "Next run" carries its abbreviation.
WIDTHS: dict[str, int] = {
    "Name": 195,
    "Next run": 160,
    "Repeats": 255,
    "Report": 180,
    "Status": 80,
    "Owner": 70,
}
COLUMNS = list(WIDTHS)
NEXT_RUN_HELP = "On the schedule's own timezone's clock"


def next_run(schedule: Schedule) -> str:
    """When `schedule` fires next, on its own timezone's clock; why not, when it will not."""
    if schedule.paused:
        return "Paused"
    preview = services().schedules.timing(schedule.cadence, schedule.timezone, count=1)
    if preview.problems or not preview.next_fire_times:
        return "Never (see its timing)"
    return local_time(preview.next_fire_times[0], schedule.timezone)


def description(schedule: Schedule) -> str:
    preview = services().schedules.timing(schedule.cadence, schedule.timezone, count=1)
    return preview.description or "; ".join(preview.problems)


def schedules_frame(schedules: list[Schedule], reports: dict[str, SavedReport]) -> pd.DataFrame:
    rows = [
        {
            "Name": schedule.name,
            "Next run": next_run(schedule),
            "Repeats": description(schedule),
            "Report": reports[schedule.report_id].name
            if schedule.report_id in reports
            else "(deleted report)",
            "Status": "⏸ Paused" if schedule.paused else "▶ Active",
            "Owner": schedule.owner,
        }
        for schedule in schedules
    ]
    return pd.DataFrame(rows, columns=COLUMNS)


def schedules_table(schedules: list[Schedule], reports: dict[str, SavedReport]) -> None:
    st.dataframe(
        schedules_frame(schedules, reports),
        hide_index=True,
        key="schedules_table",
        column_config={
            column: st.column_config.TextColumn(
                width=width, help=NEXT_RUN_HELP if column == "Next run" else None
            )
            for column, width in WIDTHS.items()
        },
    )
