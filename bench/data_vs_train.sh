#!/usr/bin/env bash
# Is the data pipeline ever the bottleneck?  Runs a config's data pipeline (bench_data --config: its records
# through its training loader) and a training step at the config's input shape and batch (bench_effnet
# --mode train) alternately, and prints the median rate of each and their ratio.
#
#   bench/data_vs_train.sh [--rounds N] [--threads T] [--records N] CONFIG [key=value ...]
#
# The loader runs on 1 thread (in a run it shares the cores with training), training on T (default 2).
# A ratio far above 1 means the loader keeps up with training with cores to spare.  Needs a release build
# (scripts/setup.sh; BENCH_DIR names another build's bench/ folder) and the config's data.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=3 threads=2 records=600
while [ $# -gt 0 ]; do
    case "$1" in
        --rounds) rounds="$2"; shift 2 ;;
        --threads) threads="$2"; shift 2 ;;
        --records) records="$2"; shift 2 ;;
        -h | --help) sed -n '2,10p' "$0"; exit 0 ;;
        --*) echo "data_vs_train.sh: unknown option '$1'" >&2; exit 2 ;;
        *) break ;;
    esac
done
[ $# -ge 1 ] || { sed -n '2,10p' "$0"; exit 2; }
config="$1"; shift
bench=${BENCH_DIR:-build/bench}
for p in bench_data bench_effnet; do
    [ -x "$bench/$p" ] || { echo "data_vs_train.sh: $bench/$p missing; run scripts/setup.sh" >&2; exit 1; }
done
median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
data=() train=()
for ((r = 1; r <= rounds; r++)); do
    out=$("$bench/bench_data" --config "$config" --records "$records" --threads 1 run.log_level=warn "$@")
    read -r h w c b < <(sed -nE 's/^shape=([0-9]+)x([0-9]+)x([0-9]+) batch=([0-9]+)$/\1 \2 \3 \4/p' <<<"$out")
    data+=("$(sed -nE 's/.* train +[0-9x]+ +threads 1 +([0-9.]+) images\/s.*/\1/p' <<<"$out")")
    out=$("$bench/bench_effnet" --height "$h" --width "$w" --channels "$c" --batch "$b" --classes 4 \
        --mode train --threads "$threads" --no-timing)
    train+=("$(sed -n 's/^images_per_s=//p' <<<"$out" | tail -1)")
    echo "round $r: data pipeline ${data[-1]} images/s (1 thread), training ${train[-1]} images/s ($threads threads)" >&2
done
d=$(printf '%s\n' "${data[@]}" | median) t=$(printf '%s\n' "${train[@]}" | median)
echo "$config: ${h}x${w}x${c}, batch $b: data pipeline $d images/s on 1 thread, training $t images/s on $threads threads;" \
    "ratio $(awk -v d="$d" -v t="$t" 'BEGIN { printf "%.1f", d / t }')"
