#!/usr/bin/env bash
# Runs ecgtrain's bench_effnet and the same workload in PyTorch (channels-last) alternately and prints
# the ratio of median throughputs and the peak memory of each.
#
#   bench/compare.sh [--mode train|infer|latency|both|all] [--rounds N]
#                    [bench options: --arch --res --height --width --channels --in-channels --batch
#                     --classes --threads --steps --replicas]
#
# --replicas N (training): ecgtrain splits each batch over N replicas of the model, one thread each
# (run.replicas); PyTorch keeps its --threads intra-op threads.  Use N = --threads to compare the
# same cores.
# `latency` is inference at batch 1 (what a server sees; its column is milliseconds per image);
# `both` is train and infer, `all` adds latency.  Rounds alternate the two frameworks; the
# medians are over rounds.
#
# Both programs run with OMP_WAIT_POLICY=passive (ecgtrain sets it for itself; exported here for
# PyTorch) unless the caller sets it: with the default spinning OpenMP threads, PyTorch on a
# machine shared with other jobs slows down by up to 200x (batch-1 inference at 64 x 64: 1.8 s
# against 9 ms per image), which would make any ratio meaningless.
# Needs a release build (scripts/setup.sh) and Debian's python3-torch and python3-torchvision.
set -euo pipefail
cd "$(dirname "$0")/.."

mode=both rounds=3 threads=2 steps=5 replicas=1
arch=b0 height=224 width=224 channels=3 batch=16 classes=1000
while [ $# -gt 0 ]; do
    case "$1" in
        --mode) mode="$2"; shift ;;
        --rounds) rounds="$2"; shift ;;
        --threads) threads="$2"; shift ;;
        --steps) steps="$2"; shift ;;
        --replicas) replicas="$2"; shift ;;
        --arch) arch="$2"; shift ;;
        --res) height="$2" width="$2"; shift ;;
        --height) height="$2"; shift ;;
        --width) width="$2"; shift ;;
        --channels|--in-channels) channels="$2"; shift ;;
        --batch) batch="$2"; shift ;;
        --classes) classes="$2"; shift ;;
        -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
        *) echo "compare.sh: unknown option '$1'" >&2; exit 2 ;;
    esac
    shift
done
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-passive}"
args=(--arch "$arch" --height "$height" --width "$width" --channels "$channels" --classes "$classes")
python=/usr/bin/python3
[ -x build/bench/bench_effnet ] || { echo "compare.sh: build/bench/bench_effnet missing; run scripts/setup.sh" >&2; exit 1; }
$python -c "import torch, torchvision" 2>/dev/null || { echo "compare.sh: needs python3-torch and python3-torchvision" >&2; exit 1; }

median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
value() { sed -n "s/^$1=//p" | tail -1; }

# run_mode train|infer|latency: alternating rounds, then one table row.
run_mode() {
    local m="$1" bm="$1" extra=(--batch "$batch") ours=() theirs=() ours_mem=() theirs_mem=() unit=img/s key=images_per_s
    local ours_extra=() how="$threads threads"
    if [ "$m" = latency ]; then
        bm=infer extra=(--batch 1) unit=ms key=step_ms
    fi
    if [ "$m" = train ] && [ "$replicas" -gt 1 ]; then
        ours_extra=(--replicas "$replicas") how="$threads threads, ecgtrain $replicas replicas"
    fi
    for ((r = 1; r <= rounds; r++)); do
        out=$(OMP_NUM_THREADS=$threads build/bench/bench_effnet "${args[@]}" "${extra[@]}" ${ours_extra[@]+"${ours_extra[@]}"} --mode "$bm" --threads "$threads" --steps "$steps" --no-timing)
        ours+=("$(value $key <<<"$out")"); ours_mem+=("$(value peak_rss_mib <<<"$out")")
        out=$($python bench/torch_effnet.py "${args[@]}" "${extra[@]}" --mode "$bm" --threads "$threads" --steps "$steps")
        theirs+=("$(value $key <<<"$out")"); theirs_mem+=("$(value peak_rss_mib <<<"$out")")
        echo "round $r $m: ecgtrain ${ours[-1]} $unit, pytorch ${theirs[-1]} $unit" >&2
    done
    local a b am bm
    a=$(printf '%s\n' "${ours[@]}" | median); b=$(printf '%s\n' "${theirs[@]}" | median)
    am=$(printf '%s\n' "${ours_mem[@]}" | median); bm=$(printf '%s\n' "${theirs_mem[@]}" | median)
    # speed ratio > 1: ecgtrain faster (for latency, PyTorch's time over ours)
    local speed
    if [ "$m" = latency ]; then speed=$(awk -v x="$a" -v y="$b" 'BEGIN {print y / x}'); else speed=$(awk -v x="$a" -v y="$b" 'BEGIN {print x / y}'); fi
    printf '| %s | %s | %.2f %s | %.2f %s | %.2f | %.0f | %.0f | %.2f |\n' "$m" "$arch ${height}x${width}x$channels, batch ${extra[1]}, $how" \
        "$a" "$unit" "$b" "$unit" "$speed" "$am" "$bm" "$(awk -v x="$am" -v y="$bm" 'BEGIN {print x / y}')"
}

echo "| mode | workload | ecgtrain | PyTorch | speed ratio | ecgtrain peak MiB | PyTorch peak MiB | memory ratio |"
echo "|---|---|---|---|---|---|---|---|"
case "$mode" in
    both) run_mode train; run_mode infer ;;
    all) run_mode train; run_mode infer; run_mode latency ;;
    train|infer|latency) run_mode "$mode" ;;
    *) echo "compare.sh: --mode is train, infer, latency, both or all" >&2; exit 2 ;;
esac
