#!/usr/bin/env bash
# End-to-end tests of the HTTP server with curl: every route, every error code, concurrency, batching, drain.
#   test_server.sh SERVER FIXTURES    (SERVER takes ecgserve's options; meson passes serve_testbin)
set -uo pipefail
server=$1
fixtures=$2
work=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done; rm -rf "$work"' EXIT
cinc=$fixtures/data/cinc2017
source "$(dirname "$0")/common.sh"

# start NAME [ENV=V...] -- OPTIONS: starts a server, sets $url and $pid (the URL comes from its first line).
start() {
    local name=$1; shift
    local envs=()
    while [ "$1" != "--" ]; do envs+=("$1"); shift; done
    shift
    env "${envs[@]}" "$server" --port 0 "$@" >"$work/$name.out" 2>"$work/$name.err" &
    pid=$!
    pids+=("$pid")
    for _ in $(seq 100); do
        url=$(sed -n 's/^ecgserve: serving .* at \(http:[^ ]*\)$/\1/p' "$work/$name.out")
        url=${url%/}
        [ -n "$url" ] && return 0
        sleep 0.05
    done
    echo "server $name did not print its URL; stderr:"; cat "$work/$name.err"
    exit 1
}

has() { grep -q -- "$2" "$work/$1"; }

# A 30 s sine-and-spike ECG-like CSV at 300 Hz, and the same as JSON.
awk 'BEGIN { for (i = 0; i < 9000; i++) { t = i / 300; p = t - int(t / 0.8) * 0.8;
     printf "%.4f\n", 0.1 * sin(6.283 * 0.3 * t) + 1.2 * exp(-((p - 0.3) / 0.012) ^ 2) + 0.25 * exp(-((p - 0.55) / 0.05) ^ 2) } }' \
    >"$work/ecg.csv"
{ printf '{"fs": 300, "record": "json-ecg", "signal": ['; paste -sd, "$work/ecg.csv"; printf ']}'; } >"$work/ecg.json"

start main -- --threads 2
main_url=$url main_pid=$pid

# ---- routes ----
check "GET / serves the upload page" test "$(req page "$url")" = 200
check "the page is HTML with its script inline" has page '<script>'
check "the page loads nothing from another origin" bash -c "! grep -Eq '(src|href)=\"(https?:)?//' '$work/page'"
check "the page says it is served with a content security policy" has page.h 'Content-Security-Policy'
check "GET /healthz is 200 once the model is loaded" test "$(req health "$url/healthz")" = 200
check "healthz names the model" has health '"status":"ok","model":"test-model"'
check "GET /v1/model serves the model card" test "$(req card "$url/v1/model")" = 200
check "the model card lists the classes" has card '"classes":\["AF","NSR","Noise","Other"\]'
check "GET /openapi.json serves an OpenAPI 3 document" test "$(req openapi "$url/openapi.json")" = 200
check "the OpenAPI document names the classify path" has openapi '"/v1/classify"'
check "no CORS header unless asked" bash -c "! grep -qi 'access-control-allow-origin' '$work/openapi.h'"

# ---- classify: the three body types ----
check "a CinC .hea + .mat upload is classified" \
    test "$(req cinc -F "file=@$cinc/A00592.hea" -F "file=@$cinc/A00592.mat" "$url/v1/classify")" = 200
check "the result names the record, its class and four probabilities" \
    has cinc '"record":"A00592","file":"A00592.mat","fs":300,"seconds":9.987,"class":"[A-Za-z]*","probabilities":{"AF":[0-9.e-]*,"NSR":[0-9.e-]*,"Noise":[0-9.e-]*,"Other":[0-9.e-]*}'
check "the result lists its windows and checks" has cinc '"windows":\[{"start_s":0,'
check "two records in one upload give two results" \
    test "$(req two -F "file=@$cinc/A00592.hea" -F "file=@$cinc/A00592.mat" -F "file=@$cinc/A05493.mat" "$url/v1/classify")" = 200
check "the second record is there with its inverted-polarity warning" has two '"record":"A05493".*"code":"inverted"'
check "a text/csv body with ?fs= is classified" \
    test "$(req csv -H 'Content-Type: text/csv' --data-binary "@$work/ecg.csv" "$url/v1/classify?fs=300")" = 200
check "the CSV record is named 'signal'" has csv '"record":"signal","fs":300,"seconds":30'
check "a JSON body is classified" \
    test "$(req json -H 'Content-Type: application/json' --data-binary "@$work/ecg.json" "$url/v1/classify")" = 200
check "the JSON record keeps its name" has json '"record":"json-ecg"'
check "a CSV file with an fs field at 500 Hz says it was resampled" \
    test "$(req csv500 -F "file=@$work/ecg.csv;filename=fast.csv" -F fs=500 "$url/v1/classify")" = 200
check "the resampling is among the checks" has csv500 '"code":"resampled","severity":"warning","message":"sampled at 500 Hz'
check "?include=all adds the trace, spectrograms and Grad-CAM maps" \
    test "$(req all -F "file=@$cinc/A00592.hea" -F "file=@$cinc/A00592.mat" "$url/v1/classify?include=all")" = 200
check "the spectrogram comes as a base64 image" has all '"spectrogram":{"height":16,"width":32,"min":[-0-9.e]*,"max":[-0-9.e]*,"encoding":"u8-base64","data":"'
check "the Grad-CAM map comes as a base64 image" has all '"gradcam":{"height":4,"width":8,"min":0,"max":1,"encoding":"u8-base64","data":"'
check "the trace comes with its rate" has all '"signal":{"fs":300,"values":\['
check "a record too short to classify has a null class and the reason" \
    test "$(req short -H 'Content-Type: text/csv' --data-binary "$(head -300 "$work/ecg.csv")" "$url/v1/classify?fs=300")" = 200
check "the too-short record says why" has short '"class":null,"probabilities":null,"error":"1.00 s long; the model needs at least 9 s'

# ---- errors ----
printf 'MATLAB 5.0 MAT-file, Platform: GLNXA64' >"$work/bad.mat"
check "a corrupt upload is 400" test "$(req bad -F "file=@$work/bad.mat;filename=A01.mat" "$url/v1/classify")" = 400
check "the 400 names the file and the problem" has bad '{"error":"A01.mat: MATLAB v4 type .*","file":"A01.mat"}'
links=$fixtures/../fuzz/regressions/cachet_h5/external_links_to_a_server_file
check "an HDF5 upload whose datasets link to other files is 400" \
    test "$(req links -F "file=@$links;filename=links.h5" "$url/v1/classify")" = 400
check "the 400 says the links are refused" has links "links.h5: 'signal' is a soft or external link"
crash=$fixtures/../fuzz/hdf5/cachet_chunk_dimension_zero_sigfpe.h5 # crashes libhdf5 itself (docs/reliability.md)
check "an HDF5 upload that crashes the HDF5 library is 400" \
    test "$(req h5crash -F "file=@$crash;filename=seg.h5" "$url/v1/classify")" = 400
check "the 400 says the parser crashed on that file" has h5crash '"error":"seg.h5: the parser crashed on this file (signal'
check "the server is alive after it" test "$(req alive "$url/healthz")" = 200
check "a CSV without a rate is 400" test "$(req nofs -H 'Content-Type: text/csv' --data-binary "@$work/ecg.csv" "$url/v1/classify")" = 400
check "the message asks for fs" has nofs 'no sampling rate: give fs'
check "malformed JSON is 400 naming the byte" \
    test "$(req badjson -H 'Content-Type: application/json' --data '{"fs": 300, "signal": [1, NaN]}' "$url/v1/classify")" = 400
check "the JSON message names the sample" has badjson 'signal\[1\]: expected a number'
check "an unknown query parameter is 400" test "$(req badq -H 'Content-Type: text/csv' --data 1 "$url/v1/classify?path=/etc/passwd")" = 400
check "an unknown content type is 415" test "$(req png -H 'Content-Type: image/png' --data x "$url/v1/classify")" = 415
check "an unknown path is 404" test "$(req nope "$url/nope")" = 404
check "GET on classify is 405 with Allow: POST" test "$(req m1 "$url/v1/classify")" = 405
check "the 405 says which method" grep -qi '^Allow: POST' "$work/m1.h"
check "POST on healthz is 405" test "$(req m2 -X POST --data x "$url/healthz")" = 405
head -c 1100000 /dev/zero | tr '\0' '1' | fold -w 10 >"$work/big.csv"
start small -- --max-body-mb 1
check "a body over --max-body-mb is 413" \
    test "$(req big -H 'Content-Type: text/csv' --data-binary "@$work/big.csv" "$url/v1/classify?fs=300")" = 413
check "a chunked body over the limit is 413 too" \
    test "$(req bigc -H 'Content-Type: text/csv' -H 'Transfer-Encoding: chunked' --data-binary "@$work/big.csv" "$url/v1/classify?fs=300")" = 413

printf 's3cret-token\n' >"$work/token"
start secure -- --token-file "$work/token" --cors https://ecg.example.org
check "without the token classify is 401" test "$(req t1 -F "file=@$work/ecg.csv" -F fs=300 "$url/v1/classify")" = 401
check "the 401 asks for a bearer token" grep -qi '^WWW-Authenticate: Bearer' "$work/t1.h"
check "a wrong token is 401" test "$(req t2 -H 'Authorization: Bearer s3cret-tokem' "$url/v1/model")" = 401
check "a longer token is 401" test "$(req t3 -H 'Authorization: Bearer s3cret-token2' "$url/v1/model")" = 401
check "metrics need the token" test "$(req t4 "$url/metrics")" = 401
check "the right token is let in" test "$(req t5 -H 'Authorization: Bearer s3cret-token' "$url/v1/model")" = 200
check "healthz needs no token" test "$(req t6 "$url/healthz")" = 200
check "--cors sends the allowed origin" grep -qi '^Access-Control-Allow-Origin: https://ecg.example.org' "$work/t5.h"
check "a CORS preflight is 204" test "$(req pre -X OPTIONS -H 'Origin: https://ecg.example.org' "$url/v1/classify")" = 204

# ---- load ----
url=$main_url
clients=()
for i in $(seq 64); do
    (req "c$i" -F "file=@$cinc/A00592.hea" -F "file=@$cinc/A00592.mat" "$url/v1/classify" >"$work/c$i.code") &
    clients+=($!)
done
wait "${clients[@]}"
answered=0
for i in $(seq 64); do [ "$(cat "$work/c$i.code")" = 200 ] && has "c$i" '"record":"A00592"' && answered=$((answered + 1)); done
check "64 concurrent requests are all answered (got $answered)" test "$answered" = 64
check "the server is alive afterwards" test "$(req alive "$url/healthz")" = 200
check "metrics count requests by route and status" test "$(req metrics "$url/metrics")" = 200
check "the classify counter has the 64 requests and more" \
    bash -c "grep -Eq '^ecgserve_requests_total\{route=\"classify\",code=\"200\"\} (6[4-9]|[7-9][0-9])$' '$work/metrics'"
check "metrics have the latency histogram, batch sizes and queue depth" \
    bash -c "grep -q 'ecgserve_request_duration_seconds_bucket{route=\"classify\",le=\"+Inf\"}' '$work/metrics' && grep -q '^ecgserve_batch_windows_count ' '$work/metrics' && grep -q '^ecgserve_queue_depth 0$' '$work/metrics'"

start slow ECG_TEST_DELAY_MS=300 -- --batch-max 16 --batch-wait-ms 50
clients=()
for i in $(seq 8); do (req "s$i" -F "file=@$work/ecg.csv" -F fs=300 "$url/v1/classify" >"$work/s$i.code") & clients+=($!); done
wait "${clients[@]}"
req sm "$url/metrics" >/dev/null
batches=$(sed -n 's/^ecgserve_batch_windows_count //p' "$work/sm")
windows=$(sed -n 's/^ecgserve_batch_windows_sum //p' "$work/sm")
check "8 concurrent requests (24 windows) share forward passes ($batches passes)" \
    bash -c "[ '$windows' = 24.000000 ] && [ '$batches' -lt 8 ]"

start queue ECG_TEST_DELAY_MS=400 -- --batch-max 1 --max-queue 1
clients=()
for i in $(seq 6); do (req "q$i" -F "file=@$work/ecg.csv" -F fs=300 "$url/v1/classify" >"$work/q$i.code") & clients+=($!); done
wait "${clients[@]}"
full=0 served=0
for i in $(seq 6); do
    c=$(cat "$work/q$i.code")
    [ "$c" = 503 ] && grep -qi '^Retry-After: 1' "$work/q$i.h" && has "q$i" 'queue is full' && full=$((full + 1))
    [ "$c" = 200 ] && served=$((served + 1))
done
check "a full queue answers 503 with Retry-After ($full of 6) and serves the rest ($served)" \
    bash -c "[ $full -ge 1 ] && [ $served -ge 1 ] && [ $((full + served)) = 6 ]"

for _ in $(seq 14); do cat "$work/ecg.csv"; done >"$work/long.csv" # 0.9 MB, 420 s
start budget -- --max-body-mb 1 --batch-max 64
clients=()
for i in $(seq 12); do # slow uploads: all twelve are receiving at once
    (req "b$i" --limit-rate 300k -H 'Content-Type: text/csv' --data-binary "@$work/long.csv" "$url/v1/classify?fs=300" \
        >"$work/b$i.code") &
    clients+=($!)
done
wait "${clients[@]}"
over=0 served=0
for i in $(seq 12); do
    c=$(cat "$work/b$i.code")
    [ "$c" = 503 ] && has "b$i" 'too many uploads at once' && over=$((over + 1))
    [ "$c" = 200 ] && has "b$i" '"code":"too_long"' && served=$((served + 1))
done
check "bodies beyond 8 x --max-body-mb in memory get 503 ($over of 12), the rest are served ($served)" \
    bash -c "[ $over -ge 1 ] && [ $served -ge 1 ] && [ $((over + served)) = 12 ]"

# ---- connection limits ----
# Opens a connection from this shell on descriptor $held (kept open until closed with `exec {held}>&-`).
hold() { exec {held}<>"/dev/tcp/127.0.0.1/${url##*:}"; }
# The same, once the server has taken it: an upload's headers asking for 100 Continue, and the body never sent.
hold_answered() {
    hold
    printf 'POST /v1/classify?fs=300 HTTP/1.1\r\nHost: t\r\nContent-Type: text/csv\r\nContent-Length: 100\r\nExpect: 100-continue\r\n\r\n' >&"$held"
    local line
    read -r -t 20 line <&"$held"
}
start perip -- --max-connections-per-ip 2 --idle-timeout-s 5
hold_answered; h1=$held
hold_answered; h2=$held
check "--max-connections-per-ip 2: a third connection from the same address gets no answer" \
    test "$(req ip3 -m 5 "$url/healthz")" = 000
check "another address is still answered" test "$(req ip4 -m 5 --interface 127.0.0.2 "$url/healthz")" = 200
exec {h1}>&- {h2}>&-
for _ in $(seq 20); do [ "$(req ip5 -m 5 "$url/healthz")" = 200 ] && break; sleep 0.5; done
check "once the two close, the first address is answered again" test "$(req ip5 -m 5 "$url/healthz")" = 200

start idle -- --idle-timeout-s 1
hold
t0=$(date +%s%N)
timeout 10 cat <&"$held" >/dev/null
waited=$(( ($(date +%s%N) - t0) / 1000000 ))
exec {held}>&-
check "--idle-timeout-s 1 closes a silent connection after a second (${waited} ms)" \
    bash -c "[ $waited -ge 900 ] && [ $waited -lt 9000 ]"

# Each upload abandoned mid-body holds what it reserved until the idle timeout: 130 of them must not take the
# 8 MiB that 8 x --max-body-mb 1 allows for all bodies at once.
start abandoned -- --max-body-mb 1 --max-connections-per-ip 0
for _ in $(seq 130); do
    hold
    printf 'POST /v1/classify?fs=300 HTTP/1.1\r\nHost: t\r\nContent-Type: text/csv\r\nContent-Length: 900000\r\n\r\n1\n2\n' >&"$held"
    exec {held}>&-
done
sleep 1
check "130 uploads abandoned mid-body leave room for a whole one" \
    test "$(req after -H 'Content-Type: text/csv' --data-binary "@$work/ecg.csv" "$url/v1/classify?fs=300")" = 200

# ---- drain ----
start drain ECG_TEST_DELAY_MS=700 --
(req d1 -F "file=@$work/ecg.csv" -F fs=300 "$url/v1/classify" >"$work/d1.code") &
client=$!
sleep 0.3
kill -TERM "$pid"
wait "$client"
check "SIGTERM lets the request in flight finish" test "$(cat "$work/d1.code")" = 200
wait "$pid"
check "SIGTERM exits 0 after draining" test $? = 0
check "the server said it was draining" grep -q 'SIGTERM: finishing requests in flight' "$work/drain.err"
kill -INT "$main_pid"
wait "$main_pid"
check "SIGINT exits 0 too" test $? = 0

# ---- command line ----
"$server" --help >"$work/help" 2>&1
check "--help exits 0 and shows the usage" bash -c "[ $? = 0 ] && grep -q 'usage: ecgserve' '$work/help'"
"$server" --port 70000 >/dev/null 2>"$work/badport"
check "a bad port exits 2 naming the option" bash -c "[ $? = 2 ] && grep -q -- \"--port '70000': expected an integer in 0..65535\" '$work/badport'"
"$server" --token-file "$work/missing" >/dev/null 2>"$work/notoken"
check "a missing token file exits 2 naming it" bash -c "[ $? = 2 ] && grep -q 'token-file .*missing: cannot open' '$work/notoken'"
"$server" --max-connections-per-ip -1 >/dev/null 2>"$work/badip"
check "a negative --max-connections-per-ip exits 2 naming the option" bash -c "[ $? = 2 ] && grep -q -- \"--max-connections-per-ip '-1': expected an integer in 0..65536\" '$work/badip'"
"$server" --idle-timeout-s 0 >/dev/null 2>"$work/badidle"
check "--idle-timeout-s 0 exits 2 naming the option" bash -c "[ $? = 2 ] && grep -q -- \"--idle-timeout-s '0': expected an integer in 1..3600\" '$work/badidle'"
"$server" --max-connections 0 >/dev/null 2>"$work/badmax"
check "--max-connections 0 exits 2 naming the option" bash -c "[ $? = 2 ] && grep -q -- \"--max-connections '0': expected an integer in 1..65536\" '$work/badmax'"

echo "$fails failed"
[ "$fails" = 0 ]
