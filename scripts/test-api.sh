#!/usr/bin/env bash
# API fuzzing (issue 7): schemathesis against /v1/openapi.json of a real softpos-host on a free
# loopback port with a fresh SQLite file. Every generated request must get an answer that is
# not a 5xx and matches the documented schema. Calls carry a real session token, so the
# generated bodies reach the handlers and not only the auth check. Bounded by SCHEMATHESIS_MAX
# examples per operation (default 100) to keep it to a minute or two. SCHEMATHESIS_MODE=positive
# sends only bodies the schema allows (default: all, the invalid ones too). scripts/schemathesis_hooks.py
# mends what a schema cannot say (Luhn digit, expiry, currency, fresh request ids and trace
# numbers) so generated transactions reach the ledger.
set -euo pipefail
source "$(dirname "$0")/lib/listening.sh"
cd "$(dirname "$0")/.."
scripts/tools.sh api
HOST_BIN=${SOFTPOS_HOST_BIN:-target/debug/softpos-host}
[ -n "${SOFTPOS_HOST_BIN:-}" ] || cargo build -q -p softpos-host

work=$(mktemp -d)
host_pid=
pg_db=
cleanup() {
  # Never stop the trap early under `set -e`: the temp dir must go too.
  if [ -n "$host_pid" ]; then kill "$host_pid" 2>/dev/null || true; wait "$host_pid" 2>/dev/null || true; fi
  if [ -n "$pg_db" ]; then psql -q "$SOFTPOS_TEST_DATABASE_URL" -c "drop database if exists $pg_db" >/dev/null 2>&1 || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# SOFTPOS_API_POSTGRES=1 (under scripts/with-postgres.sh): the host on a fresh PostgreSQL
# database instead, where strings reach a different database with different limits.
if [ -n "${SOFTPOS_API_POSTGRES:-}" ]; then
  : "${SOFTPOS_TEST_DATABASE_URL:?run it under scripts/with-postgres.sh}"
  pg_db="softpos_api_$$_$RANDOM"
  psql -q "$SOFTPOS_TEST_DATABASE_URL" -c "create database $pg_db" >/dev/null
  db="${SOFTPOS_TEST_DATABASE_URL%/*}/$pg_db"
  echo "api: the host on PostgreSQL"
else
  db="sqlite://$work/host.db"
  echo "api: the host on SQLite"
fi
merchant=898310048160001
password="op01-$RANDOM$RANDOM"
code=$("$HOST_BIN" terminal add --merchant "$merchant" --terminal 30000001 --currency CNY --db "$db" | tail -n 1)
# A checkout terminal (R23), so the checkout routes have one to find and make lanes of (the id of
# the schema's example).
"$HOST_BIN" terminal add --merchant "$merchant" --terminal 20000001 --checkout-origin http://shop.test \
  --db "$db" >/dev/null
echo "$password" | "$HOST_BIN" operator add --merchant "$merchant" --operator 01 --db "$db" >/dev/null
# Rate limits off: the fuzzer activates and signs in hundreds of times a minute, and should
# reach the handlers rather than the limiter (host/tests/edge.rs tests the limits).
"$HOST_BIN" serve --db "$db" --listen 127.0.0.1:0 --activate-per-minute 0 --sign-in-per-minute 0 \
  --sign-in-per-key-per-minute 0 >"$work/host.out" 2>"$work/host.err" &
host_pid=$!
addr=$(listening_on "host" "$work/host.out" "$work/host.err")

post() { curl -sf -H 'content-type: application/json' ${3:+-H "authorization: Bearer $3"} -d "$2" "$addr$1"; }
key=$(post /v1/activate "{\"merchant_id\":\"$merchant\",\"terminal_id\":\"30000001\",\"activation_code\":\"$code\"}" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["terminal_key"])')
token=$(post /v1/sign-in "{\"operator\":\"01\",\"password\":\"$password\"}" "$key" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["session_token"])')
# A lane of it, activated: its key is the credential of the checkout sign-in.
lane_key=$(post /v1/checkout/lanes "{\"merchant_id\":\"$merchant\",\"terminal_id\":\"20000001\"}" |
  python3 -c 'import json,sys; l=json.load(sys.stdin); print(l["lane_id"], l["activation_code"])' |
  { read -r lane code; post /v1/activate "{\"merchant_id\":\"$merchant\",\"terminal_id\":\"$lane\",\"activation_code\":\"$code\"}"; } |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["terminal_key"])')

# Each route is called with the credential it takes: sign-in with the terminal key, the
# checkout sign-in with a lane's key, the rest with the session token. Sign-off ends the session
# the other calls use, so it runs last.
runs=0
run() {
  local bearer=$1
  shift
  runs=$((runs + 1))
  SCHEMATHESIS_HOOKS=schemathesis_hooks PYTHONPATH=scripts \
    target/venv/bin/schemathesis run "$addr/v1/openapi.json" \
    --checks not_a_server_error,response_schema_conformance \
    --max-examples "${SCHEMATHESIS_MAX:-100}" --seed 7 --mode "${SCHEMATHESIS_MODE:-all}" \
    --report har --report-har-path "$work/run$runs.har" \
    -H "Authorization: Bearer $bearer" --no-color "$@" >>"$work/st.out" 2>&1
}
status=0
run "$token" --exclude-path-regex '^/v1/(checkout/)?sign-(in|off)$' || status=$?
run "$key" --include-path /v1/sign-in || status=$?
run "$lane_key" --include-path /v1/checkout/sign-in || status=$?
run "$token" --include-path /v1/sign-off || status=$?
grep -E "generated|passed|failed|Selected|⚠️|❌" "$work/st.out" || true
# How many generated requests got past the host's checks (2xx) and so exercised real paths,
# per route: a schema looser than the checks shows here as a route of 4xx only.
python3 - "$work"/run*.har <<'PY' || true
import collections, json, sys
by_route = collections.defaultdict(collections.Counter)
reasons = collections.defaultdict(collections.Counter)
for path in sys.argv[1:]:
    for e in json.load(open(path))["log"]["entries"]:
        url = e["request"]["url"].split("?")[0]
        route = "/" + url.split("/", 3)[3] if url.count("/") >= 3 else url
        parts = route.split("/")
        if len(parts) == 5 and parts[4] == "upload":
            route = "/v1/settlements/{batch_no}/upload"
        status = e["response"]["status"]
        # 405s are schemathesis probing methods the schema does not document.
        key = ("(undocumented methods)", "") if status == 405 else (e["request"]["method"], route)
        by_route[key][status // 100] += 1
        if status >= 400 and status != 405:
            try:
                err = json.loads(e["response"]["content"].get("text") or "{}")["error"]
                reasons[key][f'{err["code"]}: {err["message"][:60]}'] += 1
            except (KeyError, TypeError, ValueError):
                reasons[key][str(status)] += 1
total = collections.Counter()
for (method, route), c in sorted(by_route.items()):
    total.update(c)
    top = "; ".join(f"{n}x {r}" for r, n in reasons[(method, route)].most_common(2))
    print(f"api: {method} {route}: {sum(c.values())} requests, {c[2]} 2xx, {c[4]} 4xx, {c[5]} 5xx" + (f" (most: {top})" if top else ""))
print(f"api: {sum(total.values())} requests, {total[2]} 2xx, {total[4]} 4xx, {total[5]} 5xx")
PY
# SCHEMATHESIS_HAR_DIR=dir keeps every request and answer (HAR) for a closer look.
if [ -n "${SCHEMATHESIS_HAR_DIR:-}" ]; then cp "$work"/run*.har "$work/st.out" "$SCHEMATHESIS_HAR_DIR"/; fi
[ "$status" -eq 0 ] || tail -n 80 "$work/st.out"
if [ "$status" -ne 0 ]; then
  echo "--- host log (last 30 lines) ---"
  tail -n 30 "$work/host.err"
fi
exit "$status"
