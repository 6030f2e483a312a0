"""The builder's draft in the session: the current `ReportSpec` and the blocks being edited.

Every widget of the builder is keyed under a *generation*: starting from a template (or a new
dataset) opens a new generation, so the widgets are drawn afresh from the new spec while the
old ones are forgotten. Blocks get an id of their own, so their widgets keep their values when
blocks are reordered or removed around them.

Streamlit forgets the state of every widget a run does not draw, so opening another page would
wipe the draft's filters, period, parameters and block edits. Each run therefore copies the
builder's widget values to a plain session key (which Streamlit keeps), and a widget drawn
again after the author comes back starts from its kept value rather than from the seed spec.

A draft opened from a saved report (or saved once) remembers that report, so saving adds its
next version, whatever is edited meanwhile (even the dataset); starting afresh from a template
forgets it.
"""

from __future__ import annotations

import secrets
from typing import Any

import streamlit as st

from reportgen.domain.spec import Block, ReportSpec

SPEC_KEY = "builder_spec"
"""Session key of the current ReportSpec: what the preview shows and the exports render."""
_GENERATION = "_builder_generation"
_BLOCK_IDS = "_builder_block_ids"
_SEED = "_builder_seed"  # the spec the current generation's widgets start from
_BLOCK_SEED = "_builder_block_seed_"
_KEPT = "_builder_kept"  # widget key → its last value, outliving the widgets' own state
_NEXT = "_builder_next_values"  # widget key → the value it shows from the next run on
_SAVED = "_builder_saved_report"  # (generation it was opened or saved in, report id) or absent


def generation() -> int:
    return int(st.session_state.get(_GENERATION, 0))


def key(name: str) -> str:
    """A widget key of the current generation."""
    return f"builder_{generation()}_{name}"


def seeded(name: str, value: Any) -> str:
    """The key of widget `name`, holding `value` unless the widget already has one.

    Widgets are then drawn with only their key, so Streamlit never sees a default and a session
    value at once.
    """
    widget = key(name)
    restore(widget, value)
    return widget


def restore(widget: str, value: Any) -> Any:
    """Give `widget` its value for this run and keep that value for the runs that follow.

    Its own state while Streamlit still has it; else the value kept from the last run that drew
    it (the author left the page and came back); else `value`. Call it before drawing the widget.
    """
    values: dict[str, Any] = st.session_state.setdefault(_KEPT, {})
    coming: dict[str, Any] = st.session_state.get(_NEXT, {})
    if widget in coming:
        st.session_state[widget] = coming.pop(widget)
    elif widget not in st.session_state:
        st.session_state[widget] = values.get(widget, value)
    values[widget] = st.session_state[widget]
    return values[widget]


def show_next_run(widget: str, value: Any) -> None:
    """Make `widget` (a key drawn through `restore` or `seeded`) show `value` from the next run
    on: a widget drawn in this run can no longer change."""
    st.session_state.setdefault(_NEXT, {})[widget] = value


def saved_report_id() -> str | None:
    """The saved report the draft is a version of, if any: saving adds its next version."""
    saved = st.session_state.get(_SAVED)
    return str(saved[1]) if isinstance(saved, tuple) else None


def remember_saved(report_id: str | None) -> None:
    """The draft is now a version of `report_id` (None: of no saved report)."""
    if report_id is None:
        st.session_state.pop(_SAVED, None)
    else:
        st.session_state[_SAVED] = (generation(), report_id)


def has_draft() -> bool:
    return isinstance(st.session_state.get(_SEED), ReportSpec)


def seed_spec() -> ReportSpec:
    """The spec this generation started from (its widgets' first values)."""
    spec = st.session_state[_SEED]
    assert isinstance(spec, ReportSpec)
    return spec


def current_spec() -> ReportSpec | None:
    """The spec as last assembled from the widgets (None until the builder has drawn once)."""
    spec = st.session_state.get(SPEC_KEY)
    return spec if isinstance(spec, ReportSpec) else None


def keep_spec(spec: ReportSpec | None) -> None:
    st.session_state[SPEC_KEY] = spec


def start_from(spec: ReportSpec) -> None:
    """Replace the draft with `spec`: a new generation of widgets, one id per block."""
    _forget(key(""))  # the old generation's widgets are gone for good
    st.session_state[_GENERATION] = generation() + 1
    st.session_state[_SEED] = spec
    st.session_state[SPEC_KEY] = spec
    st.session_state[_BLOCK_IDS] = []
    for block in spec.blocks:
        add_block(block)


def block_ids() -> list[str]:
    ids = st.session_state.get(_BLOCK_IDS, [])
    return list(ids)


def block_seed(block_id: str) -> Block:
    """The block the widgets of `block_id` started from."""
    block: Block = st.session_state[_BLOCK_SEED + block_id]
    return block


def add_block(block: Block) -> str:
    block_id = secrets.token_hex(4)
    st.session_state[_BLOCK_SEED + block_id] = block
    st.session_state[_BLOCK_IDS] = [*block_ids(), block_id]
    return block_id


def remove_block(block_id: str) -> None:
    st.session_state[_BLOCK_IDS] = [b for b in block_ids() if b != block_id]
    st.session_state.pop(_BLOCK_SEED + block_id, None)
    _forget(key(f"block_{block_id}_"))


def _forget(prefix: str) -> None:
    """Drop the kept values of the widgets whose keys start with `prefix`."""
    values: dict[str, Any] = st.session_state.get(_KEPT, {})
    st.session_state[_KEPT] = {k: v for k, v in values.items() if not k.startswith(prefix)}


def move_block(block_id: str, offset: int) -> None:
    """Move a block `offset` places up (negative) or down, stopping at either end."""
    ids = block_ids()
    old = ids.index(block_id)
    new = max(0, min(len(ids) - 1, old + offset))
    ids.insert(new, ids.pop(old))
    st.session_state[_BLOCK_IDS] = ids
