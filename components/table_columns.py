"""Column settings the app's tables share, so headers and values read whole instead of clipped.

Streamlit sizes a column to its header and first values and then clips what is longer: a time
with its zone, an error sentence, a description. Each kind of column gets one width here, and
times say on whose clock they are.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from components.home_times import viewer_timezone


def moment_column(about: str | None = None) -> Any:
    """A time with its zone (``2026-11-10 13:00 CET (Europe/Paris)``); by default on the
    viewer's clock."""
    return st.column_config.TextColumn(
        width="medium", help=about or f"On your clock ({viewer_timezone()})"
    )


def prose_column(about: str | None = None) -> Any:
    """A sentence or more: an error, a description, details."""
    return st.column_config.TextColumn(width="large", help=about)


def name_column(about: str | None = None) -> Any:
    """A name people gave (a schedule, a report, an address)."""
    return st.column_config.TextColumn(width="medium", help=about)


def count_column(about: str | None = None) -> Any:
    """A whole number with thousands separators."""
    return st.column_config.NumberColumn(format="localized", help=about)


def short_id_column(about: str = "The first 8 characters of the id") -> Any:
    """An id's first characters, for telling rows apart."""
    return st.column_config.TextColumn(width="small", help=about)
