#!/usr/bin/env bash
# Install the missing Debian packages of the given lists (default: scripts/system-packages.txt).
#   scripts/install-system.sh [LIST...]   e.g. scripts/test-system-packages.txt for `make test`
# Idempotent: when everything is there it installs nothing and does not touch apt.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
lists=("$@")
if [ ${#lists[@]} -eq 0 ]; then
    lists=("$here/system-packages.txt")
fi
mapfile -t wanted < <(cat "${lists[@]}" | grep -Ev '^\s*(#|$)')

missing=()
for package in "${wanted[@]}"; do
    if ! dpkg-query -W -f='${db:Status-Status}' "$package" 2>/dev/null | grep -qx installed; then
        missing+=("$package")
    fi
done
if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
    missing+=(python3-venv)
fi

if [ ${#missing[@]} -eq 0 ]; then
    echo "system packages: all present"
    exit 0
fi
echo "system packages: installing ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "run as root or install sudo" >&2; exit 1; }
    sudo=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
