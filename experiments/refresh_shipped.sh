#!/usr/bin/env bash
# Refreshes everything the repository pins to the shipped model weights/ecg_effb0_cinc2017.h5, after that
# file changes (a new model from experiments/ship_cinc2017.sh):
#
#   experiments/refresh_shipped.sh [SHIP_RUN]
#
# SHIP_RUN is the ship_cinc2017.sh run directory the model was exported from (default runs/ship_cinc2017);
# its metrics.json (the validation split), config.yaml (its run.threads) and log.csv give the ship_cinc2017
# rows of reported.tsv and the training figures.  From fresh runs it rewrites:
#   experiments/results/reported.tsv  every value: the default run's seeds (experiments/reproduce.sh runs
#                                     them into runs/reproduce/) and the ship_cinc2017 rows from SHIP_RUN
#   README.md, docs/serve.md, weights/README.md   the blocks between "<!-- refresh_shipped.sh: NAME -->" and
#                                     "<!-- /refresh_shipped.sh: NAME -->": the default run against the
#                                     shipped model on the same records, the shipped model's cross-validated
#                                     metrics and training, ecgserve's answers for CinC records
#   docs/img/effb0_confusion.svg, effb0_curves.svg, spec_*   the default run's figures, ecgspec's
#   tests/fixtures/gradcam/b0_shipped.h5   PyTorch's Grad-CAM of the shipped weights
# and the upload-page and report screenshots when tests/browser and chromium can run.  Needs a release build (scripts/setup.sh),
# ../shared/data/cinc2017, jq, curl and /usr/bin/python3 with h5py and torch (python3-torch).
set -euo pipefail
cd "$(dirname "$0")/.."
ship=${1:-runs/ship_cinc2017}
model=weights/ecg_effb0_cinc2017.h5
tools=build/tools
records=../shared/data/cinc2017/training2017
fail() { echo "refresh_shipped.sh: $*" >&2; exit 1; }
[ -f "$model" ] || fail "$model missing"
for f in metrics.json log.csv config.yaml; do
    [ -f "$ship/$f" ] || fail "$ship/$f missing: name the ship_cinc2017.sh run directory"
done
for p in ecgeval ecgserve ecgspec ecgtrain; do [ -x "$tools/$p" ] || fail "$tools/$p missing: run scripts/setup.sh"; done
[ -f "$records/A00004.mat" ] || fail "$records/A00004.mat missing"
work=$(mktemp -d)
pid=
trap '[ -z "$pid" ] || kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT

# replace_block FILE NAME TEXTFILE: the lines between FILE's markers NAME become TEXTFILE.
replace_block() {
    local file=$1 name=$2 text=$3
    grep -qxF "<!-- refresh_shipped.sh: $name -->" "$file" && grep -qxF "<!-- /refresh_shipped.sh: $name -->" "$file" ||
        fail "$file: no block $name"
    awk -v begin="<!-- refresh_shipped.sh: $name -->" -v end="<!-- /refresh_shipped.sh: $name -->" -v text="$text" '
        $0 == begin { print; while ((getline line < text) > 0) print line; skip = 1; next }
        $0 == end { skip = 0 }
        !skip' "$file" >"$work/block" && cat "$work/block" >"$file"
}
# Four decimals of a metrics.json number.
fmt() { jq -r --arg k "$1" '.[$k]' "$2" | awk '{ printf "%.4f", $1 }'; }
# "mean ± std" (sample standard deviation, four decimals) of one metric over metrics.json files.
mean_std() {
    local k=$1; shift
    jq -r --arg k "$k" '.[$k]' "$@" | awk '{ x[NR] = $1; s += $1 } END { m = s / NR; for (i = 1; i <= NR; i++) v += (x[i] - m) ^ 2
        printf "%.4f ± %.4f", m, (NR > 1 ? sqrt(v / (NR - 1)) : 0) }'
}
# "mean ± std" (four decimals) of a summary.json entry {mean, std} of the cross-validation, or n/a.
cv_pm() {
    jq -r "$1 | if . == null then \"n/a\" else \"\\(.mean) \\(.std)\" end" "$work/cv.json" |
        awk '$1 == "n/a" { printf "n/a"; next } { printf "%.4f ± %.4f", $1, $2 }'
}

echo "refresh_shipped.sh: the default run's seeds (experiments/reproduce.sh; differences from the old values are expected)"
experiments/reproduce.sh || true
tsv=experiments/results/reported.tsv
# The ship run's thread count (0: this machine's cores), which a bit-identical retraining needs.
threads=$(awk '/^run:/ { r = 1; next } /^[a-z]/ { r = 0 } r && $1 == "threads:" { print $2; exit }' "$ship/config.yaml")
[ "${threads:-0}" != 0 ] || threads=$(nproc)
while IFS= read -r line; do
    case $line in \#*) echo "$line"; continue ;; esac
    name=$(cut -f1 <<<"$line") config=$(cut -f2 <<<"$line") overrides=$(cut -f3 <<<"$line") metric=$(cut -f4 <<<"$line")
    metrics="runs/reproduce/$name/metrics.json"
    if [ "$config" = experiments/ship_cinc2017.sh ]; then
        metrics="$ship/metrics.json" overrides="run.threads=$threads"
    fi
    value=$(jq -er --arg k "$metric" '.[$k]' "$metrics") || fail "$metrics: no $metric"
    printf '%s\t%s\t%s\t%s\t%s\n' "$name" "$config" "$overrides" "$metric" "$value"
done <"$tsv" >"$work/tsv"
cat "$work/tsv" >"$tsv"

echo "refresh_shipped.sh: the shipped model alone on the default run's test split"
seed42=runs/reproduce/effb0_seed42
"$tools/ecgeval" "$model" data.format=cachet_short data.path=data/sample/cachet_sample.h5 run.seed=42 \
    data.val_fraction=0.15 data.test_fraction=0.15 data.split=test --out "$work/alone" >/dev/null 2>&1 ||
    fail "ecgeval of $model on the sample failed"
seeds=()
for name in $(awk -F'\t' '$2 == "configs/effb0.yaml" { print $1 }' "$tsv" | uniq); do
    seeds+=("runs/reproduce/$name/metrics.json")
done
{
    echo "| model | accuracy | macro-F1 | CinC 2017 score | ROC-AUC (macro) |"
    echo "|---|---|---|---|---|"
    for row in "the default run (fine-tuned on the sample)|$seed42/metrics.json" "the shipped model alone|$work/alone/metrics.json"; do
        m=${row#*|}
        echo "| ${row%%|*} | $(fmt accuracy "$m") | $(fmt macro_f1 "$m") | $(fmt cinc_f1 "$m") | $(fmt roc_auc_macro "$m") |"
    done
    echo
    echo "Over ${#seeds[@]} seeds of the default run (each seed also draws its own split of the sample), mean and"
    echo "standard deviation: accuracy $(mean_std accuracy "${seeds[@]}"), macro-F1 $(mean_std macro_f1 "${seeds[@]}"),"
    echo "CinC score $(mean_std cinc_f1 "${seeds[@]}"), ROC-AUC $(mean_std roc_auc_macro "${seeds[@]}")."
    echo "Its training (seed 42) took $(awk -F, 'NR > 1 { s += $9 } END { printf "%.0f", s }' "$seed42/log.csv") s."
    echo
    echo '```'
    awk 'NF == 0 { blank++; next } blank < 2' "$seed42/report.txt" # the header and a line per class
    echo '```'
} >"$work/default_run"
replace_block README.md default_run "$work/default_run"
cp "$seed42/confusion.svg" docs/img/effb0_confusion.svg
cp "$seed42/curves.svg" docs/img/effb0_curves.svg

echo "refresh_shipped.sh: the shipped model's metrics and training"
/usr/bin/python3 -c 'import sys, h5py
with h5py.File(sys.argv[1], "r") as f:
    g = f["ecg_model"]
    open(sys.argv[2], "wb").write(g["metrics_json"][()])
    open(sys.argv[3], "wb").write(g["provenance_json"][()])
    print(float(g.attrs["temperature"]))' "$model" "$work/cv.json" "$work/provenance.json" >"$work/temperature"
jq -e '.folds' "$work/cv.json" >/dev/null || fail "$model carries no cross-validated metrics (ship_cinc2017.sh without CV?)"
{
    echo "| accuracy | macro-F1 | CinC 2017 score | ROC-AUC (macro) | ECE |"
    echo "|---|---|---|---|---|"
    echo "| $(cv_pm .accuracy) | $(cv_pm .macro_f1) | $(cv_pm .cinc_f1) | $(cv_pm .roc_auc_macro) | $(cv_pm .ece) |"
    echo
    echo "Mean ± standard deviation over $(jq .folds "$work/cv.json") folds ($(jq .records "$work/cv.json") records, each"
    echo "tested once: \`$(jq -r .command "$work/cv.json")\`). F1 per class:"
    echo "$(for c in $(jq -r '.classes[]' "$work/cv.json"); do printf '%s %s, ' "$c" "$(cv_pm ".f1[\"$c\"]")"; done | sed 's/, $//');"
    echo "the CinC score of the pooled folds $(jq -r .pooled.cinc_f1 "$work/cv.json" | awk '{ printf "%.4f", $1 }'). The shipped"
    echo "model itself (every record but its validation split) has temperature $(awk '{ printf "%.3f", $1 }' "$work/temperature")."
} >"$work/shipped_model"
replace_block README.md shipped_model "$work/shipped_model"
select=$(awk '$1 == "select:" { print $2 }' "$ship/config.yaml") # train.select of the shipped run
{
    jq -r --arg select "$select" '"Its data: \(.records) records of `\(.path)` (\(.class_counts | to_entries | map("\(.value) \(.key)") |
        join(", "))), every record there but the \(.excluded_ids | length) listed in `\(.exclude)`; a validation",
        "split of \(.["data.val_fraction"] * 100 | round) % of them fitted the temperature\(if $select == "last"
        then "" else " and chose the best epoch" end)."' "$work/provenance.json"
    awk -F, -v select="$select" 'NR > 1 { s += $9; n++; last = $7; if ($7 > best) { best = $7; at = $1 } }
        END { printf "%d epochs, %.0f min of training and validation (log.csv); ", n, s / 60
              if (select == "last") printf "the last epoch is the model (validation macro-F1 %.4f).\n", last
              else printf "the best by validation macro-F1\n(%.4f) was epoch %d.\n", best, at }' "$ship/log.csv"
    echo
    cat "$work/shipped_model"
} >"$work/figures"
replace_block weights/README.md figures "$work/figures"

echo "refresh_shipped.sh: ecgserve's answers"
"$tools/ecgserve" --port 0 >"$work/serve.out" 2>"$work/serve.err" &
pid=$!
url=
for _ in $(seq 600); do
    url=$(sed -n 's/^ecgserve: serving .* at \(http:[^ ]*\)$/\1/p' "$work/serve.out")
    [ -n "$url" ] && break
    sleep 0.1
done
[ -n "$url" ] || fail "ecgserve did not start: $(cat "$work/serve.err")"
(cd "$records" && curl -s -F file=@A00004.hea -F file=@A00004.mat "${url}v1/classify") >"$work/a4.json"
(cd "$records" && curl -s -F file=@A00001.hea -F file=@A00001.mat "${url}v1/classify?include=all") >"$work/a1.json"
kill "$pid" && wait "$pid" || true
pid=
{
    echo '```sh'
    echo '$ cd ../shared/data/cinc2017/training2017'
    echo '$ curl -F file=@A00004.hea -F file=@A00004.mat http://127.0.0.1:8080/v1/classify'
    cat "$work/a4.json"
    echo '```'
} >"$work/serve_example"
replace_block README.md serve_example "$work/serve_example"
{
    echo '```json'
    jq -r '.records[0] as $r | ($r.windows[0] | .spectrogram.data = "..." | .gradcam.data = "...") as $w |
        "{",
        "  \"model\": \(.model | tojson),",
        "  \"records\": [",
        "    {",
        "      \"record\": \($r.record | tojson), \"file\": \($r.file | tojson), \"fs\": \($r.fs), \"seconds\": \($r.seconds),",
        "      \"class\": \($r.class | tojson),",
        "      \"probabilities\": \($r.probabilities | tojson),",
        "      \"windows\": [",
        "        {\"start_s\": \($w.start_s), \"class\": \($w.class | tojson),",
        "         \"probabilities\": \($w.probabilities | tojson),",
        "         \"spectrogram\": \($w.spectrogram | tojson),",
        "         \"gradcam\": \($w.gradcam | tojson)}",
        "      ],",
        "      \"checks\": \($r.checks | tojson),",
        "      \"signal\": \($r.signal | .values |= .[:3] | tojson)",
        "    }",
        "  ]",
        "}"' "$work/a1.json"
    echo '```'
} >"$work/serve_response"
replace_block docs/serve.md serve_response "$work/serve_response"

echo "refresh_shipped.sh: docs/spectrogram.md's figures and the Grad-CAM fixture"
"$tools/ecgspec" --model "$model" --trace --quiet --out "$work/a4" "$records/A00004.mat"
"$tools/ecgspec" --model "$model" --quiet --out "$work/a1" "$records/A00001.mat"
cp "$work/a4.svg" docs/img/spec_af_A00004.svg
cp "$work/a4.png" docs/img/spec_af_A00004.png
cp "$work/a4_trace.svg" docs/img/spec_af_A00004_trace.svg
cp "$work/a1.svg" docs/img/spec_nsr_A00001.svg
/usr/bin/python3 tests/fixtures/gen_gradcam_fixture.py

if ECG_SERVE_BIN=$tools/ecgserve bash tests/browser/run.sh - "$records/A00001" docs/img/serve_page.png >"$work/page" 2>&1; then
    echo "refresh_shipped.sh: docs/img/serve_page.png taken"
else
    echo "refresh_shipped.sh: docs/img/serve_page.png NOT taken ($(tail -1 "$work/page")); see docs/serve.md"
fi
# The README's picture of a report: the top of the default run's report.html, as a browser shows it.
browser=$(command -v chromium || command -v chromium-browser || true)
if [ -n "$browser" ] && timeout 120 "$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars \
    --window-size=1000,1500 --screenshot="$work/report.png" "file://$PWD/$seed42/report.html" >"$work/shot" 2>&1 &&
    [ -s "$work/report.png" ]; then
    cp "$work/report.png" docs/img/effb0_report.png
    echo "refresh_shipped.sh: docs/img/effb0_report.png taken"
else
    echo "refresh_shipped.sh: docs/img/effb0_report.png NOT taken (no chromium, or: $(tail -1 "$work/shot" 2>/dev/null))"
fi
echo "refresh_shipped.sh: done"
echo "refresh_shipped.sh: check with meson test -C build and experiments/reproduce.sh, then review git diff"
