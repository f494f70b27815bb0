#!/usr/bin/env bash
# A report made from hostile strings (control bytes, bytes that are not UTF-8) is valid JSON, valid XML and valid UTF-8.
set -euo pipefail

hostile=${HOSTILE_REPORT:?set HOSTILE_REPORT to the hostile_report program}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$hostile" "$tmp"
jq -e '.classes | length == 3' "$tmp/metrics.json" >/dev/null || fail "metrics.json is not valid JSON with 3 classes"
# the replaced byte reads back as U+FFFD and the escape character as itself
jq -e '.classes[1] == "caf\ufffd <&>" and .classes[0] == "N\u001b[31m"' "$tmp/metrics.json" >/dev/null ||
    fail "metrics.json class names do not read back: $(jq -c .classes "$tmp/metrics.json")"
for svg in confusion.svg curves.svg; do
    xmllint --noout "$tmp/$svg" || fail "$svg is not well-formed XML"
done
for f in metrics.json report.txt confusion.svg curves.svg report.html; do
    [ "$f" = report.txt ] && continue # the text report is for terminals: bytes as given
    iconv -f UTF-8 -t UTF-8 "$tmp/$f" >/dev/null 2>&1 || fail "$f is not valid UTF-8"
    if LC_ALL=C grep -q $'[\x01-\x08\x0b\x0c\x0e-\x1f\x7f]' "$tmp/$f"; then
        fail "$f holds a control byte"
    fi
done
echo "ok: metrics.json passes jq, the SVGs pass xmllint, no control bytes, valid UTF-8"
