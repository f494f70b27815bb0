#!/usr/bin/env bash
# Runs a grid of ecgtrain overrides, one run directory per combination.
#
#   experiments/sweep.sh CONFIG SWEEP key=v1,v2,... [key=v1,v2 ...] [-- fixed key=value ...]
#
# Every combination of the listed values runs `ecgtrain CONFIG <fixed> <combination>` into
# runs/SWEEP/<key=value,...>/ (an explicit run.dir) and records its overrides there (overrides.txt).
# A run whose metrics.json exists is skipped and one stopped with a checkpoint continues from its
# last.h5, so an interrupted sweep continues where it stopped; an attempt that stopped before its
# first checkpoint is moved aside to <dir>.failed-N, since ecgtrain never reuses a run's directory.
# Afterwards: experiments/summary.sh runs/SWEEP
#
# Example: experiments/sweep.sh configs/effb0.yaml lr optim.lr=1e-3,3e-4 train.label_smoothing=0,0.1
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=experiments/lib.sh
source experiments/lib.sh
[ $# -ge 3 ] || { sed -n '2,14p' "$0"; exit 2; }
config="$1" sweep="$2"; shift 2
axes=() fixed=()
while [ $# -gt 0 ]; do
    if [ "$1" = "--" ]; then shift; fixed=("$@"); break; fi
    case "$1" in *=*) axes+=("$1") ;; *) echo "sweep.sh: expected key=v1,v2, found '$1'" >&2; exit 2 ;; esac
    shift
done
ecgtrain=${ECGTRAIN:-build/tools/ecgtrain}  # ECGTRAIN chooses another build
[ -x "$ecgtrain" ] || { echo "sweep.sh: $ecgtrain missing; run scripts/setup.sh" >&2; exit 1; }
command -v jq >/dev/null || { echo "sweep.sh: jq missing; run scripts/setup.sh" >&2; exit 1; }

# The grid as lines of space-separated key=value words.
combos=("")
for axis in "${axes[@]}"; do
    key="${axis%%=*}" values="${axis#*=}" next=()
    IFS=, read -ra vs <<<"$values"
    for c in "${combos[@]}"; do
        for v in "${vs[@]}"; do next+=("${c:+$c }$key=$v"); done
    done
    combos=("${next[@]}")
done

failed=0
for c in "${combos[@]}"; do
    name=$(tr ' /' ',_' <<<"$c")
    dir="runs/$sweep/$name"
    if [ -f "$dir/metrics.json" ]; then echo "sweep.sh: $dir done already"; continue; fi
    # An earlier attempt stopped: continue from its checkpoint, or keep it aside as <dir>.failed-N
    # (ecgtrain never writes into a directory that holds a run).
    prepare_run_dir sweep.sh "$dir"
    printf '%s\n' "${fixed[@]}" $c >"$dir/overrides.txt"
    echo "sweep.sh: $c${resume[*]:+ (continuing $dir/last.h5)}"
    # shellcheck disable=SC2086
    if ! "$ecgtrain" "$config" "${fixed[@]}" $c "run.name=$sweep" "run.dir=$dir" "${resume[@]}" \
            >>"$dir/stdout.txt" 2>>"$dir/stderr.txt"; then
        echo "sweep.sh: failed: $c (see $dir/stderr.txt)" >&2
        failed=$((failed + 1))
    fi
done
bash experiments/summary.sh "runs/$sweep"
[ $failed -eq 0 ]
