"""`reportgen scheduler` as a process: serves /healthz and /readyz, stops on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import CATALOG_DIR, make_settings
from tests.test_up import free_port


def get_json(url: str) -> tuple[int, dict[str, object]] | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status, json.loads(response.read())
    except OSError:
        return None


@pytest.mark.slow
def test_scheduler_serves_health_leads_and_stops_on_sigterm(
    tmp_path: Path, warehouse_path: Path, seeded_metadata: Path
) -> None:
    settings = make_settings(tmp_path, warehouse_path)
    (tmp_path / "meta.db").write_bytes(seeded_metadata.read_bytes())
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("REPORTGEN_")},
        "REPORTGEN_DATA_DIR": str(tmp_path),
        "REPORTGEN_DATABASE_URL": settings.resolved_database_url,
        "REPORTGEN_WAREHOUSE_URL": settings.resolved_warehouse_url,
        "REPORTGEN_CATALOG_DIR": str(CATALOG_DIR),
        "REPORTGEN_API_PORT": str(port),
        "REPORTGEN_LOG_FORMAT": "console",
        "REPORTGEN_SCHEDULER_POLL_S": "1",
    }
    reportgen = Path(sys.executable).with_name("reportgen")
    with subprocess.Popen(
        [str(reportgen), "scheduler"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as process:
        try:
            deadline = time.monotonic() + 60
            while (health := get_json(f"http://127.0.0.1:{port}/healthz")) is None:
                assert process.poll() is None, process.communicate()[0]
                assert time.monotonic() < deadline, "no /healthz within 60 s"
                time.sleep(0.2)
            assert health[0] == 200
            while (ready := get_json(f"http://127.0.0.1:{port}/readyz")) is None or (
                ready[1].get("scheduler") != "leader"
            ):
                assert time.monotonic() < deadline, f"not leading within 60 s: {ready}"
                time.sleep(0.2)
            assert (tmp_path / "scheduler.lock").is_file()
        finally:
            process.send_signal(signal.SIGTERM)
            output = process.communicate(timeout=60)[0]
    assert process.returncode == 0, output
    assert f"REST API on http://127.0.0.1:{port}" in output
    assert "Scheduler stopped." in output
    assert "Traceback" not in output
