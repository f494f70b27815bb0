#!/usr/bin/env bash
# ecgtrain and ecgeval on a full disk: a small tmpfs in a mount namespace of the test's own (as root,
# or as a user through a user namespace), filled with a file until nothing is left.
#
#   ECGTRAIN=... ECGEVAL=... ECGCONVERT=... ECG_SOURCE_ROOT=... tests/faults/full_disk.sh
#
# Checks: a checkpoint that does not fit ends the run with exit 1 and one message naming the file
# and "No space left on device", the previous last.h5 stays byte for byte and resumes once there
# is room; a report (ecgeval) and a fresh run (config.yaml, train.log) on a full disk say what
# failed and exit 1.  Exit status 77 (skipped, with the reason) where namespaces or tmpfs are
# forbidden.
set -euo pipefail

skip() { echo "full_disk: skipped: $1" >&2; exit 77; }
fail() { echo "full_disk: FAILED: $1" >&2; exit 1; }

if [ "${1:-}" != --inside ]; then
    command -v unshare >/dev/null || skip "unshare (util-linux) is not installed"
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    if [ "$(id -u)" = 0 ]; then ns=(-m); else ns=(-r -m); fi
    unshare "${ns[@]}" true 2>/dev/null ||
        skip "this machine forbids mount namespaces (unshare ${ns[*]} failed)"
    # Not exec: the trap removes the work directory.
    unshare "${ns[@]}" bash "$0" --inside "$work"
    exit $?
fi

work=$2
disk=$work/disk
mkdir -p "$disk"
# Room for one epoch's two checkpoints (about 50 MB each) and the rest.
mount -t tmpfs -o size=160m tmpfs "$disk" 2>/dev/null || skip "mounting a tmpfs is forbidden here"

src=$ECG_SOURCE_ROOT
"$ECGCONVERT" --format cachet_short --per-class 12 --compress 0 --quiet "$src/data/sample/cachet_sample.h5" "$work/data.h5"
run_args() { # DIR [key=value ...]: the short run of tests/faults/run_util.c
    local dir=$1
    shift
    echo "$src/configs/tiny.yaml" run.dir="$dir" run.seed=5 run.threads=2 run.log_level=warn \
        data.path="$work/data.h5" data.val_fraction=0.25 data.test_fraction=0.25 data.spectrogram.height=32 \
        data.spectrogram.width=32 train.epochs=3 model.dropout=0.2 data.augment.noise_prob=0.5 "$@"
}
fill_disk() { # until not a byte is left
    dd if=/dev/zero of="$disk/fill$1" bs=64k 2>/dev/null || true
    [ "$(df --output=avail -B1 "$disk" | tail -1)" -eq 0 ] || fail "the tmpfs still has room after filling it"
}
expect() { # FILE TEXT: TEXT occurs in FILE exactly once
    local n
    n=$(grep -cF -- "$2" "$1" || true)
    [ "$n" = 1 ] || { cat "$1" >&2; fail "expected once in $1: $2 (found $n times)"; }
}

# 1. A run's first epoch fits.
run=$disk/run
# shellcheck disable=SC2046  # the words of run_args are meant to split
"$ECGTRAIN" $(run_args "$run" train.epochs=1) >"$work/1.out" 2>"$work/1.err" ||
    { cat "$work/1.err" >&2; fail "the first epoch on the roomy tmpfs failed"; }
cp "$run/last.h5" "$work/kept.h5"

# 2. Its second epoch does not: the disk has a few MB left, enough for the logs, not a checkpoint.
fill_disk 1
truncate -s -4M "$disk/fill1"
set +e
# shellcheck disable=SC2046
"$ECGTRAIN" $(run_args "$run" train.epochs=2 run.resume="$run/last.h5") >"$work/2.out" 2>"$work/2.err"
st=$?
set -e
[ $st = 1 ] || { cat "$work/2.err" >&2; fail "a checkpoint on a full disk: exit status $st, expected 1"; }
grep -qE "^ecgtrain: $run/(last|best)\.h5: cannot write: No space left on device$" "$work/2.err" ||
    { cat "$work/2.err" >&2; fail "a checkpoint on a full disk: the message does not name the file and the reason"; }
expect "$work/2.err" "No space left on device"
cmp -s "$run/last.h5" "$work/kept.h5" || fail "last.h5 changed on a full disk"
! ls "$run"/*.tmp >/dev/null 2>&1 || fail "a temporary file was left: $(ls "$run"/*.tmp)"
echo "full_disk: a checkpoint that does not fit: exit 1, $(grep -F 'No space' "$work/2.err"); last.h5 unchanged"

# 3. A report on a disk with nothing left.
fill_disk 2
set +e
"$ECGEVAL" "$run/best.h5" --out "$disk/eval" >"$work/3.out" 2>"$work/3.err"
st=$?
set -e
[ $st = 1 ] || { cat "$work/3.err" >&2; fail "ecgeval on a full disk: exit status $st, expected 1"; }
expect "$work/3.err" "ecgeval: $disk/eval/predictions.jsonl: cannot write: No space left on device"
! grep -q "report in" "$work/3.out" || fail "ecgeval on a full disk claimed a report"
echo "full_disk: a report on a full disk: exit 1, $(grep -F "No space" "$work/3.err")"

# 4. A fresh run on a full disk: its config and its train.log.
set +e
# shellcheck disable=SC2046
"$ECGTRAIN" $(run_args "$disk/fresh") >"$work/4.out" 2>"$work/4.err"
st=$?
set -e
[ $st = 1 ] || { cat "$work/4.err" >&2; fail "a run on a full disk: exit status $st, expected 1"; }
expect "$work/4.err" "ecgtrain: $disk/fresh/config.yaml: cannot write: No space left on device"
expect "$work/4.err" "ecgtrain: $disk/fresh/train.log: cannot write: No space left on device"
echo "full_disk: a run on a full disk: exit 1, $(tr '\n' ' ' <"$work/4.err")"

# 5. Room again: the kept checkpoint resumes and the run ends.
rm -f "$disk"/fill*
# shellcheck disable=SC2046
"$ECGTRAIN" $(run_args "$run" train.epochs=2 run.resume="$run/last.h5") >"$work/5.out" 2>"$work/5.err" ||
    { cat "$work/5.err" >&2; fail "resuming the kept checkpoint failed"; }
grep -q "report in" "$work/5.out" || fail "the resumed run printed no report line"
echo "full_disk: with room again the kept last.h5 resumes and the run ends"
