"""Links to other pages of the app that still read well when the page is not there.

Pages are written by different people at different times: a link names a page file, and when
that file does not exist yet (or the router does not offer it to this user) the same words are
shown as plain text instead of a broken link.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st
from streamlit.errors import StreamlitAPIException

APP_DIR = Path(__file__).resolve().parents[1]
RUNS_PAGE = "pages/runs.py"
BUILDER_PAGE = "pages/builder.py"
SCHEDULES_PAGE = "pages/schedules.py"
CATALOG_PAGE = "pages/catalog.py"


def page_exists(page: str) -> bool:
    return (APP_DIR / page).is_file()


def link(
    page: str,
    label: str,
    icon: str | None = None,
    fallback: str | None = None,
    query_params: dict[str, str] | None = None,
) -> None:
    """A link to `page` (with `query_params` saying what it opens); `fallback` (or the label;
    nothing for "") as text when the page cannot be opened."""
    if page_exists(page):
        try:
            st.page_link(page, label=label, icon=icon, query_params=query_params)
        except StreamlitAPIException:  # the router does not offer this page (yet)
            pass
        else:
            return
    text = label if fallback is None else fallback
    if text:
        st.caption(text)
