"""Saving the builder's report: a name, a description and a note, each save a new version.

Reports are saved through ``Services.saved_reports`` (``SavedReportService``). Until a
deployment has that service the form is shown disabled, with a sentence saying why.
"""

from __future__ import annotations

from typing import Any, Protocol

import streamlit as st

from components.builder_state import generation
from components.session import services
from components.text import plain
from reportgen.domain.principal import Principal
from reportgen.domain.spec import ReportSpec
from reportgen.errors import InvalidInput, NotAllowed, NotFound

NAME_LIMIT = 200
_SAVED = "_builder_saved_report"  # (generation, report id): later saves version that report
_NOTICE = "_builder_save_notice"


class SavedReports(Protocol):
    """What the builder needs of the saved-report service."""

    def save(
        self,
        principal: Principal,
        spec: ReportSpec,
        *,
        name: str,
        description: str = "",
        report_id: str | None = None,
        comment: str = "",
    ) -> Any: ...


def saved_reports() -> SavedReports | None:
    """The saved-report service when this deployment has it."""
    found: SavedReports | None = getattr(services(), "saved_reports", None)
    return found


def _saved_id() -> str | None:
    saved = st.session_state.get(_SAVED)
    if isinstance(saved, tuple) and saved[0] == generation():
        return str(saved[1])
    return None


def _problems_of(name: str, spec: ReportSpec | None) -> dict[str, list[str]]:
    problems: dict[str, list[str]] = {}
    if not name.strip():
        problems.setdefault("name", []).append("Give the report a name, such as “EMEA sales”.")
    elif len(name.strip()) > NAME_LIMIT:
        problems.setdefault("name", []).append(f"Keep the name to {NAME_LIMIT} characters.")
    if spec is None:
        problems.setdefault("spec", []).append(
            "The report has problems (shown beside their fields); fix them, then save."
        )
    return problems


def save_panel(principal: Principal, spec: ReportSpec | None) -> None:
    """The Save form; it validates everything before saving and shows each problem."""
    st.subheader("Save", anchor=False)
    service = saved_reports()
    if service is None:
        st.button("Save report", key="builder_save_disabled", disabled=True, icon=":material/save:")
        st.caption("Saving reports arrives with the schedules work; export the report meanwhile.")
        return
    notice = st.session_state.pop(_NOTICE, None)
    if notice:
        st.success(notice, icon=":material/check_circle:")
    report_id = _saved_id()
    with st.form("builder_save_form", border=True):
        name = st.text_input(
            "Report name", value=spec.title if spec is not None else "", max_chars=NAME_LIMIT
        )
        name_slot = st.empty()
        description = st.text_area("Description (optional)", value=spec.description if spec else "")
        comment = st.text_input("What changed (optional, kept with this version)")
        as_new = False
        if report_id is not None:
            as_new = st.checkbox("Save as a new report instead of a new version")
        spec_slot = st.empty()
        submitted = st.form_submit_button("Save report", icon=":material/save:", type="primary")
    if not submitted:
        return
    problems = _problems_of(name, spec)
    if spec is not None and not problems:
        try:
            saved = service.save(
                principal,
                spec,
                name=name.strip(),
                description=description.strip(),
                report_id=None if as_new else report_id,
                comment=comment.strip(),
            )
        except InvalidInput as exc:
            problems.setdefault("spec", []).extend(exc.problems)
        except (NotAllowed, NotFound) as exc:
            problems.setdefault("spec", []).append(str(exc))
        else:
            st.session_state[_SAVED] = (generation(), saved.id)
            st.session_state[_NOTICE] = f"Saved “{plain(saved.name)}” as version {saved.version}."
            st.rerun()
    for slot, key in ((name_slot, "name"), (spec_slot, "spec")):
        if problems.get(key):
            with slot.container():
                for message in problems[key]:
                    st.error(message, icon=":material/error:")
