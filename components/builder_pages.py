"""A PDF's pages as PNG images, for the builder's print preview.

The print preview shows pictures of the PDF's pages rather than the PDF itself: ``st.pdf``
needs the ``streamlit-pdf`` package, ``st.html`` strips iframes and embeds, and Chromium will
not run its PDF viewer inside the sandboxed iframes of ``components.html`` (nor at all when
headless). Images show the same pages in every browser, narrow ones included, and each carries
an alternative text. poppler's ``pdftoppm`` (installed by ``make run``) draws them, and each
gets a thin grey frame: a white page on the app's white background has no edge otherwise.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
from pathlib import Path

from PIL import Image, ImageOps

from reportgen.errors import ConfigurationError

PAGE_DPI = 90
"""A4 at 90 dpi is 744 px wide: sharp in the preview column, small to send."""
TIMEOUT_S = 60
FRAME = "#aab4c0"
"""The page's edge: 2.4:1 against white, like a sheet of paper on a white desk."""


def pdf_page_images(pdf: bytes, *, dpi: int = PAGE_DPI) -> tuple[bytes, ...]:
    """Every page of `pdf` as PNG bytes, in order."""
    binary = shutil.which("pdftoppm")
    if binary is None:
        raise ConfigurationError(
            "the print preview needs pdftoppm (Debian package poppler-utils, which make run "
            "installs); the PDF download works without it"
        )
    with tempfile.TemporaryDirectory(prefix="reportgen-pages-") as folder:
        try:
            subprocess.run(  # noqa: S603 - a fixed program, the PDF comes in on stdin
                [binary, "-png", "-r", str(dpi), "-", str(Path(folder) / "page")],
                input=pdf,
                check=True,
                capture_output=True,
                timeout=TIMEOUT_S,
            )
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
            raise ConfigurationError(f"pdftoppm could not draw the PDF's pages: {exc}") from exc
        pages = sorted(
            Path(folder).glob("page-*.png"), key=lambda path: int(path.stem.rsplit("-", 1)[1])
        )
        return tuple(framed(path.read_bytes()) for path in pages)


def framed(png: bytes) -> bytes:
    """The page image with a one-pixel frame around it."""
    with Image.open(io.BytesIO(png)) as page:
        out = io.BytesIO()
        ImageOps.expand(page.convert("RGB"), border=1, fill=FRAME).save(out, format="PNG")
    return out.getvalue()
