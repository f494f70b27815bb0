#!/usr/bin/env bash
# End-to-end test of the real ecgserve with the shipped models: its results equal ecgpredict's, Grad-CAM included,
# and with the beat model the beats of an uploaded WFDB record equal ecgpredict's.
# A model that carries an RR fusion (trained here in seconds) gives ecgpredict's fused probabilities too.
#   test_ecgserve.sh ECGSERVE ECGPREDICT SOURCE_ROOT FIXTURES ECGEXPORT ECGTRAIN
# The server starts with no model option from the source root, so it serves the shipped model.
set -uo pipefail
ecgserve=$1
ecgpredict=$2
root=$3
fixtures=$4
ecgexport=$5
ecgtrain=$6
work=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null; rm -rf "$work"' EXIT
cinc=$fixtures/data/cinc2017
predict=("$ecgpredict" weights/ecg_effb0_cinc2017.h5) # the model file alone: it carries its configuration
source "$(dirname "$0")/common.sh"
# The probabilities, one per line in class order: of every record of a response, or of ecgpredict's lines.
served_probs() { jq -r '.records[] | .probabilities | to_entries[] | .value' "$work/$1"; }
predicted_probs() { jq -r '.probabilities | to_entries[] | .value' "$work/$1"; }
# same_probs A B: as many values, each pair within one unit of the sixth decimal (both print six decimals;
# the server batches windows differently, which may move the last bit of a float and so the rounding).
same_probs() {
    paste "$work/$1" "$work/$2" | awk -F'\t' '
        $1 == "" || $2 == "" { bad = 1 }
        { d = $1 - $2; if (d < 0) d = -d; if (d > 1.5e-6) { bad = 1; print "  differ: " $1 " " $2 } }
        END { exit bad || NR == 0 }'
}

cd "$root" || exit 1
# start_server OUT ERR ARGS...: runs ecgserve in the background, sets pid and url
start_server() {
    local out=$1 err=$2; shift 2
    "$ecgserve" "$@" >"$work/$out" 2>"$work/$err" &
    pid=$!
    url=
    for _ in $(seq 300); do
        url=$(sed -n 's/^ecgserve: serving .* at \(http:[^ ]*\)$/\1/p' "$work/$out")
        url=${url%/}
        [ -n "$url" ] && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    [ -n "$url" ]
}

# ---- a model that cannot be served stops ecgserve at start with a message naming the file ----
"$ecgserve" --model "$work/none.h5" --port 0 >/dev/null 2>"$work/nomodel"
st=$?
check "a missing model file exits 1 naming it" bash -c "[ $st = 1 ] && grep -q '$work/none.h5' '$work/nomodel'"
# A model file without metrics of its own (exported again without --metrics) takes those beside it.
"$ecgexport" --skip-data weights/ecg_effb0_cinc2017.h5 "$work/m.h5" >/dev/null 2>&1
echo 'accuracy: 0.75' >"$work/m.metrics.json"
"$ecgserve" --model "$work/m.h5" --port 0 >/dev/null 2>"$work/badmetrics"
st=$?
check "a metrics file beside the model that is not a JSON object exits 1 naming it" bash -c \
    "[ $st = 1 ] && grep -q 'm.metrics.json: expected one JSON object (metrics), found other text' '$work/badmetrics'"
"$ecgserve" data.sample_rate=abc --port 0 >/dev/null 2>"$work/badkey"
st=$?
check "a bad override exits 2 naming the key" bash -c "[ $st = 2 ] && grep -q 'data.sample_rate' '$work/badkey'"
"$ecgserve" --port 0 stray >/dev/null 2>"$work/stray"
st=$?
check "an operand that is not key=value exits 2" bash -c "[ $st = 2 ] && grep -q \"unexpected argument 'stray': expected key=value overrides only\" '$work/stray'"
start_server out err --port 0 --threads 2 || { echo "ecgserve did not print its URL; stderr:"; cat "$work/err"; exit 1; }
check "with no arguments ecgserve serves the shipped model" grep -q '^ecgserve: serving ecg_effb0_cinc2017 at http://127.0.0.1:' "$work/out"
curl -s "$url/v1/model" >"$work/card.json"
check "the model card names the model, its classes, its preprocessing and windows, and the metrics it carries" \
    jq -e '.name == "ecg_effb0_cinc2017" and .classes == ["AF","NSR","Noise","Other"] and
        .preprocessing["data.sample_rate"] == "300.0" and .preprocessing["data.window_seconds"] == "30.0" and
        .preprocessing["data.pad"] == "tile" and .preprocessing["eval.hop_seconds"] == "15.0" and
        (.metrics.macro_f1.mean | type) == "number" and (.metrics.folds | type) == "number"' "$work/card.json"

# ---- a CinC record as .hea + .mat ----
for rec in A00592 A05493; do
    code=$(req "$rec.json" -F "file=@$cinc/$rec.hea" -F "file=@$cinc/$rec.mat" "$url/v1/classify")
    check "$rec.hea + $rec.mat is classified (200)" test "$code" = 200
    "${predict[@]}" "$cinc/$rec.mat" >"$work/$rec.pred" 2>/dev/null
    served_probs "$rec.json" >"$work/$rec.s"
    predicted_probs "$rec.pred" >"$work/$rec.p"
    check "$rec: the probabilities equal ecgpredict's" same_probs "$rec.s" "$rec.p"
    check "$rec: the class equals ecgpredict's" test "$(jq -r '.records[0].class' "$work/$rec.json")" = "$(jq -r .class "$work/$rec.pred")"
done
check "A05493 (recorded with the device reversed) gets the inverted warning" \
    bash -c "jq -e '[.records[0].checks[].code] | index(\"inverted\") != null' '$work/A05493.json' >/dev/null"

# ---- the same record as samples: CSV (multipart with fs, raw text/csv) and JSON ----
# The .mat's int16 samples start at the byte offset its header gives (format 16+24), gain 1000/mV.
offset=$(awk 'NR == 2 { split($2, f, "+"); print f[2] }' "$cinc/A00592.hea")
od -An -v -t d2 -j "$offset" "$cinc/A00592.mat" | tr -s ' ' '\n' | awk 'NF { printf "%.3f\n", $1 / 1000 }' >"$work/a.csv"
{ printf '{"fs": 300, "record": "A00592", "signal": ['; paste -sd, "$work/a.csv"; printf ']}'; } >"$work/a.json"
check "the CSV holds the record's samples" test "$(wc -l <"$work/a.csv")" = "$(awk 'NR == 1 { print $4 }' "$cinc/A00592.hea")"
"${predict[@]}" --fs 300 "$work/a.csv" >"$work/csv.pred" 2>/dev/null
predicted_probs csv.pred >"$work/csv.p"
code=$(req csv1.json -F "file=@$work/a.csv" -F fs=300 "$url/v1/classify")
served_probs csv1.json >"$work/csv1.s"
check "a CSV file with fs is classified as ecgpredict --fs 300 classifies it" bash -c "[ $code = 200 ] && $(declare -f same_probs); work=$work; same_probs csv1.s csv.p"
code=$(req csv2.json -H 'Content-Type: text/csv' --data-binary "@$work/a.csv" "$url/v1/classify?fs=300")
served_probs csv2.json >"$work/csv2.s"
check "a text/csv body is classified as ecgpredict classifies the file" bash -c "[ $code = 200 ] && $(declare -f same_probs); work=$work; same_probs csv2.s csv.p"
code=$(req json.json -H 'Content-Type: application/json' --data-binary "@$work/a.json" "$url/v1/classify")
served_probs json.json >"$work/json.s"
check "a JSON body is classified as ecgpredict classifies the same samples" bash -c "[ $code = 200 ] && $(declare -f same_probs); work=$work; same_probs json.s csv.p"

# ---- a CACHET-CADB short-format file: every segment a record ----
code=$(req cachet.json -F "file=@$fixtures/data/cachet_short_small.h5" "$url/v1/classify")
"${predict[@]}" "$fixtures/data/cachet_short_small.h5" >"$work/cachet.pred" 2>/dev/null
served_probs cachet.json >"$work/cachet.s"
jq -r '.probabilities | to_entries[] | .value' "$work/cachet.pred" >"$work/cachet.p"
check "a CACHET .h5 upload gives ecgpredict's probabilities for each segment" bash -c \
    "[ $code = 200 ] && [ \$(jq '.records | length' '$work/cachet.json') = \$(wc -l <'$work/cachet.pred') ] && $(declare -f same_probs); work=$work; same_probs cachet.s cachet.p"

# ---- Grad-CAM ----
code=$(req cam.json -F "file=@$cinc/A00592.hea" -F "file=@$cinc/A00592.mat" "$url/v1/classify?include=gradcam")
check "?include=gradcam gives every window a 32 x 1024 map from 0 to 1" bash -c "[ $code = 200 ] && jq -e '
    .records[0].windows | length > 0 and all(.[]; .gradcam.height == 32 and .gradcam.width == 1024 and
    .gradcam.min == 0 and .gradcam.max == 1 and .gradcam.encoding == \"u8-base64\")' '$work/cam.json' >/dev/null"
"${predict[@]}" --explain "$cinc/A00592.mat" >"$work/cam.pred" 2>/dev/null
check "ecgpredict --explain maps are 32 x 1024, one per window, within [0, 1] and reaching 1" bash -c "jq -e '
    .gradcam.height == 32 and .gradcam.width == 1024 and (.gradcam.windows | length) == 1 and
    all(.gradcam.windows[]; length == 32768 and min >= 0 and max == 1)' '$work/cam.pred' >/dev/null"
jq -r '.records[0].windows[0].gradcam.data' "$work/cam.json" | base64 -d | od -An -v -t u1 | tr -s ' ' '\n' |
    awk 'NF' >"$work/cam.bytes"
jq -r '.gradcam.windows[0][]' "$work/cam.pred" >"$work/cam.values"
# bytes are round(255 v) of the float map, ecgpredict prints it with three decimals
check "the server's map is ecgpredict --explain's map" bash -c "[ \$(wc -l <'$work/cam.bytes') = 32768 ] &&
    paste '$work/cam.bytes' '$work/cam.values' | awk '{ d = \$1 / 255 - \$2; if (d < 0) d = -d; if (d > 0.5 / 255 + 0.0005 + 1e-6) bad = 1;
    if (\$1 == 255) top = 1 } END { exit bad || !top }'"

# ---- a long real CinC record (60 s: three 30 s windows, 15 s apart) from the development data, when present ----
shared=$root/../shared/data/cinc2017/training2017
if [ -f "$shared/A00003.mat" ]; then
    code=$(req long.json -F "file=@$shared/A00003.hea" -F "file=@$shared/A00003.mat" "$url/v1/classify?include=gradcam")
    "${predict[@]}" "$shared/A00003.mat" >"$work/long.pred" 2>/dev/null
    served_probs long.json >"$work/long.s"
    predicted_probs long.pred >"$work/long.p"
    check "A00003 (60 s): three windows with maps, and ecgpredict's probabilities" bash -c \
        "[ $code = 200 ] && [ \$(jq '[.records[0].windows[] | select(.gradcam) | .start_s]' -c '$work/long.json') = '[0,15,30]' ] && $(declare -f same_probs); work=$work; same_probs long.s long.p"
else
    echo "ok - # SKIP A00003 (60 s): $shared/A00003.mat not present"
fi

# ---- afterwards ----
check "the server is alive afterwards" test "$(curl -s -o /dev/null -w '%{http_code}' "$url/healthz")" = 200
kill -TERM "$pid"
wait "$pid"
check "SIGTERM exits 0 (the compute threads do not take it)" test $? = 0
pid=
check "the server drained on SIGTERM" grep -q 'SIGTERM: finishing requests in flight' "$work/err"

# ---- the shipped beat model: an uploaded WFDB record (.hea + .dat, no .atr) gets ecgpredict's beats ----
if start_server bout berr --model weights/ecg_effb0_mitbih.h5 --port 0 --threads 2; then
    ok "ecgserve serves the shipped beat model"
    cp "$fixtures/data/mitdb/100.hea" "$fixtures/data/mitdb/100.dat" "$work/"
    code=$(req beats.json -F "file=@$work/100.hea" -F "file=@$work/100.dat" "$url/v1/classify")
    "$ecgpredict" weights/ecg_effb0_mitbih.h5 "$work/100.hea" >"$work/beats.pred" 2>/dev/null
    check "100.hea + 100.dat is classified beat by beat (200): 33 detected beats, 4 left out at the ends" bash -c \
        "[ $code = 200 ] && jq -e '.records[0] | (.beats | length) == 33 and .left_out == 4 and
            ([.counts[]] | add) == 33 and (has(\"class\") | not)' '$work/beats.json' >/dev/null"
    jq -r '.records[0].beats[] | [.sample, .class] | @tsv' "$work/beats.json" >"$work/beats.sc"
    head -n -1 "$work/beats.pred" | jq -r '[.sample, .class] | @tsv' >"$work/beats.pc"
    check "the beats' samples and classes equal ecgpredict's" cmp -s "$work/beats.sc" "$work/beats.pc"
    jq -r '.records[0].beats[] | .probabilities | to_entries[] | .value' "$work/beats.json" >"$work/beats.s"
    head -n -1 "$work/beats.pred" | jq -r '.probabilities | to_entries[] | .value' >"$work/beats.p"
    check "the beats' probabilities equal ecgpredict's" same_probs beats.s beats.p
    check "the beat counts equal ecgpredict's summary" test \
        "$(jq -c '.records[0].counts' "$work/beats.json")" = "$(tail -1 "$work/beats.pred" | jq -c .counts)"
    seq 1000 | awk '{ print 0.01 * ($1 % 7) }' >"$work/flat.csv" # 2.8 s of low noise: no QRS complex
    code=$(req flat.json -H 'Content-Type: text/csv' --data-binary "@$work/flat.csv" "$url/v1/classify?fs=360")
    check "a record with no beat in it gets an empty beat list and zero counts" bash -c \
        "[ $code = 200 ] && jq -e '.records[0] | .beats == [] and ([.counts[]] | add) == 0' '$work/flat.json' >/dev/null"
    code=$(req short.json -H 'Content-Type: text/csv' --data-binary $'0\n0.1\n0\n' "$url/v1/classify?fs=360")
    check "a record too short for the QRS detector says why" bash -c \
        "[ $code = 200 ] && jq -e '.records[0] | .beats == [] and .counts == null and
            (.error | contains(\"expected at least 2 s\"))' '$work/short.json' >/dev/null"
    kill -TERM "$pid"
    wait "$pid"
    check "the beat server exits 0 on SIGTERM" test $? = 0
    pid=
else
    not_ok "ecgserve serves the shipped beat model: $(cat "$work/berr")"
fi

# ---- a model with rhythm features and an RR fusion: the record's probabilities are ecgpredict's ----
# A tiny run on the four fixture records (16 x 16 images, one epoch), its head reading each record's rhythm
# features beside every window, its fusion fitted on the validation split; one replica, so that a build without
# OpenMP (the ThreadSanitizer build) runs it too.
"$ecgtrain" configs/cinc2017.yaml "data.path=$cinc" data.exclude=none data.val_fraction=0.5 data.test_fraction=0 eval.split=val \
    data.spectrogram.height=16 data.spectrogram.width=16 train.epochs=1 train.batch_size=2 train.warmup_epochs=0 \
    eval.batch_size=2 eval.rr_fusion=true model.rhythm_features=true run.replicas=1 run.seed=1 \
    run.log_level=error "run.dir=$work/fused" >/dev/null 2>"$work/fused.err" &&
    "$ecgexport" "$work/fused/best.h5" "$work/fused.h5" >/dev/null 2>>"$work/fused.err"
check "a tiny run with model.rhythm_features and eval.rr_fusion trains and exports" test -f "$work/fused.h5"
if start_server fout ferr --model "$work/fused.h5" --port 0 --threads 2; then
    code=$(req fused.json -F "file=@$cinc/A00592.hea" -F "file=@$cinc/A00592.mat" "$url/v1/classify")
    "$ecgpredict" "$work/fused.h5" "$cinc/A00592.mat" >"$work/fused.pred" 2>/dev/null
    served_probs fused.json >"$work/fused.s"
    predicted_probs fused.pred >"$work/fused.p"
    check "with rhythm features and an RR fusion the probabilities equal ecgpredict's" bash -c \
        "[ $code = 200 ] && $(declare -f same_probs); work=$work; same_probs fused.s fused.p"
    # The mean of the windows' probabilities is not what either answers (the fusion moved it).
    jq -r '[.records[0].windows[].probabilities | [.[]]] | transpose | map(add / length) | .[]' "$work/fused.json" >"$work/mean.s"
    check "... and they are not the mean of the windows' probabilities" bash -c \
        "$(declare -f same_probs); work=$work; ! same_probs mean.s fused.s >/dev/null"
    kill -TERM "$pid"
    wait "$pid"
    pid=
else
    not_ok "ecgserve serves a model with rhythm features and an RR fusion: $(cat "$work/ferr" "$work/fused.err")"
fi

echo "$fails failed"
[ "$fails" = 0 ]
