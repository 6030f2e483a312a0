"""The live preview: a report's blocks drawn as the reader may see them.

Charts are the very plotly figures the PDF draws (Streamlit's theme is off, so colours match
the PDF), KPI tiles are metrics with their first comparison, narratives are the sentences the
PDF prints (as plain text: the PDF's links to the lineage appendix mean nothing here), tables
show the rows the PDF shows with the count of all rows the exports carry. Table cells stay
numbers (so columns sort) shown in the measure's format and the report's currency; totals are
written by the PDF's own formatter, so "$1,800,000.00" reads the same in both.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st
from markupsafe import Markup

from components.text import counted, plain
from reportgen.domain.catalog import Dataset, MeasureFormat
from reportgen.domain.spec import ReportSpec
from reportgen.rendering.formatting import format_measure
from reportgen.services.reports import PreviewBlock, ReportPreview, describe_filters

_NUMBER_FORMATS = {
    MeasureFormat.PERCENT: "percent",
    MeasureFormat.INTEGER: "localized",
    MeasureFormat.NUMBER: "localized",
}
_CURRENCY_FORMATS = {"USD": "dollar", "EUR": "euro", "JPY": "yen"}
"""The currencies Streamlit draws with their symbol; others are amounts named by their code."""


def number_column(label: str, fmt: MeasureFormat, currency: str, about: str | None) -> Any:
    """A table column of a measure: its format, and the report's currency on amounts."""
    if fmt is MeasureFormat.CURRENCY:
        if currency in _CURRENCY_FORMATS:
            return st.column_config.NumberColumn(
                label, help=about, format=_CURRENCY_FORMATS[currency]
            )
        return st.column_config.NumberColumn(
            f"{label} ({currency})", help=about, format="accounting"
        )
    return st.column_config.NumberColumn(
        label, help=about, format=_NUMBER_FORMATS.get(fmt, "localized")
    )


def _column_config(spec: ReportSpec, dataset: Dataset, frame: pd.DataFrame) -> dict[str, Any]:
    config: dict[str, Any] = {}
    for name in frame.columns:
        if (measure := dataset.measure(name)) is not None:
            config[name] = number_column(
                measure.label, measure.format, spec.layout.currency, measure.description or None
            )
        elif (dimension := dataset.dimension(name)) is not None:
            config[name] = st.column_config.Column(dimension.label)
        else:  # the time bucket, e.g. order_date__month
            config[name] = st.column_config.Column(
                name.replace("__", " by ").replace("_", " ").capitalize()
            )
    return config


def _total(spec: ReportSpec, fmt: MeasureFormat, value: object) -> str:
    """A total as the PDF's totals row writes it: the measure's format, the report's locale
    and currency."""
    number = None if value is None or pd.isna(value) else float(value)  # type: ignore[arg-type]
    return format_measure(
        number,
        fmt,
        locale=spec.layout.locale,
        currency=spec.layout.currency,
        fixed_decimals=True,
    )


def _kpis(block: PreviewBlock) -> None:
    st.subheader(getattr(block.block, "title", "Key figures"), anchor=False)
    with st.container(horizontal=True):
        for kpi in block.kpis:
            first = kpi.comparisons[0] if kpi.comparisons else None
            delta = None
            if first is not None and first.fact.available:
                # The facts write a true minus sign; st.metric reads the sign from "-".
                delta = f"{first.fact.formatted.replace('−', '-')} {first.label}"
            st.metric(
                kpi.label,
                kpi.value.formatted,
                delta=delta,
                delta_color="off"
                if first is None or first.comparison.value != "target"
                else "normal",
                help=kpi.value.note or None,
                border=True,
                width=200,
            )
    notes = [
        f"{kpi.label} {c.label}: {c.fact.formatted}"
        for kpi in block.kpis
        for c in kpi.comparisons[1:]
        if c.fact.available
    ]
    if notes:
        st.caption(" · ".join(plain(note) for note in notes))


def _plain_text(sentence: str) -> str:
    """A narrative sentence without its HTML (links to the PDF's lineage appendix)."""
    return sentence.striptags() if isinstance(sentence, Markup) else sentence


def _narrative(block: PreviewBlock) -> None:
    st.subheader(getattr(block.block, "title", "Summary"), anchor=False)
    if not block.sentences:
        st.caption("No sentences: the period has no data to describe.")
    st.markdown("\n".join(f"- {plain(_plain_text(sentence))}" for sentence in block.sentences))


def _chart(block: PreviewBlock, key: str) -> None:
    title = getattr(block.block, "title", "Chart")
    if block.figure is None or block.chart is None or block.chart.result.row_count == 0:
        st.subheader(title, anchor=False)
        st.info("No rows for this chart in the chosen period and filters.")
        return
    st.plotly_chart(
        block.figure,
        theme=None,
        key=key,
        config={"displaylogo": False},
        alt=f"{title}: {counted(block.chart.result.row_count, 'data point')}",
    )
    if block.chart.note:
        st.caption(plain(block.chart.note))
    caption = getattr(block.block, "caption", "")
    if caption:
        st.caption(plain(caption))


def _table(block: PreviewBlock, spec: ReportSpec, dataset: Dataset, key: str) -> None:
    st.subheader(getattr(block.block, "title", "Table"), anchor=False)
    if block.table is None:
        return
    result = block.table.result
    frame = result.frame
    if frame.empty:
        st.info("No rows for this table in the chosen period and filters.")
        return
    shown = frame.head(block.table.shown)
    amounts = [name for name in shown.columns if dataset.measure(name) is not None]
    # Sums arrive as Decimal objects; floats are what the number formats draw.
    shown = shown.astype(dict.fromkeys(amounts, "float64"))
    st.dataframe(
        shown,
        hide_index=True,
        column_config=_column_config(spec, dataset, frame),
        key=key,
    )
    totals = block.table.totals
    if totals is not None and totals.row_count:
        row = totals.frame.iloc[0]
        parts = [
            f"{measure.label} {_total(spec, measure.format, row[name])}"
            for name in totals.frame.columns
            if (measure := dataset.measure(name)) is not None
        ]
        st.caption("Total: " + " · ".join(plain(part) for part in parts))
    if result.row_count > block.table.shown:
        st.caption(
            f"The PDF shows the first {block.table.shown:,} of "
            f"{counted(result.row_count, 'row')}; CSV and XLSX carry them all."
        )
    else:
        st.caption(counted(result.row_count, "row") + ".")


def draw_preview(preview: ReportPreview) -> None:
    """Every block of `preview`, in the spec's order."""
    spec = preview.spec
    phrases = describe_filters(spec, preview.dataset)
    st.caption(
        f"{plain(preview.dataset.title)} as {plain(preview.principal.username)} may see it"
        + (f" · {' · '.join(plain(p) for p in phrases)}" if phrases else "")
    )
    for block in preview.blocks:
        key = f"builder_preview_{block.index}"
        match block.block.kind:
            case "cover":
                st.header(getattr(block.block, "title", "") or spec.title, anchor=False)
                subtitle = getattr(block.block, "subtitle", "") or spec.subtitle
                if subtitle:
                    st.markdown(f"*{plain(subtitle)}*")
            case "section":
                st.subheader(getattr(block.block, "title", ""), anchor=False)
                intro = getattr(block.block, "intro", "")
                if intro:
                    st.markdown(intro)
            case "kpis":
                _kpis(block)
            case "narrative":
                _narrative(block)
            case "chart":
                _chart(block, key)
            case "table":
                _table(block, spec, preview.dataset, key)
            case "text":
                st.markdown(getattr(block.block, "markdown", ""))
            case _:
                st.divider()
