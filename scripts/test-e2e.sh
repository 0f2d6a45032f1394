#!/usr/bin/env bash
# End-to-end: the demo pages in Debian's headless Chromium (playwright-core) against a real
# softpos-host. Screenshots of each step land in target/e2e/. One file, once the builds below
# exist: node --test tests/e2e/checkout-frame.test.mjs (the hosted checkout on two sites).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -n "${SOFTPOS_HOST_BIN:-}" ] || cargo build -q -p softpos-host
[ -f pkg/softpos.js ] || scripts/build-pkg.sh
[ -f pkg-headless/softpos.js ] || scripts/build-pkg.sh headless
node --test --test-concurrency=1 tests/e2e/
