#!/usr/bin/env bash
# Test of the shipped model file weights/ecg_effb0_cinc2017.h5 used as it is: ecgeval and ecgpredict take it
# with no configuration (it carries its own), on the bundled sample and on CinC 2017 records, and ecgpredict
# uses it when no model is named, from the checkout and, installed, from any directory; its weights alone need
# --config and the run's configuration, in ecgpredict and ecgeval.
set -uo pipefail
fail() { echo "FAIL: $*"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
src="$ECG_SOURCE_ROOT"
cinc="$src/tests/fixtures/data/cinc2017"
model=weights/ecg_effb0_cinc2017.h5
cd "$src" || fail "no source root $src"
[ -f "$model" ] || fail "$model is missing (experiments/ship_cinc2017.sh makes it)"
records=("$cinc"/A00592.mat "$cinc"/A00894.mat "$cinc"/A00984.mat "$cinc"/A05493.mat)

# ecgpredict MODEL FILE...: one line per CinC record, with the model's classes.
"$BUILD_TOOLS/ecgpredict" "$model" "${records[@]}" >"$tmp/named.jsonl" 2>"$tmp/named.err" \
    || fail "ecgpredict $model: $(cat "$tmp/named.err")"
[ "$(wc -l <"$tmp/named.jsonl")" = 4 ] || fail "ecgpredict printed $(wc -l <"$tmp/named.jsonl") lines for 4 records"
jq -es 'map(.record) == ["A00592", "A00894", "A00984", "A05493"] and
    all(.[]; (.probabilities | keys) == ["AF", "NSR", "Noise", "Other"] and ([.probabilities[]] | add) > 0.999)' \
    "$tmp/named.jsonl" >/dev/null || fail "ecgpredict lines: $(cat "$tmp/named.jsonl")"

# ecgpredict FILE...: no model named, the shipped one, with the same output.
"$BUILD_TOOLS/ecgpredict" "${records[@]}" >"$tmp/default.jsonl" 2>"$tmp/default.err" \
    || fail "ecgpredict with no model: $(cat "$tmp/default.err")"
cmp -s "$tmp/named.jsonl" "$tmp/default.jsonl" || fail "ecgpredict FILE differs from ecgpredict $model FILE"
# ... from another directory too, when the programs find their data installed (here: the checkout).
(cd "$tmp" && ECGTRAIN_DATADIR="$src" "$BUILD_TOOLS/ecgpredict" "$cinc/A00592.mat" >elsewhere.jsonl 2>elsewhere.err) ||
    fail "ecgpredict with no model, installed: $(cat "$tmp/elsewhere.err")"
cmp -s <(head -1 "$tmp/named.jsonl") "$tmp/elsewhere.jsonl" || fail "the installed shipped model gave other results"
(cd "$tmp" && ECGTRAIN_DATADIR="$tmp/nowhere" "$BUILD_TOOLS/ecgpredict" "$cinc/A00592.mat" >/dev/null 2>missing.err)
st=$?
[ $st = 2 ] && grep -q "no MODEL named, and the shipped model $model is not in the working directory or in $tmp/nowhere" \
    "$tmp/missing.err" || fail "without the shipped model anywhere: status $st, $(cat "$tmp/missing.err")"

# Its weights alone, as Keras or tools/torch2h5.py write weights (the Keras layout without the /ecg_model group):
# named without --config they are still the model, and refused for want of their configuration; with the run's
# configuration they classify as the model file does, without its temperature T, so that each window's
# log-probability ratios are the model file's times T.
t=$(/usr/bin/python3 - "$model" "$tmp/plain.h5" <<'PY'
import sys, h5py
with h5py.File(sys.argv[1], 'r') as src, h5py.File(sys.argv[2], 'w') as dst:
    for name in src:
        if name != 'ecg_model':
            src.copy(name, dst)
    for key, value in src.attrs.items():
        dst.attrs[key] = value
    print(repr(float(src['ecg_model'].attrs['temperature'])))
PY
) || fail "could not write the weights alone"
"$BUILD_TOOLS/ecgpredict" "$tmp/plain.h5" "${records[@]}" >/dev/null 2>"$tmp/plain.err"
st=$?
[ $st != 0 ] && grep -qF "$tmp/plain.h5: weights alone, not an ecgtrain checkpoint or model file" "$tmp/plain.err" &&
    grep -qF "with --config FILE" "$tmp/plain.err" || fail "weights alone without --config: status $st, $(cat "$tmp/plain.err")"
"$BUILD_TOOLS/ecgpredict" --windows "$model" "${records[@]}" >"$tmp/calibrated.jsonl" 2>/dev/null || fail "ecgpredict --windows"
"$BUILD_TOOLS/ecgpredict" --windows --config configs/cinc2017.yaml "$tmp/plain.h5" "${records[@]}" \
    >"$tmp/plain.jsonl" 2>"$tmp/plain.err" || fail "weights alone with --config: $(cat "$tmp/plain.err")"
# Six printed decimals: classes under 0.001 in either are left out of the ratios.
jq -es --argjson t "$t" '.[0:4] as $cal | .[4:8] as $raw | length == 8 and
    ([range(4)] | all(. as $i | $cal[$i].record == $raw[$i].record and
        ($cal[$i].windows | length) == ($raw[$i].windows | length) and
        ([range($cal[$i].windows | length)] | all(. as $w | $cal[$i].windows[$w] as $c | $raw[$i].windows[$w] as $r |
            ["AF", "Noise", "Other"] | map(select($c[.] > 0.001 and $r[.] > 0.001 and $c.NSR > 0.001 and $r.NSR > 0.001)) |
            all(((($c[.] / $c.NSR) | log) * $t - (($r[.] / $r.NSR) | log)) | fabs < 0.01)))))' \
    "$tmp/calibrated.jsonl" "$tmp/plain.jsonl" >/dev/null ||
    fail "the weights alone (T = $t) do not classify as the model file: $(cat "$tmp/calibrated.jsonl" "$tmp/plain.jsonl")"

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

# ecgeval takes the weights alone with --config too: the same records and classes as the model file's report,
# at temperature 1; without --config, one message naming the file.
"$BUILD_TOOLS/ecgeval" --config configs/cinc2017.yaml "$tmp/plain.h5" data.path="$cinc" data.split=all --out "$tmp/plain" \
    >"$tmp/plain.out" 2>&1 || fail "ecgeval of the weights alone with --config: $(tail -3 "$tmp/plain.out")"
jq -es '(.[0:4] | map([.record, .class])) == (.[4:8] | map([.record, .class]))' "$tmp/cinc/predictions.jsonl" \
    "$tmp/plain/predictions.jsonl" >/dev/null || fail "ecgeval of the weights alone: $(cat "$tmp/plain/predictions.jsonl")"
jq -e '.calibration.temperature == 1' "$tmp/plain/metrics.json" >/dev/null ||
    fail "ecgeval of the weights alone: temperature $(jq .calibration.temperature "$tmp/plain/metrics.json")"
"$BUILD_TOOLS/ecgeval" "$tmp/plain.h5" data.path="$cinc" data.split=all --out "$tmp/plain2" >/dev/null 2>"$tmp/plain2.err"
st=$?
[ $st != 0 ] && grep -qF "$tmp/plain.h5: weights alone, not an ecgtrain checkpoint or model file" "$tmp/plain2.err" &&
    grep -qF "with --config FILE" "$tmp/plain2.err" ||
    fail "ecgeval of the weights alone without --config: status $st, $(cat "$tmp/plain2.err")"

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
