#!/usr/bin/env bash
# The shipped size, gzipped: wasm plus JS glue must stay within the budget (bytes), for the
# module with the widget (pkg/) and without it (pkg-headless/, cargo feature `widget` off), and
# the storefront's loader of the hosted checkout (www/softpos-checkout.js, no wasm).
set -euo pipefail
cd "$(dirname "$0")/.."
# 124 521 bytes on 2026-12-05: the batch upload in chunks (R11: a chunk's answer read, the
# host's count kept in the pending upload, each chunk cut from the journal) added 441 to the
# 124 080 before it.
# 124 080 bytes on 2026-12-05: the codec's writers to JSON text, parsed by the browser
# (src/protocol/codec/text.rs), added 1 041 to the 123 039 before them, for about 0.15 ms less
# JS work a sale and 100 ms less in a 10 000-entry upload (BENCHMARKS.md, history).
# 123 050 bytes on 2026-12-06: wasm-opt --gufa-optimizing took 144 off the 123 194 of the
# imports under short names (scripts/lib/short-imports.mjs: wasm-bindgen's hashed import names
# in the wasm and the glue), which took 4 793 off the 127 987 of the slips and reports,
# pre-authorisation and the transaction query below.
# 116 517 bytes on 2026-12-06: pre-authorisation (R20: the terminal's four operations, the
# journal's holds, the JS API's four methods and the counter's pre-authorisation tab) added
# 3 293 to the 113 224 of the totals' completion line and domestic/foreign halves (R20, R21),
# which had added 2 157 to the 111 067 below.
# 111 067 bytes on 2026-12-05: wasm-opt --ignore-implicit-traps took 95 more off.
# 111 162 bytes on 2026-12-05: the JS glue's local names shortened (esbuild --minify-identifiers,
# top-level names kept) took 597 off the 111 759 before it.
# 111 759 bytes on 2026-12-05: the console's remote sign-off (SIGNED_OFF_REMOTELY's texts, the
# recovery banner it raises) added 149.
# 111 610 bytes on 2026-12-05: the hosted checkout (a lane's sign-in, the order reference sent
# and read back, SALES_ONLY's texts) added 659 to the 110 951 before it.
# 110 951 bytes on 2026-12-05: the cashier's screen (the amount in words, the response codes'
# zh/en table, the refund picker and the host's sales lookup, the keyboard, the session kept
# across a reload) added 13 573 to the 97 042 of the terminal API, the widget, the tab lock
# and its IndexedDB lease, the host's clock and the dependents' reversal, and the acquirer's
# verdict on the slip 328 more (89 251 on 2026-12-03, 102 911 on 2026-11-28, 136 774 before the
# JS codec); kept tight so it cannot creep back. R21's slips and reports (two copies, reprints,
# the X report, settlement slips, the settled batches' history) measured 8 269 more: 111 067 on
# main before them, 119 336 with them; pre-authorisation on the wire and the totals' completion
# line and domestic/foreign halves (R20, R21) 2 052 more: 121 388; pre-authorisation's four
# operations and the widget's tab (R20) 3 013 more: 124 401; the transaction query's tab
# (R21) 3 551 more: 127 952.
budget=${SOFTPOS_SIZE_BUDGET:-124521}
# 84 182 bytes on 2026-12-05, the first build without the widget: what a storefront with its
# own UI ships; 84 840 with the hosted checkout's sign-in and reference; 85 010 with the remote
# sign-off; 84 456 with the JS glue's local names shortened (554 less); 84 327 with
# wasm-opt --ignore-implicit-traps (129 less); 87 649 with R21's slip, merchant name and
# settled batches in the API (3 322 more); 89 646 with pre-authorisation on the wire and the
# totals' halves (1 997 more); 91 680 with pre-authorisation's four operations (2 034 more);
# 91 693 with the transaction query; 88 075 with the imports under short names (3 618 less);
# 87 945 with wasm-opt --gufa-optimizing (130 less); 89 431 with the writers to JSON text
# (1 460 more, for the reasons above); 89 734 with the batch upload in chunks (303 more).
# The performance issue's target is 64 000.
headless_budget=${SOFTPOS_HEADLESS_SIZE_BUDGET:-89734}

check() { # DIR BUDGET
  local wasm js total
  wasm=$(gzip -9c "$1/softpos_bg.wasm" | wc -c)
  js=$(gzip -9c "$1/softpos.js" | wc -c)
  total=$((wasm + js))
  echo "$1 shipped size (gzip -9): wasm $wasm + js $js = $total bytes; budget $2"
  if [ "$total" -gt "$2" ]; then
    echo "$1 is over budget by $((total - $2)) bytes" >&2
    return 1
  fi
}

# 1 728 bytes on 2026-12-05, the first loader: all a storefront ships to take payments in the
# host's frame (README.md, "Taking payments in a web shop"). Served as written, unminified.
loader_budget=${SOFTPOS_LOADER_SIZE_BUDGET:-2500}

status=0
check pkg "$budget" || status=1
check pkg-headless "$headless_budget" || status=1
loader=$(gzip -9c www/softpos-checkout.js | wc -c)
echo "www/softpos-checkout.js, the storefront's loader (gzip -9): $loader bytes; budget $loader_budget"
if [ "$loader" -gt "$loader_budget" ]; then
  echo "the loader is over budget by $((loader - loader_budget)) bytes" >&2
  status=1
fi
exit $status
