#!/usr/bin/env bash
# The browser tests (tests/web.rs, tests/faults.rs) in headless Chromium against a real
# softpos-host process: a fresh SQLite file, a free loopback port, and a fresh terminal for each
# test that asks (tests/browser/provisioner.py, through the host's admin CLI). The processes
# are stopped by their PIDs when the tests end, pass or fail.
set -euo pipefail
source "$(dirname "$0")/lib/listening.sh"
cd "$(dirname "$0")/.."

HOST_BIN=${SOFTPOS_HOST_BIN:-target/debug/softpos-host}
[ -n "${SOFTPOS_HOST_BIN:-}" ] || cargo build -q -p softpos-host
# The fault proxy (host/examples/fault_proxy.rs) for tests/faults.rs.
cargo build -q -p softpos-host --example fault_proxy
PROXY_BIN=target/debug/examples/fault_proxy

work=$(mktemp -d)
host_pid=
proxy_pid=
provisioner_pid=
cleanup() {
  # Each step must run even when one before it fails (a process that died of its signal makes
  # `wait` non-zero), so nothing here may stop the trap under `set -e`.
  if [ -n "$provisioner_pid" ]; then kill "$provisioner_pid" 2>/dev/null || true; wait "$provisioner_pid" 2>/dev/null || true; fi
  if [ -n "$proxy_pid" ]; then kill "$proxy_pid" 2>/dev/null || true; wait "$proxy_pid" 2>/dev/null || true; fi
  if [ -n "$host_pid" ]; then kill "$host_pid" 2>/dev/null || true; wait "$host_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# Every test terminal is activated and signed in from this one address, many times a minute:
# the rate limits (tested in host/tests/edge.rs) are off for this host and the proxy's.
export SOFTPOS_ACTIVATE_PER_MINUTE=0 SOFTPOS_SIGN_IN_PER_MINUTE=0 SOFTPOS_SIGN_IN_PER_KEY_PER_MINUTE=0

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

db="sqlite://$work/host.db"
merchant=898310048160001
operator_pw="op01-$RANDOM$RANDOM"
supervisor_pw="sup00-$RANDOM$RANDOM"
echo "$operator_pw" | "$HOST_BIN" operator add --merchant "$merchant" --operator 01 --db "$db" >/dev/null
echo "$operator_pw" | "$HOST_BIN" operator add --merchant "$merchant" --operator 02 --db "$db" >/dev/null
echo "$supervisor_pw" | "$HOST_BIN" operator add --merchant "$merchant" --operator 00 --db "$db" >/dev/null

# The test page is served from this port, so the host allows exactly that origin.
page_port=$(free_port)
"$HOST_BIN" serve --db "$db" --listen 127.0.0.1:0 --allow-origin "http://127.0.0.1:$page_port" \
  >"$work/host.out" 2>"$work/host.err" &
host_pid=$!
addr=$(listening_on "host" "$work/host.out" "$work/host.err")
echo "host at $addr (pid $host_pid), test page at http://127.0.0.1:$page_port"

# Terminals on demand: each test asks for a fresh one when it needs it (no list of ids to keep
# in step with the tests). The helper runs the admin CLI on the same database.
python3 tests/browser/provisioner.py "$HOST_BIN" "$db" "$merchant" "http://127.0.0.1:$page_port" \
  >"$work/provisioner.out" 2>"$work/provisioner.err" &
provisioner_pid=$!
provisioner=$(listening_on "provisioner" "$work/provisioner.out" "$work/provisioner.err")
export SOFTPOS_TEST_PROVISIONER="http://$provisioner"

# tests/faults.rs talks to the host through the proxy, which breaks the requests it is told to.
# It runs a second host of its own on the same database, which a scenario may SIGKILL and
# restart; it stops that host when it is stopped.
"$PROXY_BIN" --host-bin "$HOST_BIN" --db "$db" --allow-origin "http://127.0.0.1:$page_port" \
  >"$work/proxy.out" 2>"$work/proxy.err" &
proxy_pid=$!
proxy=$(listening_on "fault proxy" "$work/proxy.out" "$work/proxy.err")
echo "fault proxy at $proxy (pid $proxy_pid)"
export SOFTPOS_TEST_PROXY="$proxy"

export SOFTPOS_TEST_HOST="$addr"
export SOFTPOS_TEST_OPERATOR_PASSWORD="$operator_pw"
export SOFTPOS_TEST_SUPERVISOR_PASSWORD="$supervisor_pw"
export WASM_BINDGEN_TEST_ADDRESS="127.0.0.1:$page_port"
export WASM_BINDGEN_TEST_TIMEOUT=400
export CHROMEDRIVER=${CHROMEDRIVER:-/usr/bin/chromedriver}
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
status=0
cargo test --target wasm32-unknown-unknown --test codec --test web --test faults "$@" || status=$?
if [ "$status" -ne 0 ]; then
  echo "--- host log (last 40 lines) ---"
  tail -n 40 "$work/host.err"
fi
exit "$status"
