#!/usr/bin/env bash
# Runs each fuzz harness for SECONDS with libFuzzer under the address and undefined-behaviour sanitizers,
# then prints per harness its executions, coverage (cov: edges, ft: features), corpus size and crashes.
#
#   tests/fuzz/run.sh SECONDS [HARNESS...]       e.g. tests/fuzz/run.sh 10, tests/fuzz/run.sh 300 wfdb
#
# Sets up build-fuzz (clang, -Dfuzz=true) when it is missing, installing clang, libclang-rt-14-dev and
# libomp-dev first if they are missing.  Each harness starts from a copy of its committed corpus and
# regressions in build-fuzz/fuzz-out/<harness>/, so the committed corpus does not grow; what it finds is
# left there (corpus/, artifacts/, log).  Each gets a dictionary of its format's tokens (tests/fuzz/dict/).
# An input may take 10 s and 2 GB at most.  The HDF5 harnesses run in libFuzzer's fork mode and go on
# past crashes.  Every crash is then replayed and classified by the first frame of its stack outside the C
# library, the sanitizer runtime and libFuzzer: inside libhdf5 it is the library's own (listed, not
# failed: docs/reliability.md), anywhere else it is ours; an input that does not crash again on its own
# is listed as unreproduced.  Leaks inside libhdf5 are suppressed (tests/fuzz/lsan.supp).  Exits 1 when
# any harness found a crash, leak, timeout or memory blow-up in ecgtrain's code.
#
# FUZZ_SEED=N fixes libFuzzer's random seed (default: a new one each run).  With a fixed seed two runs of
# the same build mutate the same inputs in the same order, so a short run (CI's) finds the same things
# on every machine, up to how many executions fit in the time; long exploratory runs leave it unset.
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! [[ ${FUZZ_SEED:-0} =~ ^[0-9]+$ ]]; then
    echo "run.sh: FUZZ_SEED '$FUZZ_SEED': expected a non-negative integer" >&2
    exit 2
fi
if [ $# -lt 1 ] || ! [[ $1 =~ ^[0-9]+$ ]] || [ "$1" -lt 1 ]; then
    echo "usage: tests/fuzz/run.sh SECONDS [HARNESS...]" >&2
    exit 2
fi
seconds=$1
shift
all=(config cinc2017 wfdb kaggle unisens cachet_h5 keras_h5 checkpoint serve_request)
harnesses=("${@:-${all[@]}}")
for h in "${harnesses[@]}"; do
    [[ " ${all[*]} " == *" $h "* ]] || { echo "run.sh: unknown harness '$h' (one of: ${all[*]})" >&2; exit 2; }
done
builddir=build-fuzz

# Clang with libFuzzer and its OpenMP runtime.
missing=()
for p in clang libclang-rt-14-dev libomp-dev; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    sudo=""
    [ "$(id -u)" = 0 ] || sudo=sudo
    echo "run.sh: installing ${missing[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if [ ! -f "$builddir/build.ninja" ]; then
    rm -rf "$builddir"
    log=$(mktemp)
    CC=clang meson setup "$builddir" --buildtype=debugoptimized -Dfuzz=true -Dmpi=disabled -Dman=disabled \
        >"$log" 2>&1 || { cat "$log" >&2; rm -f "$log"; exit 1; }
    rm -f "$log"
fi
targets=()
for h in "${harnesses[@]}"; do targets+=("tests/fuzz/fuzz_$h"); done
ninja -C "$builddir" -j "${FUZZ_JOBS:-2}" "${targets[@]}" >/dev/null

# first_frame REPORT: the frame a crash is classified by (ours or libhdf5's).
# shellcheck source=tests/fuzz/first_frame.sh
source tests/fuzz/first_frame.sh

export ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=0:abort_on_error=0
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export LSAN_OPTIONS=suppressions=$PWD/tests/fuzz/lsan.supp
failed=0
printf '%-14s %10s %7s %7s %7s %8s  %s\n' harness execs cov ft corpus crashes "found"
for h in "${harnesses[@]}"; do
    out="$builddir/fuzz-out/$h"
    rm -rf "$out"
    mkdir -p "$out/corpus" "$out/artifacts"
    cp tests/fuzz/corpus/"$h"/* "$out/corpus/"
    if [ -d "tests/fuzz/regressions/$h" ]; then
        find "tests/fuzz/regressions/$h" -type f ! -name README.md -exec cp {} "$out/corpus/" \;
    fi
    bin="$builddir/tests/fuzz/fuzz_$h"
    opts=(-seed="${FUZZ_SEED:-0}" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
          -artifact_prefix="$out/artifacts/" -dict="$out/dict" "$out/corpus")
    case $h in
        cachet_h5 | keras_h5 | checkpoint)
            opts=(-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 "${opts[@]}")
            cp tests/fuzz/dict/hdf5.dict "$out/dict" ;;
        *) cat tests/fuzz/dict/common.dict tests/fuzz/dict/"$h".dict >"$out/dict" ;;
    esac
    rc=0
    "$bin" "${opts[@]}" >"$out/log" 2>&1 || rc=$?
    stats=$(grep -E '^#[0-9]+:?[[:space:]].*cov: [0-9]+ ft: [0-9]+' "$out/log" | tail -1 || true)
    execs=$(sed -nE 's/^#([0-9]+).*/\1/p' <<<"$stats")
    execs_final=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+)/\1/p' "$out/log" | tail -1)
    [ -n "$execs_final" ] && execs=$execs_final
    cov=$(sed -nE 's/.*cov: ([0-9]+).*/\1/p' <<<"$stats")
    ft=$(sed -nE 's/.*ft: ([0-9]+).*/\1/p' <<<"$stats")
    corpus=$(find "$out/corpus" -type f | wc -l)
    ours=0 theirs=0 found=""
    for a in "$out"/artifacts/*; do
        [ -f "$a" ] || continue
        report="$a.report"
        # (A crash in ecgserve's parser child is reported by the child while the harness itself goes on.)
        "$bin" -timeout=10 -rss_limit_mb=2048 "$a" >"$report" 2>&1 || true
        if ! grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|libFuzzer)|runtime error:' \
            "$report"; then
            found+=" unreproduced:$(basename "$a")"
            continue
        fi
        frame=$(first_frame "$report")
        if [[ $frame == *libhdf5* ]]; then
            theirs=$((theirs + 1))
            found+=" hdf5:${frame%% *}"
        else
            ours=$((ours + 1))
            found+=" OURS:$(basename "$a"):${frame:-no stack (see $report)}"
        fi
    done
    # A harness that stopped without an artifact (a libFuzzer or setup failure) is a failure too.
    if [ "$rc" != 0 ] && [ "$ours" = 0 ] && [ "$theirs" = 0 ]; then
        ours=1
        found+=" OURS:exit status $rc without an artifact (see $out/log)"
    fi
    [ "$ours" = 0 ] || failed=1
    printf '%-14s %10s %7s %7s %7s %8s %s\n' "$h" "${execs:-?}" "${cov:-?}" "${ft:-?}" "$corpus" \
        "$ours+$theirs" "${found:- none}"
done
echo "crashes: ours+HDF5's own; inputs, logs and reports in $builddir/fuzz-out/"
exit $failed
