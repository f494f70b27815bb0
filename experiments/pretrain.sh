#!/usr/bin/env bash
# Pretrains the EfficientNet-B0 backbone that configs/effb0.yaml fine-tunes, and exports it.
#
#   experiments/pretrain.sh [key=value ...]
#
# Runs configs/pretrain_cinc2017.yaml (CinC 2017 records of ../shared/data/cinc2017 minus the bundled
# sample's, 64 x 64 spectrograms, from scratch), continuing the last runs/pretrain_cinc2017[-N]/last.h5
# when an earlier run was interrupted, then writes the best epoch's weights as a Keras-layout HDF5 file to
# weights/ecg_effb0_pretrained.h5 (with ecgexport) and its test metrics and log beside it.
set -euo pipefail
cd "$(dirname "$0")/.."
# ecgtrain keeps finished runs: a new one goes to runs/pretrain_cinc2017-2, -3, ... and prints where.
run=runs/pretrain_cinc2017
latest=$run n=2
while [ -d "$run-$n" ]; do latest="$run-$n" n=$((n + 1)); done
resume=()
if [ -f "$latest/last.h5" ] && [ ! -f "$latest/metrics.json" ]; then
    resume=("run.resume=$latest/last.h5")
    echo "pretrain.sh: continuing $latest/last.h5"
fi
out=$(mktemp)
trap 'rm -f "$out"' EXIT
build/tools/ecgtrain configs/pretrain_cinc2017.yaml "${resume[@]}" "$@" 2> >(tee "$out" >&2)
wait $! # the copy of stderr is complete
# the export takes the directory this run printed
printed=$(sed -n 's/^\(warning: \)\{0,1\}run directory: \([^ ]*\).*/\2/p' "$out" | head -1)
run=${printed:-$run}
mkdir -p weights
build/tools/ecgexport "$run/best.h5" weights/ecg_effb0_pretrained.h5
cp "$run/metrics.json" weights/ecg_effb0_pretrained.metrics.json
cp "$run/log.csv" weights/ecg_effb0_pretrained.log.csv
