#!/usr/bin/env bash
# Test of the shipped model file weights/ecg_effb0_cinc2017.h5 used as it is: ecgeval and ecgpredict take it
# with no configuration (it carries its own), on the bundled sample and on CinC 2017 records, and ecgpredict
# uses it when no model is named, from the checkout and, installed, from any directory.
set -uo pipefail
fail() { echo "FAIL: $*"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
src="$ECG_SOURCE_ROOT"
cinc="$src/tests/fixtures/data/cinc2017"
model=weights/ecg_effb0_cinc2017.h5
cd "$src" || fail "no source root $src"
[ -f "$model" ] || fail "$model is missing (experiments/ship_cinc2017.sh makes it)"

# ecgpredict MODEL FILE...: one line per CinC record, with the model's classes.
"$BUILD_TOOLS/ecgpredict" "$model" "$cinc"/A00592.mat "$cinc"/A00894.mat "$cinc"/A00984.mat "$cinc"/A05493.mat \
    >"$tmp/named.jsonl" 2>"$tmp/named.err" || fail "ecgpredict $model: $(cat "$tmp/named.err")"
[ "$(wc -l <"$tmp/named.jsonl")" = 4 ] || fail "ecgpredict printed $(wc -l <"$tmp/named.jsonl") lines for 4 records"
jq -es 'map(.record) == ["A00592", "A00894", "A00984", "A05493"] and
    all(.[]; (.probabilities | keys) == ["AF", "NSR", "Noise", "Other"] and ([.probabilities[]] | add) > 0.999)' \
    "$tmp/named.jsonl" >/dev/null || fail "ecgpredict lines: $(cat "$tmp/named.jsonl")"

# ecgpredict FILE...: no model named, the shipped one, with the same output.
"$BUILD_TOOLS/ecgpredict" "$cinc"/A00592.mat "$cinc"/A00894.mat "$cinc"/A00984.mat "$cinc"/A05493.mat \
    >"$tmp/default.jsonl" 2>"$tmp/default.err" || fail "ecgpredict with no model: $(cat "$tmp/default.err")"
cmp -s "$tmp/named.jsonl" "$tmp/default.jsonl" || fail "ecgpredict FILE differs from ecgpredict $model FILE"
# ... from another directory too, when the programs find their data installed (here: the checkout).
(cd "$tmp" && ECGTRAIN_DATADIR="$src" "$BUILD_TOOLS/ecgpredict" "$cinc/A00592.mat" >elsewhere.jsonl 2>elsewhere.err) ||
    fail "ecgpredict with no model, installed: $(cat "$tmp/elsewhere.err")"
cmp -s <(head -1 "$tmp/named.jsonl") "$tmp/elsewhere.jsonl" || fail "the installed shipped model gave other results"
(cd "$tmp" && ECGTRAIN_DATADIR="$tmp/nowhere" "$BUILD_TOOLS/ecgpredict" "$cinc/A00592.mat" >/dev/null 2>missing.err)
st=$?
[ $st = 2 ] && grep -q "no MODEL named, and the shipped model $model is not in the working directory or in $tmp/nowhere" \
    "$tmp/missing.err" || fail "without the shipped model anywhere: status $st, $(cat "$tmp/missing.err")"

# ecgeval MODEL data.path=...: every record of a CinC folder, the lines ecgpredict prints.  From another
# directory: the model's data.exclude (data/sample/records.txt) names its own data, not this folder's.
(cd "$tmp" && "$BUILD_TOOLS/ecgeval" "$src/$model" data.path="$cinc" data.split=all --out cinc >cinc.out 2>&1) ||
    fail "ecgeval on CinC records: $(tail -3 "$tmp/cinc.out")"
grep -q "(all, 4 records): accuracy" "$tmp/cinc.out" || fail "ecgeval summary: $(tail -1 "$tmp/cinc.out")"
# The same records, classes and probabilities; ecgeval batches the four records' windows together and
# ecgpredict classifies one record at a time, and GEMMs of other widths may round the last bit
# differently, so the six printed decimals may differ by one unit.
jq -es '(.[0:4] | map(del(.file))) as $a | (.[4:8] | map(del(.file))) as $b | length == 8 and
    ([range(4)] | all(. as $i | $a[$i].record == $b[$i].record and $a[$i].class == $b[$i].class and
        ($a[$i].probabilities | to_entries | all(.value - $b[$i].probabilities[.key] | fabs <= 2e-6))))' \
    "$tmp/named.jsonl" "$tmp/cinc/predictions.jsonl" >/dev/null ||
    fail "ecgeval's predictions differ from ecgpredict's: $(cat "$tmp/cinc/predictions.jsonl")"

# ecgeval on the bundled sample: the default run's test split (seed 42, 15 % / 15 %), records it never saw.
"$BUILD_TOOLS/ecgeval" "$model" data.format=cachet_short data.path=data/sample/cachet_sample.h5 run.seed=42 \
    data.val_fraction=0.15 data.test_fraction=0.15 data.split=test --out "$tmp/sample" >"$tmp/sample.out" 2>&1 ||
    fail "ecgeval on the sample: $(tail -3 "$tmp/sample.out")"
grep -q "^data/sample/cachet_sample.h5 (test, 41 records): accuracy" "$tmp/sample.out" ||
    fail "ecgeval summary: $(tail -1 "$tmp/sample.out")"
jq -e '(.accuracy | type) == "number" and (.cinc_f1 | type) == "number" and .calibration.temperature != 1' \
    "$tmp/sample/metrics.json" >/dev/null || fail "metrics.json: $(head -c 300 "$tmp/sample/metrics.json")"
[ "$(wc -l <"$tmp/sample/predictions.jsonl")" = 41 ] || fail "predictions.jsonl: $(wc -l <"$tmp/sample/predictions.jsonl") lines"
echo ok
