"""Fail when the repository holds a possible secret that .secrets.baseline does not list.

Rescans the git-tracked files with the baseline's own plugins and filters (into a temporary copy,
so the committed baseline is never rewritten by a check) and compares findings by file, type and
secret hash, not by line: moved code stays matched, anything new fails. A baseline entry that
someone marked as a real secret (is_secret: true) fails too.

    python infra/scripts/check_secrets.py [DETECT_SECRETS_COMMAND]

Every entry in the baseline was reviewed (docs/security/secret-scanning.md says how to add one).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

BASELINE = Path(".secrets.baseline")


def keys(results: dict[str, list[dict]]) -> set[tuple[str, str, str]]:
    return {
        (name, item["type"], item["hashed_secret"])
        for name, items in results.items()
        for item in items
    }


def main(command: str = "detect-secrets") -> int:
    baseline = json.loads(BASELINE.read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory() as folder:
        rescan = Path(folder) / "baseline.json"
        shutil.copy(BASELINE, rescan)
        subprocess.run([command, "scan", "--baseline", str(rescan)], check=True)  # noqa: S603
        current = json.loads(rescan.read_text(encoding="utf-8"))
    known = keys(baseline["results"])
    new = sorted(keys(current["results"]) - known)
    confirmed = [
        (name, item["type"])
        for name, items in baseline["results"].items()
        for item in items
        if item.get("is_secret")
    ]
    for name, items in sorted(current["results"].items()):
        for item in items:
            if (name, item["type"], item["hashed_secret"]) in set(new):
                where = f"{name}:{item['line_number']}"
                print(f"{where}: possible secret ({item['type']}) not in {BASELINE}")
    for name, kind in confirmed:
        print(f"{name}: {kind} is marked as a real secret in {BASELINE}: remove and rotate it")
    gone = len(known - keys(current["results"]))
    print(
        f"detect-secrets: {len(keys(current['results']))} findings, all reviewed in the baseline"
        if not new and not confirmed
        else f"detect-secrets: {len(new)} new possible secrets, {len(confirmed)} confirmed"
    )
    if new:
        print(
            "a false positive? add it after review: .venv-infra/bin/detect-secrets scan --baseline"
            " .secrets.baseline, then .venv-infra/bin/detect-secrets audit .secrets.baseline"
        )
    if gone:
        print(f"detect-secrets: {gone} baseline entries no longer occur (prune when convenient)")
    return 1 if new or confirmed else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
