#!/usr/bin/env bash
# Test of experiments/ablation_table.sh: the table in docs/results.md is its output for the kept results; on
# made-up folds, the means, sample standard deviations, differences on common folds and the count of folds
# better are the hand-computed ones, a row of fewer folds than the others names its folds; rows against an unknown row, directories
# without fold metrics, files that are not fold metrics and lines of other shapes are refused by name.
set -euo pipefail
cd "$ECG_SOURCE_ROOT"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# The copy in docs/results.md is the script's output.
table=$(experiments/ablation_table.sh) || fail "ablation_table.sh on the kept results: $table"
docs=$(sed -n '/^<!-- experiments\/ablation_table.sh -->$/,/^<!-- end -->$/p' docs/results.md | sed '1d;$d')
[ -n "$docs" ] || fail "docs/results.md: no table between the markers"
diff <(echo "$docs") <(echo "$table") >"$dir/diff" || fail "docs/results.md's ablation table is not the script's output:
$(cat "$dir/diff")"

# Made-up folds: base cinc 0.80, 0.70, 0.60 (mean 0.700, std 0.100); the change 0.90, 0.65 on folds 0 and 1
# (mean 0.775, std 0.177; against the base's 0.80, 0.70 on the same folds: +0.025, better on 1 of 2).
fold() { # dir i cinc af
    mkdir -p "$dir/res/$1"
    jq -n --argjson c "$3" --argjson a "$4" '{cinc_f1: $c, macro_f1: 0.5, calibration: {ece: 0.05},
        per_class: {AF: {f1: $a}, NSR: {f1: 0.9}, Noise: {f1: 0.4}, Other: {f1: 0.7}}}' >"$dir/res/$1/fold$2.metrics.json"
}
fold base 0 0.80 0.70; fold base 1 0.70 0.60; fold base 2 0.60 0.50
fold change 0 0.90 0.80; fold change 1 0.65 0.70
fold one 2 0.55 0.40
printf '# comment\nB\t-\tbase\tthe base\nC\tB\tchange\ttwo folds\nO\tB\tone\tfold 2 only\n' >"$dir/rows.tsv"
out=$(experiments/ablation_table.sh "$dir/rows.tsv" "$dir/res") || fail "made-up rows: $out"
grep -qxF '| B | the base | - | 0.700 ± 0.100 |  | 0.600 ± 0.100 |  | 0.900 ± 0.000 | 0.400 ± 0.000 | 0.700 ± 0.000 | 0.500 ± 0.000 | 0.050 ± 0.000 | `base/` |' <<<"$out" ||
    fail "the base row: $out"
grep -qxF '| C | two folds | B | 0.775 ± 0.177 (folds 0, 1) | +0.025 (1 of 2) | 0.750 ± 0.071 (folds 0, 1) | +0.100 | 0.900 ± 0.000 (folds 0, 1) | 0.400 ± 0.000 (folds 0, 1) | 0.700 ± 0.000 (folds 0, 1) | 0.500 ± 0.000 (folds 0, 1) | 0.050 ± 0.000 (folds 0, 1) | `change/` |' <<<"$out" ||
    fail "the two-fold row: $out"
grep -qxF '| O | fold 2 only | B | 0.550 (fold 2) | -0.050 (0 of 1) | 0.400 (fold 2) | -0.100 | 0.900 (fold 2) | 0.400 (fold 2) | 0.700 (fold 2) | 0.500 (fold 2) | 0.050 (fold 2) | `one/` |' <<<"$out" ||
    fail "the one-fold row: $out"

# Refusals: one message naming the row or file, exit status 2.
refused() { # rows-text expected-message
    printf "$1" >"$dir/bad.tsv"
    local st=0 msg
    msg=$(experiments/ablation_table.sh "$dir/bad.tsv" "$dir/res" 2>&1 >/dev/null) || st=$?
    [ "$st" = 2 ] || fail "$2: exit status $st, expected 2 ($msg)"
    grep -qF "$2" <<<"$msg" || fail "expected '$2', found '$msg'"
    [ "$(wc -l <<<"$msg")" = 1 ] || fail "expected one line, found '$msg'"
}
refused 'B\t-\tbase\tthe base\nX\tY\tchange\tagainst nothing\n' "row X: against Y, which is not a row above"
refused 'B\t-\tnowhere\tthe base\n' "row B: no fold*.metrics.json in $dir/res/nowhere"
refused 'B\t-\tbase\n' "row B: expected 4 tab-separated fields"
echo '{"accuracy": 1}' >"$dir/res/base/fold3.metrics.json"
refused 'B\t-\tbase\tthe base\n' "row B: $dir/res/base/fold3.metrics.json: expected a cross-validation fold's metrics.json"
rm "$dir/res/base/fold3.metrics.json"
refused 'B\t-\tbase\tthe base\nC\tB\tchange\tfolds 0, 1\nO\tC\tone\tfold 2\n' "row O: no fold in common with C"
msg=$(experiments/ablation_table.sh "$dir/missing.tsv" 2>&1) && fail "a missing rows file was read"
grep -qF "$dir/missing.tsv: cannot read it" <<<"$msg" || fail "missing rows file: $msg"
echo "ablation table: OK"
