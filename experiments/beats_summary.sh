#!/usr/bin/env bash
# Summarises the AAMI figures of cross-validation folds: per class mean and std of Se, +P, F1, and pooled.
#
#   experiments/beats_summary.sh [--json FILE] DIR
#
# Every run below DIR with a metrics.json holding "aami" (ecgtrain of a beat model) is a fold.  For
# N, S, V, F: Se, +P and F1 of each fold, their mean and sample standard deviation over the folds
# (a fold without beats of a class adds no Se for it, and none of +P when nothing was labelled so), and
# the pooled figures from the summed TP, FN, FP of all folds (every test beat counted once).  --json
# also writes them as JSON (what ecgexport --metrics stores in the shipped beat model).  Each breakdown that every
# fold's report holds (by MIT-BIH annotation symbol, by record) is pooled after the table.
set -euo pipefail
json=""
if [ "${1:-}" = --json ]; then [ $# -ge 2 ] || { echo "beats_summary.sh: --json needs a file" >&2; exit 2; }; json=$2; shift 2; fi
[ $# -eq 1 ] || { sed -n '2,11p' "$0"; exit 2; }
command -v jq >/dev/null || { echo "beats_summary.sh: jq missing; run scripts/setup.sh" >&2; exit 1; }
files=$(find "$1" -name metrics.json 2>/dev/null | sort | while read -r f; do
    jq -e 'has("aami")' "$f" >/dev/null 2>&1 && echo "$f"; done)
[ -n "$files" ] || { echo "beats_summary.sh: no beat run (metrics.json with aami) under $1" >&2; exit 1; }
# Tab-separated rows as columns padded to their widest cell.
align_columns() {
    awk -F'\t' '{ for (i = 1; i <= NF; i++) { cell[NR, i] = $i; if (length($i) > w[i]) w[i] = length($i) } n[NR] = NF }
        END { for (r = 1; r <= NR; r++) { line = ""; for (i = 1; i <= n[r]; i++) line = line sprintf("%-" w[i] "s  ", cell[r, i]); sub(/ +$/, "", line); print line } }'
}
stats_dir=$(dirname "$0")
# shellcheck disable=SC2086
jq -s -r -L "$stats_dir" '
  include "stats";
  def f4: if . == null then "n/a" else (. * 10000 | round / 10000 | tostring) end;
  . as $runs
  | ["class", "Se mean", "Se std", "+P mean", "+P std", "F1 mean", "F1 std", "pooled Se", "pooled +P",
     "pooled F1", "TP", "FN", "FP"],
    (["N", "S", "V", "F"][] as $c
     | [$runs[].aami.per_class[$c]] as $p
     | ([$p[] | select(.tp + .fn > 0) | .se]) as $se
     | ([$p[] | select(.tp + .fp > 0) | .ppv]) as $pp
     | ([$p[] | .f1]) as $f1
     | ([$p[].tp] | add) as $tp | ([$p[].fn] | add) as $fn | ([$p[].fp] | add) as $fp
     | [$c, ($se | mean_or_null | f4), ($se | std_or_null | f4), ($pp | mean_or_null | f4), ($pp | std_or_null | f4),
        ($f1 | mean_or_null | f4), ($f1 | std_or_null | f4), (ratio($tp; $tp + $fn) | f4), (ratio($tp; $tp + $fp) | f4),
        (ratio(2 * $tp; 2 * $tp + $fn + $fp) | f4), $tp, $fn, $fp])
  | @tsv' $files |
    align_columns
# shellcheck disable=SC2086
jq -s -r '"folds: \(length); test beats: \(map(.aami.n) | add); accuracy (pooled): \((map(.aami.per_class[].tp) | add) / (map(.aami.n) | add) * 10000 | round / 10000); macro-F1 per fold: \(map(.aami.macro_f1 * 10000 | round / 10000) | join(", ")); true Q beats: \(map(.aami.q_support) | add)"' $files
# The pooled predictions by a breakdown of every fold's report (ecgtrain and ecgeval write them for WFDB beats):
# by MIT-BIH annotation symbol, which kinds of beat each class's errors come from; by record, whose (each record
# is in one fold's test set, so its rows are that fold's).
pooled_breakdown() { # KEY TITLE
    # shellcheck disable=SC2086
    jq -s -e --arg key "$1" 'all(has($key))' $files >/dev/null || return 0
    echo
    echo "pooled by $2 (rows: true label, columns: predicted)"
    # shellcheck disable=SC2086
    jq -s -r --arg key "$1" '
      .[0].classes as $classes
      | [.[][$key].rows[]] | group_by([.class, .label])
      | map({label: .[0].label, class: .[0].class, n: (map(.n) | add),
             predicted: (map(.predicted) | reduce .[] as $p ({}; reduce ($p | keys[]) as $k (.; .[$k] += $p[$k])))})
      | sort_by(. as $r | ($classes | index($r.class)), .label) as $rows
      | (["label", "class", "n"] + $classes + ["correct"]),
        ($rows[] | [.label, .class, .n] + [.predicted[$classes[]]] +
                   [(.predicted[.class] / .n * 1000 | round / 1000 | tostring)])
      | @tsv' $files |
        align_columns
}
pooled_breakdown breakdown "MIT-BIH annotation symbol"
pooled_breakdown breakdown_records record
[ -z "$json" ] && exit 0
# shellcheck disable=SC2086
jq -s -L "$stats_dir" --arg dir "$1" '
  include "stats";
  def stat: {mean: mean_or_null, std: std_or_null};
  . as $runs
  | {protocol: "inter-patient cross-validation over MIT-BIH DS1: whole records (patients) per fold, every beat tested once",
     runs: $dir, folds: length, test_beats: (map(.aami.n) | add),
     accuracy_pooled: ((map(.aami.per_class[].tp) | add) / (map(.aami.n) | add)),
     macro_f1: (map(.aami.macro_f1) | stat),
     per_class: (["N", "S", "V", "F"] | map(. as $c
       | [$runs[].aami.per_class[$c]] as $p
       | ([$p[].tp] | add) as $tp | ([$p[].fn] | add) as $fn | ([$p[].fp] | add) as $fp
       | {key: $c, value: {se: ([$p[] | select(.tp + .fn > 0) | .se] | stat),
                           ppv: ([$p[] | select(.tp + .fp > 0) | .ppv] | stat),
                           f1: ([$p[].f1] | stat),
                           pooled: {se: ratio($tp; $tp + $fn), ppv: ratio($tp; $tp + $fp),
                                    f1: ratio(2 * $tp; 2 * $tp + $fn + $fp), tp: $tp, fn: $fn, fp: $fp}}})
       | from_entries),
     true_q_beats: (map(.aami.q_support) | add)}' $files >"$json"
