"""Report builder: start from a template, a blank page or a saved report, shape the report, see
it live, print preview the PDF, export it and save it (a saved report: as its next version).

The draft is a `ReportSpec` in the session. Every rerun draws the controls from it, assembles
the spec back from them, checks it with `ReportService.check` (each problem shown next to its
field) and, when it is valid, previews it as the signed-in user.
"""

from __future__ import annotations

import streamlit as st
from pydantic import ValidationError

from components.builder_blocks import block_editors
from components.builder_data import data_controls
from components.builder_export import export_panel, print_preview, rendition
from components.builder_open import keep_address, open_from_address, open_row
from components.builder_preview import draw_preview
from components.builder_problems import GENERAL, ProblemBoard, validation_messages
from components.builder_save import forget_report, save_panel
from components.builder_state import (
    has_draft,
    keep_spec,
    key,
    restore,
    seed_spec,
    seeded,
    start_from,
)
from components.builder_templates import BLANK, blank_spec, template_starts
from components.session import require_role, services
from reportgen.domain.principal import Principal, Role
from reportgen.domain.spec import ReportSpec
from reportgen.errors import InvalidInput, NotAllowed

AUTHORS = frozenset({Role.AUTHOR, Role.ADMIN})
EMPTY_REPORT = "add at least one block that is complete"
NO_TITLE = "give the report a title, such as “EMEA sales review”"
_STARTS = "_builder_template_starts"
_START = "builder_start"
# Where a new visitor's draft starts. (A bare string here would be drawn: Streamlit's magic.)
FIRST_START = "executive_summary/spec"


def _starts() -> dict[str, tuple[str, ReportSpec | None]]:
    """Ways to start, read once per session: key → (label, spec or None for blank)."""
    if _STARTS not in st.session_state:
        found = {s.key: (s.label, s.spec) for s in template_starts(services().render)}
        st.session_state[_STARTS] = {BLANK: ("Blank report", None), **found}
    starts: dict[str, tuple[str, ReportSpec | None]] = st.session_state[_STARTS]
    return starts


def _start(principal: Principal, widget: str) -> None:
    """Callback of the Start button: replace the draft with the chosen start."""
    _, spec = _starts()[st.session_state[widget]]
    if spec is None:
        dataset = services().catalog.datasets(principal)[0]
        spec = blank_spec(dataset, principal)
    elif spec.dataset not in {d.name for d in services().catalog.datasets(principal)}:
        st.session_state["_builder_notice"] = (
            f"That template reports on '{spec.dataset}', which you may not use."
        )
        return
    start_from(spec)
    forget_report()  # a fresh start is no version of the saved report open before


def _start_row(principal: Principal) -> None:
    starts = _starts()
    with st.container(horizontal=True, vertical_alignment="bottom"):
        widget = _START
        if restore(widget, FIRST_START if FIRST_START in starts else BLANK) not in starts:
            st.session_state[widget] = BLANK
        st.selectbox(
            "Start from",
            list(starts),
            format_func=lambda key: starts[key][0],
            key=widget,
            help="A built-in template's starting point or worked sample, or a blank report.",
        )
        st.button(
            "Start",
            key="builder_start_button",
            icon=":material/restart_alt:",
            on_click=_start,
            args=(principal, widget),
            help="Replaces the report below with the chosen start.",
        )
    notice = st.session_state.pop("_builder_notice", None)
    if notice:
        st.warning(notice)


def _assemble(
    principal: Principal, board: ProblemBoard
) -> tuple[ReportSpec | None, dict[str, tuple[str, ...]]]:
    """Draw the controls and build the spec they describe (None when it cannot be built)."""
    seed = seed_spec()
    with st.container(border=True):
        st.subheader("Report", anchor=False)
        title = st.text_input("Title", key=seeded("title", seed.title), max_chars=200)
        board.slot("title")
        subtitle = st.text_input("Subtitle", key=seeded("subtitle", seed.subtitle))
    with st.container(border=True):
        st.subheader("Data", anchor=False)
        choice = data_controls(principal, title, board)
    with st.container(border=True):
        st.subheader("Blocks", anchor=False)
        built = block_editors(principal, choice.dataset, board)
        board.slot("blocks")
    board.block_ids = [block_id for block_id, _ in built]
    named = bool(title.strip())
    if not named:
        board.add("title", NO_TITLE)
    try:
        spec = ReportSpec.model_validate(
            {
                **seed.model_dump(
                    exclude={"title", "subtitle", "dataset", "filters", "time_range", "blocks"}
                ),
                # Without a title the rest is still checked, so every problem shows at once.
                "title": title.strip() or seed.title or "Untitled",
                "subtitle": subtitle,
                "dataset": choice.dataset.name,
                "filters": choice.filters,
                "time_range": choice.time_range,
                "blocks": tuple(block for _, block in built),
            }
        )
    except ValidationError as exc:
        for path, message in validation_messages(exc):
            board.add(path, EMPTY_REPORT if path == "blocks" else message)
        return None, choice.parameters
    try:
        services().reports.check(principal, spec)
    except InvalidInput as exc:
        board.add_spec_problems(exc.problems)
    return (spec if named else None), choice.parameters


def builder(principal: Principal) -> None:
    st.title("Report builder", anchor=False)
    st.caption("Pick data, shape the report, see it as your readers will, then export or save it.")
    open_from_address(principal)
    _start_row(principal)
    open_row(principal)
    if not has_draft():
        _start(principal, _START)
    if not has_draft():  # the chosen start is not open to this user
        start_from(blank_spec(services().catalog.datasets(principal)[0], principal))
    keep_address()
    board = ProblemBoard()
    board.slot(GENERAL)
    controls, results = st.columns([2, 3], gap="large")
    with controls:
        spec, parameters = _assemble(principal, board)
    keep_spec(spec)
    with results:
        live, printed = st.tabs(["Preview", "Print preview"], key="builder_tabs", on_change="rerun")
        made = None
        if spec is not None and not board.problems:
            made = rendition(principal, spec, parameters)
        with live:
            if made is None:
                st.info("Fix the problems shown beside the fields to see the preview.")
            else:
                draw_preview(made.preview)
        if printed.open:
            with printed:
                if made is None:
                    st.info("Fix the problems shown beside the fields to see the PDF.")
                else:
                    print_preview(principal, made)
        st.divider()
        st.subheader("Export", anchor=False)
        if made is None:
            st.caption("Exports are ready once the report has no problems.")
        else:
            export_panel(principal, made)
        st.divider()
        save_panel(
            principal, spec if made is not None else None, str(st.session_state[key("title")])
        )
    board.show()


principal = require_role(AUTHORS, "the report builder")
if not services().catalog.datasets(principal):
    raise NotAllowed("no dataset is open to your roles yet; ask a data steward for access")
builder(principal)
