"""`MeasureFacts`: ids, labels, units and formatting of the facts about one measure."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from reportgen.domain.catalog import MeasureFormat
from reportgen.domain.facts._model import (
    NOT_COMPARABLE,
    Fact,
    FactFormatter,
    FactSource,
    FactUnit,
)

_UNITS: dict[MeasureFormat, FactUnit] = {
    MeasureFormat.NUMBER: "number",
    MeasureFormat.INTEGER: "integer",
    MeasureFormat.CURRENCY: "currency",
    MeasureFormat.PERCENT: "percent",
}


def unit_of(fmt: MeasureFormat) -> FactUnit:
    return _UNITS[fmt]


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


@dataclass(frozen=True)
class MeasureFacts:
    """Makes the facts about one measure: ids, labels and formatting in one place."""

    name: str
    label: str
    format: MeasureFormat
    formatter: FactFormatter

    def fact(
        self,
        suffix: str,
        key: str,
        label: str,
        value: float | str | date | bool | None,
        source: FactSource,
        *,
        unit: FactUnit | None = None,
        signed: bool = False,
        formatted: str | None = None,
        derived_from: tuple[str, ...] = (),
        note: str = "",
    ) -> Fact:
        unit = unit or unit_of(self.format)
        if formatted is None:
            formatted = self._format(value, unit, signed=signed)
        if unit == "integer" and isinstance(value, float):
            value = round(value)
        return Fact(
            id=self.id(suffix),
            key=key,
            label=label,
            value=value,
            unit=unit,
            formatted=formatted,
            source=source,
            derived_from=derived_from,
            note=note,
        )

    def id(self, suffix: str) -> str:
        return f"{_slug(self.name)}-{suffix}"

    def _format(self, value: object, unit: str | None, *, signed: bool) -> str:
        if unit == "change":
            ratio = value if isinstance(value, float | int) else None
            return self.formatter.change(ratio) if ratio is not None else NOT_COMPARABLE
        if isinstance(value, bool | str):
            return str(value)
        if isinstance(value, date):
            return self.formatter.day(value)
        fmt = MeasureFormat(unit) if unit in set(MeasureFormat) else self.format
        return self.formatter.measure(
            value if isinstance(value, float | int) else None, fmt, signed=signed
        )
