/* Self-describing model files (Keras weights plus the run's configuration, classes, temperature, provenance, metrics). */
#ifndef ECG_IO_MODEL_FILE_H
#define ECG_IO_MODEL_FILE_H

#include <stdbool.h>

#include "core/error.h"
#include "core/params.h"
#include "eval/rr_fusion.h"
#include "io/keras_h5.h"

/*
 * A model file is a Keras 2 weight file (io/keras_h5.h: h5py and Keras read
 * the weights as they are) with one more group that Keras ignores:
 *
 *   /ecg_model          attrs format_version (1), temperature (double),
 *                       class_names (string array), arch ("b0"...)
 *     config_yaml       the resolved configuration of the run (string dataset):
 *                       preprocessing, windows, spectrogram, model
 *     provenance_json   where the training data came from (string dataset)
 *     metrics_json      the metrics that go with the model (string dataset)
 *     rr_fusion/        when the run fitted one (eval.rr_fusion, eval/rr_fusion.h):
 *       mean, scale     (8) doubles: the RR features' standardisation
 *       weights         (9, classes) doubles
 *
 * A training checkpoint (io/checkpoint.h, group /ecg_checkpoint) holds a
 * configuration too and, in best.h5 after calibration, a `temperature`
 * attribute and the rr_fusion group; the readers below accept either kind of file.
 */

#define ECG_MODEL_GROUP "ecg_model"

struct ecg_model_meta {
    const char *config_yaml;
    const char *const *class_names;
    int n_classes;
    double temperature;           /* > 0 */
    const char *arch;             /* "b0" ... */
    const char *provenance_json;  /* NULL writes "{}" */
    const char *metrics_json;     /* NULL writes "{}" */
    const struct ecg_rr_fusion *rr_fusion; /* NULL or classes 0: none */
};

/* Writes the weights and the metadata to `path` atomically. */
int ecg_model_file_save(const char *path, const struct ecg_params *params, const struct ecg_keras_info *attrs,
                        const struct ecg_model_meta *meta, struct ecg_error *err);

/*
 * The stored configuration YAML (malloc'd; the caller frees) of a model
 * file or a checkpoint.  ECG_ERR_FORMAT naming the file when it has neither
 * group ("not an ecgtrain checkpoint or model file").
 */
int ecg_model_file_config(const char *path, char **config_yaml, struct ecg_error *err);

/*
 * Replaces the stored configuration of a checkpoint or model file, atomically as the temperature: a finished run
 * resumed with other eval.* keys or train.select stores the configuration its report was made with.
 */
int ecg_model_file_set_config(const char *path, const char *config_yaml, struct ecg_error *err);

/* True when `path` is an HDF5 file holding a model file's or a checkpoint's metadata group (never fails). */
bool ecg_model_file_probe(const char *path);

/*
 * The metrics a model file carries (/ecg_model/metrics_json, malloc'd; the caller frees), or NULL in
 * *metrics_json when it carries none: a checkpoint, a plain weight file, or a model file exported
 * without --metrics ("{}").  Fails only on an unreadable file or metrics dataset (the message names
 * the file).
 */
int ecg_model_file_metrics(const char *path, char **metrics_json, struct ecg_error *err);

/* The temperature of a model file or checkpoint; 1 when the file records none. */
int ecg_model_file_temperature(const char *path, double *t, struct ecg_error *err);

/* Sets the `temperature` attribute of a checkpoint's /ecg_checkpoint (or a model file's /ecg_model) group,
 * atomically: a copy is changed, synced and renamed over `path`. */
int ecg_model_file_set_temperature(const char *path, double t, struct ecg_error *err);

/* The RR fusion of a model file or checkpoint (f->classes 0 when it has none), checked for `classes` classes:
 * ECG_ERR_FORMAT naming the file for a malformed one. */
int ecg_model_file_rr_fusion(const char *path, int classes, struct ecg_rr_fusion *f, struct ecg_error *err);

/* Stores (replacing any) the RR fusion of a checkpoint or model file, atomically as the temperature; a fusion of
 * 0 classes removes it. */
int ecg_model_file_set_rr_fusion(const char *path, const struct ecg_rr_fusion *f, struct ecg_error *err);

#endif
