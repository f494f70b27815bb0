#!/usr/bin/env bash
# Test of the benchmark programs: non-square one-channel inputs, batch-1 inference, training over replicas, the
# GEMM shapes benchmark, a run's data pipeline from its config, bad options.
set -euo pipefail
fail() { echo "FAIL: $*"; exit 1; }

out=$("$BENCH_EFFNET" --height 32 --width 96 --channels 1 --batch 1 --classes 4 --mode infer --warmup 0 --steps 1) ||
    fail "bench_effnet exited non-zero: $out"
grep -q "height=32 width=96 batch=1 in_channels=1 mode=infer" <<<"$out" || fail "header does not echo the shape: $out"
grep -Eq '^step_ms=[0-9]+\.[0-9]+$' <<<"$out" || fail "no step_ms line: $out"
[ "$(tail -1 <<<"$out" | cut -d= -f1)" = images_per_s ] || fail "last line is not images_per_s: $out"

out=$("$BENCH_EFFNET" --res 32 --in-channels 2 --batch 2 --classes 3 --mode train --warmup 0 --steps 1) ||
    fail "bench_effnet train exited non-zero: $out"
grep -q "height=32 width=32 batch=2 in_channels=2 mode=train" <<<"$out" || fail "--res does not set both sides: $out"

out=$("$BENCH_EFFNET" --res 32 --channels 1 --batch 3 --classes 4 --mode train --replicas 2 --warmup 0 --steps 1) ||
    fail "bench_effnet --replicas exited non-zero: $out"
grep -q "batch=3 in_channels=1 mode=train threads=2 replicas=2" <<<"$out" || fail "header does not echo the replicas: $out"
grep -Eq "replicas_mib=[1-9][0-9.]*$" <<<"$out" || fail "no memory of the second replica: $out"
if out=$("$BENCH_EFFNET" --mode infer --replicas 2 2>&1); then fail "replicas were accepted for inference"; fi
grep -q "bench_effnet: --replicas: 2 replicas need --mode train and a batch of at least 2" <<<"$out" || fail "message: $out"

if out=$("$BENCH_EFFNET" --height 8 2>&1); then fail "a height below 32 was accepted"; fi
grep -q "bench_effnet: --height: expected an integer in \[32, 4096\], found '8'" <<<"$out" || fail "message: $out"

out=$("$BENCH_SGEMM" --height 32 --width 64 --batch 1 --threads 1 --reps 1) || fail "bench_sgemm exited non-zero: $out"
grep -Eq "^core=[A-Za-z0-9]+ threads=1 b0 32x64 batch 1: 32 gemm shapes x 3, .* GFLOP/s; 1024\^3: .* GFLOP/s$" <<<"$out" ||
    fail "bench_sgemm line: $out"
if out=$("$BENCH_SGEMM" --depth 3 2>&1); then fail "bench_sgemm accepted an unknown option"; fi
grep -q "bench_sgemm: unknown option '--depth'" <<<"$out" || fail "message: $out"
# The data pipeline of a run's config (the bundled sample, with an override): its shape, then the training and
# evaluation loaders at 1 thread.
out=$(cd "$ECG_SOURCE_ROOT" && "$BENCH_DATA" --config configs/tiny.yaml --records 40 --threads 1 \
    data.spectrogram.width=48 run.log_level=warn) || fail "bench_data --config exited non-zero: $out"
grep -q "^shape=64x48x1 batch=" <<<"$out" || fail "bench_data --config shape line: $out"
[ "$(grep -Ec "^configs/tiny.yaml +(train|eval) +64x48x1 +threads 1 +[0-9.]+ images/s" <<<"$out")" = 2 ] ||
    fail "bench_data --config rate lines: $out"
if out=$(cd "$ECG_SOURCE_ROOT" && "$BENCH_DATA" --config configs/tiny.yaml no.such_key=1 2>&1); then
    fail "bench_data accepted an unknown key"
fi
grep -q "no.such_key" <<<"$out" || fail "bench_data unknown key message: $out"
# The pipeline against training at the config's shape: both rates and their ratio.
out=$(BENCH_DIR=$(dirname "$BENCH_DATA") bash "$ECG_SOURCE_ROOT/bench/data_vs_train.sh" --rounds 1 --records 40 \
    configs/tiny.yaml data.spectrogram.width=48 2>/dev/null) || fail "data_vs_train.sh exited non-zero: $out"
grep -Eq "^configs/tiny.yaml: 64x48x1, batch [0-9]+: data pipeline [0-9.]+ images/s on 1 thread, training [0-9.]+ images/s on 2 threads; ratio [0-9]+\.[0-9]$" <<<"$out" ||
    fail "data_vs_train.sh line: $out"
echo "bench programs: 14 checks passed"
