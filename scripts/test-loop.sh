#!/usr/bin/env bash
# Runs `make test` N times in a row (default 10) and stops at the first failure;
# prints one line per run with its duration and exit status, then a summary.
# The flaky-gate check: `scripts/test-loop.sh 10` must end with "10 passed, 0 failed".
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
runs=${1:-10}
logdir=${TEST_LOOP_LOGS:-target/test-loop}
mkdir -p "$logdir"
passed=0 failed=0
for ((i = 1; i <= runs; i++)); do
    t=$SECONDS
    if make test >"$logdir/run-$i.log" 2>&1; then
        passed=$((passed + 1))
        echo "run $i: ok in $((SECONDS - t)) s"
    else
        failed=$((failed + 1))
        echo "run $i: FAILED in $((SECONDS - t)) s (log: $logdir/run-$i.log)"
        grep -E '^(test .* FAILED|---- |thread .* panicked)' "$logdir/run-$i.log" | head -n 20
        break
    fi
done
echo "$passed passed, $failed failed"
((failed == 0))
