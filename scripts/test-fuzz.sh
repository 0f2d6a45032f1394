#!/usr/bin/env bash
# The cargo-fuzz targets in fuzz/ (issue 7), each for FUZZ_SECONDS (default 60) from the corpus
# kept in fuzz/corpus/<target>. A panic is a failure: libFuzzer saves the input under
# fuzz/artifacts/<target>/ and this script fails. New corpus entries go to a scratch directory,
# so the committed corpus stays small unless someone adds to it on purpose.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/tools.sh fuzz
seconds=${FUZZ_SECONDS:-60}
export CARGO_BUILD_JOBS=${CARGO_BUILD_JOBS:-2}
cd fuzz
cargo +nightly fuzz build
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
for target in snapshot_restore wire_answers card_amount_parse request_bodies codec_vs_serde iso8583_decode; do
  mkdir -p "$scratch/$target"
  log="$scratch/$target.log"
  if ! cargo +nightly fuzz run "$target" "$scratch/$target" "corpus/$target" -- \
      -max_total_time="$seconds" -max_len=4096 -print_final_stats=1 >"$log" 2>&1; then
    tail -n 40 "$log"
    echo "fuzz: $target FAILED (input saved under fuzz/artifacts/$target/)"
    exit 1
  fi
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  echo "fuzz: $target ${runs:-?} executions in ${seconds}s, no panic"
done
