#!/usr/bin/env bash
# Test of the beat programs: a beat checkpoint trained on record 100 classifies that record's beats with ecgpredict (with its .atr and with it removed) and is evaluated by ecgeval, with no config beside it.
set -uo pipefail
fail() { echo "FAIL: $*"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
src="$ECG_SOURCE_ROOT"
fix="$src/tests/fixtures/data/mitdb"
cd "$tmp"

"$BUILD_TOOLS/ecgtrain" "$src/configs/mitbih_beats.yaml" data.path="$fix" data.records=all data.val_fraction=0 \
    data.test_fraction=0 eval.split=train train.epochs=1 train.head_epochs=0 train.warmup_epochs=0 \
    model.pretrained=none data.spectrogram.height=32 data.spectrogram.width=32 train.batch_size=8 \
    eval.batch_size=8 run.dir=run run.threads=1 run.log_level=warn >train.out 2>&1 || fail "ecgtrain: $(tail -3 train.out)"
grep -q '^AAMI EC57 (Q apart): 33 beats of N, S, V, F' train.out || fail "ecgtrain printed no AAMI table: $(cat train.out)"
jq -e '.aami.per_class.S.tp + .aami.per_class.S.fn == 1 and .aami.q_support == 0' run/metrics.json >/dev/null || fail "run/metrics.json: no AAMI figures for the one S beat"

# With the .atr: the annotated beats, 3 s windows (37 beats, 4 too near the ends of the 30 s cut).
"$BUILD_TOOLS/ecgpredict" run/best.h5 "$fix/100.hea" >ref.jsonl 2>ref.err || fail "ecgpredict: $(cat ref.err)"
[ "$(wc -l <ref.jsonl)" = 34 ] || fail "ecgpredict printed $(wc -l <ref.jsonl) lines, expected 33 beats + 1 summary"
head -1 ref.jsonl | jq -e 'keys == ["class", "probabilities", "record", "sample", "time_s"] and .record == "100"
    and .sample == 662 and .time_s == 1.8389 and (.probabilities | keys | length) == 5' >/dev/null ||
    fail "first beat line: $(head -1 ref.jsonl)"
tail -1 ref.jsonl | jq -e '.record == "100" and .beats == 33 and .source == "reference" and .left_out == 4
    and ([.counts[]] | add) == 33' >/dev/null || fail "summary line: $(tail -1 ref.jsonl)"

# Without it: the QRS detector's beats, at most 150 ms from the annotated ones.
cp "$fix/100.hea" "$fix/100.dat" .
"$BUILD_TOOLS/ecgpredict" run/best.h5 100.hea >det.jsonl 2>det.err || fail "ecgpredict without .atr: $(cat det.err)"
tail -1 det.jsonl | jq -e '.source == "detected" and .beats == 33' >/dev/null || fail "detected summary: $(tail -1 det.jsonl)"
paste <(head -33 ref.jsonl | jq .sample) <(head -33 det.jsonl | jq .sample) |
    awk '{ d = $1 - $2; if (d < 0) d = -d; if (d > 54) bad++ } END { exit bad > 0 }' || fail "detected beats far from the annotated ones"

# ecgeval on any folder: the checkpoint alone describes the model and its beat windows.
"$BUILD_TOOLS/ecgeval" run/best.h5 data.format=mitbih_wfdb data.path="$fix" data.split=all --out ev >ev.out 2>&1 ||
    fail "ecgeval: $(tail -3 ev.out)"
grep -q "(all, 33 beats): accuracy" ev.out || fail "ecgeval summary line: $(tail -1 ev.out)"
jq -e '.n == 33 and .aami.n == 33 and (.aami.per_class | keys) == ["F", "N", "S", "V"]' ev/metrics.json >/dev/null ||
    fail "ecgeval metrics.json: $(jq -c .aami ev/metrics.json)"
# The breakdown by annotation symbol: record 100's 32 N beats and 1 A beat, predictions as in the confusion matrix.
jq -e '[.breakdown.rows[] | [.label, .class, .n]] == [["N", "N", 32], ["A", "S", 1]] and
       [.breakdown.rows[] | [.predicted[]]] == [.confusion_matrix[0], .confusion_matrix[1]]' ev/metrics.json >/dev/null ||
    fail "ecgeval breakdown: $(jq -c .breakdown ev/metrics.json) against $(jq -c .confusion_matrix ev/metrics.json)"
jq -e '.breakdown.rows | length > 0' run/metrics.json >/dev/null || fail "ecgtrain's report has no breakdown by symbol"
# ... and by record (patient): all of them are record 100's.
jq -e '[.breakdown_records.rows[] | [.label, .class, .n]] == [["100", "N", 32], ["100", "S", 1]] and
       [.breakdown_records.rows[] | [.predicted[]]] == [.confusion_matrix[0], .confusion_matrix[1]]' ev/metrics.json \
    >/dev/null || fail "ecgeval breakdown by record: $(jq -c .breakdown_records ev/metrics.json)"
grep -q '<h2>By record</h2>' ev/report.html || fail "report.html has no breakdown by record"
jq -e '.breakdown_records.rows | length > 0' run/metrics.json >/dev/null || fail "ecgtrain's report has no breakdown by record"
grep -q 'AAMI EC57 beat classes' ev/report.html || fail "report.html has no AAMI table"
grep -q '<h2>By MIT-BIH annotation symbol</h2>' ev/report.html || fail "report.html has no breakdown by symbol"
grep -q '^by MIT-BIH annotation symbol (rows: true label, columns: predicted)' ev.out ||
    fail "ecgeval printed no breakdown by symbol: $(cat ev.out)"

# With beat features beside the image (the morphology ones alone: they start after the record's RR features, the
# offset every program must apply): ecgeval on the checkpoint alone scores the beats as the run's own evaluation
# did (the same probabilities: the same log-loss to the last digit).
"$BUILD_TOOLS/ecgtrain" "$src/configs/mitbih_beats.yaml" data.path="$fix" data.records=all data.val_fraction=0 \
    data.test_fraction=0 eval.split=train train.epochs=1 train.head_epochs=0 train.warmup_epochs=0 \
    model.pretrained=none model.rr_features=false model.morphology_features=true data.spectrogram.height=32 data.spectrogram.width=32 \
    train.batch_size=8 eval.batch_size=8 run.dir=rr run.threads=1 run.log_level=warn >rr.out 2>&1 ||
    fail "ecgtrain with morphology features: $(tail -3 rr.out)"
"$BUILD_TOOLS/ecgeval" rr/best.h5 data.format=mitbih_wfdb data.path="$fix" data.split=all --out rrev >rrev.out 2>&1 ||
    fail "ecgeval with morphology features: $(tail -3 rrev.out)"
[ "$(jq .calibration.nll rr/metrics.json)" = "$(jq .calibration.nll rrev/metrics.json)" ] ||
    fail "morphology model: ecgtrain's log-loss $(jq .calibration.nll rr/metrics.json), ecgeval's $(jq .calibration.nll rrev/metrics.json)"
"$BUILD_TOOLS/ecgpredict" rr/best.h5 "$fix/100.hea" >rr.jsonl 2>rr.err || fail "ecgpredict with morphology features: $(cat rr.err)"
[ "$(wc -l <rr.jsonl)" = 34 ] || fail "ecgpredict with morphology features printed $(wc -l <rr.jsonl) lines"

# ecgserve with that model answers an upload of the record without annotations with ecgpredict's beats: the
# features travel with each window through the server's batches.
"$BUILD_TOOLS/ecgpredict" rr/best.h5 100.hea >rrdet.jsonl 2>rrdet.err || fail "ecgpredict, morphology, detected: $(cat rrdet.err)"
"$BUILD_TOOLS/ecgserve" --model rr/best.h5 --port 0 --threads 1 >serve.out 2>serve.err &
spid=$!
trap 'kill -KILL $spid 2>/dev/null; rm -rf "$tmp"' EXIT
url=
for _ in $(seq 300); do
    url=$(sed -n 's/^ecgserve: serving .* at \(http:[^ ]*\)$/\1/p' serve.out)
    [ -n "$url" ] && break
    sleep 0.1
done
[ -n "$url" ] || fail "ecgserve with the morphology model did not start: $(cat serve.err)"
curl -s -F file=@100.hea -F file=@100.dat "${url%/}/v1/classify" >served.json || fail "no answer from ecgserve"
kill -TERM $spid
diff <(jq -c '.records[0].beats[] | [.sample, .class]' served.json) <(head -n -1 rrdet.jsonl | jq -c '[.sample, .class]') >/dev/null ||
    fail "ecgserve's beats differ from ecgpredict's: $(jq -c '.records[0].counts' served.json) vs $(tail -1 rrdet.jsonl)"
paste <(jq -r '.records[0].beats[].probabilities[]' served.json) <(head -n -1 rrdet.jsonl | jq -r '.probabilities[]') |
    awk '{ d = $1 - $2; if (d < 0) d = -d; if (d > 1.5e-6) bad = 1 } END { exit bad || NR != 33 * 5 }' ||
    fail "ecgserve's beat probabilities differ from ecgpredict's"

# A rhythm model on a WFDB record is a usage error with one message.
err=$("$BUILD_TOOLS/ecgpredict" "$src/weights/ecg_effb0_cinc2017.h5" 100.hea 2>&1 >/dev/null); st=$?
[ $st = 2 ] && [[ "$err" == *"100.hea: a WFDB record is classified beat by beat, and this model was trained on cinc2017 records"* ]] ||
    fail "rhythm model on a WFDB record: $st $err"
echo ok
