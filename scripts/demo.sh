#!/usr/bin/env bash
# `make demo`: builds pkg/ and the host, then serves the demo pages with the host on SQLite.
# Listens on $SOFTPOS_LISTEN, else 127.0.0.1:8080. Ctrl-C stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/tools.sh wasm
scripts/build-pkg.sh
cargo build -q -p softpos-host
mkdir -p target/demo
listen=${SOFTPOS_LISTEN:-127.0.0.1:8080}
echo
echo "softpos demo: open the address on the \"listening on\" line below (counter: /pos.html, storefront: /checkout.html)"
echo "The demo shop, a storefront on an origin of its own that pays through the host's checkout frame,"
echo "is on the \"shop on\" line (by default the host's port + 1; SOFTPOS_SHOP_LISTEN sets it)."
echo "The activation codes and passwords are below; the data lives in target/demo/softpos.db."
echo
shop=()
[ -z "${SOFTPOS_SHOP_LISTEN:-}" ] || shop=(--shop-listen "$SOFTPOS_SHOP_LISTEN")
exec target/debug/softpos-host demo --db sqlite://target/demo/softpos.db --listen "$listen" --www www "${shop[@]}"
