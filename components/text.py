"""Text for Markdown elements: user-supplied strings shown literally, counts with their noun."""

from __future__ import annotations

_MARKDOWN_SPECIALS = frozenset("\\`*_{}[]<>()#+-.!|:$~")


def plain(text: str) -> str:
    """`text` escaped so Markdown shows it as typed instead of formatting it."""
    return "".join(f"\\{char}" if char in _MARKDOWN_SPECIALS else char for char in text)


def counted(count: int, noun: str, plural: str | None = None) -> str:
    """``1 dataset``, ``12,345 datasets``."""
    return f"{count:,} {noun if count == 1 else plural or noun + 's'}"
