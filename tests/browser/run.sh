#!/usr/bin/env bash
# Runs the upload page's browser test, or skips it (exit 77) saying what is missing.
#   run.sh SERVER RECORD [SCREENSHOT [BEAT_MODEL BEAT_RECORD]]
# ECG_SERVE_BIN, when set, replaces SERVER (e.g. build/tools/ecgserve with a real model); SCREENSHOT
# defaults to serve_page.png in the working directory (meson's: the build directory).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
server=${ECG_SERVE_BIN:-$1}
record=$2
screenshot=${3:-$PWD/serve_page.png}
beats=("${@:4:2}") # the beat model and a WFDB record (NAME without .hea/.dat), or nothing
chromium=${CHROMIUM:-/usr/bin/chromium}

skip() { echo "SKIP: $1"; exit 77; }
command -v node >/dev/null || skip "node is not installed (apt-get install nodejs)"
major=$(node -p 'process.versions.node.split(".")[0]')
[ "$major" -ge 20 ] || skip "node $(node --version) is older than 20, which playwright-core needs"
[ -x "$chromium" ] || skip "$chromium is not installed (apt-get install chromium)"
[ -d "$here/node_modules/playwright-core" ] || skip "playwright-core is not installed (cd tests/browser && npm ci)"
[ -f "$record.hea" ] && [ -f "$record.mat" ] || skip "the record $record.hea/.mat is not there"

CHROMIUM=$chromium exec node "$here/page_test.mjs" "$server" "$record" "$screenshot" "${beats[@]}"
