/* train.log: a copy of everything a run prints to the terminal, kept in its run directory. */
#ifndef ECG_TRAIN_RUN_LOG_H
#define ECG_TRAIN_RUN_LOG_H

#include <stdbool.h>

#include "core/error.h"

/*
 * Starts copying the process's standard output and standard error into the
 * file `path` (appended when `append`) while they still reach the terminal
 * unchanged.  The file gets plain lines: terminal control sequences are
 * removed and a line rewritten in place with '\r' (a progress bar) keeps
 * only its last state, so it appears once it ends with a newline or not at
 * all when the bar is cleared.
 *
 * This takes over file descriptors 1 and 2, so it is process-wide by
 * nature: starting a second copy stops the first.  The copy runs until
 * ecg_run_log_stop() or the process exits (an atexit handler stops it), so
 * what a program prints after the run (its final error message) is in the
 * file too.  A failure to start leaves the descriptors as they were.
 */
int ecg_run_log_start(const char *path, bool append, struct ecg_error *err);

/* Whether descriptor 1 or 2 reaches a terminal: while copying, the answer for the original
 * descriptor (the pipe that stands in for it is never one), so a progress line still shows on a
 * terminal; otherwise isatty(fd). */
bool ecg_run_log_isatty(int fd);

/* Flushes stdio, gives descriptors 1 and 2 back and finishes the file.  A no-op when not copying. */
void ecg_run_log_stop(void);

/*
 * A write to the file that failed (a full disk, an I/O error) stops the
 * copy to the file, not to the terminal.  check returns that failure once,
 * as ECG_ERR_IO "<path>: cannot write: <reason>", and ECG_OK before it and
 * after it was returned; it sees the lines copied so far, so a run calls
 * it now and then.  finish stops the copy (as ecg_run_log_stop()), then
 * checks: every line printed before it has been tried.
 */
int ecg_run_log_check(struct ecg_error *err);
int ecg_run_log_finish(struct ecg_error *err);

#endif
