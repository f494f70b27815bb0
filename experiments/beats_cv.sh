#!/usr/bin/env bash
# Leave-records-out cross-validation of the beat recipe over MIT-BIH DS1, and its AAMI summary.
#
#   experiments/beats_cv.sh [-j N] [--intra] NAME K [key=value ...]
#
# Runs `ecgtrain configs/mitbih_beats.yaml data.folds=K data.fold=f key=value ...` for f = 0..K-1
# through experiments/sweep.sh (into runs/NAME/data.fold=f/, skipping finished folds and continuing
# stopped ones), then prints experiments/beats_summary.sh runs/NAME: per class N, S, V, F the mean
# and standard deviation over the folds of Se, +P and F1, and the pooled figures of all test beats.
# The folds keep each record (patient) whole: every DS1 record is tested once, by a model that never
# saw that patient.  --intra splits beats instead of records (data.group=record): the intra-patient
# protocol some papers use, whose figures are optimistic (a patient's beats are in training and test).
# -j N trains N folds at once, each on its share of the cores (sweep.sh -j; on 2 cores two 1-thread
# folds run about twice as fast as one 2-thread fold at the recipe's small images).
# Set BEATS_CONFIG to use another config.
#
# Examples:  experiments/beats_cv.sh beats_cv 5
#            experiments/beats_cv.sh --intra beats_intra 5
#            experiments/beats_cv.sh smoke 2 train.epochs=1 data.records=101,106,119,209   (minutes)
set -euo pipefail
cd "$(dirname "$0")/.."
intra=() jobs=(-j 1)
if [ "${1:-}" = -j ]; then jobs=(-j "${2:-}"); shift 2 || true; fi
if [ "${1:-}" = --intra ]; then intra=(data.group=record); shift; fi
[ $# -ge 2 ] || { sed -n '2,21p' "$0"; exit 2; }
name="$1" k="$2"; shift 2
[[ "$k" =~ ^[0-9]+$ ]] && [ "$k" -ge 2 ] || { echo "beats_cv.sh: K '$k': expected an integer >= 2" >&2; exit 2; }
config=${BEATS_CONFIG:-configs/mitbih_beats.yaml}
folds=$(seq -s, 0 $((k - 1)))
start=$(date +%s)
status=0
bash experiments/sweep.sh "${jobs[@]}" "$config" "$name" "data.fold=$folds" -- "data.folds=$k" "${intra[@]}" "$@" || status=$?
echo "beats_cv.sh: $k folds in $(($(date +%s) - start)) s${intra:+ (intra-patient: optimistic)}"
bash experiments/beats_summary.sh "runs/$name"
exit $status
