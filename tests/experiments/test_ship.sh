#!/usr/bin/env bash
# Test of experiments/ship_cinc2017.sh with a tiny config on the bundled sample: a model file with the
# cross-validated metrics, a stopped run continued, ecgpredict on the result, and a missing CV refused.
set -euo pipefail
cd "$ECG_SOURCE_ROOT"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
export CONFIG=configs/tiny.yaml RUN="$tmp/run" OUT="$tmp/model.h5" CV="$tmp/cv"
tiny=(data.spectrogram.height=32 data.spectrogram.width=32 run.log_level=warn data.val_fraction=0.2 train.epochs=2
      eval.calibrate=true)

err=$(bash experiments/ship_cinc2017.sh "${tiny[@]}" 2>&1) && fail "ran without the CV summary"
grep -q "$tmp/cv/summary.json missing: run experiments/cv.sh configs/tiny.yaml 3 first" <<<"$err" || fail "message: $err"
mkdir -p "$tmp/cv" && echo '{"cinc_f1": {"mean": 0.5, "std": 0.01}}' >"$tmp/cv/summary.json"
out=$(bash experiments/ship_cinc2017.sh "${tiny[@]}" 2>&1) || fail "ship exited non-zero: $out"
[ -f "$OUT" ] || fail "no model file"
grep -q "^  test_fraction: 0.0$" "$RUN/config.yaml" || fail "the run did not train on every record: $(grep test_fraction "$RUN/config.yaml")"
jq -e '.calibration.fitted_on == "val"' "$RUN/metrics.json" >/dev/null || fail "no temperature fitted on the validation split"
# The model file classifies by itself and carries the metrics (read by the C tests in detail).
pred=$("$ECGPREDICT" "$OUT" data/sample/cachet_sample.h5 2>/dev/null) || fail "ecgpredict failed on the model file"
grep -q '"probabilities"' <<<"$pred" || fail "ecgpredict on the model file: $pred"
grep -aq '"cinc_f1": {"mean": 0.5' "$OUT" || fail "the CV metrics are not in the model file"
# Stopped after a checkpoint: the same command continues the run; a finished run is only exported again.
rm "$RUN/metrics.json"
again=$(bash experiments/ship_cinc2017.sh "${tiny[@]}" 2>&1) || fail "continuing failed: $again"
grep -q "continuing $RUN/last.h5" <<<"$again" || fail "the stopped run was not continued: $again"
again=$(bash experiments/ship_cinc2017.sh "${tiny[@]}" 2>&1) || fail "re-export failed: $again"
grep -q "finished already; exporting it" <<<"$again" || fail "a finished run was trained again: $again"
echo "ship_cinc2017.sh: 9 checks passed"
