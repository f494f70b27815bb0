#!/usr/bin/env bash
# Prints one table of finished runs, best test macro-F1 first, with their overrides.
#
#   experiments/summary.sh [DIR ...]      (default: runs)
#
# A run is a directory holding metrics.json (written by ecgtrain at the end of a run); its
# overrides come from overrides.txt (written by experiments/sweep.sh) when present.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -gt 0 ] || set -- runs
command -v jq >/dev/null || { echo "summary.sh: jq missing; run scripts/setup.sh" >&2; exit 1; }
# A top-level number of metrics.json: "null" when it is null, empty when the key is absent.
num() { jq -r --arg k "$1" 'if has($k) then .[$k] else "" end' "$2"; }
rows=$(
    find "$@" -name metrics.json -printf '%h\n' 2>/dev/null | sort | while read -r dir; do
        m="$dir/metrics.json"
        over="-"
        [ -f "$dir/overrides.txt" ] && over=$(tr '\n' ' ' <"$dir/overrides.txt" | sed 's/ *$//')
        epochs=$(($(wc -l <"$dir/log.csv" 2>/dev/null || echo 1) - 1))
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(num macro_f1 "$m")" "$(num accuracy "$m")" \
            "$(num cinc_f1 "$m")" "$(num roc_auc_macro "$m")" "$(num n "$m")" "$epochs" "$dir" "$over"
    done | sort -t$'\t' -k1,1gr
)
[ -n "$rows" ] || { echo "summary.sh: no finished run (metrics.json) under $*" >&2; exit 1; }
{
    printf 'macro_f1\taccuracy\tcinc_f1\tauc\tn\tepochs\trun\toverrides\n'
    awk -F'\t' -v OFS='\t' '{for (i = 1; i <= 4; i++) if ($i != "null" && $i != "") $i = sprintf("%.4f", $i); print}' <<<"$rows"
} | awk -F'\t' '{ for (i = 1; i <= NF; i++) { cell[NR, i] = $i; if (length($i) > w[i]) w[i] = length($i) } n[NR] = NF }
    END { for (r = 1; r <= NR; r++) { line = ""; for (i = 1; i <= n[r]; i++) line = line (i < n[r] ? sprintf("%-" w[i] "s  ", cell[r, i]) : cell[r, i]); print line } }'
