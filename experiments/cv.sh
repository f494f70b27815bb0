#!/usr/bin/env bash
# k-fold cross-validation of a config: the k folds as k runs, then their mean and standard deviation.
#
#   experiments/cv.sh [--name NAME] [--eval-of DIR | --finish-of DIR] CONFIG K [key=value ...]
#
# Fold i runs `ecgtrain CONFIG key=value... data.folds=K data.fold=i` into runs/cv/NAME/fold<i>/
# (NAME: the config's name and the overrides; the folds are stratified, the same for every config
# with the same run.seed and data).  A fold whose metrics.json exists is not run again; one stopped
# with a checkpoint continues from its last.h5; an attempt that stopped before its first checkpoint is
# moved aside to fold<i>.failed-N.  A fold interrupted (Ctrl-C or SIGTERM to ecgtrain: it saves a
# checkpoint first) stops the script; a fold that failed otherwise does not stop the others.
# When every fold is done, runs/cv/NAME/ receives
#   summary.json  mean and sample standard deviation over the folds of accuracy, macro-F1, the CinC
#                 score F1(N,A,O), macro ROC-AUC, ECE and each class's F1, and the pooled scores of
#                 the folds' summed confusion matrices (every record tested once)
#   summary.tsv   one header line and one row: the same numbers, tab-separated
#   summary.md    one markdown table row: mean +- std per column and the command
# and summary.md's row is printed.  Needs jq.
# --eval-of DIR trains nothing: each fold's model DIR/fold<i>/best.h5 (a finished cross-validation of
# CONFIG with the same K) is evaluated again on its own test fold with the overrides, which may then only
# be eval.* keys (and run.threads, run.log_level): a test-time ablation, such as other evaluation
# windows, at the cost of an evaluation (the models keep the epoch and temperature that their training
# chose with its own eval settings); its default NAME is DIR's name, ",eval-of" and the overrides.
# --finish-of DIR trains nothing either: each fold's finished run DIR/fold<i> (its config.yaml, log.csv, last.h5
# and best.h5, copied into NAME/fold<i>; CONFIG only names the result) is resumed with the eval.* overrides (and
# train.select: last takes each fold's last epoch instead of the one its validation chose), which repeats only the
# end of the run: the calibration on the fold's validation split, the RR fusion (eval.rr_fusion=true) and the test
# report; its default NAME is DIR's name, ",finish-of" and the overrides.
#
# Examples: experiments/cv.sh configs/cinc2017.yaml 5 train.epochs=20
#           experiments/cv.sh --name w3 --eval-of runs/cv/cinc2017 configs/cinc2017.yaml 3 eval.hop_seconds=0 eval.windows=3
#           experiments/cv.sh --finish-of runs/cv/cinc2017 configs/cinc2017.yaml 3 eval.rr_fusion=true
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=experiments/lib.sh
source experiments/lib.sh
usage() { sed -n '2,32p' "$0"; exit 2; }
name="" eval_of="" finish_of=""
while [ $# -gt 0 ]; do
    case "$1" in
    --name) [ $# -ge 2 ] || usage; name="$2"; shift 2 ;;
    --eval-of) [ $# -ge 2 ] || usage; eval_of="${2%/}"; shift 2 ;;
    --finish-of) [ $# -ge 2 ] || usage; finish_of="${2%/}"; shift 2 ;;
    --*) echo "cv.sh: unknown option '$1'" >&2; usage ;;
    *) break ;;
    esac
done
[ $# -ge 2 ] || usage
config="$1" k="$2"; shift 2
overrides=("$@")
[[ "$k" =~ ^[0-9]+$ ]] && [ "$k" -ge 2 ] || { echo "cv.sh: K: expected a fold count >= 2, found '$k'" >&2; exit 2; }
[ -f "$config" ] || { echo "cv.sh: $config: no such config" >&2; exit 2; }
for o in "${overrides[@]}"; do
    case "$o" in
    data.folds=* | data.fold=* | run.dir=* | run.resume=*) echo "cv.sh: $o: cv.sh sets this key itself" >&2; exit 2 ;;
    eval.*=* | run.threads=* | run.log_level=*) ;;
    train.select=*) [ -z "$eval_of" ] || { echo "cv.sh: $o: --eval-of takes eval.* keys (and run.threads, run.log_level) only" >&2; exit 2; } ;;
    *=*) [ -z "$eval_of$finish_of" ] || { echo "cv.sh: $o: --${eval_of:+eval-of}${finish_of:+finish-of} takes eval.* keys (and run.threads, run.log_level${finish_of:+, train.select}) only" >&2; exit 2; } ;;
    *) echo "cv.sh: expected key=value, found '$o'" >&2; exit 2 ;;
    esac
done
[ -z "$eval_of" ] || [ -z "$finish_of" ] || { echo "cv.sh: --eval-of and --finish-of: expected one of them" >&2; exit 2; }
of="$eval_of$finish_of" of_option=--${eval_of:+eval-of}${finish_of:+finish-of}
if [ -n "$of" ]; then
    # the same K as the cross-validation evaluated: its folds 0..K-1 and no fold K
    for ((i = 0; i < k; i++)); do
        for f in best.h5 ${finish_of:+last.h5 config.yaml log.csv metrics.json}; do
            [ -f "$of/fold$i/$f" ] || { echo "cv.sh: $of_option $of: no fold$i/$f" >&2; exit 2; }
        done
    done
    [ ! -e "$of/fold$k" ] || { echo "cv.sh: $of_option $of: it has more than K = $k folds" >&2; exit 2; }
fi
ecgtrain=${ECGTRAIN:-build/tools/ecgtrain}  # ECGTRAIN chooses another build
ecgeval=$(dirname "$ecgtrain")/ecgeval
tool=$ecgtrain
[ -z "$eval_of" ] || tool=$ecgeval
[ -x "$tool" ] || { echo "cv.sh: $tool missing; run scripts/setup.sh" >&2; exit 1; }
command -v jq >/dev/null || { echo "cv.sh: jq missing; run scripts/setup.sh" >&2; exit 1; }
if [ -z "$name" ]; then
    name=$(basename "$config" .yaml)
    [ -z "$of" ] || name="$(basename "$of"),${of_option#--}"
    [ ${#overrides[@]} -eq 0 ] || name="$name,$(printf '%s,' "${overrides[@]}" | sed 's/,$//' | tr ' /' '__')"
fi
root="runs/cv/$name"
if [ -n "$of" ] && [ -d "$root" ] && [ "$root" -ef "$of" ]; then
    echo "cv.sh: $of_option $of: --name must name another directory than the one evaluated" >&2
    exit 2
fi
mkdir -p "$root"
printf '%s\n' "experiments/cv.sh${of:+ $of_option $of} $config $k${overrides[*]:+ ${overrides[*]}}" \
    >"$root/command.txt"

failed=0
for ((i = 0; i < k; i++)); do
    dir="$root/fold$i"
    if [ -f "$dir/metrics.json" ]; then echo "cv.sh: $dir done already"; continue; fi
    if [ -n "$eval_of" ]; then
        echo "cv.sh: fold $i of $k: evaluating $eval_of/fold$i/best.h5"
        mkdir -p "$dir"
        "$ecgeval" "$eval_of/fold$i/best.h5" data.split=test "${overrides[@]}" --out "$dir" \
            >"$dir/stdout.txt" 2>"$dir/stderr.txt" || { echo "cv.sh: fold $i failed (see $dir/stderr.txt)" >&2; failed=$((failed + 1)); }
        continue
    fi
    if [ -n "$finish_of" ]; then
        echo "cv.sh: fold $i of $k: finishing $finish_of/fold$i again"
        mkdir -p "$dir"
        cp "$finish_of/fold$i/config.yaml" "$finish_of/fold$i/log.csv" "$finish_of/fold$i/last.h5" \
            "$finish_of/fold$i/best.h5" "$dir/"
        "$ecgtrain" "$dir/config.yaml" "${overrides[@]}" "run.dir=$dir" "run.resume=$dir/last.h5" \
            >"$dir/stdout.txt" 2>"$dir/stderr.txt" || { echo "cv.sh: fold $i failed (see $dir/stderr.txt)" >&2; failed=$((failed + 1)); }
        continue
    fi
    prepare_run_dir cv.sh "$dir"
    echo "cv.sh: fold $i of $k${resume[*]:+ (continuing $dir/last.h5)}"
    start=$(date +%s)
    if ! "$ecgtrain" "$config" "${overrides[@]}" "data.folds=$k" "data.fold=$i" "run.dir=$dir" "${resume[@]}" \
            >>"$dir/stdout.txt" 2>>"$dir/stderr.txt"; then
        if run_interrupted "$dir"; then
            echo "cv.sh: fold $i interrupted, its checkpoint saved; run the same command again to continue" >&2
            exit 1
        fi
        echo "cv.sh: fold $i failed (see $dir/stderr.txt)" >&2
        failed=$((failed + 1))
        continue
    fi
    echo "$(($(date +%s) - start))" >>"$dir/seconds.txt"
done
[ $failed -eq 0 ] || { echo "cv.sh: $failed of $k folds failed; run the same command again to continue" >&2; exit 1; }

# Mean and sample standard deviation over the folds, and the pooled confusion matrix's scores.
folds=()
for ((i = 0; i < k; i++)); do folds+=("$root/fold$i/metrics.json"); done
jq -s -L "$(dirname "$0")" --arg command "$(cat "$root/command.txt")" '
  include "stats";
  def stats: map(select(. != null)) | if length == 0 then null else {mean: mean, std: std} end;
  def f1($cm; $c): ($cm | map(.[$c]) | add) as $col | ($cm[$c] | add) as $row |
    if $row + $col == 0 then 0 else 2 * $cm[$c][$c] / ($row + $col) end;
  def cinc($names; $f1s): [["N", "Normal", "NSR", "SR"], ["A", "AF", "AFib"], ["O", "Other"]] |
    map(. as $aliases | [$names | to_entries[] | select(.value | ascii_downcase | IN($aliases[] | ascii_downcase)) | .key][0]) |
    if any(. == null) then null else (map($f1s[.]) | add / 3) end;
  .[0].classes as $names |
  ([.[].confusion_matrix] | transpose | map(transpose | map(add))) as $pooled |
  ([range($names | length) | f1($pooled; .)]) as $pooled_f1 |
  {
    command: $command,
    folds: length,
    records: (map(.n) | add),
    classes: $names,
    accuracy: (map(.accuracy) | stats),
    macro_f1: (map(.macro_f1) | stats),
    cinc_f1: (map(.cinc_f1) | stats),
    roc_auc_macro: (map(.roc_auc_macro) | stats),
    ece: (map(.calibration.ece) | stats),
    temperature: (map(.calibration.temperature) | stats),
    f1: ([$names[] as $c | {key: $c, value: ([.[].per_class[$c].f1] | stats)}] | from_entries),
    pooled: {
      confusion_matrix: $pooled,
      f1: ([range($names | length) as $i | {key: $names[$i], value: $pooled_f1[$i]}] | from_entries),
      cinc_f1: cinc($names; $pooled_f1)
    }
  }' "${folds[@]}" >"$root/summary.json"

# One TSV row (header first) and one markdown row, mean +- std with three decimals.
jq -r '
  def cols: [["accuracy", .accuracy], ["macro_f1", .macro_f1], ["cinc_f1", .cinc_f1]] +
            [.classes[] as $c | ["f1_" + $c, .f1[$c]]] + [["auc", .roc_auc_macro], ["ece", .ece]];
. as $s |
  (cols | map(.[0] + "_mean", .[0] + "_std") + ["pooled_cinc_f1", "folds", "records", "command"] | @tsv),
  (cols | map(.[1] | if . == null then "", "" else .mean, .std end) +
   [$s.pooled.cinc_f1, $s.folds, $s.records, $s.command] | @tsv)
' "$root/summary.json" >"$root/summary.tsv"
jq -r '
  def pm: if . == null then "n/a" else "\(.mean * 1000 | round / 1000) ± \(.std * 1000 | round / 1000)" end;
  "| " + ([.accuracy, .macro_f1, .cinc_f1] + [.classes[] as $c | .f1[$c]] + [.roc_auc_macro, .ece] | map(pm) | join(" | ")) +
  " | \(.pooled.cinc_f1 // "n/a" | if type == "number" then . * 1000 | round / 1000 else . end) | `\(.command)` |"
' "$root/summary.json" >"$root/summary.md"
echo "cv.sh: $root: $k folds, $(jq .records "$root/summary.json") records tested"
echo "| accuracy | macro-F1 | CinC F1(N,A,O) | $(jq -r '.classes | map("F1 " + .) | join(" | ")' "$root/summary.json") | AUC | ECE | pooled CinC | command |"
cat "$root/summary.md"
