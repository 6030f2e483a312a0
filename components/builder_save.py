"""Saving the builder's report through `SavedReportService`: a name, a description and a note
on what changed. The first save creates the report; later saves in the same draft add versions
to it (or, when asked, start a new report).

Once saved, "Save as schedule" opens the Schedules page with the report chosen.

The form checks the name itself before calling the service, and shows every problem the
service finds (``name: ...``, ``description: ...``, ``spec: ...``) beside the field it
concerns.
"""

from __future__ import annotations

import streamlit as st

from components.builder_problems import split_problem
from components.builder_state import generation
from components.session import services
from components.text import plain
from reportgen.domain.principal import Principal
from reportgen.domain.spec import ReportSpec
from reportgen.errors import Conflict, InvalidInput, NotAllowed, NotFound

NAME_LIMIT = 200
_SAVED = "_builder_saved_report"  # (generation, report id): later saves version that report
_NOTICE = "_builder_save_notice"
_FIELDS = ("name", "description", "comment", "spec")


def _saved_id() -> str | None:
    saved = st.session_state.get(_SAVED)
    if isinstance(saved, tuple) and saved[0] == generation():
        return str(saved[1])
    return None


def _sentence(message: str) -> str:
    return message[:1].upper() + message[1:]


def form_problems(name: str, spec: ReportSpec | None) -> dict[str, list[str]]:
    """What the form can tell before asking the service."""
    problems: dict[str, list[str]] = {}
    if not name.strip():
        problems["name"] = ["Give the report a name, such as “EMEA sales review”."]
    elif len(name.strip()) > NAME_LIMIT:
        problems["name"] = [f"Keep the name to {NAME_LIMIT} characters."]
    if spec is None:
        problems["spec"] = [
            "The report has problems (shown beside their fields); fix them, then save."
        ]
    return problems


def _service_problems(exc: InvalidInput) -> dict[str, list[str]]:
    problems: dict[str, list[str]] = {}
    for problem in exc.problems:
        field, message = split_problem(problem)
        field = field if field in _FIELDS else "spec"
        problems.setdefault(field, []).append(_sentence(message if field != "spec" else problem))
    return problems


def _save(
    principal: Principal,
    spec: ReportSpec,
    *,
    name: str,
    description: str,
    comment: str,
    as_new: bool,
) -> dict[str, list[str]]:
    """Save and remember the report for the next version; the problems when it cannot."""
    try:
        saved = services().saved_reports.save(
            principal,
            spec,
            name=name.strip(),
            description=description.strip(),
            report_id=None if as_new else _saved_id(),
            comment=comment.strip(),
        )
    except InvalidInput as exc:
        return _service_problems(exc)
    except (NotAllowed, NotFound, Conflict) as exc:
        return {"spec": [str(exc)]}
    st.session_state[_SAVED] = (generation(), saved.id)
    st.session_state[_NOTICE] = f"Saved “{plain(saved.name)}” as version {saved.version}."
    return {}


SCHEDULE_PREFILL = "schedule_prefill_report_id"
"""Read by the Schedules page: the saved report its create form opens with."""


def _schedule_button(report_id: str | None) -> None:
    """The builder's Save as schedule: open the Schedules page's form on this saved report."""
    if report_id is None:
        st.caption("Save the report first; then you can schedule it.")
        return
    if st.button("Save as schedule…", icon=":material/schedule:", key="builder_schedule"):
        st.session_state[SCHEDULE_PREFILL] = report_id
        st.switch_page("pages/schedules.py")


def save_panel(principal: Principal, spec: ReportSpec | None) -> None:
    """The Save form; nothing is saved until every field is right."""
    st.subheader("Save", anchor=False)
    notice = st.session_state.pop(_NOTICE, None)
    if notice:
        st.success(notice, icon=":material/check_circle:")
    report_id = _saved_id()
    slots = {}
    with st.form("builder_save_form", border=True):
        name = st.text_input(
            "Report name",
            value=spec.title if spec is not None else "",
            max_chars=NAME_LIMIT,
            key="builder_save_name",
        )
        slots["name"] = st.empty()
        description = st.text_area(
            "Description (optional)",
            value=spec.description if spec is not None else "",
            key="builder_save_description",
        )
        slots["description"] = st.empty()
        comment = st.text_input(
            "What changed (optional, kept with this version)", key="builder_save_comment"
        )
        slots["comment"] = st.empty()
        as_new = report_id is not None and st.checkbox(
            "Save as a new report instead of a new version", key="builder_save_as_new"
        )
        slots["spec"] = st.empty()
        submitted = st.form_submit_button(
            "Save report" if report_id is None else "Save a new version",
            icon=":material/save:",
            type="primary",
        )
    _schedule_button(report_id)
    if not submitted:
        return
    problems = form_problems(name, spec)
    if spec is not None and not problems:
        problems = _save(
            principal, spec, name=name, description=description, comment=comment, as_new=as_new
        )
        if not problems:
            st.rerun()
    for field, messages in problems.items():
        with slots[field].container():
            for message in messages:
                st.error(message, icon=":material/error:")
