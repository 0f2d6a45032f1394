# softpos: `make demo` runs the demo, `make test` runs every test. Each installs what it needs.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
CARGO ?= cargo

.PHONY: test test-native test-host-pg lint bench toolchain

test: lint test-native test-host-pg

toolchain:
	@command -v cargo >/dev/null || { echo "cargo is required (https://rustup.rs)"; exit 1; }
	@rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy rustfmt

lint: toolchain
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

test-native: toolchain
	$(CARGO) test --workspace

# The host's suite again, against a local PostgreSQL (installed and started if needed).
test-host-pg: toolchain
	scripts/with-postgres.sh $(CARGO) test -p softpos-host

bench: toolchain
	$(CARGO) bench --bench core
