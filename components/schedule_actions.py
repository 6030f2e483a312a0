"""What can be done to one schedule: edit, pause or resume, run now, delete (after a yes).

"Run now" keeps one idempotency key per schedule in the session, so a double click (or a
second click while that run is still waiting or working) returns the run the first click made
instead of queueing another; once that run has finished, the next click gets a fresh key.
"""

from __future__ import annotations

import secrets

import streamlit as st

from components.home_links import RUNS_PAGE
from components.schedule_form import open_form
from components.schedule_notices import NoticeLink, guarded, notice
from components.session import services
from components.text import plain
from reportgen.delivery.email_body import RUN_PARAM
from reportgen.domain.principal import Principal
from reportgen.domain.runs import FINISHED
from reportgen.domain.schedules import Schedule
from reportgen.errors import NotFound

RUN_KEYS = "_schedules_run_keys"
"""Session key: schedule id → (idempotency key, id of the run it made or None)."""
CONFIRM_DELETE = "_schedules_confirm_delete"


def _edit(principal: Principal, schedule_id: str) -> None:
    current = services().schedules.get(principal, schedule_id)
    open_form(current.draft(), schedule_id=current.id, version=current.version)


def _pause(principal: Principal, schedule_id: str, *, paused: bool) -> None:
    schedules = services().schedules
    try:
        if paused:
            changed = schedules.pause(principal, schedule_id)
        else:
            changed = schedules.resume(principal, schedule_id)
    except NotFound as exc:
        notice("warning", str(exc))
        return
    verb = "Paused" if paused else "Resumed"
    notice("success", f"{verb} “{plain(changed.name)}”.")


def run_key(principal: Principal, schedule_id: str) -> str:
    """The idempotency key the next "Run now" of `schedule_id` uses.

    It stays the same while the run it made has not finished, so repeated clicks do not queue
    more runs.
    """
    keys: dict[str, tuple[str, str | None]] = st.session_state.setdefault(RUN_KEYS, {})
    key, run_id = keys.get(schedule_id, ("", None))
    if key and run_id is not None:
        try:
            finished = services().runs.get(principal, run_id).run.status in FINISHED
        except NotFound:
            finished = True
        if finished:
            key = ""
    if not key:
        key = f"ui-{schedule_id}-{secrets.token_hex(8)}"
        keys[schedule_id] = (key, None)
    return key


def _run_now(principal: Principal, schedule: Schedule) -> None:
    key = run_key(principal, schedule.id)
    run = services().runs.run_now(principal, schedule.id, idempotency_key=key)
    st.session_state[RUN_KEYS][schedule.id] = (key, run.id)
    notice(
        "success",
        f"Run of “{plain(schedule.name)}” queued (run `{run.id[:8]}`, {run.status}).",
        link=NoticeLink(
            RUNS_PAGE, "Follow it on the Runs page", ":material/history:", {RUN_PARAM: run.id}
        ),
    )


def _delete(principal: Principal, schedule_id: str) -> None:
    st.session_state.pop(CONFIRM_DELETE, None)
    try:
        current = services().schedules.get(principal, schedule_id)
        services().schedules.delete(principal, schedule_id)
    except NotFound as exc:
        notice("warning", str(exc))
        return
    notice("success", f"Deleted “{plain(current.name)}”. Its runs keep their history.")


def _ask_delete(schedule_id: str) -> None:
    st.session_state[CONFIRM_DELETE] = schedule_id


def _cancel_delete() -> None:
    st.session_state.pop(CONFIRM_DELETE, None)


def schedule_actions(principal: Principal, schedule: Schedule) -> None:
    """The buttons for `schedule` and, after Delete, the confirmation step."""
    with st.container(horizontal=True, key="schedules_actions"):
        st.button(
            "Edit",
            key="schedules_edit",
            icon=":material/edit:",
            on_click=guarded(_edit),
            args=(principal, schedule.id),
        )
        if schedule.paused:
            st.button(
                "Resume",
                key="schedules_resume",
                icon=":material/play_arrow:",
                on_click=guarded(_pause),
                args=(principal, schedule.id),
                kwargs={"paused": False},
            )
        else:
            st.button(
                "Pause",
                key="schedules_pause",
                icon=":material/pause:",
                on_click=guarded(_pause),
                args=(principal, schedule.id),
                kwargs={"paused": True},
            )
        st.button(
            "Run now",
            key="schedules_run_now",
            icon=":material/bolt:",
            on_click=guarded(_run_now),
            args=(principal, schedule),
            help="Queues one run now; clicking again while it runs does not queue another.",
        )
        st.button(
            "Delete",
            key="schedules_delete",
            icon=":material/delete:",
            on_click=_ask_delete,
            args=(schedule.id,),
        )
    if st.session_state.get(CONFIRM_DELETE) == schedule.id:
        with st.container(border=True, key="schedules_confirm"):
            st.warning(
                f"Delete “{plain(schedule.name)}”? It stops running at once; its past runs and "
                "their files stay in the run history. This cannot be undone.",
                icon=":material/warning:",
            )
            with st.container(horizontal=True):
                st.button(
                    "Yes, delete it",
                    key="schedules_delete_confirm",
                    type="primary",
                    on_click=guarded(_delete),
                    args=(principal, schedule.id),
                )
                st.button("Keep it", key="schedules_delete_cancel", on_click=_cancel_delete)
