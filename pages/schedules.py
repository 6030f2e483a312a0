"""Schedules: my schedules (everyone's, for admins) with when they run next; create and edit
them with presets or cron, see the cadence in words and its next five runs as it changes;
pause, resume, run now and delete.

For authors and admins. Another page may open the create form on a saved report by setting
``st.session_state["schedule_prefill_report_id"]`` to the report's id, then calling
``st.switch_page("pages/schedules.py")`` (the builder's "Save as schedule" does). The key is
read once and removed.
"""

from __future__ import annotations

import streamlit as st

from components.schedule_actions import schedule_actions
from components.schedule_form import form_state, new_draft, open_form, schedule_form
from components.schedule_notices import guarded, show_notice
from components.schedule_table import schedules_table
from components.session import require_role, services
from components.text import counted, plain
from reportgen.domain.principal import Principal, Role
from reportgen.domain.schedules import SavedReport

AUTHORS = frozenset({Role.AUTHOR, Role.ADMIN})
# Session key another page sets to a saved report's id to open the create form on it.
PREFILL_KEY = "schedule_prefill_report_id"
EVERYONE_KEY = "schedules_everyone"
PICK_KEY = "schedules_pick"


def _open_new(principal: Principal, report_id: str | None, name: str = "") -> None:
    open_form(new_draft(principal, report_id, name), schedule_id=None, version=None)


def _prefill(principal: Principal, reports: dict[str, SavedReport]) -> None:
    """Open the form on the report "Save as schedule…" asked for, named after it."""
    report_id = st.session_state.pop(PREFILL_KEY, None)
    if report_id is None:
        return
    if str(report_id) not in reports:
        st.warning("The report to schedule is not one you can open; choose one in the form.")
        _open_new(principal, next(iter(reports), None))
        return
    _open_new(principal, str(report_id), reports[str(report_id)].name)


def schedules_page(principal: Principal) -> None:
    st.title("Schedules", anchor=False)
    st.caption(
        "Send saved reports on a timetable: by email, to storage or to a webhook. Each recipient "
        "gets what their own access allows, unless you share your view."
    )
    reports = {r.id: r for r in services().saved_reports.list(principal)}
    if reports:
        _prefill(principal, reports)
    else:
        st.session_state.pop(PREFILL_KEY, None)
    show_notice()
    everyone = principal.is_admin and st.toggle(
        "Everyone's schedules", key=EVERYONE_KEY, help="Admins may see and manage every schedule."
    )
    schedules = services().schedules.list(principal, everyone=everyone)

    if form_state() is None:
        if reports:
            st.button(
                "New schedule",
                key="schedules_new",
                icon=":material/add:",
                type="primary",
                on_click=guarded(_open_new),
                args=(principal, next(iter(reports))),
            )
        else:
            st.info(
                "A schedule sends a saved report; you have none yet. Build one and save it first.",
                icon=":material/info:",
            )
            st.page_link(
                "pages/builder.py",
                label="Open the report builder",
                icon=":material/design_services:",
            )
    else:
        schedule_form(principal, reports)

    st.subheader("Everyone's schedules" if everyone else "My schedules", anchor=False)
    if not schedules:
        st.caption("No schedules yet.")
        return
    st.caption(f"{counted(len(schedules), 'schedule')}.")
    schedules_table(schedules, reports)
    by_id = {s.id: s for s in schedules}
    if st.session_state.get(PICK_KEY) not in by_id:
        st.session_state[PICK_KEY] = schedules[0].id
    chosen = st.selectbox(
        "Schedule to manage",
        list(by_id),
        format_func=lambda schedule_id: (
            by_id[schedule_id].name
            + (f" ({by_id[schedule_id].owner})" if everyone else "")
            + (" · paused" if by_id[schedule_id].paused else "")
        ),
        key=PICK_KEY,
    )
    schedule = by_id[chosen]
    changed_by = plain(schedule.updated_by or schedule.owner)
    st.caption(f"Version {schedule.version} · last changed by {changed_by}")
    schedule_actions(principal, schedule)


schedules_page(require_role(AUTHORS, "schedules"))
