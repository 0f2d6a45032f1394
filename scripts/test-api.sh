#!/usr/bin/env bash
# API fuzzing (issue 7): schemathesis against /v1/openapi.json of a real softpos-host on a free
# loopback port with a fresh SQLite file. Every generated request must get an answer that is
# not a 5xx and matches the documented schema. Calls carry a real session token, so the
# generated bodies reach the handlers and not only the auth check. Bounded by SCHEMATHESIS_MAX
# examples per operation (default 100) to keep it to a minute or two.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/tools.sh api
HOST_BIN=${SOFTPOS_HOST_BIN:-target/debug/softpos-host}
[ -n "${SOFTPOS_HOST_BIN:-}" ] || cargo build -q -p softpos-host

work=$(mktemp -d)
host_pid=
cleanup() {
  # Never stop the trap early under `set -e`: the temp dir must go too.
  if [ -n "$host_pid" ]; then kill "$host_pid" 2>/dev/null || true; wait "$host_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

db="sqlite://$work/host.db"
merchant=898310048160001
password="op01-$RANDOM$RANDOM"
code=$("$HOST_BIN" terminal add --merchant "$merchant" --terminal 30000001 --currency CNY --db "$db" | tail -n 1)
echo "$password" | "$HOST_BIN" operator add --merchant "$merchant" --operator 01 --db "$db" >/dev/null
"$HOST_BIN" serve --db "$db" --listen 127.0.0.1:0 >"$work/host.out" 2>"$work/host.err" &
host_pid=$!
for _ in $(seq 1 100); do
  addr=$(sed -n 's/^listening on //p' "$work/host.out" | head -n 1)
  [ -n "$addr" ] && break
  sleep 0.1
done
[ -n "${addr:-}" ] || { echo "the host did not start:"; cat "$work/host.err"; exit 1; }

post() { curl -sf -H 'content-type: application/json' ${3:+-H "authorization: Bearer $3"} -d "$2" "$addr$1"; }
key=$(post /v1/activate "{\"merchant_id\":\"$merchant\",\"terminal_id\":\"30000001\",\"activation_code\":\"$code\"}" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["terminal_key"])')
token=$(post /v1/sign-in "{\"operator\":\"01\",\"password\":\"$password\"}" "$key" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["session_token"])')

# Sign-off ends the session the other calls use, so it runs last, on its own.
run() {
  target/venv/bin/schemathesis run "$addr/v1/openapi.json" \
    --checks not_a_server_error,response_schema_conformance \
    --max-examples "${SCHEMATHESIS_MAX:-100}" --seed 7 \
    -H "Authorization: Bearer $token" --no-color "$@" >>"$work/st.out" 2>&1
}
status=0
run --exclude-path /v1/sign-off || status=$?
run --include-path /v1/sign-off || status=$?
grep -E "generated|passed|failed|Selected|⚠️|❌" "$work/st.out" || true
[ "$status" -eq 0 ] || tail -n 80 "$work/st.out"
if [ "$status" -ne 0 ]; then
  echo "--- host log (last 30 lines) ---"
  tail -n 30 "$work/host.err"
fi
exit "$status"
