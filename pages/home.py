"""Home: what the signed-in user has and what needs them, at a glance.

Failures and late data come first, side by side (they ask for action); then saved reports,
schedules with their next run and the latest runs, each as wide as the page.
"""

from __future__ import annotations

import streamlit as st

from components.home_data import late_data_section
from components.home_runs import attention_section, recent_runs_section, schedule_names
from components.home_work import saved_reports_section, schedules_section
from components.session import EVERYONE, error_boundary, require_role
from components.text import plain

principal = require_role(EVERYONE, "the home page")
st.title("Home", anchor=False)
st.caption(
    f"Welcome, {plain(principal.display_name or principal.username)}. "
    "Your reports, schedules and runs at a glance."
)
names = schedule_names(principal)
attention, data = st.columns(2, gap="large")
with attention, st.container(border=True), error_boundary():
    attention_section(principal, names)
with data, st.container(border=True), error_boundary():
    late_data_section(principal)
report_names: dict[str, str] = {}  # kept empty when the reports cannot be read
with st.container(border=True), error_boundary():
    report_names = saved_reports_section(principal)
with st.container(border=True), error_boundary():
    schedules_section(principal, report_names)
with st.container(border=True), error_boundary():
    recent_runs_section(principal, names)
