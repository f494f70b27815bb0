#!/usr/bin/env bash
# Re-runs the configurations behind the numbers in the README and fails if a metric differs
# from the reported value.
#
#   experiments/reproduce.sh [--pretraining] [--tolerance T] [--only NAME]
#
# The reported values are experiments/results/reported.tsv: one line per metric,
#   name <TAB> config <TAB> overrides <TAB> metric <TAB> value
# Each distinct name is one ecgtrain run into runs/reproduce/<name>; its metrics.json must match
# every listed value to within T (default 0: bit-identical, which holds for the same config,
# seed, thread count and OpenBLAS kernels; another CPU may need e.g. --tolerance 0.02).
# A row whose config is experiments/ship_cinc2017.sh retrains the shipped model
# weights/ecg_effb0_cinc2017.h5 with that script (its validation metrics; the model file it exports
# goes to runs/reproduce/<name>/model.h5, the shipped one is left alone): about 30 minutes on 2
# cores, so only with --pretraining (it needs ../shared/data/cinc2017).
set -euo pipefail
cd "$(dirname "$0")/.."
tolerance=0 pretraining=0 only=""
while [ $# -gt 0 ]; do
    case "$1" in
        --pretraining) pretraining=1 ;;
        --tolerance) tolerance="$2"; shift ;;
        --only) only="$2"; shift ;;
        -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
        *) echo "reproduce.sh: unknown option '$1'" >&2; exit 2 ;;
    esac
    shift
done
table=experiments/results/reported.tsv
ecgtrain=${ECGTRAIN:-build/tools/ecgtrain}  # ECGTRAIN (and ECGEXPORT) choose another build
[ -x "$ecgtrain" ] || { echo "reproduce.sh: $ecgtrain missing; run scripts/setup.sh" >&2; exit 1; }
command -v jq >/dev/null || { echo "reproduce.sh: jq missing; run scripts/setup.sh" >&2; exit 1; }
# A top-level number of metrics.json: "null" when it is null, empty when the key is absent.
num() { jq -r --arg k "$1" 'if has($k) then .[$k] else "" end' "$2"; }

failures=0 checked=0
runs=$(grep -v '^#' "$table" | cut -f1-3 | sort -u)
while IFS=$'\t' read -r name config overrides; do
    [ -n "$name" ] || continue
    [ -z "$only" ] || [ "$only" = "$name" ] || continue
    ship=0
    [ "$config" = experiments/ship_cinc2017.sh ] && ship=1
    if [ $ship = 1 ] && [ $pretraining = 0 ]; then
        echo "reproduce.sh: skipping $name (the shipped model's training; use --pretraining)"
        continue
    fi
    dir="runs/reproduce/$name"
    rm -rf "$dir" # a fresh run.dir: a rerun replaces this script's own earlier result on purpose
    mkdir -p runs/reproduce
    echo "reproduce.sh: $name: $([ $ship = 1 ] || echo "ecgtrain ")$config $overrides"
    # shellcheck disable=SC2086
    if [ $ship = 1 ]; then
        RUN="$dir" CV=none OUT="$dir/model.h5" ECGTRAIN="$ecgtrain" bash "$config" $overrides "run.name=$name" \
            run.log_level=warn >"$dir.out" 2>&1
    else
        "$ecgtrain" "$config" $overrides "run.name=$name" "run.dir=$dir" run.log_level=warn >"$dir.out" 2>&1
    fi || { echo "reproduce.sh: $name failed:"; tail -5 "$dir.out"; failures=$((failures + 1)); continue; }
    while IFS=$'\t' read -r n c o metric want; do
        [ "$n" = "$name" ] || continue
        got=$(num "$metric" "$dir/metrics.json")
        checked=$((checked + 1))
        if awk -v g="$got" -v w="$want" -v t="$tolerance" 'BEGIN { d = g - w; exit !(g != "" && (d < 0 ? -d : d) <= t) }'; then
            printf '  %-14s %s (reported %s)\n' "$metric" "$got" "$want"
        else
            printf '  %-14s %s, reported %s: DIFFERS\n' "$metric" "${got:-missing}" "$want"
            failures=$((failures + 1))
        fi
    done < <(grep -v '^#' "$table")
done <<<"$runs"
echo "reproduce.sh: $checked metrics checked, $failures differ or failed"
[ $failures -eq 0 ]
