#!/usr/bin/env bash
# Create .venv and install the pinned Python packages, then reportgen itself (editable).
# Idempotent: a stamp of the pinned files' checksum skips the install when nothing changed.
#   scripts/install-python.sh [requirements file]   (default: requirements.txt)
set -euo pipefail
cd "$(dirname "$0")/.."
requirements=${1:-requirements.txt}
venv=.venv
python=${PYTHON:-python3}

if [ ! -x "$venv/bin/python" ]; then
    echo "python: creating $venv"
    "$python" -m venv "$venv"
fi
stamp="$venv/.installed-$(basename "$requirements" .txt)"
checksum=$(cat "$requirements" pyproject.toml | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$checksum" ]; then
    echo "python: $requirements already installed"
    exit 0
fi
echo "python: installing $requirements"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps -e .
"$venv/bin/python" -m pip check
echo "$checksum" > "$stamp"
