#!/usr/bin/env bash
# Test of the shipped beat model weights/ecg_effb0_mitbih.h5 used as it is: ecgpredict classifies a WFDB record
# beat by beat with it, named or not (a .hea with no model named takes it), ecgeval gives the AAMI figures, and the
# file carries its beat windows, classes and cross-validated figures.
set -uo pipefail
fail() { echo "FAIL: $*"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
src="$ECG_SOURCE_ROOT"
fix="$src/tests/fixtures/data/mitdb"
model=weights/ecg_effb0_mitbih.h5
cd "$src" || fail "no source root $src"
[ -f "$model" ] || fail "$model is missing (experiments/beats_ship.sh makes it)"

# Named: the 33 annotated beats of the 30 s cut of record 100 that have a whole 3 s window, then the summary.
"$BUILD_TOOLS/ecgpredict" "$model" "$fix/100.hea" >"$tmp/named.jsonl" 2>"$tmp/named.err" ||
    fail "ecgpredict $model: $(cat "$tmp/named.err")"
[ "$(wc -l <"$tmp/named.jsonl")" = 34 ] || fail "ecgpredict printed $(wc -l <"$tmp/named.jsonl") lines, expected 33 + 1"
head -33 "$tmp/named.jsonl" | jq -es 'all(.[]; .record == "100" and (.probabilities | keys) == ["F", "N", "Q", "S", "V"]
    and ([.probabilities[]] | add) > 0.999)' >/dev/null || fail "beat lines: $(head -2 "$tmp/named.jsonl")"
tail -1 "$tmp/named.jsonl" | jq -e '.beats == 33 and .source == "reference" and ([.counts[]] | add) == 33' >/dev/null ||
    fail "summary line: $(tail -1 "$tmp/named.jsonl")"

# Not named: a WFDB record takes the beat model, with the same output; a rhythm record with it is refused.
"$BUILD_TOOLS/ecgpredict" "$fix/100.hea" >"$tmp/default.jsonl" 2>"$tmp/default.err" ||
    fail "ecgpredict with no model: $(cat "$tmp/default.err")"
cmp -s "$tmp/named.jsonl" "$tmp/default.jsonl" || fail "ecgpredict 100.hea differs from ecgpredict $model 100.hea"
"$BUILD_TOOLS/ecgpredict" "$fix/100.hea" "$src/tests/fixtures/data/cinc2017/A00592.mat" >/dev/null 2>"$tmp/mixed.err"
st=$?
[ $st = 2 ] && grep -q "no MODEL named, and the files mix WFDB records (the beat model $model)" "$tmp/mixed.err" ||
    fail "mixed files with no model: status $st, $(cat "$tmp/mixed.err")"

# ecgeval on a folder of records: the AAMI figures, from the file alone.
"$BUILD_TOOLS/ecgeval" "$model" data.path="$fix" data.split=all --out "$tmp/ev" >"$tmp/ev.out" 2>&1 ||
    fail "ecgeval: $(tail -3 "$tmp/ev.out")"
jq -e '.aami.n == 33 and (.aami.per_class | keys) == ["F", "N", "S", "V"]' "$tmp/ev/metrics.json" >/dev/null ||
    fail "ecgeval metrics.json: $(jq -c .aami "$tmp/ev/metrics.json")"
# ... the same beats with the same probabilities as ecgpredict's (record "100:<sample>").
cmp -s <(head -33 "$tmp/named.jsonl" | jq -c '[("100:" + (.sample | tostring)), .probabilities]') \
    <(jq -c '[.record, .probabilities]' "$tmp/ev/predictions.jsonl") || fail "ecgeval's beats differ from ecgpredict's"

# Self-describing: 3 s beat windows at 360 Hz, the AAMI classes, the cross-validated figures (inter-patient).
# (h5py: scripts/setup.sh installs python3-h5py.)
/usr/bin/python3 - "$model" <<'PY' || fail "the model file does not describe itself"
import json, sys, h5py
f = h5py.File(sys.argv[1], "r")
g = f["ecg_model"]
config = g["config_yaml"][()].decode()
names = [n.decode() if isinstance(n, bytes) else n for n in g.attrs["class_names"]]
metrics = json.loads(g["metrics_json"][()].decode())
assert names == ["N", "S", "V", "F", "Q"], names
assert "format: mitbih_wfdb" in config and "window_seconds: 3" in config and "sample_rate: 360" in config, config[:400]
assert metrics["protocol"].startswith("inter-patient") and metrics["folds"] >= 3, metrics
assert set(metrics["per_class"]) == {"N", "S", "V", "F"}, metrics
PY
echo ok
