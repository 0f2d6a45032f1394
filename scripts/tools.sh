#!/usr/bin/env bash
# Installs, when missing, what the build and the tests need. Idempotent; safe to run often.
#   scripts/tools.sh wasm      wasm target, wasm-bindgen CLI (the version in Cargo.lock), npm packages
#                              (wasm-opt, esbuild, playwright-core, axe-core)
#   scripts/tools.sh browser   the above, plus Debian's Chromium and ChromeDriver
#   scripts/tools.sh fuzz      nightly toolchain, cargo-fuzz
#   scripts/tools.sh api       schemathesis in a venv under target/
#   scripts/tools.sh acquirer  pyiso8583 for the acquirer peer (tests/acquirer/) in target/acquirer-venv
#   scripts/tools.sh bench     the browser tools, plus twiggy (the size breakdown in BENCHMARKS.md)
#   scripts/tools.sh mutants   cargo-mutants, pinned (make mutants)
set -euo pipefail
cd "$(dirname "$0")/.."

need_wasm() {
  rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown ||
    rustup target add wasm32-unknown-unknown
  # The CLI must match the wasm-bindgen crate exactly, or the bindings it writes do not load.
  local want
  want=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3; exit }' Cargo.lock)
  if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$want" ]; then
    echo "installing wasm-bindgen-cli $want (takes a minute or two)"
    # Without --locked: the registry here lacks one locked dependency version.
    cargo install wasm-bindgen-cli --version "$want"
  fi
  # wasm-opt comes from npm's binaryen, never Debian's (its output breaks the externref table);
  # axe-core is the e2e tests' accessibility check. A package missing or the lock file changed
  # since the last install: install what the lock file says.
  if [ ! -x node_modules/.bin/wasm-opt ] || [ ! -f node_modules/axe-core/axe.min.js ] ||
    [ package-lock.json -nt node_modules/.package-lock.json ]; then
    npm ci --no-audit --no-fund
  fi
}

need_browser() {
  if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
    echo "installing Debian's chromium and chromium-driver"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # A CJK font, so screenshots of the zh-CN pages show Chinese rather than boxes.
    apt-get install -y -qq chromium chromium-driver fonts-wqy-microhei >/dev/null
  fi
}

need_fuzz() {
  # libFuzzer needs nightly's -Zsanitizer (no rust-src: cargo-fuzz does not rebuild std here).
  rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
  command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz
}

need_api() {
  # schemathesis from PyPI, kept out of the system Python.
  if [ ! -x target/venv/bin/schemathesis ]; then
    python3 -m venv target/venv
    target/venv/bin/pip install -q schemathesis
  fi
}

need_acquirer() {
  # A venv of its own, rebuilt only when missing or when the pinned requirements changed (the
  # copy kept inside it is the stamp). Debian's python3 lacks the venv module until
  # python3-venv is installed.
  local venv=target/acquirer-venv req=tests/acquirer/requirements.txt
  if [ -x "$venv/bin/python" ] && cmp -s "$req" "$venv/requirements.txt"; then
    return
  fi
  if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
    echo "installing Debian's python3-venv"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq python3-venv >/dev/null
  fi
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check --require-hashes -r "$req"
  cp "$req" "$venv/requirements.txt"
}

need_bench() {
  command -v twiggy >/dev/null || cargo install twiggy
}

need_mutants() {
  # Pinned: mutant names and counts change between releases, and docs/mutants.md cites them.
  local want=27.1.0
  if [ "$(cargo mutants --version 2>/dev/null | awk '{print $2}')" != "$want" ]; then
    echo "installing cargo-mutants $want (takes a few minutes)"
    cargo install cargo-mutants --locked --version "$want"
  fi
}

case "${1:-wasm}" in
  wasm) need_wasm ;;
  browser) need_wasm; need_browser ;;
  fuzz) need_fuzz ;;
  api) need_api ;;
  acquirer) need_acquirer ;;
  bench) need_wasm; need_browser; need_bench ;;
  mutants) need_mutants ;;
  *) echo "usage: $0 wasm|browser|fuzz|api|acquirer|bench|mutants" >&2; exit 2 ;;
esac
