"""The scheduler process wires its services and API without the rendering stack: WeasyPrint,
kaleido and the spreadsheet writer are imported by the first run that renders."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import CATALOG_DIR, make_settings

RENDERING_STACK = ("weasyprint", "kaleido", "choreographer", "xlsxwriter")

PROBE = f"""
import sys

from reportgen.bootstrap import build_services
from reportgen.scheduler import SchedulerState, api_app
from reportgen.settings import Settings

services = build_services(Settings())
api_app(services, SchedulerState(lambda: 0))
services.close()
print(" ".join(name for name in {RENDERING_STACK!r} if name in sys.modules))
"""


def test_wiring_the_scheduler_imports_no_renderer(
    tmp_path: Path, warehouse_path: Path, seeded_metadata: Path
) -> None:
    settings = make_settings(tmp_path, warehouse_path)
    (tmp_path / "meta.db").write_bytes(seeded_metadata.read_bytes())
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("REPORTGEN_")},
        "REPORTGEN_DATA_DIR": str(tmp_path),
        "REPORTGEN_DATABASE_URL": settings.resolved_database_url,
        "REPORTGEN_WAREHOUSE_URL": settings.resolved_warehouse_url,
        "REPORTGEN_CATALOG_DIR": str(CATALOG_DIR),
        "REPORTGEN_LOG_LEVEL": "WARNING",
    }

    probe = subprocess.run(
        [sys.executable, "-c", PROBE],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.split() == []
