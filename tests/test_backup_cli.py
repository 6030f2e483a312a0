"""`reportgen backup` and `reportgen restore`: back up, wipe, restore, verify everything."""

from __future__ import annotations

import hashlib
from pathlib import Path

from sqlalchemy import create_engine
from typer.testing import CliRunner

from reportgen.bootstrap import AUDIT_HEAD_FILE
from reportgen.cli import app
from reportgen.store.tables import artifacts, new_id
from tests.conftest import REPO
from tests.test_cli import env  # noqa: F401 - the CLI tests' environment fixture

runner = CliRunner()
SAMPLE = REPO / "report_templates" / "executive_summary" / "sample.yml"


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout + result.stderr


def _index_artifacts(data_dir: Path) -> int:
    """Record every stored file in the artifact index, as runs do for their bundles."""
    engine = create_engine(f"sqlite:///{data_dir / 'meta.db'}")
    files = [p for p in (data_dir / "artifacts").rglob("*") if p.is_file()]
    with engine.begin() as connection:
        for path in files:
            connection.execute(
                artifacts.insert().values(
                    id=new_id(),
                    kind=path.suffix.lstrip("."),
                    uri=path.resolve().as_uri(),
                    sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
                    size_bytes=path.stat().st_size,
                    content_type="application/octet-stream",
                )
            )
    engine.dispose()
    return len(files)


def test_back_up_wipe_restore_and_verify_every_artifact_and_the_chain(env: Path) -> None:  # noqa: F811
    code, output = run(
        "render", str(SAMPLE), "--as", "ana", "--out", str(env / "out"), "--format", "csv"
    )
    assert code == 0, output
    indexed = _index_artifacts(env)
    assert indexed >= 2  # the CSVs and the manifest

    code, output = run("backup", "--out", str(env / "backup.tar.gz"))
    assert code == 0, output
    assert "Backed up" in output
    code, output = run("backup", "--check", str(env / "backup.tar.gz"))
    assert code == 0, output
    assert "every checksum matches" in output

    (env / "meta.db").unlink()
    (env / AUDIT_HEAD_FILE).unlink()

    code, output = run("restore", str(env / "backup.tar.gz"))
    assert code == 0, output
    assert "Audit chain intact" in output
    assert f"Artifacts checked against their SHA-256: {indexed}" in output
    code, output = run("audit", "verify")
    assert code == 0, output


def test_a_restore_names_an_artifact_that_no_longer_matches(env: Path) -> None:  # noqa: F811
    code, output = run(
        "render", str(SAMPLE), "--as", "ana", "--out", str(env / "out"), "--format", "csv"
    )
    assert code == 0, output
    _index_artifacts(env)
    assert run("backup", "--out", str(env / "b.tar.gz"))[0] == 0
    victim = next(p for p in (env / "artifacts").rglob("*.csv"))
    victim.write_bytes(victim.read_bytes() + b"tampered\n")
    (env / "meta.db").unlink()

    code, output = run("restore", str(env / "b.tar.gz"))

    assert code == 1
    assert "does not match its recorded SHA-256" in output
    assert victim.name in output.replace("\n", "")


def test_restoring_over_a_live_database_is_refused(env: Path) -> None:  # noqa: F811
    assert run("backup", "--out", str(env / "b.tar.gz"))[0] == 0
    code, output = run("restore", str(env / "b.tar.gz"))
    assert code == 1
    assert "is not empty" in output
    assert "Traceback" not in output
