# Entry points for developers and CI. `make test` is the one command that runs the tests:
# it starts the test services (Kafka, PostgreSQL, OpenSearch; see scripts/services.sh)
# when they are not running yet, and leaves them running for the next run.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
CARGO ?= cargo
TEST_THREADS ?= 4

.PHONY: build test services services-down lint

build:
	$(CARGO) build --release

# The services' addresses come from .devinfra/env, which `scripts/services.sh up` writes;
# `set -a` exports KAFKA_BROKERS, DATABASE_URL and OPENSEARCH_URL to the tests.
# --all-targets leaves out doc tests, so they run in a second step.
test: services
	set -a; if [ -f .devinfra/env ]; then . ./.devinfra/env; fi; set +a; \
	echo "KAFKA_BROKERS=$${KAFKA_BROKERS-} DATABASE_URL=$${DATABASE_URL-} OPENSEARCH_URL=$${OPENSEARCH_URL-}"; \
	$(CARGO) test --all-targets -- --test-threads=$(TEST_THREADS); \
	$(CARGO) test --doc -- --test-threads=$(TEST_THREADS)

services:
	scripts/services.sh up

services-down:
	scripts/services.sh down

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --all-targets -- -D warnings
