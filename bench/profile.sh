#!/usr/bin/env bash
# Where the time goes, for BENCHMARKS.md's analysis of missed targets.
#
#   bench/profile.sh noop [EVENTS]       # scenario 1's path: runtime + no-op handler
#   bench/profile.sh timeline [EVENTS]   # scenario 3's path: the binary's timeline flavor
#   bench/profile.sh evp [EVENTS]        # scenario 4's path: the binary's evp-indexer flavor
#
# `perf stat -e instructions true` reports "not supported" on this machine (no hardware
# counters in the VM), so this uses valgrind --tool=callgrind on a small run (valgrind is
# ~50x slower). Output: target/bench/profile-<what>/callgrind.out and annotate.txt (the
# top functions, inclusive and exclusive). Needs the dev services and the release builds
# (make bench builds them).
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-noop}
events=${2:-50000}
out=target/bench/profile-$what
mkdir -p "$out"
BROKERS=${BENCH_BROKERS:-127.0.0.1:9092}
PG=${BENCH_PG:-postgres://postgres@127.0.0.1:5432}
EX=target/release/examples/bench_runtime
BIN=target/release/case-event-handler
topic=bench-profile-$events
group=bench-profile-$what-$RANDOM$RANDOM

if ! kcat -b "$BROKERS" -Q -t "$topic:0:-1" 2>/dev/null | grep -q "offset [1-9]"; then
    "$EX" --brokers "$BROKERS" topic --name "$topic" --partitions 4
    "$BIN" --env production --set "kafka.brokers=$BROKERS" --set "store.url=$PG/ceh_bench" \
        produce --synthetic --cases $((events / 20)) --events-per-case 20 --topic "$topic"
fi

vg=(valgrind --tool=callgrind --callgrind-out-file="$out/callgrind.out" --separate-threads=no)
case $what in
noop)
    "${vg[@]}" "$EX" --brokers "$BROKERS" consume --topic "$topic" --handler noop --group "$group" \
        >"$out/run.json" 2>"$out/run.stderr"
    ;;
timeline | evp)
    psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS ceh_bench WITH (FORCE)" -c "CREATE DATABASE ceh_bench"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    flavor=timeline
    extra=
    if [[ $what == evp ]]; then
        flavor=evp-indexer
        python3 bench/intake.py 0 >"$out/intake.out" &
        intake=$!
        sleep 1
        iport=$(awk '/^PORT/ {print $2}' "$out/intake.out")
        extra=$'flavors:\n  evp-indexer:\n    url: "http://127.0.0.1:'$iport$'/api/v2/logs"\n    api_key: bench\n'
    fi
    printf 'kafka:\n  topics: [%s]\n  group_id: %s\ntelemetry:\n  http_addr: "127.0.0.1:%s"\n%s' \
        "$topic" "$group" "$port" "$extra" >"$out/config.yaml"
    CEH_ENV=production CEH__KAFKA__BROKERS=$BROKERS CEH__STORE__URL=$PG/ceh_bench \
        "${vg[@]}" "$BIN" --config "$out/config.yaml" run --flavor "$flavor" 2>"$out/run.stderr" &
    pid=$!
    # Wait until every event completed, then stop the service as an orchestrator would.
    while sleep 2; do
        done=$(curl -fsS "http://127.0.0.1:$port/metrics" 2>/dev/null |
            awk '/^ceh_events_total/ && !/outcome="retry"/ {s += $NF} END {print s + 0}')
        echo "completed: $done / $events" >&2
        [[ ${done%.*} -ge $events ]] && break
        kill -0 $pid 2>/dev/null || break
    done
    pkill -TERM -P $pid 2>/dev/null || true
    kill -TERM $pid 2>/dev/null || true
    wait $pid || true
    [[ -n ${intake:-} ]] && kill -TERM "$intake" 2>/dev/null || true
    ;;
*)
    echo "usage: $0 noop|timeline|evp [EVENTS]" >&2
    exit 2
    ;;
esac
{
    echo "== inclusive"
    callgrind_annotate --inclusive=yes "$out/callgrind.out" | head -80
    echo "== exclusive"
    callgrind_annotate "$out/callgrind.out" | head -60
} >"$out/annotate.txt" 2>&1
echo "wrote $out/annotate.txt" >&2
