#!/usr/bin/env bash
# The shipped size, gzipped: wasm plus JS glue must stay within the budget (bytes).
set -euo pipefail
cd "$(dirname "$0")/.."
budget=${SOFTPOS_SIZE_BUDGET:-111000} # 110 615 bytes on 2026-12-05: the cashier's screen (the amount in words, the response codes' zh/en table, the refund picker and the host's sales lookup, the keyboard, the session kept across a reload) added 13 573 to the 97 042 of the terminal API, the widget, the tab lock and its IndexedDB lease, the host's clock and the dependents' reversal (89 251 on 2026-12-03, 102 911 on 2026-11-28, 136 774 before the JS codec); kept tight so it cannot creep back, and the widget's own feature flag (the performance issue) is where it comes down
wasm=$(gzip -9c pkg/softpos_bg.wasm | wc -c)
js=$(gzip -9c pkg/softpos.js | wc -c)
total=$((wasm + js))
echo "shipped size (gzip -9): wasm $wasm + js $js = $total bytes; budget $budget"
if [ "$total" -gt "$budget" ]; then
  echo "over budget by $((total - budget)) bytes" >&2
  exit 1
fi
