/* The run directory: where a run keeps its config, log, checkpoints and report. */
#ifndef ECG_TRAIN_RUN_DIR_H
#define ECG_TRAIN_RUN_DIR_H

#include <stdbool.h>
#include <stddef.h>

#include "train/config.h"
#include "core/error.h"

/*
 * Chooses the run's directory, writes it into `dir`, creates it and starts
 * its train.log (train/run_log.h), so a run never writes into another's:
 *  - resuming (`resume` is the checkpoint's path, else NULL): the
 *    checkpoint's directory, whose train.log is appended to; temporary
 *    files a killed run left there ("last.h5.tmp", ...) are removed;
 *  - otherwise run.dir (default runs/<run.name>) when it holds no run yet,
 *    else the first of <dir>-2, <dir>-3, ... that holds none, as
 *    Lightning numbers versions.  The earlier run's files are not touched.
 * The directory is printed ("run directory: ..."; a warning when numbered).
 */
int ecg_run_dir_prepare(const struct ecg_config *c, const char *resume, char *dir, size_t size,
                        struct ecg_error *err);

/* Whether `dir` holds a run: one of the files a run writes (config.yaml, log.csv, last.h5, best.h5,
 * metrics.json, train.log). */
bool ecg_run_dir_holds_run(const char *dir);

/* Creates `path` and its parents (mkdir -p). */
int ecg_mkdirs(const char *path, struct ecg_error *err);

/* Writes the resolved config as <dir>/config.yaml. */
int ecg_run_dir_write_config(const char *dir, const char *yaml, struct ecg_error *err);

#endif
