#!/usr/bin/env bash
# The real ecgserve under a hostile load for a bounded time (valid uploads among malformed, oversized and slow
# clients): it stays up, answers every valid upload within the latency bounds, every bad one with its 4xx, keeps
# its memory within the bound, and still drains on SIGTERM.  The bounds assume the test has the machine's cores to
# itself, as meson (is_parallel false) and CI give it.
#   test_hostile_load.sh ECGSERVE HOSTILE_LOAD SOURCE_ROOT FIXTURES [SECONDS [P99_S MAX_S RSS_MB]]
# SECONDS defaults to 75; a longer run: the same with 300 (docs/serve.md, "Limits a deployer should know").
set -uo pipefail
ecgserve=$1
load=$2
root=$3
fixtures=$4
seconds=${5:-75}
p99=${6:-2}
slowest=${7:-15}
rss=${8:-256}
work=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null; rm -rf "$work"' EXIT
source "$(dirname "$0")/common.sh"

cd "$root" || exit 1
# A 1 MiB body limit makes oversized bodies cheap to send; a 10 s idle timeout lets abandoned connections go
# sooner (libmicrohttpd keeps one whose client vanished mid-body until then), so the drain below is short.
# Without meson's MALLOC_PERTURB_, which writes every allocation and so makes pages resident that the server
# never touches: the memory measured is the memory a deployment uses.
env -u MALLOC_PERTURB_ "$ecgserve" --port 0 --threads 2 --max-body-mb 1 --idle-timeout-s 10 >"$work/out" 2>"$work/err" &
pid=$!
for _ in $(seq 600); do
    url=$(sed -n 's/^ecgserve: serving .* at \(http:[^ ]*\)$/\1/p' "$work/out")
    [ -n "$url" ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
done
[ -n "$url" ] || { echo "ecgserve did not print its URL; stderr:"; cat "$work/err"; exit 1; }
port=${url##*:}
port=${port%/}

"$load" --port "$port" --pid "$pid" --records "$fixtures/data/cinc2017" --seconds "$seconds" --max-body-mb 1 \
    --p99-bound "$p99" --max-bound "$slowest" --rss-bound-mb "$rss" >"$work/load" 2>"$work/load.err"
st=$?
cat "$work/load"
check "the load ran its course and every check of it passed (valid answers p99 under $p99 s and none over $slowest s, bad ones their 4xx, memory under $rss MiB)" test "$st" = 0
[ "$st" = 0 ] || { echo "first unexpected replies:"; head -20 "$work/load.err"; }
check "ecgserve is still running" kill -0 "$pid"
check "GET /healthz still answers 200" test "$(req health "${url%/}/healthz")" = 200
kill -TERM "$pid"
wait "$pid"
st=$?
pid=
check "SIGTERM still drains and exits 0" test "$st" = 0

echo "$fails failed"
[ "$fails" = 0 ]
