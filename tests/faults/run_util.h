/* Helpers of the fault tests: short ecgtrain runs on the bundled sample, faults by environment, files compared byte for byte. */
#ifndef ECG_TESTS_FAULTS_RUN_UTIL_H
#define ECG_TESTS_FAULTS_RUN_UTIL_H

#include <stdbool.h>
#include <stddef.h>

/*
 * The short run: configs/tiny.yaml on 48 records of the bundled sample (made once with
 * ecgconvert), 32x32 pixels, three epochs of three batches, two threads, dropout and noise
 * augmentation on so that the random streams matter.  `more` adds key=value words (may be "").
 */
const char *faults_run_args(const char *dir, const char *more);

/* A fault for io_fault.c (op NULL: none): the environment words of a run, "" for none. */
const char *faults_env(const char *op, const char *path_suffix, int nth, const char *action);

/*
 * Starts `env` PROGRAM ARGS, PROGRAM the path in environment variable `exe_var` (ECGTRAIN,
 * ECGEVAL), with stdout and stderr into DIR.out and DIR.err (beside the run directory).  Returns
 * the child's pid; faults_wait() waits for it and returns its exit status, or 128 + the signal
 * that ended it.
 */
int faults_spawn(const char *exe_var, const char *dir, const char *env, const char *args);
int faults_wait(int pid);
/* faults_wait without waiting: -1 while the program runs. */
int faults_poll(int pid);

/* faults_spawn of ecgtrain + faults_wait. */
int faults_ecgtrain(const char *dir, const char *env, const char *args);

/* The whole file (binary), malloc'd, size in *size; NULL when unreadable. */
char *faults_read(const char *path, size_t *size);

/* True when both files exist and hold the same bytes; prints which differ otherwise. */
bool faults_same_file(const char *a, const char *b);

/* Copies a file byte for byte (false on failure). */
bool faults_copy(const char *from, const char *to);

/* Number of entries of `dir` whose name ends with `suffix`. */
int faults_count_suffix(const char *dir, const char *suffix);

/* What the last faults_spawn of DIR printed on stderr / stdout ("" when nothing); static buffer. */
const char *faults_stderr(const char *dir);
const char *faults_stdout(const char *dir);

/*
 * True when the HDF5 files `a` and `b` hold the same datasets (names, types, shapes and bytes), the
 * dataset named `skip` (may be NULL) aside; prints the first difference otherwise.  Weights,
 * optimizer state, RNG states and the trainer state of two checkpoints, without the object
 * timestamps HDF5 writes.
 */
bool faults_same_datasets(const char *a, const char *b, const char *skip);

/* Number of times `needle` occurs in `text`. */
int faults_count(const char *text, const char *needle);

#endif
