"""Problems shown next to the field they concern.

Fields reserve a slot (an empty placeholder right below them) under a path such as ``title``,
``filters.region`` or ``block:1a2b.x``. Once the whole spec is assembled and checked, each
problem is written into the slot whose path is the longest prefix of the problem's path, and
what fits no slot goes to the general slot at the top. So every problem is shown at once, each
where the user can fix it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

import streamlit as st
from pydantic import ValidationError
from streamlit.delta_generator import DeltaGenerator

_LOCATED = re.compile(r"^(?P<path>[A-Za-z_][\w.\[\]]*): (?P<message>.+)$", re.DOTALL)
_BLOCK = re.compile(r"^blocks\[(?P<index>\d+)\](?P<rest>.*)$")
GENERAL = ""
FIELD_NAMES = {
    "x": "X axis",
    "y": "Y axis",
    "color": "Split by colour",
    "grain": "Time grain",
    "top_n": "Largest only",
    "tiles": "Tiles",
    "measure": "Measure",
    "by": "Movers by",
    "dimensions": "Rows",
    "measures": "Columns",
    "sort": "Sort",
    "rules": "Formatting rules",
    "title": "Title",
    "markdown": "Text",
    "max_rows": "Rows shown",
}


def split_problem(problem: str) -> tuple[str, str]:
    """``blocks[2].x: a pie chart...`` → (``blocks[2].x``, ``a pie chart...``)."""
    match = _LOCATED.match(problem)
    if match is None:
        return GENERAL, problem
    return match["path"], match["message"]


def validation_messages(exc: ValidationError) -> list[tuple[str, str]]:
    """A pydantic error as (path, sentence) pairs, paths written like the spec checker's."""
    found = []
    for error in exc.errors():
        path = ""
        for part in error["loc"]:
            if isinstance(part, int):
                path += f"[{part}]"
            elif "[" not in str(part):  # pydantic's union tags are noise here
                path += f".{part}" if path else str(part)
        found.append((path, _plain_words(error)))
    return found


def _plain_words(error: Any) -> str:
    """A pydantic error in the builder's words: what to choose or type to fix it."""
    context = error.get("ctx") or {}
    match error["type"]:
        case "too_short":
            least = context.get("min_length", 1)
            return "choose at least one" if least == 1 else f"choose at least {least}"
        case "too_long":
            return f"choose at most {context.get('max_length')}"
        case "string_too_short":
            return "must not be empty"
        case "string_too_long":
            return f"use at most {context.get('max_length')} characters"
        case "greater_than_equal" | "less_than_equal":
            bound = context.get("ge", context.get("le"))
            word = "at least" if error["type"] == "greater_than_equal" else "at most"
            return f"must be {word} {bound}"
    message = str(error["msg"])
    return message[:1].lower() + message[1:]


def _under(slot: str, path: str) -> bool:
    return path == slot or path.startswith((slot + ".", slot + "["))


def _worded(path: str, slot: str, message: str) -> str:
    """The message, led by the field it concerns when the slot is not that field's own."""
    if path == slot or not path:
        return message[:1].upper() + message[1:]
    rest = path[len(slot) :].lstrip(".") if slot else path
    field = re.split(r"[.\[]", rest, maxsplit=1)[0]
    return f"{FIELD_NAMES.get(field, field.replace('_', ' ').capitalize())}: {message}"


class ProblemBoard:
    """Slots for problems, filled once every field has been drawn."""

    def __init__(self) -> None:
        self._slots: dict[str, DeltaGenerator] = {}
        self._problems: list[tuple[str, str]] = []
        self.block_ids: list[str] = []  # spec block i → the id of the block editor that made it

    def slot(self, path: str) -> None:
        """Reserve the place right here for problems of `path`."""
        self._slots[path] = st.empty()

    def add(self, path: str, message: str) -> None:
        self._problems.append((path, message))

    def add_spec_problems(self, problems: Iterable[str]) -> None:
        """Problems as the report service words them, with spec paths (``blocks[2].x: ...``)."""
        for problem in problems:
            path, message = split_problem(problem)
            block = _BLOCK.match(path)
            if block is not None and int(block["index"]) < len(self.block_ids):
                path = f"block:{self.block_ids[int(block['index'])]}{block['rest']}"
            self.add(path, message)

    @property
    def problems(self) -> Sequence[tuple[str, str]]:
        return tuple(self._problems)

    def show(self) -> None:
        """Write every problem into its slot (the general slot when none fits)."""
        placed: dict[str, list[str]] = {}
        for path, message in self._problems:
            fitting = [slot for slot in self._slots if slot and _under(slot, path)]
            slot = max(fitting, key=len) if fitting else GENERAL
            text = _worded(path, slot, message)
            placed.setdefault(slot, []).append(text)
        for slot, messages in placed.items():
            target = self._slots.get(slot)
            if target is None:
                continue
            with target.container():
                for message in messages:
                    st.error(message, icon=":material/error:")
