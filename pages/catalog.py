"""Catalog: the governed datasets the signed-in user may use, exactly as they may see them."""

from __future__ import annotations

import streamlit as st

from components.badges import access_note, dataset_badges, freshness_note
from components.session import EVERYONE, error_boundary, require_role, services
from components.tables import (
    columns_config,
    columns_frame,
    dimensions_frame,
    fields_config,
    measures_frame,
    rows_config,
)
from components.text import counted, plain
from reportgen.domain.catalog import Dataset
from reportgen.domain.principal import Principal

SAMPLE_ROWS = 20


def dataset_card(principal: Principal, dataset: Dataset) -> None:
    catalog = services().catalog
    access = catalog.access(principal, dataset.name)
    with st.container(border=True, key=f"catalog_card_{dataset.name}"):
        st.subheader(dataset.title, anchor=False)
        st.markdown(dataset_badges(dataset))
        st.markdown(dataset.description)
        st.caption(
            f"Owner: {dataset.owner} · Steward: {dataset.steward} · "
            f"Name: `{dataset.name}` · Version: `{dataset.version}`"
        )
        st.markdown(freshness_note(catalog.freshness(principal, dataset.name)))
        st.markdown(access_note(access))
        # Stateful expander: the sample query (which is audited) runs only once it is opened.
        details = st.expander(
            "Columns, measures and sample rows",
            key=f"catalog_details_{dataset.name}",
            icon=":material/table_view:",
            on_change="rerun",
        )
        if not details.open:
            return
        with details:
            columns, fields, sample = st.tabs(["Columns", "Dimensions and measures", "Sample"])
            with columns:
                st.dataframe(
                    columns_frame(dataset, access),
                    hide_index=True,
                    column_config=columns_config(),
                    height="content",
                    key=f"catalog_columns_{dataset.name}",
                )
            with fields:
                st.markdown("**Dimensions** (group and filter by)")
                st.dataframe(
                    dimensions_frame(dataset),
                    hide_index=True,
                    column_config=fields_config("Dimension"),
                    height="content",
                    key=f"catalog_dimensions_{dataset.name}",
                )
                st.markdown("**Measures** (computed the same way in every report)")
                st.dataframe(
                    measures_frame(dataset),
                    hide_index=True,
                    column_config=fields_config("Measure"),
                    height="content",
                    key=f"catalog_measures_{dataset.name}",
                )
            with sample:
                result = catalog.sample(principal, dataset.name, rows=SAMPLE_ROWS)
                st.caption(
                    f"{result.row_count:,} rows, as you may see them. "
                    f"Query `{result.query_hash[:12]}`."
                )
                st.dataframe(
                    result.frame,
                    hide_index=True,
                    column_config=rows_config(dataset, access),
                    key=f"catalog_sample_{dataset.name}",
                )


principal = require_role(EVERYONE, "the catalog")
st.title("Data catalog", anchor=False)
st.caption("Governed datasets you may use, with the rows and columns you are allowed to see.")
search = st.text_input(
    "Search datasets",
    key="catalog_search",
    placeholder="Name, title, description or tag",
    icon=":material/search:",
)
everything = services().catalog.datasets(principal)
datasets = services().catalog.datasets(principal, search) if search.strip() else everything
if search.strip():
    st.caption(
        f"{len(datasets):,} of {counted(len(everything), 'dataset')} match "
        f"“{plain(search.strip())}”."
    )
else:
    st.caption(f"{counted(len(datasets), 'dataset')}.")
if not datasets:
    st.info(
        "No dataset matches your search. Try another word, or clear the search box."
        if search.strip()
        else "No dataset is open to your roles yet. Ask a data steward for access."
    )
for dataset in datasets:
    with error_boundary():  # one broken dataset must not hide the others
        dataset_card(principal, dataset)
