#!/usr/bin/env bash
# Start the local PostgreSQL cluster the store tests use, if it is down, and make sure the test
# role exists. Idempotent: when the server is up and the role is there it changes nothing.
#   scripts/start-postgres.sh        (needs scripts/test-system-packages.txt installed)
# The tests sign in as reportgen_test (password reportgen_test, may create databases) over
# 127.0.0.1:5432; REPORTGEN_TEST_POSTGRES_URL points them elsewhere.
set -euo pipefail
host=127.0.0.1
port=5432
deadline_s=${POSTGRES_START_TIMEOUT_S:-60}
clusters=${POSTGRES_CONF_DIR:-/etc/postgresql}
role=reportgen_test

if ! command -v pg_ctlcluster >/dev/null || [ ! -d "$clusters" ]; then
    echo "postgres: not installed; run scripts/install-system.sh scripts/test-system-packages.txt" >&2
    exit 1
fi
as_postgres=()
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "postgres: run as root or install sudo" >&2; exit 1; }
    as_postgres=(sudo)
fi

if pg_isready -h "$host" -p "$port" -q 2>/dev/null; then
    echo "postgres: already running on $host:$port"
else
    version=$(ls "$clusters" | sort -V | tail -n 1)
    echo "postgres: starting cluster $version/main"
    ${as_postgres[@]+"${as_postgres[@]}"} pg_ctlcluster --skip-systemctl-redirect "$version" main start
    started=$SECONDS
    until pg_isready -h "$host" -p "$port" -q 2>/dev/null; do
        if (( SECONDS - started >= deadline_s )); then
            echo "postgres: not accepting connections on $host:$port after ${deadline_s} s" >&2
            exit 1
        fi
        sleep 0.5
    done
    echo "postgres: ready on $host:$port"
fi

# The superuser signs in through the local socket as the postgres OS user (peer or trust).
psql_as_postgres() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -p "$port" "$@"
    else
        sudo -u postgres psql -X -q -v ON_ERROR_STOP=1 -p "$port" "$@"
    fi
}
if [ "$(psql_as_postgres -tAc "SELECT 1 FROM pg_roles WHERE rolname = '$role'")" != "1" ]; then
    echo "postgres: creating the test role $role"
    psql_as_postgres -c "CREATE ROLE $role LOGIN CREATEDB PASSWORD '$role'"
fi
