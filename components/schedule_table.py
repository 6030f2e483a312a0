"""The list of schedules: what each sends, when, to whom it belongs and when it runs next."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from components.schedule_text import local_time
from components.session import services
from components.table_columns import moment_column, name_column, prose_column
from reportgen.domain.schedules import SavedReport, Schedule

COLUMNS = ["Name", "Report", "Repeats", "Timezone", "Next run", "Status", "Owner"]


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
            "Report": reports[schedule.report_id].name
            if schedule.report_id in reports
            else "(deleted report)",
            "Repeats": description(schedule),
            "Timezone": schedule.timezone,
            "Next run": next_run(schedule),
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
            "Name": name_column(),
            "Report": name_column(),
            "Repeats": prose_column(),
            "Next run": moment_column("On the schedule's own timezone's clock"),
        },
    )
