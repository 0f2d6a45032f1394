#!/usr/bin/env bash
# Builds the shipped module into pkg/: softpos.js, softpos_bg.wasm, softpos.d.ts, package.json.
# `scripts/build-pkg.sh headless` builds it without the widget (cargo feature `widget`) into
# pkg-headless/, for storefronts that draw their own UI on the `Terminal` API.
set -euo pipefail
cd "$(dirname "$0")/.."
out=pkg
name=softpos
features=()
if [ "${1:-}" = headless ]; then
  out=pkg-headless
  name=softpos-headless
  features=(--no-default-features)
fi
cargo build --target wasm32-unknown-unknown --release -p softpos "${features[@]}"
wasm-bindgen --target web --out-dir "$out" target/wasm32-unknown-unknown/release/softpos.wasm
# Size pass; the module's target_features section tells wasm-opt which features it may use.
# Two assumptions that hold for this module and let wasm-opt drop code (about 0.7 KB gzipped):
# its memory is its own, so it starts zero-filled (--zero-filled-memory); and Rust puts the
# stack at 1 MiB growing down and the data above it, so the lowest 1 KiB is never addressed
# (--low-memory-unused) short of a stack overflow, which would corrupt memory anyway.
# Flattening the code and rebuilding its control flow with binaryen's relooper, then sizing
# again, finds another 0.3 KB gzipped (measured with the typed ids in, December 2026); the
# e2e suite runs on this module. Rust checks its own bounds and divisors before a load or a
# division (a failed check panics, an explicit `unreachable` that stays), so no implicit trap is
# ever meant to fire and wasm-opt may move or drop the loads (--ignore-implicit-traps: 0.1 KB).
# binaryen's whole-module flow analysis (--gufa-optimizing) then finds the values that can only
# be constants and drops what they make dead (0.2 KB, December 2026).
node_modules/.bin/wasm-opt -Oz --flatten --rereloop -Oz --gufa-optimizing -Oz --converge --ignore-implicit-traps \
  --low-memory-unused --zero-filled-memory \
  --strip-debug --strip-producers "$out/softpos_bg.wasm" -o "$out/softpos_bg.wasm"
# The imports under short names in the wasm and the glue alike (scripts/lib/short-imports.mjs):
# wasm-bindgen's hashed names do not compress (4.9 KB less gzipped, December 2026).
node scripts/lib/short-imports.mjs "$out"
# The JS glue without whitespace (2.7 KB less gzipped), and with its local names shortened (0.55
# KB less). No `--format`: esbuild then keeps the module's top-level names, so `Terminal` is
# still `Terminal` (and `errorMessage` `errorMessage`) in a stack trace or the console; only
# the glue's parameters and locals are renamed.
node_modules/.bin/esbuild "$out/softpos.js" --minify-whitespace --minify-syntax --minify-identifiers --target=es2020 \
  --outfile="$out/softpos.js" --allow-overwrite --log-level=warning
version=$(awk -F'"' '/^version = / { print $2; exit }' Cargo.toml)
cat > "$out/package.json" <<JSON
{
  "name": "$name",
  "version": "$version",
  "description": "A browser payment terminal: sign-in, sales, voids, refunds, settlement, sign-off",
  "type": "module",
  "main": "softpos.js",
  "module": "softpos.js",
  "types": "softpos.d.ts",
  "files": ["softpos.js", "softpos_bg.wasm", "softpos.d.ts", "softpos_bg.wasm.d.ts"],
  "sideEffects": false,
  "license": "Apache-2.0"
}
JSON
echo "$out/ built: $(stat -c%s "$out/softpos_bg.wasm") bytes of wasm, $(stat -c%s "$out/softpos.js") bytes of JS"
