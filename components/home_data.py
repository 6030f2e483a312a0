"""Home: datasets the user may use whose newest rows are older than their owner promised."""

from __future__ import annotations

import streamlit as st

from components.badges import freshness_note
from components.session import error_boundary, services
from components.text import counted, plain
from reportgen.domain.principal import Principal


def late_data_section(principal: Principal) -> None:
    st.subheader("Late data", anchor=False)
    catalog = services().catalog
    datasets = catalog.datasets(principal)
    if not datasets:
        st.info("No dataset is open to your roles yet. Ask a data steward for access.")
        return
    late = 0
    for dataset in datasets:
        with error_boundary():  # one unreadable dataset must not hide the others
            freshness = catalog.freshness(principal, dataset.name)
            if freshness.within_sla is not False:
                continue
            late += 1
            st.markdown(
                f"**{plain(dataset.title)}** · {freshness_note(freshness)}  \n"
                f":gray[Steward: {plain(dataset.steward)}]"
            )
    if late:
        st.caption(
            f"{counted(late, 'dataset')} of {len(datasets):,} you may use "
            f"{'breaks its' if late == 1 else 'break their'} freshness SLA: reports on "
            f"{'it' if late == 1 else 'them'} show old numbers until the steward fixes the feed."
        )
    else:
        st.success(
            f"All {counted(len(datasets), 'dataset')} you may use are within their freshness SLA.",
            icon=":material/check:",
        )
