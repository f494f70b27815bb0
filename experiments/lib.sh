# shellcheck shell=bash
# Shell functions the experiment scripts share (sourced, not run).

# prepare_run_dir SCRIPT DIR: gets DIR ready for a run that may have been stopped before.  Sets the array
# `resume` to (run.resume=DIR/last.h5) when an earlier attempt left a checkpoint, and otherwise moves an
# attempt that stopped before its first checkpoint aside to DIR.failed-N (ecgtrain never writes into a
# directory that holds a run).  SCRIPT names the caller in messages.
prepare_run_dir() {
    local script="$1" dir="$2" n=1
    resume=()
    if [ -f "$dir/last.h5" ]; then
        resume=("run.resume=$dir/last.h5")
    elif [ -f "$dir/config.yaml" ]; then
        while [ -e "$dir.failed-$n" ]; do n=$((n + 1)); done
        mv "$dir" "$dir.failed-$n"
        echo "$script: an earlier attempt without a checkpoint is kept in $dir.failed-$n"
    fi
    mkdir -p "$dir"
}

# run_interrupted DIR: true when the run in DIR ended because it was asked to stop (Ctrl-C or SIGTERM
# to ecgtrain, which finishes its batch, saves DIR/last.h5 and exits 1 with this message), so that a
# script stops there instead of taking the interruption for a failed run and going on to the next one.
run_interrupted() {
    [ -f "$1/stderr.txt" ] && tail -n 3 "$1/stderr.txt" | grep -q "interrupted in epoch .*; checkpoint saved"
}
