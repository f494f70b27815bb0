/* Training checkpoints: weights in the Keras layout plus optimizer, schedule, RNG, config and metrics. */
#ifndef ECG_IO_CHECKPOINT_H
#define ECG_IO_CHECKPOINT_H

#include <stdint.h>

#include "core/error.h"
#include "core/params.h"
#include "core/rng.h"
#include "io/keras_h5.h"

/*
 * One HDF5 file:
 *   /                  the parameter store as a Keras 2 weight file (see
 *                      io/keras_h5.h), so h5py and Keras read the weights
 *                      directly; Keras ignores everything below
 *   /ecg_checkpoint    attrs format_version (1), epoch, step, sched_step, lr
 *     config_yaml      the resolved configuration (string dataset)
 *     metrics_json     the metrics so far (string dataset)
 *     blobs/<name>     float32 (count,) per blob; attr blob_names lists them
 *     rng/<name>       uint64 (3,) = seed, stream, counter; attr rng_names
 *
 * Writing is atomic (io/h5_atomic.h): a crash or a kill at
 * any moment leaves the previous checkpoint at `path` intact.
 *
 * Loading is all or nothing and strict: every parameter, blob and RNG the
 * caller names must be in the file with the same shape or count, and the
 * file must hold nothing else; otherwise one message names the file and the
 * item, and nothing (store, blobs, RNGs, counters) is changed.
 */

/* A named float array: optimizer moments, EMA weights, ... Names use
 * letters, digits and "_./-"; a '/' makes a subgroup; no segment starts
 * with '.'. */
struct ecg_ckpt_blob {
    const char *name;
    float *data; /* save: read from; load: filled */
    int64_t count;
};

struct ecg_ckpt_rng {
    const char *name;
    struct ecg_rng *rng; /* save: read from; load: filled */
};

struct ecg_checkpoint {
    int64_t epoch;      /* completed epochs */
    int64_t step;       /* optimizer steps taken */
    int64_t sched_step; /* position of the learning-rate schedule */
    double lr;          /* learning rate at that position */
    struct ecg_ckpt_blob *blobs;
    int n_blobs;
    struct ecg_ckpt_rng *rngs;
    int n_rngs;
    const char *config_yaml;  /* save only; NULL writes "" */
    const char *metrics_json; /* save only; NULL writes "{}" */
};

/* Writes `params` (all of them, buffers included) and `ck` to `path`
 * atomically.  attrs (may be NULL) as in ecg_keras_save.  A NaN or infinity
 * among the values or blobs is never written: ECG_ERR_VALUE with the message
 * of ecg_checkpoint_check_finite, and the file at `path` is left as it was. */
int ecg_checkpoint_save(const char *path, const struct ecg_params *params,
                        const struct ecg_keras_info *attrs, const struct ecg_checkpoint *ck,
                        struct ecg_error *err);

/* ECG_ERR_VALUE when a value of `params` (buffers included) or of a blob of
 * `ck` is NaN or infinite, naming the first parameter or blob (in store
 * order, then blob order), the element and the value; one fast pass when
 * everything is finite. */
int ecg_checkpoint_check_finite(const struct ecg_params *params, const struct ecg_checkpoint *ck,
                                struct ecg_error *err);

/*
 * Loads `path` into `params` and the blobs/RNGs named in `ck` (their
 * names, pointers and counts are the request), and sets epoch, step,
 * sched_step and lr.  config_yaml / metrics_json (may be NULL) receive
 * malloc'd strings the caller frees.  info (may be NULL) receives the
 * weight-file attributes.
 */
int ecg_checkpoint_load(const char *path, struct ecg_params *params, struct ecg_checkpoint *ck,
                        char **config_yaml, char **metrics_json, struct ecg_keras_info *info,
                        struct ecg_error *err);

/* The same from an open file (an in-memory file image, say); `path` names it in messages.  The caller closes
 * `file`. */
int ecg_checkpoint_load_open(hid_t file, const char *path, struct ecg_params *params,
                             struct ecg_checkpoint *ck, char **config_yaml, char **metrics_json,
                             struct ecg_keras_info *info, struct ecg_error *err);

/* Reads only the stored config YAML and metrics JSON (either pointer may be
 * NULL; the strings are malloc'd for the caller): what a program needs to
 * rebuild the model of a checkpoint before loading its weights by name. */
int ecg_checkpoint_read_text(const char *path, char **config_yaml, char **metrics_json, struct ecg_error *err);

#endif
