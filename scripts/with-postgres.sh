#!/usr/bin/env bash
# Runs a command with a local PostgreSQL 15 for the host's tests:
#   scripts/with-postgres.sh cargo test -p softpos-host
# Installs Debian's postgresql if missing, starts the cluster if it is not running (and stops
# it again afterwards only in that case), makes user softpos/softpos (superuser, so each test
# can create and drop its own database) and database softpos_test, then runs the command with
# SOFTPOS_TEST_DATABASE_URL set. Every step is idempotent. Needs root (as on CI).
set -euo pipefail

if [ "$#" -eq 0 ]; then
    echo "usage: $0 COMMAND [ARG]..." >&2
    exit 2
fi

if ! command -v pg_ctlcluster >/dev/null 2>&1 || ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
    echo "with-postgres: installing postgresql" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq postgresql >/dev/null
fi

version="$(ls /usr/lib/postgresql | sort -V | tail -n 1)"
if [ -z "$(pg_lsclusters -h 2>/dev/null | awk -v v="$version" '$1 == v && $2 == "main"')" ]; then
    pg_createcluster "$version" main >/dev/null
fi

started=0
if ! pg_lsclusters -h | awk -v v="$version" '$1 == v && $2 == "main" {print $4}' | grep -q online; then
    pg_ctlcluster "$version" main start
    started=1
fi
stop_cluster() {
    if [ "$started" = 1 ]; then
        pg_ctlcluster "$version" main stop || true
    fi
}
trap stop_cluster EXIT

for _ in $(seq 1 30); do
    if su postgres -c "psql -qtAc 'select 1'" >/dev/null 2>&1; then break; fi
    sleep 0.5
done

if [ "$(su postgres -c "psql -qtAc \"select 1 from pg_roles where rolname = 'softpos'\"")" != 1 ]; then
    su postgres -c "psql -qc \"create user softpos with password 'softpos' superuser;\""
fi
if [ "$(su postgres -c "psql -qtAc \"select 1 from pg_database where datname = 'softpos_test'\"")" != 1 ]; then
    su postgres -c "createdb -O softpos softpos_test"
fi

export SOFTPOS_TEST_DATABASE_URL="postgres://softpos:softpos@127.0.0.1:5432/softpos_test"
status=0
"$@" || status=$?
exit "$status"
