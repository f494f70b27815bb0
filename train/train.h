/* Training and evaluation runs driven by a resolved configuration: the product behind ecgtrain, ecgeval and ecgpredict. */
#ifndef ECG_TRAIN_TRAIN_H
#define ECG_TRAIN_TRAIN_H

#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"
#include "data/loader.h"
#include "data/readers.h"
#include "data/record.h"
#include "data/split.h"
#include "eval/calibration.h"
#include "eval/rr_fusion.h"
#include "eval/metrics.h"
#include "io/keras_h5.h"
#include "layers/effnet.h"
#include "train/config.h"

/* ---- data: read, preprocess, split (train/prepare.c) ---- */

/*
 * Reads data.path in data.format and preprocesses every record in place:
 * finiteness check, resampling to data.sample_rate, zero-phase band-pass
 * (data.band_low_hz .. data.band_high_hz), per-record normalisation.  Records
 * that fail a check are skipped and counted (data.bad_records: skip) or stop
 * the run with a message naming the record (error).
 */
int ecg_prepare_dataset(const struct ecg_config *c, struct ecg_dataset *ds, struct ecg_error *err);

/* The reader options a config implies (bad records, beat windows of data.window_seconds centred on the
 * R peak, records, beat source, Q beats): every program that reads a config's dataset reads it alike. */
void ecg_read_options_of_config(const struct ecg_config *c, struct ecg_read_options *ro);

/* Preprocesses one record in place as ecg_prepare_dataset does: resampled, band-passed and normalised, then its
 * standardised RR-interval features (r->features) for a model that reads them (model.rhythm_features).  The message names
 * what failed; the caller names the record. */
int ecg_prepare_record(const struct ecg_config *c, struct ecg_record *r, struct ecg_error *err);

/* Splits a prepared dataset as data.val_fraction, data.test_fraction, data.folds and data.fold say, seeded
 * with run.seed (data/split.h).  Free with ecg_split_free. */
int ecg_config_split(const struct ecg_config *c, const struct ecg_dataset *ds, struct ecg_splits *out,
                     struct ecg_error *err);


/* Class names of the dataset's task, in label order. */
void ecg_class_names(enum ecg_task task, const char **names, int *k);

/* ---- model: build, load weights, freeze (train/model_setup.c) ---- */

/* The input scaling of model.input_norm (imagenet): each image to [0, 1], then per channel (x - mean) / std. */
struct ecg_input_scaling {
    bool on;
    int channels;
    float mean[4], std[4];
};

/* Applies the scaling in place to n images of h x w x channels (NHWC); a no-op when off. */
void ecg_input_scaling_apply(const struct ecg_input_scaling *norm, float *images, int64_t n, int64_t h, int64_t w);

/*
 * Builds the model of the config's model.* keys for `batch` images of
 * data.spectrogram.height x width (inference_only: forward passes only, with
 * reused activation memory), initialises it from run.seed and loads
 * model.pretrained when set (its head is kept only when the class count
 * matches).  `norm` (may be NULL) receives the input scaling of
 * model.input_norm: the weight file's ImageNet mean and std when it has a
 * Keras `normalization` layer, else the usual ImageNet values; averaged over
 * RGB for a one-channel model.  Errors name the key or the weight file.
 */
int ecg_model_build(const struct ecg_config *c, int64_t batch, bool inference_only, struct ecg_effnet *m,
                    struct ecg_input_scaling *norm, struct ecg_error *err);

/* The weight-file attributes that record how m was built (batch-norm epsilon, padding, architecture). */
void ecg_model_keras_info(const struct ecg_effnet *m, struct ecg_keras_info *attrs);

/* Re-initialises the classification head (the predictions/ layer) as model.head_init says, from its own stream of
 * `seed` (keras: leaves it as ecg_effnet_init_weights made it). */
void ecg_model_init_head(struct ecg_effnet *m, enum ecg_head_init mode, uint64_t seed);

/*
 * Index in the parameter store of the first parameter of a block given by
 * name ("stem", "block3b", "top", "head"), or -1 when the model has no such
 * block.  Parameters are registered in model order, so [0, index) is
 * everything below the block.
 */
int ecg_model_block_start(const struct ecg_effnet *m, const char *block);

/* Marks parameters [0, end) frozen and [end, count) trainable (buffers stay buffers). */
void ecg_model_freeze_below(struct ecg_effnet *m, int end);

/* ---- evaluation with per-record averaging (train/evaluate.c) ---- */

struct ecg_eval_result {
    int k;               /* classes */
    int64_t n;           /* records evaluated */
    int64_t *records;    /* (n) dataset record indices, in split order */
    int *truth;          /* (n) */
    float *probs;        /* (n, k) window-averaged probabilities (the calibration then rescales, and the RR fusion
                            corrects, them: train/calibrate.c) */
    double loss;         /* mean cross-entropy of the averaged probabilities (records with label -1 add nothing) */
    int64_t nwindows;    /* windows evaluated */
    float *window_logits; /* (nwindows, k) each window's logits, in evaluation order */
    int64_t *window_row; /* (nwindows) the result row of each window */
};

/* Runs the model in inference mode over the records ds[indices[0..n)] with
 * eval.windows windows each and averages the windows' softmax per record. */
int ecg_evaluate(struct ecg_effnet *m, const struct ecg_input_scaling *norm, const struct ecg_config *c,
                 const struct ecg_dataset *ds, const int64_t *indices, int64_t n, struct ecg_eval_result *out,
                 struct ecg_error *err);
void ecg_eval_result_free(struct ecg_eval_result *r);
/* The metrics' breakdowns of r's beats read from WFDB records: by MIT-BIH annotation symbol (data/readers.h;
 * metrics.json "breakdown") and by record, that is by patient ("breakdown_records").  Beats without a code
 * (Kaggle CSV beats, detections no reference beat matched) are left out, and a dataset with none leaves the
 * metrics without breakdowns. */
int ecg_eval_breakdowns(struct ecg_metrics *m, const struct ecg_dataset *ds, const struct ecg_eval_result *r,
                        struct ecg_error *err);

/* ---- calibration (train/calibrate.c) ---- */

/* Fits the temperature (eval/calibration.h) on an evaluation result's window logits and labels. */
int ecg_eval_fit_temperature(const struct ecg_eval_result *r, double *t, struct ecg_error *err);

/* Recomputes r->probs at temperature t from its window logits, filling cal->before (T = 1, when
 * r->probs were made at 1; has_before when cal->fitted_on is set) and cal->after (t) on r's records.
 * The caller sets fitted_on and fit_records first. */
int ecg_eval_apply_temperature(struct ecg_eval_result *r, double t, struct ecg_calibration *cal, struct ecg_error *err);

/* Fits the RR fusion (eval/rr_fusion.h) on r's probabilities (already at the fitted temperature) and the RR
 * features of its records' signals in ds. */
int ecg_eval_fit_rr_fusion(const struct ecg_dataset *ds, const struct ecg_eval_result *r, struct ecg_rr_fusion *f,
                           struct ecg_error *err);

/* Replaces r's probabilities by the fusion's (f->classes 0: no-op), as infer/ does for every record. */
int ecg_eval_apply_rr_fusion(const struct ecg_dataset *ds, struct ecg_eval_result *r, const struct ecg_rr_fusion *f,
                             struct ecg_error *err);

/* ---- programs that start from a checkpoint (train/from_checkpoint.c) ---- */

/*
 * The configuration of the run that wrote checkpoint `ckpt` (or stored in a
 * model file written by ecgexport, io/model_file.h), with `overrides`
 * (key=value) applied, and model.pretrained pointing at the checkpoint so that
 * ecg_model_build() loads its weights.  `c` is freed on failure.
 */
int ecg_config_from_checkpoint(const char *ckpt, int noverrides, char *const *overrides, struct ecg_config *c,
                               struct ecg_error *err);

/* ---- the training run (train/trainer.c) ---- */

/*
 * Trains and evaluates as the config says, writing the run directory
 * (run.dir or runs/<run.name>): config.yaml, log.csv, last.h5, best.h5, and
 * the test report (metrics.json, report.txt, report.html, SVG charts).
 * `resume` (may be NULL) is a checkpoint of the same run to continue from.
 * Returns ECG_ERR_INTERRUPTED after saving a checkpoint when a stop was
 * requested (SIGINT/SIGTERM through ecg_train_request_stop).
 */
int ecg_train_run(const struct ecg_config *c, const char *resume, struct ecg_error *err);

/* Async-signal-safe: asks a running training to save and stop after the current batch. */
void ecg_train_request_stop(void);
bool ecg_train_stop_requested(void);

#endif
