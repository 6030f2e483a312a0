"""One-time notices for the Schedules and Runs pages, and button callbacks that never raise.

Callbacks run before the page script, outside its error boundary; `guarded` gives them one: a
UserError becomes a notice with its own sentence, anything else a notice with an incident id
while the log keeps the traceback. The page shows (and forgets) the notice on its next run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import streamlit as st

from components.session import new_incident_id
from reportgen.errors import UserError

log = logging.getLogger("reportgen.ui")

NOTICE = "_schedules_notice"
"""Session key of the pending notice: (kind, Markdown text, link or None); kind is success,
warning or error."""


@dataclass(frozen=True)
class NoticeLink:
    """A link drawn under a notice: to `page` (a page file the router offers), with
    `query_params` saying what that page opens."""

    page: str
    label: str
    icon: str
    query_params: dict[str, str] = field(default_factory=dict)


def notice(kind: str, message: str, key: str = NOTICE, *, link: NoticeLink | None = None) -> None:
    st.session_state[key] = (kind, message, link)


def show_notice(key: str = NOTICE) -> None:
    """Draw the pending notice once, with its link."""
    pending = st.session_state.pop(key, None)
    if not pending:
        return
    kind, message, link = pending
    if kind == "success":
        st.success(message, icon=":material/check_circle:")
    elif kind == "warning":
        st.warning(message, icon=":material/info:")
    else:
        st.error(message, icon=":material/error:")
    if link is not None:
        st.page_link(link.page, label=link.label, icon=link.icon, query_params=link.query_params)


def guarded(action: Callable[..., None], key: str = NOTICE) -> Callable[..., None]:
    """`action` as a button callback that never lets an error escape."""

    def callback(*args: Any, **kwargs: Any) -> None:
        try:
            action(*args, **kwargs)
        except UserError as exc:
            notice("warning", str(exc), key)
        except Exception:  # a callback's boundary: no traceback may reach the user
            incident = new_incident_id()
            log.exception("incident %s: %s failed", incident, action.__name__)
            notice("error", f"Something went wrong. Incident {incident}.", key)

    return callback
