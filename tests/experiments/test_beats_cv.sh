#!/usr/bin/env bash
# Test of experiments/beats_cv.sh and beats_summary.sh: the summary's mean, std and pooled figures of two hand-made folds, then a 2-fold intra-patient run on the record 100 fixture.
set -euo pipefail
cd "$ECG_SOURCE_ROOT"
name="test_beats_cv_$$"
tmp=$(mktemp -d)
trap 'rm -rf "runs/$name" "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# Two folds: N Se 0.9 and 0.7 (mean 0.8, std 0.1414), pooled from TP 16, FN 4 -> 0.8; S without beats in fold b.
fold() { # dir tpN fnN fpN tpS fnS fpS
    mkdir -p "$tmp/$1"
    jq -n --argjson a "$2" --argjson b "$3" --argjson c "$4" --argjson d "$5" --argjson e "$6" --argjson f "$7" '
      def cls(tp; fn; fp): {tp: tp, fn: fn, fp: fp,
        se: (if tp + fn > 0 then tp / (tp + fn) else 0 end), ppv: (if tp + fp > 0 then tp / (tp + fp) else 0 end),
        f1: (if tp + fn + fp > 0 then 2 * tp / (2 * tp + fn + fp) else 0 end)};
      {aami: {n: ($a + $b + $d + $e), macro_f1: 0.5, q_support: 1,
              per_class: {N: cls($a; $b; $c), S: cls($d; $e; $f), V: cls(0; 0; 0), F: cls(0; 0; 0)}}}' \
      >"$tmp/$1/metrics.json"
}
fold a 9 1 0 2 2 1
fold b 7 3 1 0 0 0
out=$(bash experiments/beats_summary.sh "$tmp") || fail "beats_summary.sh failed: $out"
row=$(grep '^N ' <<<"$out" | tr -s ' ')
[ "$row" = "N 0.8 0.1414 0.9375 0.0884 0.8626 0.1199 0.8 0.9412 0.8649 16 4 1" ] || fail "N row: '$row'"
row=$(grep '^S ' <<<"$out" | tr -s ' ')
[ "$row" = "S 0.5 n/a 0.6667 n/a 0.2857 0.4041 0.5 0.6667 0.5714 2 2 1" ] || fail "S row: '$row'"
grep -q '^folds: 2; test beats: 24; accuracy (pooled): 0.75; macro-F1 per fold: 0.5, 0.5; true Q beats: 2$' <<<"$out" ||
    fail "last line: $out"
if bash experiments/beats_summary.sh "$tmp/none" >/dev/null 2>&1; then fail "an empty folder was accepted"; fi

# The script end to end: record 100's beats in 2 folds of random beats (one patient: only --intra can fold it).
out=$(bash experiments/beats_cv.sh --intra "$name" 2 data.path=tests/fixtures/data/mitdb data.records=all \
      data.val_fraction=0 train.epochs=1 train.head_epochs=0 train.warmup_epochs=0 model.pretrained=none \
      data.spectrogram.height=32 data.spectrogram.width=32 train.batch_size=8 eval.batch_size=8 run.threads=1 \
      run.log_level=warn 2>&1) || fail "beats_cv.sh failed: $out"
grep -q "beats_cv.sh: 2 folds in [0-9]* s (intra-patient: optimistic)" <<<"$out" || fail "no timing line: $out"
grep -q '^folds: 2; test beats: 33;' <<<"$out" || fail "the folds do not test the 33 beats once: $out"
grep -qx "data.group=record" "runs/$name/data.fold=1/overrides.txt" || fail "--intra did not split beats"
if bash experiments/beats_cv.sh "$name" 1 >/dev/null 2>&1; then fail "K = 1 was accepted"; fi
echo "beats_cv and beats_summary: checks passed"
