"""Locale-aware formatting: measures, changes, dates and periods."""

from __future__ import annotations

import math
from datetime import date, datetime
from decimal import Decimal

import pytest
from babel.core import UnknownLocaleError

from reportgen.domain.catalog import MeasureFormat
from reportgen.rendering.formatting import (
    MINUS,
    MISSING,
    LocaleFormatter,
    format_change,
    format_date,
    format_measure,
    format_period,
)

NBSP = "\N{NO-BREAK SPACE}"
THIN = "\N{THIN SPACE}"


@pytest.mark.parametrize(
    ("value", "fmt", "locale", "expected"),
    [
        (1234567.891, MeasureFormat.CURRENCY, "en_US", "$1,234,567.89"),
        (Decimal("1234567.89"), MeasureFormat.CURRENCY, "de_DE", f"1.234.567,89{NBSP}$"),
        (1234567, MeasureFormat.INTEGER, "en_US", "1,234,567"),
        (1234567.4, MeasureFormat.INTEGER, "de_DE", "1.234.567"),
        (1234567, MeasureFormat.INTEGER, "hi_IN", "12,34,567"),
        (1234.5, MeasureFormat.NUMBER, "en_US", "1,234.5"),
        (1234.5, MeasureFormat.NUMBER, "de_DE", "1.234,5"),
        (3.14159, MeasureFormat.NUMBER, "en_US", "3.14"),
        (0.1244, MeasureFormat.PERCENT, "en_US", "12.4%"),
        (0.1244, MeasureFormat.PERCENT, "de_DE", f"12,4{NBSP}%"),
        (0.5, MeasureFormat.PERCENT, "en_US", "50.0%"),
    ],
)
def test_measures_read_as_the_locale_writes_them(
    value: float, fmt: MeasureFormat, locale: str, expected: str
) -> None:
    assert format_measure(value, fmt, locale=locale) == expected


@pytest.mark.parametrize(
    ("value", "locale", "currency", "expected"),
    [
        (1_234_567.8, "en_US", "USD", "$1.2M"),
        (12_345, "en_US", "USD", "$12.3K"),
        (1_234_567.8, "de_DE", "EUR", f"1,2{NBSP}Mio.{NBSP}€"),
        # German has no short form for thousands of a currency: the full amount, never the
        # float's every digit.
        (130_779.159999, "de_DE", "EUR", f"130.779,16{NBSP}€"),
    ],
)
def test_compact_currency(value: float, locale: str, currency: str, expected: str) -> None:
    assert (
        format_measure(
            value, MeasureFormat.CURRENCY, locale=locale, currency=currency, compact=True
        )
        == expected
    )


def test_compact_numbers() -> None:
    assert format_measure(1_234_567, MeasureFormat.INTEGER, locale="en_US", compact=True) == "1.2M"
    assert format_measure(2_500.0, MeasureFormat.NUMBER, locale="en_US", compact=True) == "2.5K"


@pytest.mark.parametrize("missing", [None, math.nan, math.inf])
@pytest.mark.parametrize("fmt", list(MeasureFormat))
def test_missing_values_read_as_a_dash(missing: float | None, fmt: MeasureFormat) -> None:
    assert format_measure(missing, fmt, locale="en_US") == MISSING == "–"


@pytest.mark.parametrize(
    ("value", "fmt", "expected"),
    [
        (1_200_000.0, MeasureFormat.CURRENCY, "+$1.2M"),
        (-300.0, MeasureFormat.CURRENCY, f"{MINUS}$300.00"),
        (0.015, MeasureFormat.PERCENT, f"+1.5{NBSP}pp"),
        (-0.02, MeasureFormat.PERCENT, f"{MINUS}2.0{NBSP}pp"),
        (0.001, MeasureFormat.CURRENCY, "$0.00"),
        (-0.2, MeasureFormat.INTEGER, "0"),
    ],
)
def test_signed_differences(value: float, fmt: MeasureFormat, expected: str) -> None:
    compact = abs(value) >= 10_000
    assert format_measure(value, fmt, locale="en_US", compact=compact, signed=True) == expected


@pytest.mark.parametrize(
    ("ratio", "locale", "expected"),
    [
        (0.1244, "en_US", "+12.4%"),
        (-0.03, "en_US", "\u22123.0%"),
        (0.0, "en_US", "0.0%"),
        (-0.00004, "en_US", "0.0%"),
        (2.5, "en_US", "+250.0%"),
        (0.1244, "de_DE", f"+12,4{NBSP}%"),
        (Decimal("-0.5"), "de_DE", f"\u221250,0{NBSP}%"),
        (None, "en_US", "–"),
    ],
)
def test_changes_carry_a_sign_and_a_real_minus(
    ratio: float | None, locale: str, expected: str
) -> None:
    assert format_change(ratio, locale=locale) == expected


def test_a_negative_change_never_uses_a_hyphen() -> None:
    assert "-" not in format_change(-0.124)


@pytest.mark.parametrize(
    ("day", "locale", "expected"),
    [
        (date(2026, 10, 31), "en_US", "Oct 31, 2026"),
        (date(2026, 10, 31), "de_DE", "31.10.2026"),
        (date(2026, 10, 31), "en_GB", "31 Oct 2026"),
        (datetime(2026, 10, 31, 23, 59), "en_US", "Oct 31, 2026"),
    ],
)
def test_dates(day: date, locale: str, expected: str) -> None:
    assert format_date(day, locale) == expected


@pytest.mark.parametrize(
    ("start", "end", "locale", "expected"),
    [
        (date(2026, 7, 1), date(2026, 10, 1), "en_US", "Q3 2026"),
        (date(2026, 7, 1), date(2026, 8, 1), "en_US", "Jul 2026"),
        (date(2026, 7, 1), date(2026, 8, 1), "de_DE", "Juli 2026"),
        (date(2026, 1, 1), date(2027, 1, 1), "en_US", "2026"),
        (date(2026, 1, 1), date(2026, 7, 1), "en_US", f"Jan{THIN}–{THIN}Jun 2026"),
        (date(2024, 1, 1), date(2026, 1, 1), "en_US", f"2024{THIN}–{THIN}2025"),
        (date(2026, 7, 1), date(2026, 9, 15), "en_US", f"Jul 1{THIN}–{THIN}Sep 14, 2026"),
        (date(2026, 7, 1), date(2026, 10, 1), "de_DE", "Q3 2026"),
        (date(2026, 7, 3), date(2026, 7, 4), "en_US", "Jul 3, 2026"),
        # Two months that are not a quarter read as months, not as "Q".
        (date(2026, 8, 1), date(2026, 10, 1), "en_US", f"Aug{THIN}–{THIN}Sep 2026"),
    ],
)
def test_periods_are_named_as_people_name_them(
    start: date, end: date, locale: str, expected: str
) -> None:
    assert format_period(start, end, locale) == expected


def test_day_ranges_follow_the_locale() -> None:
    british = format_period(date(2026, 7, 1), date(2026, 10, 2), "en_GB")
    american = format_period(date(2026, 7, 1), date(2026, 10, 2), "en_US")
    assert british.startswith("1 Jul")
    assert american.startswith("Jul 1")
    assert british != american


def test_an_empty_period_is_refused() -> None:
    with pytest.raises(ValueError, match="empty"):
        format_period(date(2026, 7, 1), date(2026, 7, 1), "en_US")


def test_the_formatter_goes_compact_only_for_large_magnitudes() -> None:
    usd = LocaleFormatter("en_US", "USD")
    assert usd.measure(9_999.5, MeasureFormat.CURRENCY) == "$9,999.50"
    assert usd.measure(10_000, MeasureFormat.CURRENCY) == "$10.0K"
    assert usd.measure(-2_500_000, MeasureFormat.CURRENCY, signed=True) == f"{MINUS}$2.5M"
    assert usd.change(0.5) == "+50.0%"
    assert usd.day(date(2026, 1, 2)) == "Jan 2, 2026"
    assert usd.period(date(2026, 4, 1), date(2026, 7, 1)) == "Q2 2026"


def test_the_formatter_is_deterministic_and_locale_bound() -> None:
    german = LocaleFormatter("de_DE", "EUR")
    first = german.measure(1234.5, MeasureFormat.NUMBER)
    assert first == german.measure(1234.5, MeasureFormat.NUMBER) == "1.234,5"
    assert LocaleFormatter("en_US").measure(1234.5, MeasureFormat.NUMBER) == "1,234.5"


def test_an_unknown_locale_fails_early() -> None:
    with pytest.raises(UnknownLocaleError):
        LocaleFormatter("xx_XX")


@pytest.mark.parametrize(
    ("value", "fmt", "locale", "currency", "expected"),
    [
        (21_000_000, MeasureFormat.CURRENCY, "en_US", "USD", "$21.0M"),
        (21_600_000, MeasureFormat.CURRENCY, "en_US", "USD", "$21.6M"),
        (4_000_000, MeasureFormat.CURRENCY, "en_US", "USD", "$4.0M"),
        (14_000, MeasureFormat.INTEGER, "en_US", "USD", "14.0K"),
        (999_999, MeasureFormat.INTEGER, "en_US", "USD", "1.0M"),
        (20_000.0, MeasureFormat.NUMBER, "en_US", "USD", "20.0K"),
        (4_000_000, MeasureFormat.CURRENCY, "de_DE", "EUR", f"4,0{NBSP}Mio.{NBSP}€"),
    ],
)
def test_compact_forms_always_show_one_decimal(
    value: float, fmt: MeasureFormat, locale: str, currency: str, expected: str
) -> None:
    """ "$21.0M" beside "$21.6M", never "$21M": figures side by side read alike."""
    assert LocaleFormatter(locale, currency).measure(value, fmt) == expected


def test_a_signed_compact_form_keeps_its_decimal() -> None:
    usd = LocaleFormatter("en_US", "USD")
    assert usd.measure(-4_000_000, MeasureFormat.CURRENCY, signed=True) == f"{MINUS}$4.0M"


@pytest.mark.parametrize(
    ("value", "locale", "expected"),
    [
        (3.8, "en_US", "3.80"),
        (13.58, "en_US", "13.58"),
        (2.4, "en_US", "2.40"),
        (3, "en_US", "3.00"),
        (1234567.5, "hi_IN", "12,34,567.50"),
        (1234.5, "de_DE", "1.234,50"),
        (-2.456, "en_US", "-2.46"),
    ],
)
def test_fixed_decimals_give_a_table_column_two_decimals(
    value: float, locale: str, expected: str
) -> None:
    assert format_measure(value, MeasureFormat.NUMBER, locale=locale, fixed_decimals=True) == (
        expected
    )
    # Only numbers: other formats keep their own decimals.
    assert format_measure(12.5, MeasureFormat.PERCENT, locale="en_US", fixed_decimals=True) == (
        "1,250.0%"
    )
