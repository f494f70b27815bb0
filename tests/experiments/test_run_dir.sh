#!/usr/bin/env bash
# Test of run directories through ecgtrain: a second run of the same name leaves the first run's files as they were
# (bytes and modification times) and gets <dir>-2; each run keeps what it printed in a plain train.log.
set -euo pipefail
cd "$ECG_SOURCE_ROOT"
ecgtrain=${ECGTRAIN:?set ECGTRAIN to the ecgtrain program}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
run() { "$ecgtrain" configs/tiny.yaml "run.dir=$tmp/run" train.epochs=1 data.spectrogram.height=32 \
        data.spectrogram.width=32 "$@"; }

run >"$tmp/first.out" 2>&1 || fail "the first run failed: $(tail -5 "$tmp/first.out")"
for f in config.yaml log.csv last.h5 best.h5 metrics.json train.log; do
    [ -s "$tmp/run/$f" ] || fail "the first run wrote no $f"
done
# sizes, modification times (ns) and checksums of every file of the first run
snapshot() { (cd "$tmp/run" && find . -type f -printf '%p %s %T@\n' | sort && find . -type f -exec sha256sum {} + | sort); }
before=$(snapshot)
sleep 1 # a rewrite within the same second could keep the time
run train.epochs=1 >"$tmp/second.out" 2>&1 || fail "the second run failed: $(tail -5 "$tmp/second.out")"
[ "$(snapshot)" = "$before" ] || fail "the second run changed the first run's files"
[ -s "$tmp/run-2/metrics.json" ] || fail "the second run did not go to run-2"
grep -q "^warning: run directory: $tmp/run-2 ($tmp/run holds an earlier run" "$tmp/second.out" ||
    fail "the second run did not say where it went: $(head -3 "$tmp/second.out")"

log="$tmp/run-2/train.log"
grep -q "run directory: $tmp/run-2" "$log" || fail "train.log lacks the run directory line"
grep -q "^epoch 1/1: train loss" "$log" || fail "train.log lacks the epoch line"
grep -q "^test split: accuracy" "$log" || fail "train.log lacks the final summary (stdout)"
if LC_ALL=C grep -q $'[\x1b\r]' "$log"; then fail "train.log holds terminal control codes"; fi
# every line the program printed, control codes and progress bars aside, is in train.log
sed -e 's/\x1b\[K//g' -e 's/.*\r//' "$tmp/second.out" | grep -v '^$' >"$tmp/printed"
grep -v '^$' "$log" >"$tmp/logged"
diff "$tmp/printed" "$tmp/logged" >/dev/null || fail "train.log differs from the terminal: $(diff "$tmp/printed" "$tmp/logged" | head)"

# resuming continues in the checkpoint's directory and appends to its train.log
lines=$(wc -l <"$log")
run train.epochs=2 "run.resume=$tmp/run-2/last.h5" >"$tmp/third.out" 2>&1 || fail "resuming failed: $(tail -5 "$tmp/third.out")"
[ ! -e "$tmp/run-3" ] || fail "resuming made a new directory"
[ "$(wc -l <"$log")" -gt "$lines" ] || fail "resuming did not append to train.log"
grep -q "^epoch 2/2: train loss" "$log" || fail "the resumed epoch is not in train.log"
# a message printed as the program ends (its error) reaches the terminal and train.log alike
if "$ecgtrain" configs/tiny.yaml "run.dir=$tmp/failed" data.path=no/such.h5 >"$tmp/fail.out" 2>&1; then
    fail "a run without data succeeded"
fi
grep -q "^ecgtrain: data.path: no/such.h5" "$tmp/fail.out" || fail "the error did not reach the terminal: $(cat "$tmp/fail.out")"
grep -q "^ecgtrain: data.path: no/such.h5" "$tmp/failed/train.log" || fail "the error is not in train.log"
echo "run directories: 14 checks passed"
