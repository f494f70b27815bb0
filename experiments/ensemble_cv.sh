#!/usr/bin/env bash
# Would averaging several cross-validated models help?  A probe, not part of ecgtrain: the fold models
# of finished cross-validations of the same folds (experiments/cv.sh with the same K, run.seed and data,
# e.g. two representations) classify their own test folds again, and each record's probabilities are
# averaged over the models; the averaged predictions are scored fold by fold.  Trains nothing.
#
#   experiments/ensemble_cv.sh [--out DIR] CVDIR CVDIR [CVDIR ...]
#
# Each CVDIR/fold<i>/best.h5 is evaluated with `ecgeval ... data.split=test` (its own configuration
# names its fold) into DIR/<CVDIR's name>/fold<i>/ (kept: a second call reuses them).  Then
# experiments/ensemble_score.py prints, for each model alone and for the average, mean +- sample
# standard deviation over folds of accuracy, macro-F1, the CinC score F1(N,A,O) and each class's F1,
# and the pooled CinC score; DIR/summary.txt keeps it.  DIR defaults to runs/ensemble/<the names joined
# by +>.  Needs a release build, jq and /usr/bin/python3.
set -euo pipefail
cd "$(dirname "$0")/.."
usage() { sed -n '2,15p' "$0"; exit 2; }
out=""
[ "${1:-}" = --out ] && { [ $# -ge 2 ] || usage; out="$2"; shift 2; }
[ $# -ge 2 ] || usage
fail() { echo "ensemble_cv.sh: $*" >&2; exit 1; }
names=()
for dir in "$@"; do
    [ -f "$dir/fold0/best.h5" ] || fail "$dir/fold0/best.h5 missing: name finished cross-validations (experiments/cv.sh)"
    names+=("$(basename "${dir%/}")")
done
folds=$(ls -d "$1"/fold[0-9]* | grep -c '/fold[0-9]*$')
[ -n "$out" ] || out="runs/ensemble/$(IFS=+; echo "${names[*]}")"
reference=$(awk '$1 == "path:" { gsub(/"/, "", $2); print $2; exit }' "$1/fold0/config.yaml")/REFERENCE.csv
[ -f "$reference" ] || fail "$reference missing (the first cross-validation's data.path)"
mkdir -p "$out"
args=()
for dir in "$@"; do
    name=$(basename "${dir%/}")
    for ((i = 0; i < folds; i++)); do
        [ -f "$dir/fold$i/best.h5" ] || fail "$dir/fold$i/best.h5 missing: $dir has fewer than $folds folds"
        eval_dir="$out/$name/fold$i"
        if [ ! -f "$eval_dir/predictions.jsonl" ]; then
            echo "ensemble_cv.sh: $name fold $i"
            build/tools/ecgeval "$dir/fold$i/best.h5" data.split=test --out "$eval_dir" >"$out/$name.fold$i.log" 2>&1 ||
                fail "ecgeval of $dir/fold$i/best.h5 failed: $(tail -3 "$out/$name.fold$i.log")"
        fi
    done
    args+=("$out/$name")
done
/usr/bin/python3 experiments/ensemble_score.py "$reference" "$folds" "${args[@]}" | tee "$out/summary.txt"
