"""One run in full: its timeline, each delivery with its attempts, its files (offered only once
their bytes match the SHA-256 recorded when they were made) and the manifest's lineage."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import pandas as pd
import streamlit as st

from components.home_times import moment
from components.run_table import TRIGGERS, status_badge
from components.schedule_notices import guarded, notice
from components.session import services
from components.table_columns import count_column, moment_column, prose_column
from components.text import plain
from reportgen.domain.principal import Principal
from reportgen.domain.runs import ArtifactRecord, Delivery, DeliveryStatus, RunDetail, RunStatus
from reportgen.errors import NotFound

RUNS_NOTICE = "_runs_notice"
MANIFEST = "manifest"
RETRYABLE = frozenset({RunStatus.DEAD, RunStatus.RETRYING})
DELIVERY_ICONS = {
    # Material icons, not emoji: emoji render as empty boxes without an emoji font.
    DeliveryStatus.PENDING: ":material/schedule:",
    DeliveryStatus.SENDING: ":material/outbox:",
    DeliveryStatus.DELIVERED: ":material/check_circle:",
    DeliveryStatus.FAILED: ":material/error:",
    DeliveryStatus.SKIPPED: ":material/skip_next:",
    DeliveryStatus.UNKNOWN: ":material/help:",
}
_FILES = "_runs_files"  # (run id, file name) → (bytes, sha256) of files that matched


def verified_file(principal: Principal, run_id: str, filename: str) -> tuple[bytes, str] | None:
    """The file's bytes and checksum when they match the recorded SHA-256; None when not."""
    cache: dict[tuple[str, str], tuple[bytes, str]] = st.session_state.setdefault(_FILES, {})
    if (run_id, filename) in cache:
        return cache[(run_id, filename)]
    stored = services().runs.artifact(principal, run_id, filename)
    if hashlib.sha256(stored.data).hexdigest() != stored.sha256:
        return None
    if len(cache) > 16:  # the files of the last runs looked at are enough
        cache.clear()
    cache[(run_id, filename)] = (stored.data, stored.sha256)
    return cache[(run_id, filename)]


def _retry(principal: Principal, run_id: str) -> None:
    run = services().runs.retry(principal, run_id)
    notice("success", f"Run `{run.id[:8]}` queued again; it starts within seconds.", RUNS_NOTICE)


def replay(principal: Principal, run_id: str) -> None:
    made = services().runs.replay(principal, run_id)
    notice(
        "success",
        f"Replay queued as run `{made.id[:8]}`: it sends only what was not delivered.",
        RUNS_NOTICE,
    )


def _timeline(detail: RunDetail) -> None:
    st.markdown("**Timeline**")
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "At": moment(t.at),
                    "From": t.from_status.value if t.from_status else "",
                    "To": t.to_status.value,
                    "Stage": t.stage.value if t.stage else "",
                    "Detail": t.detail or "",
                }
                for t in detail.transitions
            ],
            columns=["At", "From", "To", "Stage", "Detail"],
        ),
        hide_index=True,
        key=f"runs_timeline_{detail.run.id}",
        column_config={"At": moment_column(), "Detail": prose_column()},
    )


def _deliveries(deliveries: Sequence[Delivery]) -> None:
    st.markdown("**Deliveries**")
    if not deliveries:
        st.caption("No deliveries yet.")
        return
    for delivery in deliveries:
        label = (
            f"{delivery.channel} → {delivery.recipient}: "
            f"{delivery.status.value} ({delivery.attempts} attempt"
            f"{'' if delivery.attempts == 1 else 's'})"
        )
        with st.expander(
            label,
            expanded=delivery.status is not DeliveryStatus.DELIVERED,
            icon=DELIVERY_ICONS[delivery.status],
        ):
            if delivery.delivered_at:
                st.caption(f"Delivered {moment(delivery.delivered_at)}.")
            if delivery.last_error:
                st.caption(f"Last error: {plain(delivery.last_error)}")
            st.dataframe(
                pd.DataFrame(
                    [
                        {"At": moment(a.at), "Outcome": a.outcome, "Detail": a.detail or ""}
                        for a in delivery.history
                    ],
                    columns=["At", "Outcome", "Detail"],
                ),
                hide_index=True,
                key=f"runs_attempts_{delivery.id}",
                column_config={"At": moment_column(), "Detail": prose_column()},
            )


def _artifacts(principal: Principal, detail: RunDetail) -> ArtifactRecord | None:
    """Download buttons for the run's files; the manifest's record, if there is one."""
    st.markdown("**Files**")
    files = list({a.filename: a for a in reversed(detail.artifacts)}.values())[::-1]
    if not files:
        st.caption("This run stored no files.")
        return None
    manifest = None
    for record in files:
        if record.kind == MANIFEST and manifest is None:
            manifest = record
        checked = verified_file(principal, detail.run.id, record.filename)
        with st.container(border=True, key=f"runs_file_{record.id}"):
            st.markdown(f"**{plain(record.filename)}** · {record.size_bytes:,} bytes")
            if checked is None:
                st.error(
                    "This file does not match the checksum recorded when it was made, so it is "
                    "not offered. Ask an admin to look at the artifact store.",
                    icon=":material/gpp_bad:",
                )
                continue
            data, sha256 = checked
            st.caption(f":material/verified: SHA-256 verified: `{sha256}`")
            st.download_button(
                f"Download {record.filename}",
                data=data,
                file_name=record.filename,
                mime=record.content_type,
                key=f"runs_download_{record.id}",
                icon=":material/download:",
                on_click="ignore",
            )
    return manifest


def _written(stamp: object) -> str:
    """A manifest's ISO timestamp the way the page writes times; as recorded when unreadable."""
    try:
        return moment(datetime.fromisoformat(str(stamp)))
    except ValueError:
        return str(stamp)


def _lineage(principal: Principal, run_id: str, manifest: ArtifactRecord) -> None:
    st.markdown("**Manifest and lineage**")
    checked = verified_file(principal, run_id, manifest.filename)
    if checked is None:
        st.error("The manifest does not match its recorded checksum; it is not shown.")
        return
    content: dict[str, Any] = json.loads(checked[0])
    report = content.get("report", {})
    st.caption(
        f"“{plain(str(report.get('title', '')))}” generated for "
        f"{plain(str(content.get('generated_for', '')))} at "
        f"{plain(_written(content.get('generated_at', '')))}."
    )
    datasets = [{"Dataset": d[0], "Version": d[1]} for d in content.get("datasets", [])]
    st.dataframe(
        pd.DataFrame(datasets, columns=["Dataset", "Version"]),
        hide_index=True,
        key=f"runs_datasets_{run_id}",
    )
    queries = content.get("queries", [])
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "Query": q.get("id", ""),
                    "Dataset": q.get("dataset", ""),
                    "Version": q.get("dataset_version", ""),
                    "Rows": q.get("rows", ""),
                    "Query hash": str(q.get("query_hash", ""))[:12],
                    "Freshness": q.get("freshness", ""),
                }
                for q in queries
            ],
            columns=["Query", "Dataset", "Version", "Rows", "Query hash", "Freshness"],
        ),
        hide_index=True,
        key=f"runs_queries_{run_id}",
        column_config={
            "Rows": count_column(),
            "Query hash": st.column_config.TextColumn(
                help="The first 12 characters of the query's SHA-256"
            ),
            "Freshness": st.column_config.TextColumn(width="medium"),
        },
    )
    with st.expander("SQL of each query"):
        for q in queries:
            st.caption(f"{plain(str(q.get('id', '')))} (parameters: {plain(str(q.get('params')))})")
            st.code(str(q.get("sql", "")), language="sql", wrap_lines=True)


def run_detail(principal: Principal, run_id: str) -> None:
    """The run's detail panel, with Retry when it failed."""
    try:
        detail = services().runs.get(principal, run_id)
    except NotFound as exc:
        st.warning(str(exc))
        return
    run = detail.run
    with st.container(border=True, key="runs_detail"):
        st.subheader(f"Run {run.id[:8]}", anchor=False)
        st.markdown(
            f"{status_badge(run.status)} · {TRIGGERS.get(run.trigger, run.trigger)} · fire time "
            f"{moment(run.fire_time)} · attempt {run.attempt}"
            + (f" · replay of `{run.replay_of[:8]}`" if run.replay_of else "")
        )
        if run.error:
            st.error(run.error, icon=":material/error:")
        if run.status in RETRYABLE:
            st.button(
                "Retry",
                key="runs_retry",
                icon=":material/replay:",
                on_click=guarded(_retry, RUNS_NOTICE),
                args=(principal, run.id),
                help="Queues this run again now; deliveries already made are not sent twice.",
            )
        _timeline(detail)
        _deliveries(detail.deliveries)
        manifest = _artifacts(principal, detail)
        if manifest is not None:
            _lineage(principal, run.id, manifest)
