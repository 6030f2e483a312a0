"""The standalone HTML export: one offline file whose charts are interactive.

The page carries everything it needs: the template's CSS inline, chart data as JSON and
plotly.js itself (once), so it opens from an e-mail attachment or a file share with no network.
"""

from __future__ import annotations

from functools import cache

from reportgen.errors import InternalError
from reportgen.rendering.document import Document
from reportgen.rendering.templates import TemplateLibrary


@cache
def plotly_bundle() -> str:
    """plotly.js from the installed plotly package (about 4.8 MB), read once per process."""
    from plotly.offline import get_plotlyjs  # noqa: PLC0415 - plotly is slow to import

    bundle: str = get_plotlyjs()
    if "</script" in bundle.lower():  # would end the inline <script> early
        raise InternalError("this plotly.js bundle cannot be inlined: it contains '</script'")
    return bundle


def render_standalone_html(document: Document, library: TemplateLibrary) -> str:
    """The document as a self-contained HTML page with interactive plotly charts."""
    return library.render_html(document, interactive=True, plotly_js=plotly_bundle())
