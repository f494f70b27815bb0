#!/usr/bin/env bash
# Trains the shipped beat model on all of DS1 and installs it as weights/ecg_effb0_mitbih.h5.
#
#   experiments/beats_ship.sh [key=value ...]
#
# One run of configs/mitbih_beats.yaml through experiments/sweep.sh (runs/beats_ship/, continued
# from its last.h5 when stopped) with no test split: the records are cut patient-wise into training
# and validation (data.val_fraction), the best epoch by validation macro-F1 is kept, and its
# report is of the validation records.  The cross-validated figures come from beats_cv.sh.
# The installed file is the run's best.h5 checkpoint, which stores the run's resolved configuration
# (preprocessing, beat windows, spectrogram, classes): ecgpredict and ecgeval take it alone.
# Its metrics.json and log.csv are copied beside it.  WEIGHTS_OUT chooses another destination.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${WEIGHTS_OUT:-weights/ecg_effb0_mitbih.h5}
bash experiments/sweep.sh "${BEATS_CONFIG:-configs/mitbih_beats.yaml}" beats_ship eval.split=val -- \
    data.test_fraction=0 "$@"
run="runs/beats_ship/eval.split=val"
cp "$run/best.h5" "$out"
cp "$run/metrics.json" "${out%.h5}.metrics.json"
cp "$run/log.csv" "${out%.h5}.log.csv"
echo "beats_ship.sh: installed $out (validation report: $run/report.html)"
