#!/usr/bin/env bash
# The shipped size, gzipped: wasm plus JS glue must stay within the budget (bytes).
set -euo pipefail
cd "$(dirname "$0")/.."
budget=${SOFTPOS_SIZE_BUDGET:-97500} # the terminal API, the widget, the tab lock and, for pages that are not a secure context, the IndexedDB lease that stands in for it, the host's clock, and a reversal the host refused for a transaction's dependents: 97 083 bytes on 2026-12-04 (89 251 on 2026-12-03 before the lease and the clock, 102 911 on 2026-11-28, 136 774 before the JS codec); kept tight so it cannot creep back
wasm=$(gzip -9c pkg/softpos_bg.wasm | wc -c)
js=$(gzip -9c pkg/softpos.js | wc -c)
total=$((wasm + js))
echo "shipped size (gzip -9): wasm $wasm + js $js = $total bytes; budget $budget"
if [ "$total" -gt "$budget" ]; then
  echo "over budget by $((total - budget)) bytes" >&2
  exit 1
fi
