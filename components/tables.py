"""Tables describing a dataset (columns, dimensions, measures) and readable formats for its rows."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from components.table_columns import name_column, prose_column
from reportgen.domain.catalog import ColumnType, Dataset
from reportgen.services.catalog import AccessSummary

MEASURE_FORMATS = {
    "number": "Number",
    "integer": "Whole number",
    "currency": "Currency",
    "percent": "Percent",
}


def columns_config() -> dict[str, Any]:
    """Column settings of `columns_frame`'s table."""
    return {
        "Column": name_column(),
        "Description": prose_column(),
        "PII": st.column_config.CheckboxColumn(help="Personal data"),
        "You see it": name_column("In clear, or masked and how"),
    }


def fields_config(kind: str) -> dict[str, Any]:
    """Column settings of `dimensions_frame`'s (``kind="Dimension"``) and `measures_frame`'s
    (``kind="Measure"``) tables."""
    return {
        kind: name_column(),
        "Name": name_column("The name reports and the API use"),
        "Description": prose_column(),
        "Definition": prose_column("The SQL every report computes it with"),
    }


def columns_frame(dataset: Dataset, access: AccessSummary) -> pd.DataFrame:
    masked = set(access.masked_columns)
    return pd.DataFrame(
        [
            {
                "Column": column.name,
                "Type": column.type.value,
                "Description": column.description,
                "PII": column.pii,
                "You see it": (
                    f"masked ({column.mask.value})"
                    if column.name in masked and column.mask is not None
                    else "in clear"
                ),
            }
            for column in dataset.columns
        ],
        columns=["Column", "Type", "Description", "PII", "You see it"],
    )


def dimensions_frame(dataset: Dataset) -> pd.DataFrame:
    rows = [
        {
            "Dimension": dimension.label,
            "Name": dimension.name,
            "Type": dataset.dimension_type(dimension).value,
            "Description": dimension.description or _column_description(dataset, dimension.sql),
        }
        for dimension in dataset.dimensions
    ]
    if dataset.time_dimension is not None:
        time = dataset.time_dimension
        rows.append(
            {
                "Dimension": f"{time.column.replace('_', ' ').capitalize()} (time)",
                "Name": time.column,
                "Type": "time",
                "Description": "By " + ", ".join(grain.value for grain in time.grains),
            }
        )
    return pd.DataFrame(rows, columns=["Dimension", "Name", "Type", "Description"])


def measures_frame(dataset: Dataset) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "Measure": measure.label,
                "Name": measure.name,
                "Format": MEASURE_FORMATS.get(measure.format.value, measure.format.value),
                "Description": measure.description,
                "Definition": measure.expr,
            }
            for measure in dataset.measures
        ],
        columns=["Measure", "Name", "Format", "Description", "Definition"],
    )


def rows_config(dataset: Dataset, access: AccessSummary) -> dict[str, Any]:
    """Column formats for rows of `dataset`: separators for amounts, none for ids, masks marked."""
    masked = set(access.masked_columns)
    config: dict[str, Any] = {}
    for column in dataset.columns:
        if column.name in masked:
            config[column.name] = st.column_config.TextColumn(
                f"{column.name} 🔒", help=f"Masked for you ({column.mask})."
            )
        elif column.type is ColumnType.INTEGER:
            # Ids read as written; "plain" would show 1000002 as 1000001.9999999999.
            identifier = column.name == "id" or column.name.endswith("_id")
            config[column.name] = st.column_config.NumberColumn(
                help=column.description or None, format="%d" if identifier else "localized"
            )
        elif column.type is ColumnType.DECIMAL:
            config[column.name] = st.column_config.NumberColumn(
                help=column.description or None, format="accounting"
            )
        elif column.description:
            config[column.name] = st.column_config.Column(help=column.description)
    return config


def _column_description(dataset: Dataset, name: str) -> str:
    column = dataset.column(name)
    return column.description if column is not None else ""
