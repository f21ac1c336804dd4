#!/usr/bin/env bash
# Runs a command while the machine is loaded reproducibly, and reports the load it ran under.
#
#   scripts/under-load.sh scripts/test-loop.sh 5
#   LOAD_CPUS=4 scripts/under-load.sh make test
#
# The load: `stress-ng --cpu LOAD_CPUS` (default: one worker per core, so the command gets
# about half the CPU it would alone on this 2-core machine), at normal priority, for as long
# as the command runs. stress-ng comes from Debian and is installed when missing. The 1-min
# load average is sampled every LOAD_SAMPLE_S (15) seconds into target/under-load/loadavg.log;
# at the end the script prints min / mean / max of the samples and exits with the command's
# status.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

(($# > 0)) || { echo "usage: $0 COMMAND [ARGS...]" >&2; exit 2; }
cpus=${LOAD_CPUS:-$(nproc)}
every=${LOAD_SAMPLE_S:-15}
dir=target/under-load
log=$dir/loadavg.log
mkdir -p "$dir"

if ! command -v stress-ng >/dev/null; then
    echo "[under-load] installing stress-ng" >&2
    { apt-get update -q && apt-get install -y -q --no-install-recommends stress-ng; } >&2 || exit 2
fi

stress-ng --cpu "$cpus" --cpu-method matrixprod --timeout 0 --quiet &
stress=$!
sampler() {
    while sleep "$every"; do
        echo "$(date -u +%H:%M:%S) $(cut -d' ' -f1-3 /proc/loadavg)"
    done
}
: >"$log"
sampler >>"$log" &
sampling=$!
cleanup() {
    kill "$sampling" 2>/dev/null
    kill "$stress" 2>/dev/null
    wait "$stress" "$sampling" 2>/dev/null
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "[under-load] stress-ng --cpu $cpus (pid $stress); load average sampled every $every s into $log" >&2
t=$SECONDS
"$@"
rc=$?
cleanup
trap - EXIT
awk -v cmd="$*" -v took=$((SECONDS - t)) -v rc=$rc -v cpus="$cpus" '
    { n++; s += $2; if (n == 1 || $2 < lo) lo = $2; if ($2 > hi) hi = $2 }
    END {
        if (n == 0) { lo = hi = s = 0; n = 1 }
        printf "[under-load] %s: exit %d in %d s under stress-ng --cpu %s; 1-min load average min %.2f, mean %.2f, max %.2f (%d samples)\n",
            cmd, rc, took, cpus, lo, s / n, hi, n
    }' "$log"
exit "$rc"
