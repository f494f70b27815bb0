/* The run directory: where a run keeps its config, log, checkpoints and report. */
#ifndef ECG_TRAIN_RUN_DIR_H
#define ECG_TRAIN_RUN_DIR_H

#include <stddef.h>

#include "train/config.h"
#include "core/error.h"

/* Writes run.dir (or runs/<run.name>) into `dir` and creates it with its parents. */
int ecg_run_dir_prepare(const struct ecg_config *c, char *dir, size_t size, struct ecg_error *err);

/* Creates `path` and its parents (mkdir -p). */
int ecg_mkdirs(const char *path, struct ecg_error *err);

/* Writes the resolved config as <dir>/config.yaml. */
int ecg_run_dir_write_config(const char *dir, const char *yaml, struct ecg_error *err);

#endif
