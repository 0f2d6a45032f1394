# softpos: `make demo` runs the demo, `make test` runs every test. Each installs what it needs.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
CARGO ?= cargo

.PHONY: demo test test-native test-acquirer test-host-pg test-wasm test-e2e test-fuzz test-api lint bench bench-host toolchain tools pkg pkg-headless size mutants mutants-core mutants-host

test: lint test-native test-acquirer test-host-pg test-wasm size test-e2e test-fuzz test-api

# Builds everything and serves the counter and checkout pages with the host on SQLite.
demo: toolchain
	scripts/demo.sh

toolchain:
	@command -v cargo >/dev/null || { echo "cargo is required (https://rustup.rs)"; exit 1; }
	@rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy rustfmt

tools: toolchain
	scripts/tools.sh wasm

lint: tools
	$(CARGO) fmt --all -- --check
	scripts/shape.sh
	node --test tests/scripts/*.test.mjs
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(CARGO) clippy --target wasm32-unknown-unknown --lib -- -D warnings
	$(CARGO) clippy --target wasm32-unknown-unknown --lib --no-default-features -- -D warnings

# The host's link tests talk to the acquirer peer, so its venv comes first.
test-native: toolchain
	scripts/tools.sh acquirer
	$(CARGO) test --workspace

# The acquirer peer (tests/acquirer/, Python on pyiso8583 in target/acquirer-venv): its scenarios
# over TCP, and the golden vectors in tests/acquirer/vectors.json decoded and re-encoded.
test-acquirer:
	scripts/tools.sh acquirer
	PYTHONDONTWRITEBYTECODE=1 target/acquirer-venv/bin/python -m unittest discover -s tests/acquirer -v

# The host's suite again, against a local PostgreSQL (installed and started if needed).
test-host-pg: toolchain
	scripts/tools.sh acquirer
	scripts/with-postgres.sh $(CARGO) test -p softpos-host

# The JS API in headless Chromium against a real host (scripts/test-wasm.sh).
test-wasm: tools
	scripts/tools.sh browser
	scripts/test-wasm.sh

# The demo pages in headless Chromium, a whole business day in zh-CN and en.
test-e2e: pkg
	scripts/tools.sh browser
	scripts/tools.sh acquirer
	scripts/test-e2e.sh

# Each cargo-fuzz target in fuzz/ for 60 s (FUZZ_SECONDS) on nightly; prints execution counts.
test-fuzz: toolchain
	scripts/test-fuzz.sh

# schemathesis against the host's /v1/openapi.json: no 5xx, every answer as documented.
test-api: toolchain
	scripts/test-api.sh
	SOFTPOS_API_POSTGRES=1 scripts/with-postgres.sh scripts/test-api.sh

# The shipped module: pkg/softpos.js, softpos_bg.wasm, softpos.d.ts, package.json.
pkg: tools
	scripts/build-pkg.sh

# The module without the widget (cargo feature `widget` off), for storefronts with their own UI.
pkg-headless: tools
	scripts/build-pkg.sh headless

# Fails when the gzipped wasm plus JS glue exceed the budget, with the widget and without.
# pkg is built last, so the tests after it find the module with the widget.
size: pkg-headless pkg
	scripts/size-budget.sh

# Every benchmark (size beside two checkout drop-ins, browser start and sales, round trips, host
# load, the core natively), then BENCHMARKS.md rewritten from the figures. About 10 minutes.
bench: pkg-headless pkg
	scripts/tools.sh bench
	scripts/bench.sh

# Host load: approved sales/s and p50/p99 at 1, 8, 64 terminals on SQLite and PostgreSQL, with
# the raw committed-insert rate of the same database beside it. Rewrites only the host's figures
# in BENCHMARKS.md; the others keep theirs.
bench-host: toolchain
	SOFTPOS_BENCH_SKIP="twiggy browser core" scripts/bench.sh

# Mutation testing, run by hand (never part of `make test`): every mutant cargo-mutants makes of
# src/terminal against the core's native tests, and of the host's ledger against the host's suite
# on SQLite. Reports land in mutants.out/core/mutants.out and mutants.out/host/mutants.out
# (missed.txt is what to read); docs/mutants.md has the scores and the misses that change
# nothing observable. About 50 minutes for the core on 2 cores, hours for the host's ledger.
# MUTANTS_ARGS passes more options, e.g. MUTANTS_ARGS="--file src/terminal/money.rs" or "--iterate".
MUTANTS_ARGS ?=
mutants: mutants-core mutants-host

mutants-core: toolchain
	scripts/tools.sh mutants
	$(CARGO) mutants -p softpos --file 'src/terminal/*.rs' --timeout 30 -j 1 -o mutants.out/core $(MUTANTS_ARGS) \
		-- --test core_rules --test core_props --test core_edges --lib

mutants-host: toolchain
	scripts/tools.sh mutants
	$(CARGO) mutants -p softpos-host --file 'host/src/ledger/*.rs' --timeout 300 -j 1 -o mutants.out/host $(MUTANTS_ARGS)
