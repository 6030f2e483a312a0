"""Saving the builder's report through `SavedReportService`: a name, a description and a note
on what changed. The first save creates the report; later saves of the same draft (or of a
saved report opened in the builder) add versions to it, or, when asked, save it as a new report
under the name given.

The name is the report's title (what the email's subject and the PDF say): the name field
follows the Title as it is edited, and saving under another name retitles the report to it.

Once saved, "Save as schedule" opens the Schedules page with the report chosen.

The form checks the name itself before calling the service, and shows every problem the
service finds (``name: ...``, ``description: ...``, ``spec: ...``) beside the field it
concerns.
"""

from __future__ import annotations

import streamlit as st

from components.builder_problems import split_problem
from components.builder_state import (
    key,
    remember_saved,
    restore,
    saved_report_id,
    show_next_run,
)
from components.session import services
from components.text import plain
from reportgen.domain.principal import Principal
from reportgen.domain.schedules import SavedReport
from reportgen.domain.spec import ReportSpec
from reportgen.errors import Conflict, InvalidInput, NotAllowed, NotFound

NAME_LIMIT = 200
REPORT_PARAM = "report"
"""The builder's address names the saved report its draft versions: ``?report=<id>``."""
NAME_KEY = "builder_save_name"
DESCRIPTION_KEY = "builder_save_description"
COMMENT_KEY = "builder_save_comment"
AS_NEW_KEY = "builder_save_as_new"
_NAMED_AFTER = "_builder_save_named_after"  # the title the name field last followed
_OPEN = "_builder_save_open"  # (id, name, version) of the saved report the draft versions
_NOTICE = "_builder_save_notice"
_FIELDS = ("name", "description", "comment", "spec")


def follow_report(report: SavedReport) -> None:
    """Make the Save form add the next version of `report`, under its name, and the address
    name it. Call before the form is drawn (the Open callbacks do)."""
    remember_saved(report.id)
    st.session_state[_OPEN] = (report.id, report.name, report.version)
    st.session_state[_NAMED_AFTER] = report.name
    for widget, value in (
        (NAME_KEY, report.name),
        (DESCRIPTION_KEY, report.description),
        (COMMENT_KEY, ""),
        (AS_NEW_KEY, False),
    ):
        show_next_run(widget, value)
    st.query_params[REPORT_PARAM] = report.id


def forget_report() -> None:
    """The draft versions no saved report any more (it starts afresh from a template)."""
    remember_saved(None)
    st.session_state.pop(_OPEN, None)
    st.query_params.pop(REPORT_PARAM, None)


def _name_follows_title(title: str) -> None:
    """Give the name field its value: the Title, followed as it changes, unless the author
    typed another name since."""
    named_after = st.session_state.get(_NAMED_AFTER)
    name = restore(NAME_KEY, title)
    if title != named_after:
        if named_after is None or name == named_after:
            st.session_state[NAME_KEY] = title
            restore(NAME_KEY, title)
        st.session_state[_NAMED_AFTER] = title


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
            report_id=None if as_new else saved_report_id(),
            comment=comment.strip(),
        )
    except InvalidInput as exc:
        return _service_problems(exc)
    except (NotAllowed, NotFound, Conflict) as exc:
        return {"spec": [str(exc)]}
    remember_saved(saved.id)
    st.session_state[_OPEN] = (saved.id, saved.name, saved.version)
    st.query_params[REPORT_PARAM] = saved.id
    # The saved name is the title from now on; the widgets drawn in this run change next run.
    show_next_run(key("title"), saved.spec.title)
    st.session_state[_NAMED_AFTER] = saved.spec.title
    show_next_run(COMMENT_KEY, "")
    show_next_run(AS_NEW_KEY, False)
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


def _open_caption(report_id: str | None) -> None:
    opened = st.session_state.get(_OPEN)
    if report_id is None or not isinstance(opened, tuple) or opened[0] != report_id:
        return
    _, name, version = opened
    st.caption(
        f"Editing the saved report “{plain(name)}” (version {version}): saving adds version "
        f"{version + 1}, or tick the box to save it as a new report."
    )


def save_panel(principal: Principal, spec: ReportSpec | None, title: str) -> None:
    """The Save form; nothing is saved until every field is right. `title` is the Title field's
    value, which the name follows."""
    st.subheader("Save", anchor=False)
    notice = st.session_state.pop(_NOTICE, None)
    if notice:
        st.success(notice, icon=":material/check_circle:")
    report_id = saved_report_id()
    _open_caption(report_id)
    _name_follows_title(title.strip())
    restore(DESCRIPTION_KEY, spec.description if spec is not None else "")
    restore(COMMENT_KEY, "")
    slots = {}
    with st.form("builder_save_form", border=True):
        name = st.text_input(
            "Report name",
            max_chars=NAME_LIMIT,
            key=NAME_KEY,
            help="Also the report's title: what the PDF and the email's subject say.",
        )
        slots["name"] = st.empty()
        description = st.text_area("Description (optional)", key=DESCRIPTION_KEY)
        slots["description"] = st.empty()
        comment = st.text_input("What changed (optional, kept with this version)", key=COMMENT_KEY)
        slots["comment"] = st.empty()
        as_new = False
        if report_id is not None:
            restore(AS_NEW_KEY, False)
            as_new = st.checkbox("Save as a new report instead of a new version", key=AS_NEW_KEY)
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
