#!/usr/bin/env bash
# Runs every fuzz target of fuzz/ (cargo-fuzz, libFuzzer) for FUZZ_SECONDS each (default
# 600), one after the other, and writes executions, exec/s, crashes, hangs and corpus
# size per target into FUZZ_SUMMARY (default fuzz/LAST_RUN.md). Exits non-zero if any
# target crashed, hung, ran out of memory or failed to run.
#
#   scripts/fuzz.sh                          all targets, new inputs kept in fuzz/corpus/<target>
#                                            (then minimized with `cargo fuzz cmin`)
#   FUZZ_SECONDS=20 FUZZ_CI=1 scripts/fuzz.sh  the CI run (a --dev build; skipped when the same
#                                            sources passed it): new inputs go to a scratch directory,
#                                            the committed corpus is only read
#   FUZZ_TARGETS="cq_parse_eval" scripts/fuzz.sh  some targets only
#   FUZZ_RUNS=10000000 scripts/fuzz.sh       stop a target after that many executions (or
#                                            FUZZ_SECONDS, whichever comes first)
#
# A crash or hang leaves its input in fuzz/artifacts/<target>/ (crash-*, timeout-*,
# oom-*): commit it with the fix and a regression test in the main crate, and replay it
# with `cargo +nightly fuzz run --sanitizer none <target> fuzz/artifacts/<target>/<file>`.
# Builds need the nightly toolchain; cargo-fuzz is installed from crates.io when missing.
# Targets run without a sanitizer (the main crate forbids unsafe code) and with debug
# assertions (overflow checks); each input may take 10 s (-timeout) and 2 GB.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

ALL_TARGETS="decode_protobuf decode_json cq_parse_eval config_load jira_webhook"
targets=${FUZZ_TARGETS:-$ALL_TARGETS}
seconds=${FUZZ_SECONDS:-600}
runs=${FUZZ_RUNS:--1}
ci=${FUZZ_CI:-0}
summary=${FUZZ_SUMMARY:-fuzz/LAST_RUN.md}
logs=${FUZZ_LOGS:-fuzz/logs}
toolchain=${FUZZ_TOOLCHAIN:-nightly}
nice=(nice -n "${FUZZ_NICE:-19}")
fuzz=("${nice[@]}" cargo "+$toolchain" fuzz)
build_flags=(--sanitizer none)
# The CI run builds without optimizations (--dev): 351 s cold instead of 521 s on this
# machine, at ~2.8k instead of ~35k executions/s (cq_parse_eval), plenty to replay the
# corpus and explore for 20 s. Long runs (`make fuzz`) stay optimized.
if [[ $ci == 1 && ${FUZZ_CI_RELEASE:-0} != 1 ]]; then
    build_flags+=(--dev)
fi
export CARGO_INCREMENTAL=0
# Its own build directory: beside a given CARGO_TARGET_DIR (CI's cache: <dir>-fuzz), else
# fuzz/target. FUZZ_TARGET_DIR chooses another.
fuzz_target_dir=${FUZZ_TARGET_DIR:-${CARGO_TARGET_DIR:+$CARGO_TARGET_DIR-fuzz}}
if [[ -n $fuzz_target_dir ]]; then
    export CARGO_TARGET_DIR=$fuzz_target_dir
else
    unset CARGO_TARGET_DIR
fi

if ! cargo "+$toolchain" --version >/dev/null 2>&1; then
    echo "fuzz: the $toolchain toolchain is missing (rustup toolchain install $toolchain)" >&2
    exit 2
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz: installing cargo-fuzz"
    "${nice[@]}" cargo install cargo-fuzz --locked
fi

# The CI run is skipped when these very sources (and toolchain, and settings) already passed
# it on this machine: the key hashes the files' contents, so a fresh clone without history
# finds the mark that an earlier run left in the fuzz build directory. FUZZ_CI_FORCE=1 runs
# it anyway.
passed_dir=${CARGO_TARGET_DIR:-fuzz/target}/ci-passed
ci_key() {
    {
        git ls-files -z -- src migrations fuzz/fuzz_targets fuzz/corpus fuzz/artifacts fuzz/Cargo.toml \
            fuzz/Cargo.lock Cargo.toml Cargo.lock build.rs proto config |
            xargs -0 sha256sum
        cargo "+$toolchain" --version
        echo "$targets $seconds $runs ${build_flags[*]}"
    } | sha256sum | cut -c1-16
}
if [[ $ci == 1 ]]; then
    key=$(ci_key)
    if [[ -f $passed_dir/$key && ${FUZZ_CI_FORCE:-0} != 1 ]]; then
        echo "fuzz: skipped: these sources (key $key) passed the CI fuzz run on $(cat "$passed_dir/$key")"
        echo "fuzz: FUZZ_CI_FORCE=1 runs it anyway"
        exit 0
    fi
fi

mkdir -p "$logs" "$(dirname "$summary")"
t=$SECONDS
echo "fuzz: building (${CARGO_TARGET_DIR:-fuzz/target})"
"${fuzz[@]}" build "${build_flags[@]}"
build_s=$((SECONDS - t))
echo "fuzz: built in $build_s s"

# The last value of a libFuzzer final statistic (`stat::<name>: <value>`) in a log.
final_stat() { # name log
    sed -n "s/^stat::$1: *\([0-9]*\).*/\1/p" "$2" | tail -n 1
}

# Artifacts of one kind a run left (the directory is listed before and after).
new_artifacts() { # before-listing after-listing prefix
    comm -13 "$1" "$2" | grep -c "^$3-" || true
}

failed=0
rows=()
for target in $targets; do
    corpus=fuzz/corpus/$target
    artifacts=fuzz/artifacts/$target
    log=$logs/$target.log
    mkdir -p "$corpus" "$artifacts"
    dirs=("$corpus")
    if [[ $ci == 1 ]]; then
        scratch=$(mktemp -d)
        dirs=("$scratch" "$corpus")
    fi
    find "$artifacts" -type f -printf "%f\n" | sort >"$logs/$target.before"
    echo "fuzz: $target for $seconds s$( ((runs > 0)) && echo " or $runs executions") (log: $log)"
    rc=0 t=$SECONDS
    "${fuzz[@]}" run "${build_flags[@]}" "$target" "${dirs[@]}" -- \
        -max_total_time="$seconds" -runs="$runs" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$artifacts/" >"$log" 2>&1 || rc=$?
    took=$((SECONDS - t))
    find "$artifacts" -type f -printf "%f\n" | sort >"$logs/$target.after"
    crashes=$(new_artifacts "$logs/$target.before" "$logs/$target.after" crash)
    hangs=$(new_artifacts "$logs/$target.before" "$logs/$target.after" timeout)
    ooms=$(new_artifacts "$logs/$target.before" "$logs/$target.after" oom)
    execs=$(final_stat number_of_executed_units "$log")
    rate=$(final_stat average_exec_per_sec "$log")
    rss=$(final_stat peak_rss_mb "$log")
    if [[ $ci == 1 ]]; then
        rm -rf "$scratch"
    elif ((rc == 0)); then
        "${fuzz[@]}" cmin "${build_flags[@]}" "$target" "$corpus" >>"$log" 2>&1 || rc=$?
    fi
    files=$(find "$corpus" -type f | wc -l)
    size=$(du -sk "$corpus" | cut -f1)
    status=ok
    if ((rc != 0 || crashes + hangs + ooms > 0)); then
        status="FAILED (exit $rc)"
        failed=1
        grep -E 'panicked|ERROR: libFuzzer|SUMMARY' "$log" | head -n 10 || true
    fi
    echo "fuzz: $target: ${execs:-?} executions, ${rate:-?} exec/s, $crashes crashes, $hangs hangs, $ooms ooms: $status"
    rows+=("| \`$target\` | ${execs:-?} | ${rate:-?} | $took | $crashes | $hangs | $ooms | ${rss:-?} | $files files, $size KiB | $status |")
done

{
    echo "# Last fuzz run"
    echo
    echo "$(date -u +%Y-%m-%dT%H:%MZ), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?'),"
    echo "$(nproc) cores, cargo-fuzz $(cargo fuzz --version | awk '{ print $2 }'), build $build_s s;"
    echo "\`scripts/fuzz.sh\` with FUZZ_SECONDS=$seconds$([[ $ci == 1 ]] && echo ', FUZZ_CI=1')."
    echo
    echo "| target | executions | exec/s | seconds (with start-up) | crashes | hangs | ooms | peak RSS MB | corpus | status |"
    echo "|---|---|---|---|---|---|---|---|---|---|"
    printf '%s\n' "${rows[@]}"
} >"$summary"
cat "$summary"
if [[ $ci == 1 && $failed == 0 ]]; then
    mkdir -p "$passed_dir"
    date -u +%Y-%m-%dT%H:%MZ >"$passed_dir/$key"
fi
exit "$failed"
