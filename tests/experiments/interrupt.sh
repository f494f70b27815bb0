# shellcheck shell=bash
# Shell functions for the tests of the experiment scripts (sourced, not run).

# ecgtrain_into DIR: prints the pid of the ecgtrain run writing into DIR, found by its run.dir argument in /proc
# (not pkill: no procps needed); fails when there is none.
ecgtrain_into() {
    local dir="$1" p
    for p in /proc/[0-9]*; do
        if tr '\0' '\n' <"$p/cmdline" 2>/dev/null | grep -qxF "run.dir=$dir" &&
            tr '\0' '\n' <"$p/cmdline" 2>/dev/null | head -1 | grep -q "ecgtrain$"; then
            echo "${p#/proc/}"
            return 0
        fi
    done
    return 1
}

# interrupt_after_checkpoint DIR: waits (up to 300 s) for the ecgtrain run writing into DIR to save its first
# checkpoint, then sends it SIGTERM, as `kill` or a batch system would; ecgtrain then finishes its batch, saves
# DIR/last.h5 again and exits 1.  Fails when no checkpoint or no such run appears.
interrupt_after_checkpoint() {
    local dir="$1" t pid
    for ((t = 0; t < 3000; t++)); do
        [ -f "$dir/last.h5" ] && break
        sleep 0.1
    done
    [ -f "$dir/last.h5" ] || { echo "interrupt_after_checkpoint: no $dir/last.h5 after 300 s" >&2; return 1; }
    pid=$(ecgtrain_into "$dir") || { echo "interrupt_after_checkpoint: no ecgtrain running into $dir" >&2; return 1; }
    kill -TERM "$pid"
}

# run_interrupted_at DIR COMMAND...: runs COMMAND in the background, interrupts (as above) the ecgtrain it
# starts into DIR, and prints "exit STATUS" and then COMMAND's output.  Fails when the interruption failed.
run_interrupted_at() {
    local dir="$1" out pid run status=0
    shift
    out=$(mktemp)
    "$@" >"$out" 2>&1 &
    pid=$!
    if ! interrupt_after_checkpoint "$dir"; then
        # The run the script started too: left behind, it would outlive the test.
        run=$(ecgtrain_into "$dir") && kill "$run"
        kill "$pid" 2>/dev/null
        wait "$pid" || true
        cat "$out"; rm -f "$out"
        return 1
    fi
    wait "$pid" || status=$?
    echo "exit $status"
    cat "$out"; rm -f "$out"
}
