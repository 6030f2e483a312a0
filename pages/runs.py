"""Runs: the history of schedule runs, filtered by status, schedule and date; one run in full
(timeline, deliveries and their attempts, checksum-verified files, lineage); retry a failed
run; the dead letters with replay.

Everyone signed in may open it; `RunService` shows each person the runs of their own schedules
and the runs they asked for (admins: all). ``?run=<id>`` (the link in report emails and in Run
now's notice) opens that run; the address then follows the picker, so it names the run shown
(and can be bookmarked or shared) until the user picks none.
"""

from __future__ import annotations

import re

import streamlit as st

from components.home_times import moment, viewer_timezone
from components.run_detail import RUNS_NOTICE, replay, run_detail
from components.run_table import (
    STATUS_ICONS,
    RunFilters,
    history,
    load_more,
    runs_table,
)
from components.schedule_notices import guarded, show_notice
from components.session import EVERYONE, require_role, services
from components.text import counted, plain
from reportgen.delivery.email_body import RUN_PARAM
from reportgen.domain.principal import Principal
from reportgen.domain.runs import Run, RunStatus
from reportgen.errors import NotFound

ALL = "all"
PICK_KEY = "runs_pick"
_LINKED = "_runs_linked"  # the run id a link asked for
_RUN_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def _filters(names: dict[str, str]) -> RunFilters | None:
    """The filter row; None (after saying why) when the dates contradict each other."""
    zone = viewer_timezone()
    with st.container(horizontal=True, vertical_alignment="bottom", key="runs_filters"):
        status = st.selectbox(
            "Status",
            [ALL, *RunStatus],
            format_func=lambda s: "Any status" if s == ALL else f"{STATUS_ICONS[s]} {s}",
            key="runs_status",
        )
        schedule = st.selectbox(
            "Schedule",
            [ALL, *names],
            format_func=lambda s: "Any schedule" if s == ALL else names[s],
            key="runs_schedule",
        )
        days = f"Days on your clock ({zone})"
        since = st.date_input(
            "Fired from", value=None, key="runs_from", format="YYYY-MM-DD", help=days
        )
        until = st.date_input(
            "Fired until", value=None, key="runs_to", format="YYYY-MM-DD", help=days
        )
        st.button("Refresh", key="runs_refresh", icon=":material/refresh:")
    if since and until and since > until:
        st.error("“Fired from” is after “Fired until”; swap the dates.", icon=":material/error:")
        return None
    return RunFilters(
        status=None if status == ALL else RunStatus(status),
        schedule_id=None if schedule == ALL else str(schedule),
        since=since,
        until=until,
        timezone=zone,
    )


def _run_label(run: Run, names: dict[str, str]) -> str:
    name = names.get(run.schedule_id or "", "deleted schedule")
    return f"{STATUS_ICONS[run.status]} {moment(run.fire_time)} · {name} · {run.status}"


def _dead_letters(principal: Principal, names: dict[str, str]) -> None:
    st.subheader("Dead letters", anchor=False)
    dead = services().runs.dead_letters(principal)
    if not dead:
        st.caption("No run is waiting for attention.")
        return
    st.caption(
        f"{counted(len(dead), 'run')} gave up. Replay sends again only what was not delivered, "
        "with the original's data time."
    )
    for run in dead:
        with st.container(border=True, horizontal=True, vertical_alignment="center"):
            with st.container():
                st.markdown(f"**{plain(_run_label(run, names))}**")
                st.caption(plain(run.error or "no reason recorded"))
            st.button(
                "Replay",
                key=f"runs_replay_{run.id}",
                icon=":material/replay:",
                on_click=guarded(replay, RUNS_NOTICE),
                args=(principal, run.id),
            )


def _linked_run(principal: Principal) -> Run | None:
    """The run the address names (``?run=<id>``), read afresh on each rerun and picked. The id
    stays on the address while that run is shown, and in the session, so the run stays on offer
    while picked even when the filters leave it out. None, after saying why and taking the id
    off the address, when there is no such run this user may see."""
    asked = st.query_params.get(RUN_PARAM)
    if asked is not None:
        st.session_state[_LINKED] = asked
        if st.session_state.get(PICK_KEY) != asked:
            st.session_state[PICK_KEY] = asked
    run_id = st.session_state.get(_LINKED)
    if run_id is None:
        return None
    if _RUN_ID.fullmatch(run_id):
        try:
            return services().runs.get(principal, run_id).run
        except NotFound:
            pass
    del st.session_state[_LINKED]
    if st.query_params.get(RUN_PARAM) == run_id:
        del st.query_params[RUN_PARAM]
    st.warning(
        "The link names a run you cannot see: it may belong to someone else's schedule.",
        icon=":material/link_off:",
    )
    return None


def _address_follows_pick() -> None:
    """Callback of the run picker: the address names the run picked, or none."""
    picked = st.session_state.get(PICK_KEY)
    if picked is None:
        st.query_params.pop(RUN_PARAM, None)
    else:
        st.query_params[RUN_PARAM] = str(picked)


def runs_page(principal: Principal) -> None:
    st.title("Runs", anchor=False)
    st.caption("Every run of the schedules you own or asked for: what happened, and the files.")
    show_notice(RUNS_NOTICE)
    linked = _linked_run(principal)
    schedules = services().schedules.list(principal, everyone=principal.is_admin)
    names = {s.id: s.name for s in schedules}
    filters = _filters(names)
    if filters is None:
        return
    loaded = history(principal, filters)
    if not loaded.runs:
        st.info("No run matches these filters.", icon=":material/info:")
    else:
        st.caption(
            f"{counted(len(loaded.runs), 'run')} shown, newest first"
            + ("; more are older." if loaded.cursor else ".")
        )
        runs_table(loaded.runs, names)
    if loaded.cursor is not None:
        st.button(
            "Load more",
            key="runs_load_more",
            icon=":material/expand_more:",
            on_click=guarded(load_more, RUNS_NOTICE),
            args=(filters,),
        )
    if loaded.runs or linked is not None:
        by_id = {run.id: run for run in loaded.runs}
        if linked is not None:  # on offer even when the filters or the page leave it out
            by_id.setdefault(linked.id, linked)
        picked = st.session_state.get(PICK_KEY, "")
        if picked is not None and picked not in by_id:  # None: the user picked none
            st.session_state[PICK_KEY] = next(iter(by_id))
        # Labels written now, while the viewer's timezone is known to this script run.
        labels = {run_id: _run_label(run, names) for run_id, run in by_id.items()}
        chosen = st.selectbox(
            "Run to look at",
            list(by_id),
            index=None,
            format_func=labels.__getitem__,
            key=PICK_KEY,
            placeholder="Pick a run to see it in full",
            on_change=_address_follows_pick,
        )
        if chosen is not None:
            run_detail(principal, chosen)
    st.divider()
    _dead_letters(principal, names)


runs_page(require_role(EVERYONE, "runs"))
