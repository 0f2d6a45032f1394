#!/usr/bin/env bash
# `make bench`: every benchmark, one after the other, then BENCHMARKS.md rewritten from their
# output: shipped size (with twiggy), the browser figures (scripts/bench-browser.mjs), the host
# load (host/examples/load.rs), the core natively (criterion). Everything after the line
# `<!-- history -->` in the old BENCHMARKS.md (the hand-kept before/after record) is kept, and so
# is every set of figures this run did not measure, with its date and commit
# (scripts/lib/bench-file.mjs). Takes about 10 minutes on 2 cores. Prints numbers; asserts
# nothing about time.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# Set `SOFTPOS_BENCH_SKIP="host core"` (any of twiggy browser host core) to rerun only a part
# (`make bench-host` skips all but host); the parts skipped keep their last figures.
skip=" ${SOFTPOS_BENCH_SKIP:-} "
run() { [[ "$skip" != *" $1 "* ]]; }

cargo build -j2 --profile host -p softpos-host --bin softpos-host --examples
commands=("cargo build --profile host -p softpos-host --bin softpos-host --examples")
if run twiggy || run browser; then commands=("make pkg-headless pkg" "${commands[@]}"); fi

if run twiggy; then
  # Names for twiggy: the same build through wasm-bindgen with its debug names kept. The
  # shipped file has none, so its items are looked up by size there.
  wasm-bindgen --target web --keep-debug --out-dir "$out/named" target/wasm32-unknown-unknown/release/softpos.wasm
  twiggy top -n 25 "$out/named/softpos_bg.wasm" > "$out/twiggy.txt"
  commands+=("wasm-bindgen --keep-debug … && twiggy top -n 25 softpos_bg.wasm")
fi

if run browser; then
  node scripts/bench-browser.mjs --host target/host/softpos-host > "$out/browser.md"
  commands+=("node scripts/bench-browser.mjs --host target/host/softpos-host")
fi
if run host; then
  scripts/with-postgres.sh target/host/examples/load --bin target/host/softpos-host --seconds 6 > "$out/host.md"
  commands+=("scripts/with-postgres.sh target/host/examples/load --bin target/host/softpos-host --seconds 6")
fi
if run core; then
  touch "$out/stamp"
  sleep 1
  cargo bench -j2 --bench core > "$out/criterion.txt" 2>&1
  commands+=("cargo bench --bench core")
  # Criterion's own estimates of this run (median of the samples, per iteration).
  find target/criterion -path '*/new/estimates.json' -newer "$out/stamp" | sort -V | node -e '
    const fs = require("fs");
    const files = fs.readFileSync(0, "utf8").trim().split("\n").filter(Boolean);
    const fmt = (ns) => ns >= 1e6 ? (ns / 1e6).toFixed(2) + " ms" : ns >= 1e3 ? (ns / 1e3).toFixed(2) + " µs" : ns.toFixed(0) + " ns";
    console.log("| benchmark | median per iteration | 95 % interval |");
    console.log("|---|---:|---:|");
    for (const f of files) {
      const id = JSON.parse(fs.readFileSync(f.replace("estimates.json", "benchmark.json"))).full_id;
      const m = JSON.parse(fs.readFileSync(f)).median;
      console.log(`| \`${id}\` | ${fmt(m.point_estimate)} | ${fmt(m.confidence_interval.lower_bound)} – ${fmt(m.confidence_interval.upper_bound)} |`);
    }' > "$out/core.md"
fi

# Each set of figures between markers; "(not run)" makes bench-file.mjs keep the old set.
section() { # the part of browser.md after <!-- $1 -->
  echo "<!-- figures $1 -->"
  if [ -f "$out/browser.md" ]; then
    awk -v s="<!-- $1 -->" '$0 == s { on = 1; next } /^<!-- / { on = 0 } on' "$out/browser.md"
  else
    echo "(not run)"
  fi
  echo "<!-- end $1 -->"
}
kept() { # the file $2 of this run as the set $1
  echo "<!-- figures $1 -->"
  [ -f "$out/$2" ] && cat "$out/$2" || echo "(not run)"
  echo "<!-- end $1 -->"
}
fenced() { [ -f "$out/$1" ] && { echo '```text'; cat "$out/$1"; echo '```'; } || echo "(not run)"; }
history=$(awk '/^<!-- history -->$/ { on = 1 } on' BENCHMARKS.md 2>/dev/null || true)
stamp=$(date -u '+%Y-%m-%d %H:%M UTC')
commit=$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src Cargo.toml host || echo " (with uncommitted changes)")

{
  cat <<MD
# Benchmarks

Written by \`make bench\` (scripts/bench.sh); edit only the part after \`<!-- history -->\`.
A run that skips a part (\`make bench-host\`, \`SOFTPOS_BENCH_SKIP\`) keeps that part's last
figures; each set says when and at which commit it was measured.

- last written: $stamp
- machine: $(nproc) cores shared with other work, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo), $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) memory, $(. /etc/os-release && echo "$PRETTY_NAME")
- tools: $(rustc --version), node $(node --version), $(/usr/bin/chromium --version 2>/dev/null | head -1)
- commit: $commit
- commands of this run:
$(for c in "${commands[@]}"; do echo "  - \`$c\`"; done)

## Against the targets

Each figure the performance work aims at, worked out from the sets of figures below (so from
the run each of them names, with the peers of that run), and its target
(scripts/lib/bench-targets.mjs):

<!-- targets -->
<!-- end targets -->

## Shipped size

Each file compressed on its own (as a server sends it) and summed; the peers measured the same
way in the same run. The softpos module includes the widget (the counter and checkout UI).

$(section size)

The biggest items of the wasm (\`twiggy top\`, names from a \`--keep-debug\` build before
wasm-opt, so the bytes are larger than shipped; "function names" is debug data, not shipped):

<!-- figures twiggy -->
$(fenced twiggy.txt)
<!-- end twiggy -->

## Start (headless Chromium, localhost)

A new browser context per load, the HTTP cache disabled through the DevTools protocol; the page
imports \`/pkg/softpos.js\`, calls \`init()\` (\`WebAssembly.instantiateStreaming\`), opens a
terminal and mounts the widget, timed with \`performance.now()\` up to the next animation frame.

$(section start)

## Per sale in the browser

One terminal (IndexedDB storage) sells approved sales one after the other against the host,
filling its batch to 20 000 entries (the default \`maxBatchEntries\`). The page watches the
terminal from outside: it wraps \`fetch\` (call to body read) and
\`IDBDatabase.transaction\` (creation to \`complete\`). **Own work** is the whole \`sale()\`
less its requests' fetch spans: the core, JS↔wasm, the IndexedDB write-ahead before the
request (R18) and the write of the answer before the promise resolves. **Of which IndexedDB**
is the two transactions' time. Each batch-size row is the sales that brought the batch up to
that size (the first 10; the 50 before 1 000 and before 20 000).

$(section per-sale)

## Round trip

\`sale()\` from the JS call to the resolved promise, against the host on loopback (SQLite file,
release build), over every sale of the batch above:

$(section round-trip)

Settlement of a 10 000-entry batch: balanced (totals only), and unbalanced (a sale booked on
the host behind the terminal's back, so the terminal uploads its 10 000 entries and the host
compares them one by one):

$(section settle)

## Host load (\`make bench-host\`)

$(kept host host.md)

$(cat benches/host-notes.md)

## Core natively (criterion)

\`cargo bench --bench core\` (benches/core.rs): append to the journal and a sale in the core at
several batch sizes, fold and compare 100 000 lines, snapshot and restore 20 000 entries.

$(kept core core.md)

$history
MD
} > "$out/draft.md"
node scripts/lib/bench-file.mjs BENCHMARKS.md "$out/draft.md" "$stamp" "$commit" > BENCHMARKS.md.new
mv BENCHMARKS.md.new BENCHMARKS.md
node scripts/lib/bench-targets.mjs BENCHMARKS.md
echo "BENCHMARKS.md written"
