#!/usr/bin/env bash
# A row of the ablation against its base, fold by fold: for each fold both cross-validations have, the CinC
# score, the per-class F1 (AF with its precision and recall), macro-F1, the expected calibration error before
# and after temperature scaling and the fitted temperature, as "base → row"; then, over two folds or more, the
# mean ± sample standard deviation.  docs/results.md holds each such table between
# "<!-- experiments/fold_table.sh ARGS -->" and "<!-- end -->" (tests/experiments/test_fold_table.sh checks that
# it is the same).
#
#   experiments/fold_table.sh [--results DIR] BASE ROW [BASE_LABEL ROW_LABEL]
#
# BASE, ROW: cross-validations kept in DIR (default experiments/results), e.g. cv_r26 cv_r16, each with its
# fold<i>.metrics.json; the labels name them in the table's first cell (default: the directory names).
set -euo pipefail
usage() { sed -n '2,12p' "$0" >&2; exit 2; }
results=$(dirname "$0")/results
if [ "${1:-}" = --results ]; then
    [ $# -ge 2 ] || usage
    results=$2
    shift 2
fi
[ $# = 2 ] || [ $# = 4 ] || usage
base=$1 row=$2 base_label=${3:-$1} row_label=${4:-$2}
command -v jq >/dev/null || { echo "fold_table.sh: needs jq" >&2; exit 2; }

# The folds of one cross-validation as a JSON array, each with the figures the table shows.
folds() {
    local dir="$results/$1" f i out=()
    for f in "$dir"/fold*.metrics.json; do
        [ -e "$f" ] || { echo "fold_table.sh: no fold*.metrics.json in $dir" >&2; exit 2; }
        i=${f##*/fold}
        out+=("$(jq -ce --argjson i "${i%%.*}" '
            if .cinc_f1 and .macro_f1 and .per_class.AF.f1 and .calibration.ece_uncalibrated and .calibration.temperature
            then {fold: $i, cinc: .cinc_f1, af: .per_class.AF.f1, af_p: .per_class.AF.precision,
                  af_r: .per_class.AF.recall, nsr: .per_class.NSR.f1, noise: .per_class.Noise.f1,
                  other: .per_class.Other.f1, macro: .macro_f1, ece_raw: .calibration.ece_uncalibrated,
                  ece: .calibration.ece, t: .calibration.temperature}
            else null end' "$f" 2>/dev/null)") ||
            { echo "fold_table.sh: $f: expected a cross-validation fold's metrics.json with its calibration" >&2; exit 2; }
    done
    echo "[$(IFS=,; echo "${out[*]}")]"
}

base_folds=$(folds "$base") || exit $?
row_folds=$(folds "$row") || exit $?
jq -rn -L "$(dirname "$0")" --argjson a "$base_folds" --argjson b "$row_folds" \
    --arg la "$base_label" --arg lb "$row_label" --arg base "$base" --arg row "$row" '
  include "stats";
  [$a[] | .fold as $i | {a: ., b: ($b[] | select(.fold == $i))}] | sort_by(.a.fold) as $pairs
  | if ($pairs | length) == 0 then error("\($row) has no fold in common with \($base)") else . end
  | def both(f): "\(.a | f) → \(.b | f)";
    def af: "\(.af | f3) (\(.af_p | f3) / \(.af_r | f3))";
    def ms($k): [.[][$k]] | "\(mean | f3) ± \(std | f3)";
    def m($k): [.[][$k]] | mean | f3;
    def side($s): [$pairs[][$s]];
  "| fold: \($la) → \($lb) | CinC F1(N,A,O) | F1 AF (precision / recall) | F1 NSR | F1 Noise | F1 Other | macro-F1 | ECE without / with temperature | temperature |",
  "|---|---|---|---|---|---|---|---|---|",
  ($pairs[] | "| \(.a.fold) | \(both(.cinc | f3)) | \(both(af)) | \(both(.nsr | f3)) | \(both(.noise | f3)) | \(both(.other | f3)) | \(both(.macro | f3)) | \(both("\(.ece_raw | f3) / \(.ece | f3)")) | \(both(.t | fixed(2))) |"),
  (if ($pairs | length) > 1 then
     "| mean ± std | \(side("a") | ms("cinc")) → \(side("b") | ms("cinc")) | \(side("a") | ms("af")) → \(side("b") | ms("af")) | \(side("a") | m("nsr")) → \(side("b") | m("nsr")) | \(side("a") | m("noise")) → \(side("b") | m("noise")) | \(side("a") | m("other")) → \(side("b") | m("other")) | \(side("a") | m("macro")) → \(side("b") | m("macro")) | \(side("a") | m("ece")) → \(side("b") | m("ece")) (with temperature) | \(side("a") | [.[].t] | mean | fixed(2)) → \(side("b") | [.[].t] | mean | fixed(2)) |"
   else empty end)
' 2> >(sed 's/^jq: error (at [^)]*): /fold_table.sh: /' >&2) || exit 2
