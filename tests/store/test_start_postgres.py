"""scripts/start-postgres.sh, which `make test` runs: it starts the local cluster only when it is
down, waits for it with a deadline, and creates the test role once. PostgreSQL's own commands are
replaced by stubs that log their calls, so the running server is never touched."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import REPO

SCRIPT = REPO / "scripts" / "start-postgres.sh"
STUBS = {
    # Answers "not ready" while the countdown file holds a number above 0.
    "pg_isready": """
n=$(cat "$STUB_DIR/down" 2>/dev/null || echo 0)
echo "pg_isready $*" >> "$STUB_DIR/calls"
if [ "$n" -gt 0 ]; then echo $((n - 1)) > "$STUB_DIR/down"; exit 2; fi
""",
    "pg_ctlcluster": 'echo "pg_ctlcluster $*" >> "$STUB_DIR/calls"',
    "runuser": 'shift 3; exec "$@"',
    "sudo": 'while [ "${1#-}" != "$1" ]; do shift 2; done; exec "$@"',
    "psql": """
echo "psql $*" >> "$STUB_DIR/calls"
case "$*" in *"SELECT 1 FROM pg_roles"*) cat "$STUB_DIR/role" 2>/dev/null;; esac
""",
}


@pytest.fixture
def stubs(tmp_path: Path) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, body in STUBS.items():
        stub = bin_dir / name
        stub.write_text(f"#!/usr/bin/env bash\n{body}", encoding="utf-8")
        stub.chmod(0o755)
    (tmp_path / "clusters" / "13").mkdir(parents=True)
    (tmp_path / "clusters" / "15").mkdir()
    (tmp_path / "role").write_text("1\n", encoding="utf-8")
    return tmp_path


def start(stubs: Path, **env: str) -> tuple[int, str, list[str]]:
    result = subprocess.run(
        ["/bin/bash", str(SCRIPT)],
        env={
            **os.environ,
            "PATH": f"{stubs / 'bin'}:{os.environ['PATH']}",
            "STUB_DIR": str(stubs),
            "POSTGRES_CONF_DIR": str(stubs / "clusters"),
            **env,
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    calls_file = stubs / "calls"
    calls = calls_file.read_text(encoding="utf-8").splitlines() if calls_file.exists() else []
    return result.returncode, result.stdout + result.stderr, calls


def test_a_running_server_is_left_alone(stubs: Path) -> None:
    code, output, calls = start(stubs)

    assert code == 0, output
    assert "already running" in output
    assert not any(call.startswith("pg_ctlcluster") for call in calls)
    assert not any("CREATE ROLE" in call for call in calls)


def test_a_stopped_server_is_started_and_waited_for(stubs: Path) -> None:
    (stubs / "down").write_text("3", encoding="utf-8")

    code, output, calls = start(stubs)

    assert code == 0, output
    assert "pg_ctlcluster --skip-systemctl-redirect 15 main start" in calls  # the newest cluster
    assert sum(call.startswith("pg_isready") for call in calls) == 4
    assert "ready on 127.0.0.1:5432" in output


def test_a_server_that_never_comes_up_fails_after_the_deadline(stubs: Path) -> None:
    (stubs / "down").write_text("1000000", encoding="utf-8")

    code, output, _ = start(stubs, POSTGRES_START_TIMEOUT_S="1")

    assert code == 1
    assert "not accepting connections on 127.0.0.1:5432 after 1 s" in output


def test_the_test_role_is_created_once(stubs: Path) -> None:
    (stubs / "role").write_text("", encoding="utf-8")

    code, output, calls = start(stubs)

    assert code == 0, output
    assert any(
        "CREATE ROLE reportgen_test LOGIN CREATEDB PASSWORD 'reportgen_test'" in c for c in calls
    )
