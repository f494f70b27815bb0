#!/usr/bin/env bash
# Test of experiments/sweep.sh and summary.sh: a 2-run grid on the bundled sample run 2 at once, its table, a rerun
# that skips, the emitted per-combination commands, a bad axis, an interrupted run that stops the grid.
set -euo pipefail
cd "$ECG_SOURCE_ROOT"
name="test_sweep_$$"
trap 'rm -rf "runs/$name"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
# shellcheck source=tests/experiments/interrupt.sh
source "$(dirname "$0")/interrupt.sh"

out=$(bash experiments/sweep.sh -j 2 configs/tiny.yaml "$name" optim.lr=0.001,0.0005 -- run.log_level=warn 2>&1) ||
    fail "sweep exited non-zero: $out"
[ -f "runs/$name/optim.lr=0.001/metrics.json" ] || fail "no metrics for optim.lr=0.001"
[ -f "runs/$name/optim.lr=0.0005/metrics.json" ] || fail "no metrics for optim.lr=0.0005"
grep -qx "optim.lr=0.0005" "runs/$name/optim.lr=0.0005/overrides.txt" || fail "overrides.txt does not record the override"
table=$(bash experiments/summary.sh "runs/$name")
[ "$(head -1 <<<"$table" | awk '{print $1}')" = macro_f1 ] || fail "summary has no header: $table"
[ "$(grep -c "runs/$name/" <<<"$table")" = 2 ] || fail "summary does not list 2 runs: $table"
# Sorted best first.
sort -c -g -r <<<"$(tail -n +2 <<<"$table" | awk '{print $1}')" || fail "summary not sorted by macro_f1: $table"
again=$(bash experiments/sweep.sh configs/tiny.yaml "$name" optim.lr=0.001,0.0005 2>&1)
[ "$(grep -c "done already" <<<"$again")" = 2 ] || fail "rerun did not skip finished runs: $again"
cmds=$(bash experiments/sweep.sh --emit configs/tiny.yaml "$name" optim.lr=0.001,0.0005)
[ "$(wc -l <<<"$cmds")" = 2 ] || fail "--emit did not print one command per combination: $cmds"
grep -qF -- "--only 2 configs/tiny.yaml $name optim.lr=0.001\\,0.0005" <<<"$(sed -n 2p <<<"$cmds")" ||
    fail "the second emitted command does not run combination 2: $cmds"
one=$(bash -c "$(sed -n 2p <<<"$cmds")" 2>&1)
grep -q "runs/$name/optim.lr=0.0005 done already" <<<"$one" || fail "the emitted command ran another combination: $one"
err=$(bash experiments/sweep.sh --only 3 configs/tiny.yaml "$name" optim.lr=0.001,0.0005 2>&1) &&
    fail "--only 3 of a 2-combination grid was accepted"
grep -q "only 3: the grid has 2 combinations" <<<"$err" || fail "--only 3 message: $err"
if bash experiments/sweep.sh configs/tiny.yaml "$name" optim.lr >/dev/null 2>&1; then fail "a bad axis was accepted"; fi
# A run stopped after its checkpoint continues in its own directory.
run="runs/$name/optim.lr=0.001"
rm "$run/metrics.json"
again=$(bash experiments/sweep.sh configs/tiny.yaml "$name" optim.lr=0.001 -- run.log_level=warn 2>&1) ||
    fail "continuing a stopped run failed: $again"
grep -q "continuing $run/last.h5" <<<"$again" || fail "the stopped run was not continued: $again"
[ -f "$run/metrics.json" ] && [ ! -e "$run-2" ] || fail "the continued run did not finish in its directory"
# An attempt that stopped before any checkpoint is kept aside, not overwritten.
stale="runs/$name/optim.lr=0.0002"
mkdir -p "$stale" && echo "stale" >"$stale/config.yaml"
ECGTRAIN=/bin/false bash experiments/sweep.sh configs/tiny.yaml "$name" optim.lr=0.0002 >/dev/null 2>&1 || true
[ "$(cat "$stale.failed-1/config.yaml" 2>/dev/null)" = stale ] || fail "the stale attempt was not kept as $stale.failed-1"
# An interrupted run (SIGTERM to ecgtrain, which saves its checkpoint) starts no further combination.
err=$(run_interrupted_at "runs/$name/optim.lr=0.003" bash experiments/sweep.sh configs/tiny.yaml "$name" \
    optim.lr=0.003,0.004 -- run.log_level=warn train.epochs=100 data.spectrogram.height=32 data.spectrogram.width=32) ||
    fail "could not interrupt optim.lr=0.003: $err"
[ "$(head -1 <<<"$err")" = "exit 1" ] || fail "sweep.sh did not exit 1 after an interrupted run: $err"
grep -q "interrupted: optim.lr=0.003, its checkpoint saved; run the same command again to continue" <<<"$err" ||
    fail "interrupted run message: $err"
[ -f "runs/$name/optim.lr=0.003/last.h5" ] && [ ! -e "runs/$name/optim.lr=0.004" ] ||
    fail "sweep.sh went on to optim.lr=0.004: $err"
echo "sweep and summary: every check passed"
