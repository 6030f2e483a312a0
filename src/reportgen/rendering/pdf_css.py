"""A report's stylesheets parsed once per process, not once per layout.

WeasyPrint parses every ``<style>`` element of every document it lays out: tinycss2 tokenises
the text, each declaration is validated and each selector compiled. A report's print CSS is
the same from one layout to the next (its template's files, inlined), and a render lays out
two or three documents (`reportgen.rendering.pdf_parts`): parsing was about a tenth of a
render's CPU time.

`install` makes WeasyPrint's stylesheet finder (``weasyprint.css.find_stylesheets``, which
builds each ``<style>`` element's stylesheet through the name ``CSS`` of its own module) keep
the parsed stylesheet by its text, base URL and media type. Only self-contained text is kept:
a stylesheet with ``@import``, ``@font-face``, ``@counter-style``, ``@color-profile`` or
``@layer`` changes the document's shared state as it is parsed, so it is parsed every time.

A parsed stylesheet is read, never changed, by the documents it is applied to: its selectors
and declarations, and its ``@page`` rules. WeasyPrint gathers every stylesheet's ``@page``
rules in one list per document, which each stylesheet refers to; a kept stylesheet has a list
of its own, and adds its rules to the document's each time it is used, so the document's list
is the one parsing would have made.
tests/rendering/test_pdf_css.py checks that the second layout parses nothing and that the
file has the same bytes with and without the cache.
"""

from __future__ import annotations

import threading
from typing import Any

import weasyprint.css
from cachetools import LRUCache

KEPT = 64
"""Parsed stylesheets kept per process (the least recently used goes first)."""

_STATEFUL = ("@import", "@font-face", "@counter-style", "@color-profile", "@layer", "@\\")
"""Text that changes a document's shared state when parsed (``@\\`` starts an escaped name)."""

_parse = weasyprint.css.CSS  # WeasyPrint's own class, as its finder uses it
_kept: LRUCache[tuple[str, str | None, str], Any] = LRUCache(maxsize=KEPT)
_lock = threading.Lock()
_counts = {"parsed": 0, "reused": 0}


def install() -> None:
    """Make WeasyPrint's stylesheet finder parse each stylesheet text once per process."""
    weasyprint.css.CSS = _parsed_once


def counts() -> dict[str, int]:
    """Stylesheets parsed and reused from the cache so far, in this process."""
    with _lock:
        return dict(_counts)


def clear() -> None:
    with _lock:
        _kept.clear()


def _parsed_once(*args: Any, **kwargs: Any) -> Any:
    """``weasyprint.CSS(...)``, kept by text when it is a self-contained ``<style>`` text."""
    text = kwargs.get("string")
    if args or not isinstance(text, str) or kwargs.get("layer") or _stateful(text):
        return _parse(*args, **kwargs)
    key = (text, kwargs.get("base_url"), kwargs.get("media_type", "print"))
    with _lock:
        sheet = _kept.get(key)
        _counts["reused" if sheet is not None else "parsed"] += 1
    if sheet is None:
        # Its own lists for what parsing adds: the document's are not the next document's.
        sheet = _parse(**{**kwargs, "page_rules": [], "layers": []})
        with _lock:
            _kept[key] = sheet
    document_rules = kwargs.get("page_rules")
    if document_rules is not None:
        document_rules.extend(sheet.page_rules)  # where parsing would have put them
    return sheet


def _stateful(text: str) -> bool:
    lowered = text.lower()
    return any(rule in lowered for rule in _STATEFUL)
