# What the server's shell tests share (sourced): TAP-like checks and curl requests into $work.
fails=0
ok() { echo "ok - $1"; }
not_ok() { echo "not ok - $1"; fails=$((fails + 1)); }
check() { # check NAME COMMAND...: passes when the command succeeds
    local name=$1; shift
    if "$@"; then ok "$name"; else not_ok "$name"; fi
}
# req OUT [curl args...]: the HTTP status on stdout, the body in $work/OUT, the headers in $work/OUT.h.
req() {
    local out=$1; shift
    curl -s -o "$work/$out" -D "$work/$out.h" -w '%{http_code}' "$@"
}
