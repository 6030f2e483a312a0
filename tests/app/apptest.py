"""Helpers the app's AppTest tests share."""

from __future__ import annotations

import re

from streamlit.testing.v1 import AppTest


def run(at: AppTest) -> AppTest:
    """One script run, failing on any exception the app raised."""
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def unescaped(text: object) -> str:
    """Markdown text as shown: Streamlit's backslash escapes removed."""
    return re.sub(r"\\(.)", r"\1", str(text))
