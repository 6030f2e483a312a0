#!/usr/bin/env bash
# `make test`'s last step: the whole test suite on two workers (tests/conftest.py groups the
# ones that start processes on one of them), with the infrastructure checks running beside it.
# The checks share nothing with the tests (they read the repository and write to their own
# temporary folder). Their output is printed after the tests'; the exit status is the tests' if they
# failed, else the checks'.
#   PYTEST_ARGS="-k pdf" scripts/test-all.sh
set -uo pipefail
cd "$(dirname "$0")/.."
log=$(mktemp)
checks=
# A background job ignores Ctrl-C in a script: stop the checks with the tests.
trap '[ -n "$checks" ] && kill "$checks" 2>/dev/null; rm -f "$log"' EXIT
trap 'exit 130' INT TERM
scripts/infra-check.sh >"$log" 2>&1 &
checks=$!
# shellcheck disable=SC2086  # PYTEST_ARGS holds several words on purpose
.venv/bin/pytest -p no:cacheprovider -n 2 --dist loadgroup --cov --cov-report=term ${PYTEST_ARGS:-}
tests=$?
wait "$checks"
checked=$?
checks=
echo
echo "=== infrastructure checks (ran beside the tests: scripts/infra-check.sh)"
cat "$log"
if [ "$tests" -ne 0 ]; then
    exit "$tests"
fi
exit "$checked"
