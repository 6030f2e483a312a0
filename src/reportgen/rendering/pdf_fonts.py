"""Font subsets in a PDF assembled from several: each source's subsets get tags of their own."""

from __future__ import annotations

import hashlib
import re

import pikepdf

_SUBSET_TAG = re.compile(r"^/([A-Z]{6})\+(.+)$")


def retag_fonts(pdf: pikepdf.Pdf, part: str) -> None:
    """Give `part`'s font subsets tags of their own.

    WeasyPrint derives a subset's six-letter tag from the font alone, so each part names its
    own subset of a font with the same tag (and Chromium tags every chart's ``AAAAAA``); one
    file must not (ISO 32000-1, 9.6.4). The new tag comes from the part's name and the old
    tag: the same input, the same bytes.
    """
    for obj in pdf.objects:
        if not isinstance(obj, pikepdf.Dictionary):
            continue
        for key in ("/BaseFont", "/FontName"):
            name = obj.get(key)
            found = _SUBSET_TAG.match(str(name)) if isinstance(name, pikepdf.Name) else None
            if found:
                digest = hashlib.sha256(f"{part}:{found[1]}".encode()).digest()
                tag = "".join(chr(ord("A") + byte % 26) for byte in digest[:6])
                obj[key] = pikepdf.Name(f"/{tag}+{found[2]}")
