/* Exporting a checkpoint as a self-describing model file (io/model_file.h), as ecgexport does. */
#ifndef ECG_TRAIN_EXPORT_H
#define ECG_TRAIN_EXPORT_H

#include <stdbool.h>

#include "core/error.h"
#include "eval/rr_fusion.h"

struct ecg_config;
struct ecg_effnet;

struct ecg_export_opts {
    const char *metrics_path;  /* JSON file stored as the model's metrics; NULL: "{}" */
    bool provenance;           /* read data.path to record what the model was trained on */
};

/*
 * Writes the weights of checkpoint `ckpt` (best.h5, last.h5, or another
 * model file) to `out` with the /ecg_model group: the resolved
 * configuration (model.pretrained, run.dir and run.resume none, run.threads
 * 0: nothing of the training machine), class names, the temperature the checkpoint records, the
 * provenance of the training data (data.format, data.path, the records read
 * and skipped, the class counts, data.exclude and the ids it lists, the
 * split keys) and the metrics file's JSON.  Errors name the file or key.
 */
int ecg_export_model(const char *ckpt, const char *out, const struct ecg_export_opts *o, struct ecg_error *err);

/*
 * The part of ecg_export_model after the checkpoint is read: writes network
 * `net`, built from configuration `c`, to `out` with the same /ecg_model
 * group (the class names of c's task; the RR fusion, provenance and metrics
 * JSON may be NULL: none, "{}").
 */
int ecg_export_network(const struct ecg_config *c, const struct ecg_effnet *net, double temperature,
                       const struct ecg_rr_fusion *fusion, const char *prov, const char *metrics, const char *out, struct ecg_error *err);

#endif
