#!/usr/bin/env bash
# Runs a grid of ecgtrain overrides, one run directory per combination.
#
#   experiments/sweep.sh [-j N | --emit | --only K] CONFIG SWEEP key=v1,v2,... [key=v1,v2 ...] [-- fixed key=value ...]
#
# Every combination of the listed values runs `ecgtrain CONFIG <fixed> <combination>` into
# runs/SWEEP/<key=value,...>/ (an explicit run.dir) and records its overrides there (overrides.txt).
# A run whose metrics.json exists is skipped and one stopped with a checkpoint continues from its
# last.h5, so an interrupted sweep continues where it stopped; an attempt that stopped before its
# first checkpoint is moved aside to <dir>.failed-N, since ecgtrain never reuses a run's directory.
# A run interrupted (Ctrl-C or SIGTERM to ecgtrain: it saves a checkpoint first) starts no further
# combination; a run that failed otherwise does not stop the others.
# Afterwards: experiments/summary.sh runs/SWEEP
#
#   -j N      run N combinations at once, each with its share of the cores (run.threads)
#   --emit    print one command per combination (for a job array or other machines) and exit
#   --only K  run combination K alone (1-based, in --emit order), without the summary
#
# Example: experiments/sweep.sh configs/effb0.yaml lr optim.lr=1e-3,3e-4 train.label_smoothing=0,0.1
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=experiments/lib.sh
source experiments/lib.sh
usage() { sed -n '2,20p' "$0"; exit 2; }
jobs=1 emit=0 only=0
while [ $# -gt 0 ]; do
    case "$1" in
        -j) [ $# -ge 2 ] && [[ "$2" =~ ^[1-9][0-9]*$ ]] || { echo "sweep.sh: -j needs a count, found '${2:-}'" >&2; exit 2; }
            jobs="$2"; shift 2 ;;
        --emit) emit=1; shift ;;
        --only) [ $# -ge 2 ] && [[ "$2" =~ ^[1-9][0-9]*$ ]] || { echo "sweep.sh: --only needs a number, found '${2:-}'" >&2; exit 2; }
            only="$2"; shift 2 ;;
        -h|--help) usage ;;
        *) break ;;
    esac
done
[ $# -ge 3 ] || usage
args=("$@")
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

if [ $emit = 1 ]; then
    # One self-contained command per combination: the same sweep, narrowed to that combination.
    for i in "${!combos[@]}"; do
        printf 'cd %q && ' "$PWD"
        [ -n "${ECGTRAIN:-}" ] && printf 'ECGTRAIN=%q ' "$ECGTRAIN"
        printf 'bash experiments/sweep.sh --only %d' $((i + 1))
        printf ' %q' "${args[@]}"
        printf '\n'
    done
    exit 0
fi
if [ "$only" -gt ${#combos[@]} ]; then
    echo "sweep.sh: --only $only: the grid has ${#combos[@]} combinations" >&2
    exit 2
fi

# Runs combination $1 into its directory; 1 when ecgtrain failed, 3 when it was interrupted.
run_one() {
    local c="$1" name dir resume n
    name=$(tr ' /' ',_' <<<"$c")
    dir="runs/$sweep/$name"
    if [ -f "$dir/metrics.json" ]; then echo "sweep.sh: $dir done already"; return 0; fi
    # An earlier attempt stopped: continue from its checkpoint, or keep it aside as <dir>.failed-N
    # (ecgtrain never writes into a directory that holds a run).
    prepare_run_dir sweep.sh "$dir"
    printf '%s\n' "${fixed[@]}" $c >"$dir/overrides.txt"
    echo "sweep.sh: $c${resume[*]:+ (continuing $dir/last.h5)}"
    # shellcheck disable=SC2086
    if ! "$ecgtrain" "$config" $threads "${fixed[@]}" $c "run.name=$sweep" "run.dir=$dir" "${resume[@]}" \
            >>"$dir/stdout.txt" 2>>"$dir/stderr.txt"; then
        if run_interrupted "$dir"; then
            echo "sweep.sh: interrupted: $c, its checkpoint saved; run the same command again to continue" >&2
            return 3
        fi
        echo "sweep.sh: failed: $c (see $dir/stderr.txt)" >&2
        return 1
    fi
}

threads=""  # several runs at once share the cores (a run.threads in the fixed overrides wins)
[ "$jobs" -gt 1 ] && threads="run.threads=$(( $(nproc) / jobs > 0 ? $(nproc) / jobs : 1 ))"
if [ "$only" -gt 0 ]; then
    run_one "${combos[$((only - 1))]}" || exit 1
    exit
fi
failed=0 interrupted=0 running=0
# Waits for one of the running combinations and counts how it ended.
wait_one() {
    local status=0
    wait -n || status=$?
    running=$((running - 1))
    if [ "$status" -eq 3 ]; then interrupted=$((interrupted + 1)); elif [ "$status" -ne 0 ]; then failed=$((failed + 1)); fi
}
for c in "${combos[@]}"; do
    [ "$running" -lt "$jobs" ] || wait_one
    [ "$interrupted" -eq 0 ] || break
    run_one "$c" &
    running=$((running + 1))
done
while [ "$running" -gt 0 ]; do wait_one; done
[ "$interrupted" -eq 0 ] || exit 1
bash experiments/summary.sh "runs/$sweep"
[ $failed -eq 0 ]
