"""Admin: system health. The scheduler process answers ``/readyz`` (leader or standby, its last
pass, the database, warehouse and artifact checks); the queue depth and recent errors come from
the services, so they show even while the scheduler is down."""

from __future__ import annotations

from typing import Any

import httpx
import pandas as pd
import streamlit as st

from components.home_runs import runs_columns, runs_frame, schedule_names
from components.home_times import moment
from components.session import services
from components.table_columns import moment_column, name_column, prose_column
from components.text import counted, plain
from reportgen.domain.principal import Principal
from reportgen.domain.runs import RunStatus
from reportgen.settings import Settings

TIMEOUT_S = 2.0
RECENT_ERRORS = 10
AUDIT_SCAN = 1_000
"""Newest audit events searched for failures and denials."""
ROLES = {
    "leader": "Leader: this scheduler fires the schedules.",
    "standby": "Standby: another scheduler holds the leader lock; this one takes over if it dies.",
    "absent": "No scheduler runs in the process that answered.",
}


def scheduler_url(settings: Settings) -> str:
    """Where the scheduler process serves its API, as reached from this machine."""
    host = settings.api_host
    if host in {"0.0.0.0", "::", ""}:  # noqa: S104 - listening everywhere; ask loopback
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{settings.api_port}"


def readiness(url: str) -> dict[str, Any] | None:
    """``/readyz``'s JSON (a 503 still carries it), or None when nothing answers."""
    try:
        response = httpx.get(f"{url}/readyz", timeout=TIMEOUT_S)
        body = response.json()
    except (httpx.HTTPError, ValueError):
        return None
    return body if isinstance(body, dict) and "checks" in body else None


def scheduler_status(url: str) -> None:
    st.markdown("**Scheduler**")
    ready = readiness(url)
    if ready is None:
        st.info(
            f"Scheduler not reachable at {url}. Schedules do not fire and runs wait in the "
            "queue until it is back. Start it with `reportgen scheduler` (or `reportgen up`), "
            "then reload this page.",
            icon=":material/cloud_off:",
        )
        return
    role = str(ready.get("scheduler", "absent"))
    if ready.get("ready"):
        st.success(f"Ready. {ROLES.get(role, plain(role))}", icon=":material/check_circle:")
    else:
        st.error(
            f"Not ready: a check below failed. {ROLES.get(role, plain(role))}",
            icon=":material/error:",
        )
    checks = [check for check in ready.get("checks", []) if isinstance(check, dict)]
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "Check": str(check.get("name", "")),
                    "OK": "✓" if check.get("ok") else "✗",
                    "Found": str(check.get("detail", "")),
                    "Took (ms)": check.get("duration_ms"),
                }
                for check in checks
            ],
            columns=["Check", "OK", "Found", "Took (ms)"],
        ),
        hide_index=True,
        key="admin_health_checks",
        column_config={
            "Found": prose_column(),
            "Took (ms)": st.column_config.NumberColumn(format="%.1f"),
        },
    )


def recent_errors(admin: Principal) -> None:
    st.markdown("**Recent errors**")
    runs = services().runs
    failed = sorted(
        (
            run
            for status in (RunStatus.DEAD, RunStatus.FAILED, RunStatus.RETRYING)
            for run in runs.list(admin, status=status, limit=RECENT_ERRORS).runs
        ),
        key=lambda run: (run.created_at, run.id),
        reverse=True,
    )[:RECENT_ERRORS]
    if failed:
        st.caption(f"{counted(len(failed), 'run')} failed, retrying or dead; every user's.")
        st.dataframe(
            runs_frame(failed, schedule_names(admin)),
            hide_index=True,
            key="admin_health_runs",
            column_config=runs_columns(),
        )
    else:
        st.success("No failed, retrying or dead run.", icon=":material/check:")
    refused = [
        event
        for event in services().audit.recent(limit=AUDIT_SCAN)
        if event.outcome in {"failed", "denied"}
    ][:RECENT_ERRORS]
    if not refused:
        st.success("No failed or denied action among the latest audit events.")
        return
    st.caption(f"{counted(len(refused), 'failed or denied action')} among the latest audit events.")
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "When": moment(event.at),
                    "Actor": event.actor,
                    "Action": event.action,
                    "Target": event.target,
                    "Outcome": event.outcome,
                }
                for event in refused
            ],
            columns=["When", "Actor", "Action", "Target", "Outcome"],
        ),
        hide_index=True,
        key="admin_health_audit",
        column_config={"When": moment_column(), "Target": name_column()},
    )


def health_panel(admin: Principal) -> None:
    url = scheduler_url(services().settings)
    status, queue = st.columns([3, 1], gap="large")
    with status:
        scheduler_status(url)
    with queue:
        st.metric(
            "Queue depth",
            f"{services().runs.queue_depth():,}",
            help="Runs due now and waiting for a worker.",
        )
    recent_errors(admin)
