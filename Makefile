# Entry points for developers and CI. `make test` is the one command that runs the tests:
# it starts the test services (Kafka, PostgreSQL, OpenSearch; see scripts/services.sh)
# when they are not running yet, and leaves them running for the next run.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
CARGO ?= cargo
TEST_THREADS ?= 4

.PHONY: build test services helm services-down lint demo bench soak fuzz fuzz-ci

build:
	$(CARGO) build --release

# The main job on the embedded defaults: the timeline flavor over examples/events.ndjson
# (file source, no Kafka) into SQLite, then two case timelines. Needs only the Rust toolchain.
DEMO_DB := sqlite://target/demo.db?mode=rwc
CEH := $(CARGO) run --quiet --
demo:
	mkdir -p target
	rm -f target/demo.db target/demo.db-shm target/demo.db-wal examples/events.ndjson.dlq.timeline.ndjson
	$(CEH) run --flavor timeline --source file:examples/events.ndjson --set 'store.url=$(DEMO_DB)' --set telemetry.log_level=warn
	$(CEH) timeline show SEC-1 --set 'store.url=$(DEMO_DB)' --set telemetry.log_level=warn
	$(CEH) timeline show PAY-2 --set 'store.url=$(DEMO_DB)' --set telemetry.log_level=warn

# The services' addresses come from .devinfra/env, which `scripts/services.sh up` writes;
# `set -a` exports KAFKA_BROKERS, DATABASE_URL and OPENSEARCH_URL to the tests.
# Benches (Criterion, harness = false) are left out: they take no test flags. Doc tests
# run in a second step. --no-fail-fast: every test binary runs even when one fails, so
# one red test never hides another.
test: services helm
	set -a; if [ -f .devinfra/env ]; then . ./.devinfra/env; fi; set +a; \
	echo "KAFKA_BROKERS=$${KAFKA_BROKERS-} DATABASE_URL=$${DATABASE_URL-} OPENSEARCH_URL=$${OPENSEARCH_URL-}"; \
	rc=0; \
	$(CARGO) test --no-fail-fast --lib --bins --tests --examples -- --test-threads=$(TEST_THREADS) || rc=$$?; \
	$(CARGO) test --no-fail-fast --doc -- --test-threads=$(TEST_THREADS) || rc=$$?; \
	exit $$rc

services:
	scripts/services.sh up

# Helm for tests/helm.rs, built from source into .devinfra/bin (needs Go; skipped when present).
helm:
	scripts/install-helm.sh

services-down:
	scripts/services.sh down

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --all-targets -- -D warnings

# Every benchmark scenario, 3 trials each, into BENCHMARKS.md (bench/run.py; sizes and
# trials are environment variables, see its docstring). Starts Kafka and PostgreSQL.
bench:
	python3 bench/run.py

# Two flavors (timeline, evp-indexer) and a timer replica (SOAK_TIMER_RATE due/s) for SOAK_SECS
# (1800) at SOAK_RATE (2000) events/s under
# random SIGKILL/SIGTERM and PostgreSQL and broker restarts, on private services (127.0.0.1),
# then an outside check; report in target/soak/<UTC time>/report.md. Not part of `make test`.
soak:
	$(CARGO) build --release --bin case-event-handler --example bench_runtime
	python3 bench/soak.py

# Fuzzing (fuzz/, cargo-fuzz on the nightly toolchain; scripts/fuzz.sh): every target for
# FUZZ_SECONDS, one after the other; new inputs are kept in fuzz/corpus/<target> and
# minimized, crash and hang inputs land in fuzz/artifacts/<target>, and the figures of
# each target go to fuzz/LAST_RUN.md. Fails if any target crashed or hung.
FUZZ_SECONDS ?= 600
fuzz:
	FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/fuzz.sh

# The CI run: each target 20 s on the committed corpus, which it leaves as it is.
fuzz-ci:
	FUZZ_SECONDS=20 FUZZ_CI=1 FUZZ_SUMMARY=fuzz/logs/LAST_RUN-ci.md scripts/fuzz.sh
