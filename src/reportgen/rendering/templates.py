"""Report templates: a sandboxed Jinja environment over the built-in and the user's folders.

A template is a folder holding ``template.html.j2`` (which extends ``base/layout.html.j2``) and
its ``style.css``. The user's folder (``REPORTGEN_TEMPLATES_DIR``) is searched first, so a folder
there with a built-in's name replaces it; ``builtin:NAME/template.html.j2`` always names the
built-in, so a replacement can still ``{% extends %}`` what it replaces.

Templates are written by people, not by us: they run in an immutable sandbox with
``StrictUndefined`` and autoescape, and every mistake comes back as a `TemplateInvalid` that names
the template file and line.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from unicodedata import east_asian_width

import jinja2
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup

from reportgen.errors import ConfigurationError, InvalidInput, NotFound
from reportgen.rendering.document import Document, FigureImage, TableView

TEMPLATE_FILE = "template.html.j2"
BASE_FOLDER = "base"
BUILTIN_PREFIX = "builtin"
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
# Anything outside this set is written as a CSS escape, so no value can end a CSS string or
# the <style> element it sits in.
_CSS_PLAIN = re.compile(r"[A-Za-z0-9 _.,:;!?()/+*#%@=\[\]{}|~^$-]")


# A long table is set as a listing: one monospaced line per row. WeasyPrint spends about
# 0.35 ms on every table cell whatever the CSS (2,000 rows x 6 columns: 4.4 s); a listing row
# is one cell (2,000 rows: about 1 s). The header still repeats on every page and rows still
# never split: each line is the single cell of its table row.
LISTING_MIN_ROWS = 400
LISTING_FONT_PT = 7.0
LISTING_ADVANCE_EM = 0.602  # DejaVu Sans Mono, regular and bold alike
LISTING_INSET_MM = 2.0  # the cell's horizontal padding, print.css `.rg-listing td`
PAGE_MARGINS_MM = 34.0  # left + right, print.css `@page`
PAGE_WIDTHS_MM = {"A4": (210.0, 297.0), "Letter": (215.9, 279.4)}
_WIDE = {"W", "F"}

Segment = tuple[str, str | None]  # text, and the cell style that colours it


@dataclass(frozen=True)
class Listing:
    """A table as monospaced lines: the header line, then each row as styled segments."""

    header: str
    rows: tuple[tuple[Segment, ...], ...]
    totals: tuple[Segment, ...] | None


class TemplateInvalid(InvalidInput):
    """A report template cannot be rendered; the message names the template file and line."""

    def __init__(self, message: str, *, template: str | None, line: int | None) -> None:
        self.template = template
        self.line = line
        where = f"{template}:{line or 1}: " if template else ""
        super().__init__(f"{where}{message}")


def default_templates_dir() -> Path:
    """The repository's ``report_templates/`` folder, found from this package upwards."""
    here = Path(__file__).resolve()
    for folder in (*here.parents, Path.cwd()):
        candidate = folder / "report_templates"
        if (candidate / BASE_FOLDER / "layout.html.j2").is_file():
            return candidate
    raise ConfigurationError(
        "the built-in report templates were not found next to the reportgen package; "
        "pass builtin_dir to TemplateLibrary (the folder that holds base/layout.html.j2)"
    )


class TemplateLibrary:
    """The report templates a deployment offers, rendered to HTML in a sandbox."""

    def __init__(
        self,
        builtin_dir: Path | None = None,
        user_dir: Path | None = None,
        *,
        listing_rows: int = LISTING_MIN_ROWS,
    ) -> None:
        self.listing_rows = listing_rows
        self.builtin_dir = (builtin_dir or default_templates_dir()).resolve()
        self.user_dir = user_dir.resolve() if user_dir is not None else None
        if self.user_dir is not None and not self.user_dir.is_dir():
            raise ConfigurationError(
                f"the templates folder {self.user_dir} does not exist; "
                "create it or unset REPORTGEN_TEMPLATES_DIR"
            )
        search = [self.builtin_dir] if self.user_dir is None else [self.user_dir, self.builtin_dir]
        self._search = tuple(search)
        loader = jinja2.ChoiceLoader(
            [
                jinja2.FileSystemLoader([str(path) for path in search]),
                jinja2.PrefixLoader(
                    {BUILTIN_PREFIX: jinja2.FileSystemLoader(str(self.builtin_dir))},
                    delimiter=":",
                ),
            ]
        )
        self.environment = ImmutableSandboxedEnvironment(
            loader=loader,
            undefined=jinja2.StrictUndefined,
            autoescape=True,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.environment.filters.update(
            css_string=css_string,
            data_uri=data_uri,
            script_json=script_json,
            w3c=w3c_date,
            when=human_date,
        )
        self.environment.globals.update(
            stylesheet=self._stylesheet,
            column_widths=column_widths,
            listing=self._listing,
        )

    @property
    def roots(self) -> list[Path]:
        """The folders a rendered template may read files from (for the PDF's URL fetcher)."""
        return list(self._search)

    def names(self) -> list[str]:
        """Every template a report can name, built-in and the user's, sorted."""
        found: set[str] = set()
        for root in self._search:
            for path in root.glob(f"*/{TEMPLATE_FILE}"):
                name = path.parent.name
                if name != BASE_FOLDER and _NAME.match(name):
                    found.add(name)
        return sorted(found)

    def folder(self, name: str) -> Path:
        """The folder a template is read from: the user's copy when there is one."""
        self._check_name(name)
        for root in self._search:
            if (root / name / TEMPLATE_FILE).is_file():
                return root / name
        raise NotFound(f"there is no report template {name!r}; choose one of {self.names()}")

    def render_html(
        self, document: Document, *, interactive: bool = False, plotly_js: str = ""
    ) -> str:
        """The document laid out by its template, as one HTML page.

        ``interactive`` draws charts with plotly.js from their JSON instead of static images;
        the caller passes plotly.js itself (``plotly_js``) so the page needs nothing online.
        """
        self.folder(document.template)  # a clear NotFound before Jinja's own message
        name = f"{document.template}/{TEMPLATE_FILE}"
        try:
            template = self.environment.get_template(name)
            return template.render(
                document=document,
                interactive=interactive,
                plotly_js=Markup(plotly_js),  # noqa: S704 - plotly's own bundle, never data
                fact_ids=frozenset(fact.id for fact in document.facts),
                query_ids=frozenset(query.id for query in document.queries),
                query_numbers={query.id: n for n, query in enumerate(document.queries, 1)},
            )
        except jinja2.TemplateSyntaxError as error:
            raise TemplateInvalid(
                error.message or "syntax error",
                template=error.name or error.filename or name,
                line=error.lineno,
            ) from error
        except jinja2.TemplateNotFound as error:
            template_name, line = self._where(error.__traceback__)
            raise TemplateInvalid(
                f"there is no template file {error.name!r}",
                template=template_name or name,
                line=line,
            ) from error
        except SecurityError as error:
            template_name, line = self._where(error.__traceback__)
            raise TemplateInvalid(
                f"the template reaches outside its sandbox: {error}",
                template=template_name or name,
                line=line,
            ) from error
        except jinja2.TemplateError as error:
            template_name, line = self._where(error.__traceback__)
            raise TemplateInvalid(
                str(error.message or error), template=template_name or name, line=line
            ) from error
        except (TypeError, ValueError, ArithmeticError, LookupError, AttributeError) as error:
            template_name, line = self._where(error.__traceback__)
            if template_name is None:
                raise  # not the template's fault
            raise TemplateInvalid(
                f"{type(error).__name__}: {error}", template=template_name, line=line
            ) from error

    def _listing(self, table: TableView, document: Document) -> Listing | None:
        return listing(table, document, min_rows=self.listing_rows)

    def _check_name(self, name: str) -> None:
        if not _NAME.match(name):
            raise InvalidInput(
                f"{name!r} is not a template name: use lower-case letters, digits, '_' and '-'"
            )

    def _stylesheet(self, name: str) -> Markup:
        """The text of a CSS file from the template folders, for a ``<style>`` element."""
        if not name.endswith(".css"):
            raise SecurityError(f"stylesheet() reads .css files only, not {name!r}")
        assert self.environment.loader is not None
        source, _, _ = self.environment.loader.get_source(self.environment, name)
        if "</style" in source.lower():
            raise SecurityError(f"the stylesheet {name!r} contains '</style'")
        return Markup(source)  # noqa: S704 - a template author's file, checked above

    def _where(self, traceback: TracebackType | None) -> tuple[str | None, int | None]:
        """The innermost template frame of a traceback, as (template name, line)."""
        found: tuple[str | None, int | None] = (None, None)
        for filename, line in _frames(traceback):
            path = Path(filename)
            for root in self._search:
                if path.is_relative_to(root):
                    found = (path.relative_to(root).as_posix(), line)
                    break
        return found


def _frames(traceback: TracebackType | None) -> Iterator[tuple[str, int]]:
    while traceback is not None:
        yield traceback.tb_frame.f_code.co_filename, traceback.tb_lineno
        traceback = traceback.tb_next


def css_string(value: object) -> Markup:
    """A value as a quoted CSS string, safe inside a ``<style>`` element."""
    text = str(value)
    escaped = "".join(char if _CSS_PLAIN.match(char) else f"\\{ord(char):x} " for char in text)
    return Markup(f'"{escaped}"')  # noqa: S704 - every unsafe character is escaped above


def data_uri(figure: FigureImage) -> str:
    """A chart image's URI: a ``data:`` URI, or for a chart still being drawn its
    ``reportgen-chart:`` URI, which only the PDF renderer resolves (interactive HTML draws
    every chart from its plotly JSON instead)."""
    if figure.pending is not None:
        return figure.pending.uri
    encoded = base64.b64encode(figure.image).decode("ascii")
    return f"data:{figure.mime};base64,{encoded}"


def script_json(value: str) -> Markup:
    """JSON text made safe inside ``<script type="application/json">``."""
    escaped = (
        value.replace("&", "\\u0026")
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )
    return Markup(escaped)  # noqa: S704 - no character left can close the script element


def w3c_date(moment: datetime) -> str:
    """The logical time in W3C form, UTC (PDF metadata and ``dcterms``)."""
    return _utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


def human_date(moment: datetime) -> str:
    """The logical time as a reader sees it: ``2026-11-02 06:00 UTC``."""
    return _utc(moment).strftime("%Y-%m-%d %H:%M UTC")


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def column_widths(table: TableView, sample: int = 200) -> list[float]:
    """Column widths in percent, from the header and the longest cells of the first rows.

    Explicit widths let the PDF use ``table-layout: fixed``, so WeasyPrint does not measure
    every cell before laying the table out.
    """
    if not table.columns:
        return []
    weights: list[float] = []
    rows = table.rows[:sample]
    for index, header in enumerate(table.columns):
        longest = max((len(row[index].text) for row in rows if index < len(row)), default=0)
        words = max((len(word) for word in header.split()), default=1)
        weight = max(longest, words, 4)
        weights.append(min(float(weight), 40.0))
    total = sum(weights)
    return [round(100.0 * weight / total, 2) for weight in weights]


def listing(
    table: TableView, document: Document, *, min_rows: int = LISTING_MIN_ROWS
) -> Listing | None:
    """The table as a listing when it is long, and its columns fit the page; otherwise None."""
    if len(table.rows) < min_rows or not table.columns:
        return None
    rows = [*table.rows, *([table.totals] if table.totals else [])]
    texts = [[" ".join(cell.text.split()) for cell in row] for row in rows]
    if any(len(row) != len(table.columns) for row in texts) or any(
        east_asian_width(char) in _WIDE for row in texts for text in row for char in text
    ):
        return None  # a ragged table, or characters wider than one monospaced column
    fitted = _fit(table, texts, _capacity(document))
    if fitted is None:
        return None
    widths, gap = fitted
    header = _segments([(column, None) for column in table.columns], widths, table.numeric, gap)
    body = tuple(
        _segments(
            [(text, cell.style) for text, cell in zip(line, row, strict=True)],
            widths,
            table.numeric,
            gap,
        )
        for line, row in zip(texts, rows, strict=True)
    )
    return Listing(
        header="".join(text for text, _ in header),
        rows=body[:-1] if table.totals else body,
        totals=body[-1] if table.totals else None,
    )


def _capacity(document: Document) -> int:
    portrait, landscape = PAGE_WIDTHS_MM[document.page_size]
    page = portrait if document.orientation == "portrait" else landscape
    usable = page - PAGE_MARGINS_MM - LISTING_INSET_MM
    advance_mm = LISTING_ADVANCE_EM * LISTING_FONT_PT * 25.4 / 72
    return int(usable / advance_mm) - 1  # one character to spare for rounding


def _fit(table: TableView, texts: list[list[str]], capacity: int) -> tuple[list[int], str] | None:
    """Column widths in characters and the gap between columns, or None if they cannot fit."""
    widths = [
        max(len(header), *(len(row[index]) for row in texts))
        for index, header in enumerate(table.columns)
    ]
    floor = [  # text columns may shrink to 8 characters (or their header's longest word)
        width if numeric else min(width, max(8, *(len(w) for w in header.split())))
        for width, numeric, header in zip(widths, table.numeric, table.columns, strict=True)
    ]
    gaps = len(widths) - 1
    while sum(widths) + 2 * gaps > capacity:
        shrinkable = [i for i, width in enumerate(widths) if width > floor[i]]
        if not shrinkable:
            return None
        widths[max(shrinkable, key=lambda i: widths[i])] -= 1
    gap = min(12, (capacity - sum(widths)) // gaps) if gaps else 0
    return widths, " " * gap


def _segments(
    cells: list[Segment], widths: list[int], numeric: tuple[bool, ...], gap: str
) -> tuple[Segment, ...]:
    """One line as runs of text; a styled cell's value is a run of its own, padding outside."""
    runs: list[Segment] = []
    pending = ""
    for index, (text, style) in enumerate(cells):
        width = widths[index]
        value = text if len(text) <= width else text[: width - 1] + "…"
        padding = " " * (width - len(value))
        pending += gap if index else ""
        if numeric[index]:
            pending += padding
        if style is None:
            pending += value
        else:
            if pending:
                runs.append((pending, None))
            runs.append((value, style))
            pending = ""
        if not numeric[index]:
            pending += padding
    if pending.rstrip():
        runs.append((pending.rstrip(), None))
    return tuple(runs)


__all__ = [
    "Listing",
    "TemplateInvalid",
    "TemplateLibrary",
    "default_templates_dir",
    "listing",
]
