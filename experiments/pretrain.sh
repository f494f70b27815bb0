#!/usr/bin/env bash
# Pretrains the EfficientNet-B0 backbone that configs/effb0.yaml fine-tunes, and exports it.
#
#   experiments/pretrain.sh [key=value ...]
#
# Runs configs/pretrain_cinc2017.yaml (CinC 2017 records of ../shared/data/cinc2017 minus the bundled
# sample's, 64 x 64 spectrograms, from scratch), continuing runs/pretrain_cinc2017/last.h5 when an
# earlier run was interrupted, then writes the best epoch's weights as a Keras-layout HDF5 file to
# weights/ecg_effb0_pretrained.h5 (with ecgexport) and its test metrics and log beside it.
set -euo pipefail
cd "$(dirname "$0")/.."
run=runs/pretrain_cinc2017
resume=()
if [ -f "$run/last.h5" ] && [ ! -f "$run/metrics.json" ]; then
    resume=("run.resume=$run/last.h5")
    echo "pretrain.sh: continuing $run/last.h5"
fi
build/tools/ecgtrain configs/pretrain_cinc2017.yaml "${resume[@]}" "$@"
mkdir -p weights
build/tools/ecgexport "$run/best.h5" weights/ecg_effb0_pretrained.h5
cp "$run/metrics.json" weights/ecg_effb0_pretrained.metrics.json
cp "$run/log.csv" weights/ecg_effb0_pretrained.log.csv
