"""Opening a saved report in the builder: from the builder's own list of saved reports, or from
an address naming one (``?report=<id>``, which Home's "Open in the builder" links to).

The report's newest version becomes the draft; saving then adds its next version (or, when
asked, saves it as a new report). The address keeps naming the report while the draft versions
it, so the builder on a saved report can be bookmarked.
"""

from __future__ import annotations

import streamlit as st

from components.builder_save import REPORT_PARAM, follow_report
from components.builder_state import saved_report_id, start_from
from components.session import services
from components.text import plain
from reportgen.domain.principal import Principal
from reportgen.domain.schedules import SavedReport
from reportgen.errors import NotFound

PICK_KEY = "builder_open_pick"
_NOTICE = "_builder_open_notice"


def open_report(report: SavedReport) -> None:
    """Make `report` the draft: its spec in fresh widgets, saves adding its next versions."""
    start_from(report.spec)
    follow_report(report)


def _open_picked(principal: Principal) -> None:
    """Callback of the Open button."""
    report_id = st.session_state.get(PICK_KEY)
    if report_id is None:
        st.session_state[_NOTICE] = "Choose a saved report to open first."
        return
    try:
        report = services().saved_reports.get(principal, str(report_id))
    except NotFound as exc:
        st.session_state[_NOTICE] = f"{str(exc)[:1].upper()}{str(exc)[1:]}."
        return
    open_report(report)
    st.session_state[PICK_KEY] = None


def open_from_address(principal: Principal) -> None:
    """Open the saved report the address names, unless the draft already versions it; say so
    (and drop it from the address) when it is not one this user can open."""
    asked = st.query_params.get(REPORT_PARAM)
    if not asked or asked == saved_report_id():
        return
    try:
        report = services().saved_reports.get(principal, asked)
    except NotFound:
        st.query_params.pop(REPORT_PARAM, None)
        st.session_state[_NOTICE] = (
            "The link names a saved report you cannot open: it may have been deleted or belong "
            "to someone else. Open one of yours below."
        )
        return
    open_report(report)


def keep_address() -> None:
    """The address names the saved report the draft versions (the author may have come back
    to the builder from another page, which leaves the address bare)."""
    report_id = saved_report_id()
    if report_id is not None and st.query_params.get(REPORT_PARAM) != report_id:
        st.query_params[REPORT_PARAM] = report_id


def _label(principal: Principal, reports: dict[str, SavedReport]) -> dict[str, str]:
    return {
        report.id: f"{report.name} (version {report.version}"
        + ("" if report.owner == principal.username else f", {report.owner}'s")
        + ")"
        for report in reports.values()
    }


def open_row(principal: Principal) -> None:
    """Choose one of the saved reports this user may change and open it."""
    notice = st.session_state.pop(_NOTICE, None)
    if notice:
        st.warning(plain(notice), icon=":material/link_off:")
    reports = {
        report.id: report
        for report in sorted(
            services().saved_reports.list(principal), key=lambda r: r.updated_at, reverse=True
        )
    }
    if not reports:
        return
    if st.session_state.get(PICK_KEY) not in reports:
        st.session_state[PICK_KEY] = None
    labels = _label(principal, reports)
    with st.container(horizontal=True, vertical_alignment="bottom"):
        st.selectbox(
            "Or open a saved report",
            list(reports),
            index=None,
            format_func=labels.__getitem__,
            key=PICK_KEY,
            placeholder="Choose a saved report to edit",
            help="Its newest version opens here; saving adds the next version.",
        )
        st.button(
            "Open",
            key="builder_open_button",
            icon=":material/folder_open:",
            on_click=_open_picked,
            args=(principal,),
            help="Replaces the report below with the saved report.",
        )
