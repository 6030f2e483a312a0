"""`reportgen up` on an empty data folder: migrates, seeds the demo, serves the app, the
scheduler with its API and the mail sink, from any folder the command is started in; stops them
all on Ctrl-C, and all of them when one dies."""

from __future__ import annotations

import os
import signal
import smtplib
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


def api_healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


def command_line(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()


class Up:
    """`reportgen up` started from ``folder`` with its own ports, and its output."""

    def __init__(self, folder: Path) -> None:
        self.port, self.api_port, self.smtp_port = free_port(), free_port(), free_port()
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("REPORTGEN_")},
            # Relative on purpose: they mean the folder `up` is started in, for every process.
            "REPORTGEN_DATA_DIR": "data",
            "REPORTGEN_CATALOG_DIR": os.path.relpath(CATALOG_DIR, folder),
            "REPORTGEN_DEMO_ROWS": "2000",
            "REPORTGEN_LOG_FORMAT": "console",
            "REPORTGEN_API_PORT": str(self.api_port),
            "REPORTGEN_SMTP_URL": f"smtp://127.0.0.1:{self.smtp_port}",
        }
        reportgen = Path(sys.executable).with_name("reportgen")
        self.process = subprocess.Popen(
            [str(reportgen), "up", "--port", str(self.port)],
            cwd=folder,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def wait_until_serving(self) -> None:
        deadline = time.monotonic() + 90
        while not (healthy(self.port) and api_healthy(self.api_port)):
            assert self.process.poll() is None, self.process.communicate()[0]
            assert time.monotonic() < deadline, "web app and API not healthy within 90 s"
            time.sleep(0.2)

    def child(self, word: str) -> int:
        [pid] = [pid for pid in children(self.process.pid) if word in command_line(pid)]
        return pid


@pytest.mark.slow
def test_up_seeds_and_serves_from_another_folder(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    up = Up(elsewhere)
    data = elsewhere / "data"
    try:
        up.wait_until_serving()
        assert (data / "warehouse.duckdb").is_file()
        assert (data / "reportgen.db").is_file()
        assert not (REPO / "data").exists()
        with urllib.request.urlopen(f"http://127.0.0.1:{up.port}/", timeout=5) as page:
            assert "<title>" in page.read().decode()
        assert len(children(up.process.pid)) == 2
        web, scheduler = up.child("streamlit"), up.child("scheduler")
        web_env = child_environment(web)
        assert web_env["REPORTGEN_DATA_DIR"] == str(data)
        assert Path(web_env["REPORTGEN_CATALOG_DIR"]).resolve() == CATALOG_DIR.resolve()
        assert Path(f"/proc/{web}/cwd").resolve() == REPO
        assert child_environment(scheduler)["REPORTGEN_DATA_DIR"] == str(data)
        with smtplib.SMTP("127.0.0.1", up.smtp_port, timeout=10) as relay:
            relay.sendmail("a@example.com", ["b@example.com"], b"Subject: hello\r\n\r\nhi\r\n")
        assert len(list((data / "mail").glob("*.eml"))) == 1
    finally:
        up.process.send_signal(signal.SIGINT)
        output = up.process.communicate(timeout=60)[0]
    assert up.process.returncode == 0, output
    assert "Demo users created: admin, ana, victor" in output
    assert f"http://localhost:{up.port}" in output
    assert f"http://127.0.0.1:{up.api_port}/api/v1" in output
    assert f"kept in {data / 'mail'}" in output
    assert "Traceback" not in output


@pytest.mark.slow
def test_a_child_that_dies_takes_the_others_down(tmp_path: Path) -> None:
    up = Up(tmp_path)
    try:
        up.wait_until_serving()
        web = up.child("streamlit")
        os.kill(up.child("scheduler"), signal.SIGKILL)
        output = up.process.communicate(timeout=60)[0]
    finally:
        if up.process.poll() is None:
            up.process.kill()
            up.process.communicate()
    assert up.process.returncode != 0
    assert "the scheduler stopped unexpectedly (exit code -9)" in output
    assert not Path(f"/proc/{web}").exists() or "zombie" in Path(f"/proc/{web}/status").read_text()
    assert not healthy(up.port)
