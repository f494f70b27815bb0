#!/usr/bin/env bash
# Trains the shipped rhythm model on every CinC 2017 development record and exports it, self-describing.
#
#   experiments/ship_cinc2017.sh [key=value ...]
#
# 1. ecgtrain configs/cinc2017.yaml data.test_fraction=0 eval.split=val run.dir=runs/ship_cinc2017:
#    every development record except the bundled sample's (data.exclude) trains, but for the
#    validation split (data.val_fraction) that fits the temperature (and chooses the best epoch unless the
#    recipe keeps the last, train.select: last).
#    Interrupted (Ctrl-C, a kill, a reboot)?  Run the same command again: it continues from
#    runs/ship_cinc2017/last.h5 (run.resume); a finished run is not trained again.
# 2. ecgexport --metrics runs/cv/cinc2017/summary.json (the cross-validated metrics of
#    `experiments/cv.sh configs/cinc2017.yaml 3`, which must have finished first) writes
#    weights/ecg_effb0_cinc2017.h5: weights, configuration, classes, temperature, provenance, metrics.
# The validation report of the run (runs/ship_cinc2017/metrics.json) chose the epoch, so it is not an
# estimate of the model's quality: the cross-validated metrics are.
#
# Environment (for tests and variants): CONFIG, RUN (run directory), CV (a cv.sh directory, or "none"
# to store no metrics), OUT (the model file), ECGTRAIN and ECGEXPORT (the programs).
set -euo pipefail
cd "$(dirname "$0")/.."
config=${CONFIG:-configs/cinc2017.yaml}
run=${RUN:-runs/ship_cinc2017}
cv=${CV:-runs/cv/cinc2017}
out=${OUT:-weights/ecg_effb0_cinc2017.h5}
ecgtrain=${ECGTRAIN:-build/tools/ecgtrain}
ecgexport=${ECGEXPORT:-build/tools/ecgexport}
for p in "$ecgtrain" "$ecgexport"; do
    [ -x "$p" ] || { echo "ship_cinc2017.sh: $p missing; run scripts/setup.sh" >&2; exit 1; }
done
metrics=()
if [ "$cv" != none ]; then
    [ -f "$cv/summary.json" ] || {
        echo "ship_cinc2017.sh: $cv/summary.json missing: run experiments/cv.sh $config 3 first (or CV=none)" >&2
        exit 2
    }
    metrics=(--metrics "$cv/summary.json")
fi
# shellcheck source=experiments/lib.sh
source experiments/lib.sh
start=$(date +%s)
if [ -f "$run/metrics.json" ]; then
    echo "ship_cinc2017.sh: $run finished already; exporting it"
else
    prepare_run_dir ship_cinc2017.sh "$run"
    echo "ship_cinc2017.sh: training $config into $run${resume[*]:+ (continuing $run/last.h5)}"
    "$ecgtrain" "$config" data.test_fraction=0 eval.split=val "$@" "run.dir=$run" "${resume[@]}"
fi
mkdir -p "$(dirname "$out")"
"$ecgexport" "${metrics[@]}" "$run/best.h5" "$out"
echo "ship_cinc2017.sh: wrote $out ($(($(date +%s) - start)) s this session)"
