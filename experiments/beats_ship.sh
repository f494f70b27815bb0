#!/usr/bin/env bash
# Trains the shipped beat model on all of DS1 and writes it as weights/ecg_effb0_mitbih.h5.
#
#   experiments/beats_ship.sh [key=value ...]
#
# One run of configs/mitbih_beats.yaml through experiments/sweep.sh (runs/beats_ship/, continued
# from its last.h5 when stopped) with no test split: the records are cut patient-wise into training
# and validation (data.val_fraction), the best epoch by validation macro-F1 is kept, and its
# report is of the validation records.  The cross-validated figures come from beats_cv.sh: the
# summary of the folds under CV (default runs/beats_cv3, experiments/beats_summary.sh --json) is
# stored in the model as its metrics; CV=none ships without them.  ecgexport writes the model file:
# Keras-layout weights plus the run's resolved configuration (preprocessing, beat windows,
# spectrogram, classes), so ecgpredict and ecgeval take it alone.  WEIGHTS_OUT chooses another
# destination.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${WEIGHTS_OUT:-weights/ecg_effb0_mitbih.h5}
cv=${CV:-runs/beats_cv3}
ecgexport=${ECGEXPORT:-build/tools/ecgexport}
[ -x "$ecgexport" ] || { echo "beats_ship.sh: $ecgexport missing; run scripts/setup.sh" >&2; exit 1; }
metrics=()
if [ "$cv" != none ]; then
    summary="$cv/summary.json"
    bash experiments/beats_summary.sh --json "$summary" "$cv" >/dev/null ||
        { echo "beats_ship.sh: no finished folds under $cv: run experiments/beats_cv.sh first (or CV=none)" >&2; exit 2; }
    metrics=(--metrics "$summary")
fi
bash experiments/sweep.sh "${BEATS_CONFIG:-configs/mitbih_beats.yaml}" beats_ship eval.split=val -- \
    data.test_fraction=0 "$@"
run="runs/beats_ship/eval.split=val"
"$ecgexport" "${metrics[@]}" "$run/best.h5" "$out"
echo "beats_ship.sh: wrote $out (validation report: $run/report.html)"
