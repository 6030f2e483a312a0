"""Full-data exports of a report's tables: CSV for tools, XLSX for people.

Both take `ExportTable`s (every row, not the capped view the PDF shows) and return bytes that
depend only on their input, so a re-render of unchanged data gives identical files.

Spreadsheets execute what looks like a formula. CSV cells that begin with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return get a leading ``'`` (OWASP's advice); real numbers, negative
ones included, are written as numbers and never altered. XLSX cells are typed, so text is always
written as a string cell; text that looks like a formula also gets Excel's quote-prefix style, so
it stays text even when someone edits the cell.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Literal

import babel.numbers
import pandas as pd
import xlsxwriter  # type: ignore[import-untyped]  # xlsxwriter ships no type information

from reportgen.errors import InternalError, InvalidInput, QueryTooLarge

ColumnKind = Literal[
    "text", "integer", "number", "currency", "percent", "date", "datetime", "boolean"
]

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
LINEAGE_SHEET = "Lineage"
XLSX_MAX_ROWS = 1_048_576  # the header takes one of them
XLSX_MAX_COLUMNS = 16_384
XLSX_MAX_STRING = 32_767
_SHEET_NAME_MAX = 31  # UTF-16 code units, as Excel counts them
_SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\\x00-\x1f\x7f]+")
_RESERVED_SHEET_NAMES = frozenset({"history", LINEAGE_SHEET.lower()})  # Excel reserves "History"
_WIDTH_SAMPLE_ROWS = 1_000
_MIN_WIDTH, _MAX_WIDTH = 6, 60


@dataclass(frozen=True)
class ExportColumn:
    """One exported column: the frame's column `name`, its header `label`, its value `kind`.

    Percent values are fractions (0.125 is 12.5%), as the catalog's percent measures return them.
    """

    name: str
    label: str
    kind: ColumnKind


@dataclass(frozen=True, eq=False)
class ExportTable:
    """A whole table to export: `name` for files, `title` for the sheet, the full `frame`."""

    name: str
    title: str
    columns: tuple[ExportColumn, ...]
    frame: pd.DataFrame

    def __post_init__(self) -> None:
        problems = []
        if not self.columns:
            problems.append(f"export table {self.name!r} has no columns")
        names = [column.name for column in self.columns]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            problems.append(f"export table {self.name!r} repeats columns {duplicates}")
        missing = [name for name in names if name not in self.frame.columns]
        if missing:
            problems.append(f"export table {self.name!r} has no data for columns {missing}")
        if problems:
            raise InternalError("; ".join(problems))

    def column_values(self, column: ExportColumn) -> list[Any]:
        return self.frame[column.name].tolist()

    def rows(self) -> Iterator[tuple[Any, ...]]:
        return zip(*(self.column_values(column) for column in self.columns), strict=True)


# --- values shared by both formats -------------------------------------------------------------


def _is_missing(value: object) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    return isinstance(value, Decimal) and value.is_nan()


def _plain_datetime(value: datetime) -> datetime:
    """A naive datetime: aware values are converted to UTC; pandas' nanoseconds are dropped."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return datetime(
        value.year,
        value.month,
        value.day,
        value.hour,
        value.minute,
        value.second,
        value.microsecond,
    )


def looks_like_formula(text: str) -> bool:
    return text.startswith(FORMULA_TRIGGERS)


def neutralise(text: str) -> str:
    """Text a spreadsheet will not run: a leading ``'`` before a formula trigger."""
    return f"'{text}" if looks_like_formula(text) else text


# --- CSV ---------------------------------------------------------------------------------------


def _csv_number(value: int | float | Decimal, kind: ColumnKind) -> str:
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, float):
        if kind == "integer" and value.is_integer():
            return str(int(value))
        return repr(value)  # the shortest text that reads back as the same float
    return str(value)


def _csv_cell(value: object, kind: ColumnKind) -> str:
    if _is_missing(value):
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float | Decimal):
        return _csv_number(value, kind)
    if isinstance(value, datetime):
        plain = _plain_datetime(value)
        return plain.date().isoformat() if kind == "date" else plain.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return neutralise(str(value))


def to_csv(table: ExportTable, *, bom: bool = True) -> bytes:
    """The table as RFC 4180 CSV: UTF-8, CRLF line ends, a header row of the column labels.

    The UTF-8 byte order mark is on by default because Excel, the tool most recipients open a
    CSV with, reads a CSV without it in the legacy Windows code page and garbles every accent and
    currency sign; Python (``utf-8-sig``), pandas, LibreOffice and Google Sheets all accept it.
    Numbers are written unformatted (no thousands separators, percent as a fraction), dates as
    ISO 8601, booleans as TRUE/FALSE, missing values as empty cells.
    """
    out = io.StringIO(newline="")
    writer = csv.writer(out, dialect="excel", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow([neutralise(column.label) for column in table.columns])
    kinds = [column.kind for column in table.columns]
    for row in table.rows():
        writer.writerow([_csv_cell(value, kind) for value, kind in zip(row, kinds, strict=True)])
    return out.getvalue().encode("utf-8-sig" if bom else "utf-8")


# --- XLSX --------------------------------------------------------------------------------------


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _truncate_utf16(text: str, limit: int) -> str:
    text = text[:limit]  # a character is at least one UTF-16 unit
    while _utf16_len(text) > limit:
        text = text[:-1]
    return text


def sheet_names(titles: Sequence[str]) -> list[str]:
    """Excel-safe, case-insensitively unique sheet names for these titles, in order.

    Forbidden characters (``[]:*?/\\`` and control characters) become spaces, names are cut to 31
    characters, never start or end with an apostrophe, and never take "History" (reserved by
    Excel) or "Lineage" (ours); a clash gets " (2)", " (3)"... An empty title becomes "Table N".
    """
    taken: set[str] = set(_RESERVED_SHEET_NAMES)
    names = []
    for position, title in enumerate(titles, start=1):
        base = " ".join(_SHEET_NAME_FORBIDDEN.sub(" ", title).split()).strip("'").strip()
        base = _truncate_utf16(base, _SHEET_NAME_MAX).rstrip("' ") or f"Table {position}"
        name, counter = base, 1
        while name.lower() in taken:
            counter += 1
            suffix = f" ({counter})"
            name = _truncate_utf16(base, _SHEET_NAME_MAX - len(suffix)).rstrip("' ") + suffix
        taken.add(name.lower())
        names.append(name)
    return names


def _currency_format(currency: str, locale: str) -> tuple[str, int]:
    """An Excel number format showing `currency`'s symbol, and the symbol's display width."""
    if not re.fullmatch(r"[A-Z]{3}", currency) or not babel.numbers.is_currency(currency):
        raise InvalidInput(f"currency {currency!r} is not an ISO 4217 code such as USD or EUR")
    symbol = babel.numbers.get_currency_symbol(currency, locale=locale)
    if symbol[-1].isalpha():  # "CHF 1,234.00", not "CHF1,234.00"
        symbol += " "
    digits = babel.numbers.get_currency_precision(currency)
    decimals = "." + "0" * digits if digits else ""
    quoted = symbol.replace('"', "")
    return f'"{quoted}"#,##0{decimals};-"{quoted}"#,##0{decimals}', len(symbol)


def _display_width(value: object, kind: ColumnKind, symbol_width: int) -> int:
    if _is_missing(value):
        return 0
    if isinstance(value, bool):
        return 5
    if isinstance(value, int | float | Decimal):
        number = float(value)
        if not math.isfinite(number):
            return 7
        match kind:
            case "percent":
                return len(f"{number * 100:,.1f}%")
            case "integer":
                return len(f"{number:,.0f}")
            case "currency":
                return len(f"{number:,.2f}") + symbol_width
            case _:
                return len(f"{number:,.2f}")
    if isinstance(value, datetime):
        return 10 if kind == "date" else 19
    if isinstance(value, date):
        return 10
    return max((len(line) for line in str(value).splitlines()), default=0)


def _column_width(label: str, values: Iterable[object], kind: ColumnKind, symbol: int) -> int:
    widest = len(label) + 3  # room for the autofilter button
    for value in values:
        widest = max(widest, _display_width(value, kind, symbol) + 2)
    return min(max(widest, _MIN_WIDTH), _MAX_WIDTH)


class _XlsxWriter:
    """One workbook being written; holds the formats so each is registered once."""

    def __init__(self, book: Any, *, currency: str, locale: str) -> None:
        self.book = book
        currency_format, self.symbol_width = _currency_format(currency, locale)
        self.header = book.add_format({"bold": True, "bottom": 1, "bg_color": "#E8EEF4"})
        self.text_quoted = book.add_format({"quote_prefix": True})
        self.wrapped = book.add_format({"text_wrap": True, "valign": "top"})
        self.label = book.add_format({"bold": True})
        self.kind_formats: dict[ColumnKind, Any] = {
            "integer": book.add_format({"num_format": "#,##0"}),
            "number": book.add_format({"num_format": "#,##0.00"}),
            "currency": book.add_format({"num_format": currency_format}),
            "percent": book.add_format({"num_format": "0.0%"}),
            "date": book.add_format({"num_format": "yyyy-mm-dd"}),
            "datetime": book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"}),
        }

    def write_text(self, sheet: Any, row: int, col: int, text: str, fmt: Any = None) -> None:
        text = text[:XLSX_MAX_STRING]
        sheet.write_string(row, col, text, self.text_quoted if looks_like_formula(text) else fmt)

    def write_cell(self, sheet: Any, row: int, col: int, value: object, kind: ColumnKind) -> None:
        if _is_missing(value):
            return
        fmt = self.kind_formats.get(kind)
        if isinstance(value, bool):
            sheet.write_boolean(row, col, value)
        elif isinstance(value, int | float | Decimal):
            sheet.write_number(row, col, float(value), fmt)
        elif isinstance(value, datetime):
            plain = _plain_datetime(value)
            if kind == "date":
                sheet.write_datetime(row, col, plain.date(), fmt)
            else:
                sheet.write_datetime(row, col, plain, self.kind_formats["datetime"])
        elif isinstance(value, date):
            sheet.write_datetime(row, col, value, self.kind_formats["date"])
        else:
            self.write_text(sheet, row, col, str(value))

    def add_table(self, sheet_name: str, table: ExportTable) -> None:
        rows, columns = len(table.frame), len(table.columns)
        if rows + 1 > XLSX_MAX_ROWS or columns > XLSX_MAX_COLUMNS:
            raise QueryTooLarge(
                f"the table {table.title!r} has {rows:,} rows and {columns:,} columns; an XLSX"
                f" sheet holds {XLSX_MAX_ROWS - 1:,} rows and {XLSX_MAX_COLUMNS:,} columns."
                " Export it as CSV, or narrow the filters."
            )
        sheet = self.book.add_worksheet(sheet_name)
        for col, column in enumerate(table.columns):
            values = table.column_values(column)
            self.write_text(sheet, 0, col, column.label, self.header)
            for row, value in enumerate(values, start=1):
                self.write_cell(sheet, row, col, value, column.kind)
            sample = values[:_WIDTH_SAMPLE_ROWS]
            width = _column_width(column.label, sample, column.kind, self.symbol_width)
            sheet.set_column(col, col, width)
        sheet.freeze_panes(1, 0)
        sheet.autofilter(0, 0, rows, columns - 1)

    def add_lineage(self, lineage: list[dict[str, str]], *, title: str, created: datetime) -> None:
        sheet = self.book.add_worksheet(LINEAGE_SHEET)
        self.write_text(sheet, 0, 0, "Report", self.label)
        self.write_text(sheet, 0, 1, title)
        self.write_text(sheet, 1, 0, "Generated at (UTC)", self.label)
        sheet.write_datetime(1, 1, created, self.kind_formats["datetime"])
        keys = _lineage_keys(lineage)
        header_row = 3
        for col, key in enumerate(keys):
            label = _LINEAGE_LABELS.get(key, key.replace("_", " ").capitalize())
            self.write_text(sheet, header_row, col, label, self.header)
            values = [entry.get(key, "") for entry in lineage]
            for offset, text in enumerate(values, start=1):
                if not text:
                    continue
                if key == "rows" and text.isdigit():
                    sheet.write_number(
                        header_row + offset, col, int(text), self.kind_formats["integer"]
                    )
                elif key in _WRAPPED_LINEAGE_KEYS:
                    self.write_text(sheet, header_row + offset, col, text, self.wrapped)
                else:
                    self.write_text(sheet, header_row + offset, col, text)
            width = 80 if key in _WRAPPED_LINEAGE_KEYS else _column_width(label, values, "text", 0)
            sheet.set_column(col, col, max(width, _LINEAGE_MIN_WIDTHS.get(col, _MIN_WIDTH)))
        if keys:
            sheet.freeze_panes(header_row + 1, 0)
            sheet.autofilter(header_row, 0, header_row + len(lineage), len(keys) - 1)


# QueryEntry's fields, in reading order; other keys follow in the order they first appear.
_LINEAGE_LABELS = {
    "id": "Query",
    "dataset": "Dataset",
    "dataset_title": "Dataset title",
    "dataset_version": "Dataset version",
    "sql": "SQL",
    "params": "Parameters",
    "query_hash": "Query hash",
    "rows": "Rows",
    "result_sha256": "Result SHA-256",
    "freshness": "Data freshness",
}
_WRAPPED_LINEAGE_KEYS = frozenset({"sql", "params"})
_LINEAGE_MIN_WIDTHS = {0: 20, 1: 20}  # the "Report" and "Generated at" rows above the table


def _lineage_keys(lineage: list[dict[str, str]]) -> list[str]:
    present = {key for entry in lineage for key in entry}
    keys = [key for key in _LINEAGE_LABELS if key in present]
    for entry in lineage:
        keys.extend(key for key in entry if key not in keys)
    return keys


def to_xlsx(
    tables: list[ExportTable],
    *,
    lineage: list[dict[str, str]],
    title: str,
    created: datetime,
    currency: str = "USD",
    locale: str = "en_US",
) -> bytes:
    """A workbook with one sheet per table, then a "Lineage" sheet with one row per query.

    Cells are typed (numbers, dates, booleans, text), formatted by column kind (thousands
    separators, `currency`'s symbol, ``0.0%``, ISO dates), under a frozen, filterable header.
    Aware datetimes are converted to UTC (Excel has no time zones). `created` is the run's
    logical time: it stamps the document properties, and the zip entries carry Excel's fixed
    1980-01-01 stamp, so the same input gives the same bytes.
    """
    stamp = _plain_datetime(created)
    names = sheet_names([table.title or table.name for table in tables])
    out = io.BytesIO()
    book = xlsxwriter.Workbook(
        out,
        {
            "in_memory": True,  # no temp files; zip entries get the fixed 1980-01-01 stamp
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
            "nan_inf_to_errors": True,  # ±inf become #DIV/0! instead of an exception
        },
    )
    book.set_properties({"title": title, "author": "reportgen", "created": stamp})
    writer = _XlsxWriter(book, currency=currency, locale=locale)
    for name, table in zip(names, tables, strict=True):
        writer.add_table(name, table)
    writer.add_lineage(lineage, title=title, created=stamp)
    book.close()
    return out.getvalue()
