"""Admin: the audit log, filtered by actor, action and outcome, under the verdict on its hash
chain (intact, or the first event where it breaks and why)."""

from __future__ import annotations

import json
from collections.abc import Iterable

import pandas as pd
import streamlit as st

from components.home_times import moment
from components.session import services
from components.table_columns import moment_column, name_column, prose_column
from components.text import counted, plain
from reportgen.domain.audit import AuditEvent

OUTCOMES = ("succeeded", "allowed", "denied", "failed")
DEFAULT_LIMIT = 200
MAX_LIMIT = 5_000


def chain_status() -> None:
    """The chain's verification, as a sentence an auditor can quote."""
    report = services().audit.verify()
    if report.ok:
        st.success(
            f"Audit chain intact: {counted(report.checked, 'event')} verified, "
            "none altered, none missing.",
            icon=":material/verified_user:",
        )
        return
    st.error(
        f"Audit chain broken at event {report.first_broken_seq:,}: {plain(report.reason or '')}. "
        f"The {counted(report.checked, 'event')} before it are intact. Keep the database as it "
        "is and tell your security team.",
        icon=":material/gpp_bad:",
    )


def events_frame(events: Iterable[AuditEvent]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "#": event.seq,
                "When": moment(event.at),
                "Actor": event.actor,
                "Action": event.action,
                "Target": event.target,
                "Outcome": event.outcome,
                "Details": json.dumps(event.details, sort_keys=True, default=str)
                if event.details
                else "",
            }
            for event in events
        ],
        columns=["#", "When", "Actor", "Action", "Target", "Outcome", "Details"],
    )


def audit_panel() -> None:
    chain_status()
    with st.container(horizontal=True, vertical_alignment="bottom"):
        actor = st.text_input(
            "Actor", key="admin_audit_actor", placeholder="ana", help="Exact username."
        )
        action = st.text_input(
            "Action",
            key="admin_audit_action",
            placeholder="user.sign_in",
            help="Exact action, such as user.sign_in, page.open or schedule.update.",
        )
        outcomes = st.multiselect(
            "Outcome", OUTCOMES, key="admin_audit_outcomes", placeholder="Any outcome"
        )
        limit = st.number_input(
            "Newest events",
            min_value=10,
            max_value=MAX_LIMIT,
            value=DEFAULT_LIMIT,
            step=50,
            key="admin_audit_limit",
        )
    events = services().audit.recent(
        actor=actor.strip() or None, action=action.strip() or None, limit=int(limit)
    )
    if outcomes:
        events = [event for event in events if event.outcome in outcomes]
    if not events:
        st.info("No event matches these filters. Clear a filter to see more.")
        return
    st.caption(f"{counted(len(events), 'event')}, newest first.")
    st.dataframe(
        events_frame(events),
        hide_index=True,
        key="admin_audit_table",
        column_config={
            "#": st.column_config.NumberColumn(format="%d"),
            "When": moment_column(),
            "Target": name_column(),
            "Details": prose_column(),
        },
    )
