#!/usr/bin/env bash
# Test of experiments/fold_table.sh: every fold table docs/results.md marks as its output is its output for the
# kept results; on made-up folds, the rows of the folds both sides have, the means and sample standard deviations
# are the hand-computed ones, one common fold gives no mean row; missing results, files that are not a fold's
# metrics, no common fold and wrong arguments are refused by name.
set -euo pipefail
cd "$ECG_SOURCE_ROOT"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# Each marked table in docs/results.md is the script's output for the arguments its marker names.
tables=0
while IFS= read -r marker; do
    args=${marker#<!-- experiments/fold_table.sh }
    args=${args% -->}
    mapfile -t argv < <(xargs -n1 printf '%s\n' <<<"$args")
    want=$(experiments/fold_table.sh "${argv[@]}") || fail "fold_table.sh $args: $want"
    have=$(awk -v m="$marker" '$0 == m {on = 1; next} on && /^<!-- end -->$/ {exit} on' docs/results.md)
    diff <(echo "$have") <(echo "$want") >"$dir/diff" || fail "docs/results.md's table for '$args' is not the script's output:
$(cat "$dir/diff")"
    tables=$((tables + 1))
done < <(grep '^<!-- experiments/fold_table.sh .* -->$' docs/results.md)
[ "$tables" -ge 3 ] || fail "docs/results.md: $tables marked fold tables, expected at least 3"

# Made-up folds: the base's CinC 0.80, 0.70, 0.60, the row's 0.90, 0.60 on folds 0 and 2 (and fold 3, which the
# base lacks): common folds 0 and 2, base mean 0.700 ± 0.141, row 0.750 ± 0.212.
fold() { # dir i cinc temperature
    mkdir -p "$dir/res/$1"
    jq -n --argjson c "$3" --argjson t "$4" '{cinc_f1: $c, macro_f1: 0.5,
        calibration: {ece_uncalibrated: 0.0625, ece: 0.0304, temperature: $t},
        per_class: {AF: {f1: 0.8, precision: 0.75, recall: 0.857}, NSR: {f1: 0.9}, Noise: {f1: 0.4}, Other: {f1: 0.7}}}' \
        >"$dir/res/$1/fold$2.metrics.json"
}
fold base 0 0.80 0.9; fold base 1 0.70 1.0; fold base 2 0.60 1.1
fold row 0 0.90 1.2; fold row 2 0.60 1.45; fold row 3 0.50 1.0
out=$(experiments/fold_table.sh --results "$dir/res" base row "the base" "the row") || fail "made-up folds: $out"
expected='| fold: the base → the row | CinC F1(N,A,O) | F1 AF (precision / recall) | F1 NSR | F1 Noise | F1 Other | macro-F1 | ECE without / with temperature | temperature |
|---|---|---|---|---|---|---|---|---|
| 0 | 0.800 → 0.900 | 0.800 (0.750 / 0.857) → 0.800 (0.750 / 0.857) | 0.900 → 0.900 | 0.400 → 0.400 | 0.700 → 0.700 | 0.500 → 0.500 | 0.063 / 0.030 → 0.063 / 0.030 | 0.90 → 1.20 |
| 2 | 0.600 → 0.600 | 0.800 (0.750 / 0.857) → 0.800 (0.750 / 0.857) | 0.900 → 0.900 | 0.400 → 0.400 | 0.700 → 0.700 | 0.500 → 0.500 | 0.063 / 0.030 → 0.063 / 0.030 | 1.10 → 1.45 |
| mean ± std | 0.700 ± 0.141 → 0.750 ± 0.212 | 0.800 ± 0.000 → 0.800 ± 0.000 | 0.900 → 0.900 | 0.400 → 0.400 | 0.700 → 0.700 | 0.500 → 0.500 | 0.030 → 0.030 (with temperature) | 1.00 → 1.33 |'
[ "$out" = "$expected" ] || fail "made-up folds: expected
$expected
found
$out"
out=$(experiments/fold_table.sh --results "$dir/res" row base) || fail "labels by default: $out"
grep -qF '| fold: row → base |' <<<"$out" || fail "the default labels: $out"
fold one 1 0.75 1.0
out=$(experiments/fold_table.sh --results "$dir/res" base one) || fail "one common fold: $out"
[ "$(wc -l <<<"$out")" = 3 ] || fail "one common fold: expected the header and one fold row, found
$out"

# Refusals: one message naming what is wrong, exit status 2.
refused() { # expected-message args...
    local want=$1 st=0 msg
    shift
    msg=$(experiments/fold_table.sh "$@" 2>&1 >/dev/null) || st=$?
    [ "$st" = 2 ] || fail "$want: exit status $st, expected 2 ($msg)"
    grep -qF "$want" <<<"$msg" || fail "expected '$want', found '$msg'"
    [ "$(wc -l <<<"$msg")" = 1 ] || fail "expected one line, found '$msg'"
}
refused "no fold*.metrics.json in $dir/res/nowhere" --results "$dir/res" base nowhere
fold other 0 0.5 1.0
refused "one has no fold in common with other" --results "$dir/res" other one
echo '{"accuracy": 1}' >"$dir/res/row/fold4.metrics.json"
refused "$dir/res/row/fold4.metrics.json: expected a cross-validation fold's metrics.json" --results "$dir/res" base row
st=0
experiments/fold_table.sh base >/dev/null 2>&1 || st=$?
[ "$st" = 2 ] || fail "one argument: exit status $st, expected 2 (usage)"
echo "fold table: OK ($tables tables in docs/results.md)"
