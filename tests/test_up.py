"""`reportgen up` on an empty data folder: migrates, seeds the demo, serves the app."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import REPO


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


@pytest.mark.slow
def test_up_seeds_and_serves(tmp_path: Path) -> None:
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("REPORTGEN_")},
        "REPORTGEN_DATA_DIR": str(tmp_path),
        "REPORTGEN_DEMO_ROWS": "2000",
        "REPORTGEN_LOG_FORMAT": "console",
    }
    reportgen = Path(sys.executable).with_name("reportgen")
    process = subprocess.Popen(
        [str(reportgen), "up", "--port", str(port)],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 90
        while not healthy(port):
            assert process.poll() is None, process.communicate()[0]
            assert time.monotonic() < deadline, "the app did not become healthy within 90 s"
            time.sleep(0.2)
        assert (tmp_path / "warehouse.duckdb").is_file()
        assert (tmp_path / "reportgen.db").is_file()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as page:
            assert "<title>" in page.read().decode()
    finally:
        process.send_signal(signal.SIGINT)
        output = process.communicate(timeout=30)[0]
    assert "Demo users created: admin, ana, victor" in output
    assert f"http://localhost:{port}" in output
    assert "Traceback" not in output
