#!/usr/bin/env bash
# The ablation table of docs/results.md, from the cross-validations kept in experiments/results: for each row
# of ROWS (default experiments/ablation.tsv), the mean ± sample standard deviation over its folds of the CinC
# score and the per-class F1, and its difference from the row it is compared with on the same folds (with how
# many of those folds it beats), so that every figure in the table comes from files anyone can read.
#
#   experiments/ablation_table.sh [ROWS [RESULTS]]
#
# ROWS: tab-separated lines "row, against (a row above, or -), results directory (in RESULTS, default
# experiments/results), what changes"; lines starting with # are skipped.  A row whose directory holds fewer
# folds than its base is compared on the folds both have; one with fewer folds than the most any row has names
# them beside each figure.  docs/results.md holds the output between
# "<!-- experiments/ablation_table.sh -->" and "<!-- end -->" (tests/experiments/test_ablation_table.sh
# checks that it is the same).
set -euo pipefail
rows_file=${1:-$(dirname "$0")/ablation.tsv}
results=${2:-$(dirname "$0")/results}
[ -r "$rows_file" ] && [ -f "$rows_file" ] || { echo "ablation_table.sh: $rows_file: cannot read it" >&2; exit 2; }
[ -d "$results" ] || { echo "ablation_table.sh: $results: not a directory" >&2; exit 2; }
command -v jq >/dev/null || { echo "ablation_table.sh: needs jq" >&2; exit 2; }

# One JSON object a line: the row, its base, what changes, and each fold's figures.
rows_json() {
    local row against dir what f i
    while IFS=$'\t' read -r row against dir what; do
        case "$row" in '#'* | '') continue ;; esac
        [ -n "$what" ] || { echo "ablation_table.sh: $rows_file: row $row: expected 4 tab-separated fields" >&2; exit 2; }
        local folds=()
        for f in "$results/$dir"/fold*.metrics.json; do
            [ -e "$f" ] || { echo "ablation_table.sh: row $row: no fold*.metrics.json in $results/$dir" >&2; exit 2; }
            i=${f##*/fold}
            folds+=("$(jq -ce --argjson i "${i%%.*}" 'if .cinc_f1 and .macro_f1 and .per_class.AF.f1 and .calibration.ece
                then {fold: $i, cinc: .cinc_f1, macro: .macro_f1, af: .per_class.AF.f1, nsr: .per_class.NSR.f1,
                      noise: .per_class.Noise.f1, other: .per_class.Other.f1, ece: .calibration.ece}
                else null end' "$f" 2>/dev/null)") ||
                { echo "ablation_table.sh: row $row: $f: expected a cross-validation fold's metrics.json" >&2; exit 2; }
        done
        jq -cn --arg row "$row" --arg against "$against" --arg dir "$dir" --arg what "$what" \
            --argjson folds "[$(IFS=,; echo "${folds[*]}")]" \
            '{row: $row, against: $against, dir: $dir, what: $what, folds: $folds}'
    done <"$rows_file"
}

json=$(rows_json) || exit $?
errors=$(mktemp)
trap 'rm -f "$errors"' EXIT
table=$(jq -rs -L "$(dirname "$0")" '
  include "stats";
  def signed: (if . >= 0 then "+" else "" end) + f3;
  (map(.folds | length) | max) as $k
  # A row with fewer folds than the most any row has (a cross-validation still running) names them.
  | def cell($key): [.folds[][$key]] as $v | [.folds[].fold | tostring] as $ids
          | (if ($v | length) > 1 then "\($v | mean | f3) ± \($v | std | f3)" else $v[0] | f3 end)
            + (if ($v | length) == $k then "" elif ($v | length) == 1 then " (fold \($ids[0]))"
               else " (folds \($ids | join(", ")))" end);
  (map({key: .row, value: .}) | from_entries) as $by
  | "| row | what changes | against | CinC F1(N,A,O) | Δ CinC (folds better) | F1 AF | Δ AF | F1 NSR | F1 Noise | F1 Other | macro-F1 | ECE | results |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    (.[] | . as $r
     | (if $r.against == "-" then null
        else ($by[$r.against] // error("row \($r.row): against \($r.against), which is not a row above")) end) as $b
     | (if $b then [$r.folds[] | .fold as $i | {r: ., b: ($b.folds[] | select(.fold == $i))}] else [] end) as $pairs
     | (if $b and ($pairs | length) == 0 then error("row \($r.row): no fold in common with \($b.row)") else . end)
     | def delta($k): [$pairs[] | .r[$k] - .b[$k]] | mean | signed;
     "| \($r.row) | \($r.what) | \($r.against) | \($r | cell("cinc")) | "
     + (if $b then "\(delta("cinc")) (\([$pairs[] | select(.r.cinc > .b.cinc)] | length) of \($pairs | length))" else "" end)
     + " | \($r | cell("af")) | " + (if $b then delta("af") else "" end)
     + " | \($r | cell("nsr")) | \($r | cell("noise")) | \($r | cell("other")) | \($r | cell("macro")) | \($r | cell("ece"))"
     + " | `\($r.dir)/` |")
' <<<"$json" 2>"$errors") || { echo "ablation_table.sh: $rows_file: $(sed 's/^jq: error (at [^)]*): //' "$errors")" >&2; exit 2; }
printf '%s\n' "$table"
