# syntax=docker/dockerfile:1
# The case-event-handler image: one binary, deployed once per flavor
# (`case-event-handler run --flavor NAME`; see helm/case-event-handler).
#
#   docker build -t case-event-handler:0.1.0 .

# --- build ------------------------------------------------------------------
FROM rust:1.95-bookworm AS builder

# rdkafka-sys compiles librdkafka from source with its own configure script and
# links the system zlib (found through pkg-config); cmake is only needed if
# rdkafka's `cmake-build` feature is ever turned on. protoc is vendored
# (protoc-bin-vendored), rustls needs no OpenSSL, SQLite is bundled.
RUN apt-get update \
    && apt-get install -y --no-install-recommends cmake pkg-config zlib1g-dev \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /build

# Dependency layer: build every dependency against stub sources, so that this
# layer is reused until Cargo.toml or Cargo.lock change. The stub's own
# artifacts are removed afterwards, or cargo could take the real sources
# (whose mtimes may be older) for up to date.
COPY Cargo.toml Cargo.lock ./
RUN mkdir src \
    && echo 'fn main() {}' > src/main.rs \
    && touch src/lib.rs \
    && echo 'fn main() {}' > build.rs \
    && cargo build --release --locked \
    && cargo clean --release --locked -p case-event-handler \
    && rm -rf src build.rs

# The crate itself: build script and its inputs (proto/), the migrations that
# sqlx::migrate! embeds, and the sources.
COPY build.rs ./
COPY proto ./proto
COPY migrations ./migrations
COPY src ./src
RUN cargo build --release --locked \
    && ./target/release/case-event-handler --version

# --- runtime ----------------------------------------------------------------
FROM debian:bookworm-slim

# The binary needs libc, libgcc_s and libz (all in the base image); CA
# certificates for TLS to Kafka, Jira and the logs intake.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/*

# A fixed non-root uid/gid: the Helm chart's securityContext runs as 10001.
RUN groupadd --system --gid 10001 ceh \
    && useradd --system --uid 10001 --gid ceh --no-create-home \
        --home-dir /nonexistent --shell /usr/sbin/nologin ceh

COPY --from=builder /build/target/release/case-event-handler /usr/local/bin/case-event-handler
# base.yaml and the environment overlays; the chart mounts its own copies
# (and the flavor overlay) at /etc/case-event-handler and passes --config-dir.
COPY config /app/config

WORKDIR /app
ENV CEH_CONFIG_DIR=/app/config
USER 10001:10001
# Health (/healthz, /readyz), metrics (/metrics) and webhooks.
EXPOSE 9464
ENTRYPOINT ["case-event-handler"]
CMD ["flavors"]
