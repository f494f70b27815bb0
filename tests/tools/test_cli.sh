#!/usr/bin/env bash
# Test of the programs' shared command line: --help, --version, unknown options, --opt=value, and "--" before paths starting with '-'.
set -uo pipefail
fail() { echo "FAIL: $*"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"

for prog in ecgtrain ecgeval ecgpredict ecgspec ecgconvert ecgforward ecgexport ecgqrs ecgserve; do
    exe="$BUILD_TOOLS/$prog"
    out=$("$exe" --version) || fail "$prog --version exited $?"
    [ "$out" = "$prog $ECG_VERSION" ] || fail "$prog --version printed '$out'"
    out=$("$exe" -V) || fail "$prog -V exited $?"
    [ "$out" = "$prog $ECG_VERSION" ] || fail "$prog -V printed '$out'"
    out=$("$exe" --help) || fail "$prog --help exited $?"
    [[ "$out" == "usage: $prog "* ]] || fail "$prog --help does not start with its usage: ${out:0:80}"
    "$exe" -h >/dev/null || fail "$prog -h exited $?"
    err=$("$exe" --frobnicate 2>&1 >/dev/null); st=$?
    [ $st = 2 ] || fail "$prog --frobnicate exited $st"
    [[ "$err" == "$prog: unknown option '--frobnicate'"$'\n'"usage: $prog "* ]] ||
        fail "$prog --frobnicate said: ${err:0:120}"
    err=$("$exe" --help=yes 2>&1 >/dev/null); st=$?
    [ $st = 2 ] || fail "$prog --help=yes exited $st"
    [[ "$err" == "$prog: --help takes no value, found '--help=yes'"* ]] || fail "$prog --help=yes said: ${err:0:120}"
done

# "--" makes a path that starts with '-' an operand: the message is about the file, not an option.
err=$("$BUILD_TOOLS/ecgexport" -- -missing.h5 out.h5 2>&1); st=$?
[ $st = 1 ] && [[ "$err" == *"-missing.h5"* ]] && [[ "$err" != *"option"* ]] || fail "ecgexport -- -missing.h5: $st $err"
err=$("$BUILD_TOOLS/ecgforward" -- -w.h5 in.h5 out.h5 2>&1); st=$?
[ $st = 1 ] && [[ "$err" == *"-w.h5"* ]] && [[ "$err" != *"option"* ]] || fail "ecgforward -- -w.h5: $st $err"
err=$("$BUILD_TOOLS/ecgtrain" -- -c.yaml 2>&1); st=$?
[ $st = 2 ] && [[ "$err" == *"-c.yaml"* ]] && [[ "$err" != *"option"* ]] || fail "ecgtrain -- -c.yaml: $st $err"
err=$("$BUILD_TOOLS/ecgqrs" -- -r.hea 2>&1); st=$?
[ $st = 1 ] && [[ "$err" == *"-r.hea"* ]] && [[ "$err" != *"option"* ]] || fail "ecgqrs -- -r.hea: $st $err"
err=$("$BUILD_TOOLS/ecgeval" --out=o -- -ckpt.h5 2>&1); st=$?
[ $st = 1 ] && [[ "$err" == *"-ckpt.h5"* ]] && [[ "$err" != *"option"* ]] || fail "ecgeval -- -ckpt.h5: $st $err"

# --opt=value and --opt value read the same.
err=$("$BUILD_TOOLS/ecgconvert" --format=mitdb in out.h5 2>&1); st=$?
[ $st = 2 ] && [[ "$err" == *"--format 'mitdb' holds heartbeats"* ]] || fail "ecgconvert --format=mitdb: $st $err"
err=$("$BUILD_TOOLS/ecgconvert" --format mitdb in out.h5 2>&1); st=$?
[ $st = 2 ] && [[ "$err" == *"--format 'mitdb' holds heartbeats"* ]] || fail "ecgconvert --format mitdb: $st $err"
err=$("$BUILD_TOOLS/ecgconvert" --format=cinc2017 --windows=0 in out.h5 2>&1); st=$?
[ $st = 2 ] && [[ "$err" == *"--windows '0': expected an integer in 1..1000000"* ]] || fail "ecgconvert --windows=0: $st $err"
err=$("$BUILD_TOOLS/ecgqrs" --window=-1 r.hea 2>&1); st=$?
[ $st = 2 ] && [[ "$err" == "ecgqrs: --window '-1': expected seconds >= 0"* ]] || fail "ecgqrs --window=-1: $st $err"
err=$("$BUILD_TOOLS/ecgconvert" --format 2>&1); st=$?
[ $st = 2 ] && [[ "$err" == "ecgconvert: --format needs a value"* ]] || fail "ecgconvert --format: $st $err"
echo "ok"
