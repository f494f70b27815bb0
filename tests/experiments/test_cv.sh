#!/usr/bin/env bash
# Test of experiments/cv.sh: 2 folds of a tiny config on the bundled sample, the summary's numbers, a rerun
# that skips, a stopped fold that continues from its checkpoint, an interrupted fold that stops the script, and
# refused arguments.
set -euo pipefail
cd "$ECG_SOURCE_ROOT"
name="test_cv_$$"
root="runs/cv/$name"
trap 'rm -rf "$root" "$root,eval" "$root,fused" "$root,stop"' EXIT
# shellcheck source=tests/experiments/interrupt.sh
source "$(dirname "$0")/interrupt.sh"
fail() { echo "FAIL: $*"; exit 1; }
tiny=(data.spectrogram.height=32 data.spectrogram.width=32 run.log_level=warn)

out=$(bash experiments/cv.sh --name "$name" configs/tiny.yaml 2 "${tiny[@]}" 2>&1) || fail "cv.sh exited non-zero: $out"
for i in 0 1; do
    [ -f "$root/fold$i/metrics.json" ] || fail "no metrics for fold $i"
    grep -q "^  folds: 2$" "$root/fold$i/config.yaml" && grep -q "^  fold: $i$" "$root/fold$i/config.yaml" ||
        fail "fold $i did not run with data.folds=2 data.fold=$i"
done
# The folds' test sets are disjoint and cover the sample (280 records).
[ "$(jq .records "$root/summary.json")" = 280 ] || fail "the folds do not test 280 records: $(jq .records "$root/summary.json")"
# Mean and sample standard deviation, as computed by hand from the two folds.
a0=$(jq .accuracy "$root/fold0/metrics.json") a1=$(jq .accuracy "$root/fold1/metrics.json")
want=$(jq -n "[($a0 + $a1) / 2, ((($a0 - $a1) * ($a0 - $a1)) / 2 | sqrt)]" | jq -c .)
got=$(jq -c '[.accuracy.mean, .accuracy.std]' "$root/summary.json")
[ "$got" = "$want" ] || fail "accuracy mean/std $got, expected $want"
e0=$(jq .calibration.ece "$root/fold0/metrics.json") e1=$(jq .calibration.ece "$root/fold1/metrics.json")
[ "$(jq .ece.mean "$root/summary.json")" = "$(jq -n "($e0 + $e1) / 2")" ] || fail "ECE mean is not the folds' mean"
# The pooled confusion matrix is the sum of the folds'.
[ "$(jq -c '.pooled.confusion_matrix | flatten | add' "$root/summary.json")" = 280 ] || fail "pooled matrix does not sum to 280"
[ "$(wc -l <"$root/summary.tsv")" = 2 ] || fail "summary.tsv is not a header and a row"
head -1 "$root/summary.tsv" | grep -q "cinc_f1_mean" || fail "summary.tsv lacks cinc_f1_mean"
grep -q "^| .* ± .* | \`experiments/cv.sh configs/tiny.yaml 2 " "$root/summary.md" || fail "summary.md row: $(cat "$root/summary.md")"
grep -q "± " <<<"$out" || fail "cv.sh did not print the row: $out"

# A rerun skips finished folds; a fold stopped after its checkpoint continues in its directory.
again=$(bash experiments/cv.sh --name "$name" configs/tiny.yaml 2 "${tiny[@]}" 2>&1)
[ "$(grep -c "done already" <<<"$again")" = 2 ] || fail "rerun did not skip finished folds: $again"
rm "$root/fold1/metrics.json"
again=$(bash experiments/cv.sh --name "$name" configs/tiny.yaml 2 "${tiny[@]}" 2>&1) || fail "continuing failed: $again"
grep -q "continuing $root/fold1/last.h5" <<<"$again" || fail "the stopped fold was not continued: $again"
[ -f "$root/fold1/metrics.json" ] && [ ! -e "$root/fold1-2" ] || fail "the continued fold did not finish in its directory"

# An interrupted fold (SIGTERM to ecgtrain, which saves its checkpoint) stops cv.sh: no next fold starts.
err=$(run_interrupted_at "$root,stop/fold0" bash experiments/cv.sh --name "$name,stop" configs/tiny.yaml 2 "${tiny[@]}" \
    train.epochs=100) || fail "could not interrupt fold 0: $err"
[ "$(head -1 <<<"$err")" = "exit 1" ] || fail "cv.sh did not exit 1 after an interrupted fold: $err"
grep -q "fold 0 interrupted, its checkpoint saved; run the same command again to continue" <<<"$err" ||
    fail "interrupted fold message: $err"
[ -f "$root,stop/fold0/last.h5" ] && [ ! -e "$root,stop/fold1" ] || fail "cv.sh went on to fold 1: $err"

# --eval-of evaluates the folds' models again, with other evaluation settings, on the same test folds.
ev=$(bash experiments/cv.sh --eval-of "$root" --name "$name,eval" configs/tiny.yaml 2 eval.windows=1 \
    eval.hop_seconds=0 run.log_level=warn 2>&1) || fail "--eval-of failed: $ev"
[ "$(grep -c "evaluating $root/fold[01]/best.h5" <<<"$ev")" = 2 ] || fail "--eval-of did not evaluate both folds: $ev"
for i in 0 1; do
    [ ! -f "$root,eval/fold$i/best.h5" ] || fail "--eval-of trained fold $i"
    [ "$(jq .n "$root,eval/fold$i/metrics.json")" = "$(jq .n "$root/fold$i/metrics.json")" ] ||
        fail "fold $i was evaluated on another test set"
done
grep -q "^| .* | \`experiments/cv.sh --eval-of $root configs/tiny.yaml 2 eval.windows=1 " "$root,eval/summary.md" ||
    fail "--eval-of summary row: $(cat "$root,eval/summary.md")"
err=$(bash experiments/cv.sh --eval-of "$root" configs/tiny.yaml 2 train.epochs=3 2>&1) && fail "--eval-of took train.epochs"
grep -q "train.epochs=3: --eval-of takes eval.\* keys (and run.threads, run.log_level) only" <<<"$err" || fail "--eval-of message: $err"
err=$(bash experiments/cv.sh --eval-of runs/cv/none configs/tiny.yaml 2 2>&1) && fail "--eval-of of nothing accepted"
grep -q "eval-of runs/cv/none: no fold0/best.h5" <<<"$err" || fail "--eval-of missing message: $err"
err=$(bash experiments/cv.sh --eval-of "$root" configs/tiny.yaml 3 2>&1) && fail "--eval-of with another K accepted"
grep -q "eval-of $root: no fold2/best.h5" <<<"$err" || fail "--eval-of K message: $err"
mkdir "$root/fold2"
err=$(bash experiments/cv.sh --eval-of "$root" configs/tiny.yaml 2 2>&1) && fail "--eval-of with a smaller K accepted"
grep -q "eval-of $root: it has more than K = 2 folds" <<<"$err" || fail "--eval-of smaller K message: $err"
rmdir "$root/fold2"
err=$(bash experiments/cv.sh --name "$name" --eval-of "$root" configs/tiny.yaml 2 2>&1) && fail "--eval-of into itself"
grep -q "name must name another directory than the one evaluated" <<<"$err" || fail "--eval-of itself message: $err"

# --finish-of repeats the end of each fold's run (calibration, the RR fusion, the report) from its checkpoints.
fin=$(bash experiments/cv.sh --finish-of "$root" --name "$name,fused" configs/tiny.yaml 2 eval.calibrate=true \
    eval.rr_fusion=true run.log_level=warn 2>&1) || fail "--finish-of failed: $fin"
[ "$(grep -c "finishing $root/fold[01] again" <<<"$fin")" = 2 ] || fail "--finish-of did not finish both folds: $fin"
for i in 0 1; do
    jq -e '.calibration.rr_fusion == true' "$root,fused/fold$i/metrics.json" >/dev/null || fail "fold $i has no fusion"
    [ "$(jq .n "$root,fused/fold$i/metrics.json")" = "$(jq .n "$root/fold$i/metrics.json")" ] ||
        fail "fold $i was finished on another test set"
    cmp -s "$root/fold$i/log.csv" "$root,fused/fold$i/log.csv" || fail "--finish-of trained fold $i again"
    jq -e '.calibration.rr_fusion == false' "$root/fold$i/metrics.json" >/dev/null || fail "fold $i itself was changed"
done
grep -q "^| .* | \`experiments/cv.sh --finish-of $root configs/tiny.yaml 2 eval.calibrate=true " "$root,fused/summary.md" ||
    fail "--finish-of summary row: $(cat "$root,fused/summary.md")"
err=$(bash experiments/cv.sh --finish-of "$root" configs/tiny.yaml 2 train.epochs=3 2>&1) && fail "--finish-of took train.epochs"
grep -q "train.epochs=3: --finish-of takes eval.\* keys (and run.threads, run.log_level, train.select) only" <<<"$err" ||
    fail "--finish-of message: $err"
err=$(bash experiments/cv.sh --finish-of "$root" --eval-of "$root" configs/tiny.yaml 2 2>&1) && fail "both modes accepted"
grep -q "expected one of them" <<<"$err" || fail "both modes message: $err"

# Refused arguments, with the reason.
err=$(bash experiments/cv.sh configs/tiny.yaml 1 2>&1) && fail "K=1 accepted"
grep -q "K: expected a fold count >= 2, found '1'" <<<"$err" || fail "K=1 message: $err"
err=$(bash experiments/cv.sh configs/tiny.yaml 2 data.fold=1 2>&1) && fail "data.fold accepted"
grep -q "data.fold=1: cv.sh sets this key itself" <<<"$err" || fail "data.fold message: $err"
echo "cv.sh: every check passed"
