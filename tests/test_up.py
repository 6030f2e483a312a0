"""`reportgen up` on an empty data folder: migrates, seeds the demo, serves the app, from any
folder the command is started in."""

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

from tests.conftest import CATALOG_DIR, REPO


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


def child_environment(pid: int) -> dict[str, str]:
    """The environment the process ``pid`` was started with (Linux: /proc)."""
    raw = Path(f"/proc/{pid}/environ").read_bytes()
    pairs = (entry.partition(b"=") for entry in raw.split(b"\0") if entry)
    return {name.decode(): value.decode() for name, _, value in pairs}


def children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(child) for child in (task / "children").read_text().split()]
    return found


@pytest.mark.slow
def test_up_seeds_and_serves_from_another_folder(tmp_path: Path) -> None:
    port = free_port()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("REPORTGEN_")},
        # Relative on purpose: they mean the folder `up` is started in, for every process.
        "REPORTGEN_DATA_DIR": "data",
        "REPORTGEN_CATALOG_DIR": os.path.relpath(CATALOG_DIR, elsewhere),
        "REPORTGEN_DEMO_ROWS": "2000",
        "REPORTGEN_LOG_FORMAT": "console",
    }
    reportgen = Path(sys.executable).with_name("reportgen")
    process = subprocess.Popen(
        [str(reportgen), "up", "--port", str(port)],
        cwd=elsewhere,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    data = elsewhere / "data"
    try:
        deadline = time.monotonic() + 90
        while not healthy(port):
            assert process.poll() is None, process.communicate()[0]
            assert time.monotonic() < deadline, "the app did not become healthy within 90 s"
            time.sleep(0.2)
        assert (data / "warehouse.duckdb").is_file()
        assert (data / "reportgen.db").is_file()
        assert not (REPO / "data").exists()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as page:
            assert "<title>" in page.read().decode()
        [web] = children(process.pid)
        web_env = child_environment(web)
        assert web_env["REPORTGEN_DATA_DIR"] == str(data)
        assert Path(web_env["REPORTGEN_CATALOG_DIR"]).resolve() == CATALOG_DIR.resolve()
        assert Path(f"/proc/{web}/cwd").resolve() == REPO
    finally:
        process.send_signal(signal.SIGINT)
        output = process.communicate(timeout=30)[0]
    assert "Demo users created: admin, ana, victor" in output
    assert f"http://localhost:{port}" in output
    assert "Traceback" not in output
