#!/usr/bin/env bash
# Prints how long each test of the integration binary (tests/it) took, slowest first, and
# names those over the budget of TEST_BUDGET_S (60) seconds. A report, never a gate: a
# timed test would fail on a loaded machine.
#
#   scripts/test-times.sh                 every integration test, 4 at a time (as make test)
#   scripts/test-times.sh evp_feed        only tests whose name contains evp_feed
#
# libtest reports per-test times with `-Z unstable-options --report-time`; RUSTC_BOOTSTRAP=1
# lets the stable harness take it. It is set for the test binary only, never for cargo
# (cargo would rebuild everything for it). Services as for `make test`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
budget=${TEST_BUDGET_S:-60}
set -a
if [[ -f .devinfra/env ]]; then . ./.devinfra/env; fi
set +a

bin=$(cargo test --no-run --test it --message-format=json 2>/dev/null |
    python3 -c 'import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["target"]["name"] == "it":
        print(m["executable"])')
out=target/test-times.log
mkdir -p target
t=$SECONDS
rc=0
RUSTC_BOOTSTRAP=1 "$bin" --test-threads="${TEST_THREADS:-4}" -Z unstable-options --report-time "$@" >"$out" 2>&1 || rc=$?
echo "tests/it: exit $rc in $((SECONDS - t)) s (log: $out)"
sed -n 's/^test \(.*\) \.\.\. \([a-zA-Z]*\) <\([0-9.]*\)s>$/\3 \2 \1/p' "$out" | sort -rn |
    awk -v budget="$budget" '{ printf "%8.1f s  %-6s %s%s\n", $1, $2, $3, ($1 > budget ? "   OVER BUDGET" : "") }'
exit "$rc"
