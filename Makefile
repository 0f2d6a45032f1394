# softpos: `make demo` runs the demo, `make test` runs every test. Each installs what it needs.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
CARGO ?= cargo

.PHONY: test test-native test-wasm lint bench toolchain tools pkg size

test: lint test-native test-wasm size

toolchain:
	@command -v cargo >/dev/null || { echo "cargo is required (https://rustup.rs)"; exit 1; }
	@rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy rustfmt

tools: toolchain
	scripts/tools.sh wasm

lint: tools
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(CARGO) clippy --target wasm32-unknown-unknown --lib -- -D warnings

test-native: toolchain
	$(CARGO) test --workspace

# The JS API in headless Chromium against a real host (scripts/test-wasm.sh).
test-wasm: tools
	scripts/tools.sh browser
	scripts/test-wasm.sh

# The shipped module: pkg/softpos.js, softpos_bg.wasm, softpos.d.ts, package.json.
pkg: tools
	scripts/build-pkg.sh

# Fails when the gzipped wasm plus JS glue exceed the budget.
size: pkg
	scripts/size-budget.sh

bench: toolchain
	$(CARGO) bench --bench core
