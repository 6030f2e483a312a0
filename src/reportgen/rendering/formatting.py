"""Locale-aware formatting of every number, date and period a report shows, with Babel.

One module, so a figure reads the same in a KPI tile, a sentence, a table and the lineage
appendix. Everything is deterministic: the output depends only on the arguments and the
installed Babel (CLDR) version, never on the process locale or the clock.

`LocaleFormatter` binds a locale and a currency and implements the fact engine's
`FactFormatter` protocol (`reportgen.domain.facts`).
"""

from __future__ import annotations

import math
import re
import unicodedata
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import cache

from babel import Locale
from babel.dates import format_date as babel_format_date
from babel.dates import format_interval, format_skeleton
from babel.numbers import (
    format_compact_currency,
    format_compact_decimal,
    format_currency,
    format_decimal,
    format_percent,
    get_decimal_symbol,
    parse_pattern,
)

from reportgen.domain.catalog import MeasureFormat

MISSING = "–"
"""What a missing value reads as (an en dash)."""

MINUS = "\N{MINUS SIGN}"
COMPACT_FROM = 10_000
"""`LocaleFormatter` shows magnitudes from here on compactly ("$12.3K", "1.2M")."""

Number = int | float | Decimal


def _as_float(value: Number | None) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


@cache
def _percent_pattern(locale: str) -> str:
    """The locale's percent pattern with exactly one decimal ("#,##0 %" -> "#,##0.0 %")."""
    pattern = Locale.parse(locale).percent_formats[None].pattern.split(";")[0]
    return re.sub(r"0(?=[^0#]*$)", "0.0", pattern, count=1)


def _compacts(value: float, locale: str, *, currency: bool) -> bool:
    """Whether the locale abbreviates this magnitude (German has no short form for thousands
    of a currency, and Babel then prints every digit of the float)."""
    data = Locale.parse(locale)
    patterns = (data.compact_currency_formats if currency else data.compact_decimal_formats)[
        "short"
    ]["other"]
    fitting = [int(m) for m in patterns if int(m) <= abs(value)]
    return bool(fitting) and parse_pattern(patterns[str(max(fitting))]).pattern != "0"


@cache
def _fixed_pattern(locale: str, decimals: int) -> str:
    """The locale's decimal pattern with exactly `decimals` decimals ("#,##0.###" -> "#,##0.00"),
    keeping its grouping."""
    pattern: str = Locale.parse(locale).decimal_formats[None].pattern.split(";")[0]
    integer = pattern.split(".", maxsplit=1)[0]
    return integer + ("." + "0" * decimals if decimals else "")


_LAST_DIGIT = re.compile(r"(\d)(?!.*\d)")


def _one_decimal(compact: str, locale: str) -> str:
    """A compact form with its decimal even when it is zero: "$21M" -> "$21.0M", "4 Mio." ->
    "4,0 Mio.", so figures side by side read alike (Babel drops a trailing zero)."""
    decimal_symbol = get_decimal_symbol(locale)
    if re.search(rf"\d{re.escape(decimal_symbol)}\d", compact):
        return compact

    def with_zero(match: re.Match[str]) -> str:
        digit = match.group(1)
        zero = chr(ord(digit) - unicodedata.digit(digit))
        return digit + decimal_symbol + zero

    return _LAST_DIGIT.sub(with_zero, compact, count=1)


def _percent(value: float, locale: str) -> str:
    return format_percent(value, format=_percent_pattern(locale), locale=locale)


def _signed(magnitude: str, value: float) -> str:
    """`magnitude` with the sign of `value`; none when it reads as zero ("0.0%", not "+0.0%")."""
    if not any(ch.isdigit() and unicodedata.digit(ch, 0) for ch in magnitude):
        return magnitude
    return ("+" if value > 0 else MINUS) + magnitude


def format_measure(
    value: Number | None,
    fmt: MeasureFormat,
    *,
    locale: str,
    currency: str = "USD",
    compact: bool = False,
    signed: bool = False,
    fixed_decimals: bool = False,
) -> str:
    """A measure's value as people read it in `locale`; None, NaN and infinities read "–".

    Currency carries its symbol, integers thousands separators, percent (a fraction: 0.124)
    one decimal, other numbers up to two decimals (exactly two with `fixed_decimals`, for a
    table column). `compact` gives short forms with one decimal ("$1.2M", "$4.0M", "1,2 Mio.").
    `signed` formats a difference: always a sign ("+", or a real minus "−"), and a
    difference of percentages is in percentage points ("+1.5 pp").
    """
    number = _as_float(value)
    if number is None:
        return MISSING
    if signed:
        magnitude = abs(number)
        if fmt is MeasureFormat.PERCENT:
            points = format_decimal(magnitude * 100, format="#,##0.0", locale=locale)
            return _signed(f"{points}\N{NO-BREAK SPACE}pp", number)
        text = format_measure(
            magnitude,
            fmt,
            locale=locale,
            currency=currency,
            compact=compact,
            fixed_decimals=fixed_decimals,
        )
        return _signed(text, number)
    match fmt:
        case MeasureFormat.PERCENT:
            return _percent(number, locale)
        case MeasureFormat.CURRENCY:
            if compact and _compacts(number, locale, currency=True):
                text = format_compact_currency(number, currency, locale=locale, fraction_digits=1)
                return _one_decimal(text, locale)
            return format_currency(number, currency, locale=locale)
        case MeasureFormat.INTEGER:
            if compact and _compacts(number, locale, currency=False):
                text = format_compact_decimal(round(number), locale=locale, fraction_digits=1)
                return _one_decimal(text, locale)
            return format_decimal(round(number), locale=locale)
        case MeasureFormat.NUMBER:
            if compact and _compacts(number, locale, currency=False):
                text = format_compact_decimal(number, locale=locale, fraction_digits=1)
                return _one_decimal(text, locale)
            if fixed_decimals:
                return format_decimal(number, format=_fixed_pattern(locale, 2), locale=locale)
            # The locale's own pattern keeps its grouping (12,34,567.5 in hi_IN).
            return format_decimal(round(number, 2), locale=locale)


def format_change(ratio: Number | None, *, locale: str = "en_US") -> str:
    """A relative change: 0.124 -> "+12.4%", -0.03 -> "−3.0%" (a real minus); None -> "–".

    A change that rounds to zero has no sign ("0.0%").
    """
    number = _as_float(ratio)
    if number is None:
        return MISSING
    return _signed(_percent(abs(number), locale), number)


def format_date(day: date, locale: str) -> str:
    """A day in the locale's medium form: "Oct 31, 2026", "31.10.2026"."""
    if isinstance(day, datetime):
        day = day.date()
    return babel_format_date(day, format="medium", locale=locale)


def _months_between(start: date, end: date) -> int:
    return (end.year - start.year) * 12 + end.month - start.month


def format_period(start: date, end_exclusive: date, locale: str) -> str:
    """A half-open range of days, named the way people name periods.

    A whole year reads "2026", a whole quarter "Q3 2026", a whole month "Jul 2026", several
    whole years, quarters or months "Jan – Jun 2026", a single day as a date, anything else
    as an interval of days ("Jul 1 – Sep 30, 2026"; "1 Jul – 30 Sept 2026" in en_GB).
    """
    if end_exclusive <= start:
        raise ValueError(f"the period {start} to {end_exclusive} is empty")
    last = end_exclusive - timedelta(days=1)
    if start == last:
        return format_date(start, locale)
    if start.day == 1 and end_exclusive.day == 1:
        months = _months_between(start, end_exclusive)
        if start.month == 1 and months % 12 == 0:
            if months == 12:
                return format_skeleton("y", start, locale=locale)
            return format_interval(start, last, "y", locale=locale)
        if start.month % 3 == 1 and months == 3:
            return format_skeleton("yQQQ", start, locale=locale)
        if months == 1:
            return format_skeleton("yMMM", start, locale=locale)
        return format_interval(start, last, "yMMM", locale=locale)
    return format_interval(start, last, "yMMMd", locale=locale)


class LocaleFormatter:
    """Formats facts for one report: its locale and currency, compact for large magnitudes."""

    def __init__(self, locale: str, currency: str = "USD") -> None:
        Locale.parse(locale)  # fail early on a locale Babel does not know
        self.locale = locale
        self.currency = currency

    def measure(self, value: Number | None, fmt: MeasureFormat, *, signed: bool = False) -> str:
        number = _as_float(value)
        compact = number is not None and abs(number) >= COMPACT_FROM
        return format_measure(
            value, fmt, locale=self.locale, currency=self.currency, compact=compact, signed=signed
        )

    def change(self, ratio: Number | None) -> str:
        return format_change(ratio, locale=self.locale)

    def day(self, day: date) -> str:
        return format_date(day, self.locale)

    def period(self, start: date, end_exclusive: date) -> str:
        return format_period(start, end_exclusive, self.locale)
