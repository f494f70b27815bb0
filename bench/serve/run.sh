#!/usr/bin/env bash
# Serving benchmark: ecgserve against the FastAPI + uvicorn + PyTorch server of the same job
# (bench/serve/fastapi_server.py), driven by wrk posting a real CinC record, at 1, 8 and 64
# connections, the two servers alternately; prints requests/s, p50 and p99 latency and resident
# memory as markdown tables.
#
#   bench/serve/run.sh [--seconds N] [--rounds N] [--conns "1 8 64"] [--record PATH] [--soak SECONDS]
#
#   --seconds N    length of each wrk run (default 10)
#   --rounds N     alternating rounds; the table gives the median of each figure (default 1)
#   --record PATH  the record posted, without extension (default the fixture A00592, 10 s at 300 Hz)
#   --soak S       afterwards, S seconds at 64 connections on each server, then memory again
# ECG_SERVE_BIN: the ecgserve to measure (default build/tools/ecgserve); ECG_SERVE_ARGS: its extra options.
# Needs a release build (scripts/setup.sh), wrk, and Debian's python3-fastapi, python3-uvicorn,
# python3-multipart, python3-torch, python3-torchvision and python3-scipy.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=10 rounds=1 conns="1 8 64" soak=0
record=tests/fixtures/data/cinc2017/A00592
while [ $# -gt 0 ]; do
    case "$1" in
        --seconds) seconds=$2; shift ;;
        --rounds) rounds=$2; shift ;;
        --conns) conns=$2; shift ;;
        --record) record=$2; shift ;;
        --soak) soak=$2; shift ;;
        -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
        *) echo "run.sh: unknown option '$1' (try --help)" >&2; exit 2 ;;
    esac
    shift
done
server=${ECG_SERVE_BIN:-build/tools/ecgserve}
python=/usr/bin/python3
command -v wrk >/dev/null || { echo "run.sh: needs wrk (apt-get install wrk)" >&2; exit 1; }
[ -x "$server" ] || { echo "run.sh: $server missing; run scripts/setup.sh" >&2; exit 1; }
[ -f "$record.hea" ] && [ -f "$record.mat" ] || { echo "run.sh: no $record.hea / .mat" >&2; exit 1; }
$python -c "import fastapi, uvicorn, multipart, torch, torchvision, scipy" 2>/dev/null || {
    echo "run.sh: needs python3-fastapi python3-uvicorn python3-multipart python3-torch python3-torchvision python3-scipy" >&2
    exit 1; }

work=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$work"' EXIT

# ecgserve on a free port: the URL is on its first line.
# shellcheck disable=SC2086
"$server" --port 0 ${ECG_SERVE_ARGS:-} >"$work/ecg.out" 2>"$work/ecg.err" &
ecg_pid=$!
pids+=("$ecg_pid")
for _ in $(seq 600); do
    ecg_url=$(sed -n 's/^ecgserve: serving .* at \(http:[^ ]*\)$/\1/p' "$work/ecg.out")
    [ -n "$ecg_url" ] && break
    kill -0 "$ecg_pid" 2>/dev/null || { cat "$work/ecg.err" >&2; exit 1; }
    sleep 0.1
done
[ -n "$ecg_url" ] || { echo "run.sh: $server printed no URL" >&2; exit 1; }
ecg_url=${ecg_url%/}

py_port=$($python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
$python bench/serve/fastapi_server.py --port "$py_port" >"$work/py.out" 2>&1 &
py_pid=$!
pids+=("$py_pid")
py_url=http://127.0.0.1:$py_port
for _ in $(seq 600); do
    curl -fs -o /dev/null "$py_url/healthz" && break
    kill -0 "$py_pid" 2>/dev/null || { cat "$work/py.out" >&2; exit 1; }
    sleep 0.1
done

# Both must classify the record before anything is timed.
for side in ecg py; do
    url_var=${side}_url
    code=$(curl -s -o "$work/$side.json" -w '%{http_code}' -F "file=@$record.hea" -F "file=@$record.mat" \
        "${!url_var}/v1/classify")
    [ "$code" = 200 ] || { echo "run.sh: $side answered $code: $(cat "$work/$side.json")" >&2; exit 1; }
done
echo "ecgserve: $server, $(grep -o '"class":"[A-Za-z]*"' "$work/ecg.json" | head -1)" >&2
echo "fastapi:  $(grep -o '"class":"[A-Za-z]*"' "$work/py.json" | head -1) (untrained weights)" >&2

rss() { awk '/^VmRSS/ {r = $2} /^VmHWM/ {h = $2} END {printf "%.0f %.0f\n", r / 1024, h / 1024}' "/proc/$1/status"; }
bench() { # bench SIDE CONNS ROUND: one wrk run, its RESULT line kept in $work/SIDE.CONNS.ROUND
    local url_var=${1}_url threads=$(($2 < 2 ? $2 : 2))
    wrk -t "$threads" -c "$2" -d "${seconds}s" --timeout 30s -s bench/serve/post_record.lua \
        "${!url_var}/v1/classify" -- "$record" | grep '^RESULT' >"$work/$1.$2.$3"
    echo "round $3, $1, $2 connections: $(cat "$work/$1.$2.$3")" >&2
}
# Warm-up: a few seconds at 8 connections each (lazy allocations, thread pools).
saved=$seconds; seconds=3
bench ecg 8 warm; bench py 8 warm
seconds=$saved
read -r ecg_rss0 _ < <(rss "$ecg_pid"); read -r py_rss0 _ < <(rss "$py_pid")

for r in $(seq "$rounds"); do
    for c in $conns; do
        bench ecg "$c" "$r"
        bench py "$c" "$r"
    done
done
read -r ecg_rss1 ecg_hwm1 < <(rss "$ecg_pid"); read -r py_rss1 py_hwm1 < <(rss "$py_pid")

median() { sort -g | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
field() { # field SIDE CONNS KEY: the median of KEY over the rounds
    for r in $(seq "$rounds"); do sed -n "s/.* $3=\([0-9.]*\).*/\1/p" "$work/$1.$2.$r"; done | median |
        awk '{printf ($1 < 100 ? "%.1f\n" : "%.0f\n"), $1}'
}
echo
echo "| connections | ecgserve req/s | FastAPI req/s | ratio | ecgserve p50 / p99 ms | FastAPI p50 / p99 ms | failed (ecgserve / FastAPI) |"
echo "|---|---|---|---|---|---|---|"
for c in $conns; do
    e=$(field ecg "$c" rps) p=$(field py "$c" rps)
    echo "| $c | $e | $p | $(awk -v a="$e" -v b="$p" 'BEGIN {printf "%.1f", (b > 0 ? a / b : 0)}') |" \
         "$(field ecg "$c" p50_ms) / $(field ecg "$c" p99_ms) | $(field py "$c" p50_ms) / $(field py "$c" p99_ms) |" \
         "$(field ecg "$c" failed) / $(field py "$c" failed) |"
done

if [ "$soak" -gt 0 ]; then
    seconds=$soak
    bench ecg 64 soak; bench py 64 soak
    read -r ecg_rss2 ecg_hwm1 < <(rss "$ecg_pid"); read -r py_rss2 py_hwm1 < <(rss "$py_pid")
fi
echo
echo "| resident MiB | after warm-up | after the runs |$([ "$soak" -gt 0 ] && echo " after a ${soak} s soak at 64 connections |") peak |"
echo "|---|---|---|$([ "$soak" -gt 0 ] && echo "---|")---|"
echo "| ecgserve | $ecg_rss0 | $ecg_rss1 |$([ "$soak" -gt 0 ] && echo " $ecg_rss2 |") $ecg_hwm1 |"
echo "| FastAPI + PyTorch | $py_rss0 | $py_rss1 |$([ "$soak" -gt 0 ] && echo " $py_rss2 |") $py_hwm1 |"
if [ "$soak" -gt 0 ]; then
    echo
    echo "soak: ecgserve $(cat "$work/ecg.64.soak"); FastAPI $(cat "$work/py.64.soak")"
fi
