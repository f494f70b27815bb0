#!/usr/bin/env bash
# Runs ecgtrain's bench_effnet and the same workload in PyTorch (channels-last) alternately and prints
# the ratio of median throughputs and the peak memory of each.
#
#   bench/compare.sh [--mode train|infer|both] [--rounds N] [bench options: --arch --res --batch --in-channels --threads --steps]
#
# Needs a release build (scripts/setup.sh) and Debian's python3-torch and python3-torchvision.
set -euo pipefail
cd "$(dirname "$0")/.."

mode=both rounds=3 threads=2 steps=5
args=(--arch b0 --res 224 --batch 16 --in-channels 3)
while [ $# -gt 0 ]; do
    case "$1" in
        --mode) mode="$2"; shift ;;
        --rounds) rounds="$2"; shift ;;
        --threads) threads="$2"; shift ;;
        --steps) steps="$2"; shift ;;
        --arch|--res|--batch|--in-channels) args+=("$1" "$2"); shift ;;
        -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
        *) echo "compare.sh: unknown option '$1'" >&2; exit 2 ;;
    esac
    shift
done
python=/usr/bin/python3
[ -x build/bench/bench_effnet ] || { echo "compare.sh: build/bench/bench_effnet missing; run scripts/setup.sh" >&2; exit 1; }
$python -c "import torch, torchvision" 2>/dev/null || { echo "compare.sh: needs python3-torch and python3-torchvision" >&2; exit 1; }

median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
value() { sed -n "s/^$1=//p" | tail -1; }

run_mode() {
    local m="$1" ours=() theirs=() ours_mem=() theirs_mem=()
    for ((r = 1; r <= rounds; r++)); do
        out=$(OMP_NUM_THREADS=$threads build/bench/bench_effnet "${args[@]}" --mode "$m" --threads "$threads" --steps "$steps" --no-timing)
        ours+=("$(value images_per_s <<<"$out")"); ours_mem+=("$(value peak_rss_mib <<<"$out")")
        out=$($python bench/torch_effnet.py "${args[@]}" --mode "$m" --threads "$threads" --steps "$steps")
        theirs+=("$(value images_per_s <<<"$out")"); theirs_mem+=("$(value peak_rss_mib <<<"$out")")
        echo "round $r $m: ecgtrain ${ours[-1]} img/s, pytorch ${theirs[-1]} img/s" >&2
    done
    local a b am bm
    a=$(printf '%s\n' "${ours[@]}" | median); b=$(printf '%s\n' "${theirs[@]}" | median)
    am=$(printf '%s\n' "${ours_mem[@]}" | median); bm=$(printf '%s\n' "${theirs_mem[@]}" | median)
    printf '| %s | %s | %.2f | %.2f | %.2f | %.0f | %.0f | %.2f |\n' "$m" "${args[*]} --threads $threads" "$a" "$b" \
        "$(awk -v x="$a" -v y="$b" 'BEGIN {print x / y}')" "$am" "$bm" "$(awk -v x="$am" -v y="$bm" 'BEGIN {print x / y}')"
}

echo "| mode | workload | ecgtrain img/s | PyTorch img/s | speed ratio | ecgtrain peak MiB | PyTorch peak MiB | memory ratio |"
echo "|---|---|---|---|---|---|---|---|"
case "$mode" in
    both) run_mode train; run_mode infer ;;
    train|infer) run_mode "$mode" ;;
    *) echo "compare.sh: --mode is train, infer or both" >&2; exit 2 ;;
esac
