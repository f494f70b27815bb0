/* Options of the model setup, the training loop and the evaluation: the train/ module's own fields and enums. */
#ifndef ECG_TRAIN_OPTIONS_H
#define ECG_TRAIN_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/config.h"
#include "data/split.h"
#include "layers/kernels.h"
#include "optim/sched.h"

/*
 * Each struct below is filled straight from its keys (model.*, train.*,
 * eval.*) by the schema rows of train/config_schema.c and read by the code in
 * train/ that uses it; each enum's names table sits next to it.
 */

/* model.padding: a kernel padding (same value as enum ecg_padding), or auto: as the weight file says. */
enum ecg_model_padding {
    ECG_MODEL_PAD_SAME = ECG_PAD_SAME,
    ECG_MODEL_PAD_SYMMETRIC = ECG_PAD_SYMMETRIC,
    ECG_MODEL_PAD_AUTO,
};
extern const char *const ecg_model_padding_names[];

/* model.input_norm. */
enum ecg_input_norm { ECG_INPUT_NORM_NONE, ECG_INPUT_NORM_IMAGENET };
extern const char *const ecg_input_norm_names[];

/* model.arch: "b0" .. "b7", the index is the EfficientNet variant (layers/effnet.h). */
extern const char *const ecg_model_arch_names[];

/* Named alternatives of train.class_weights (struct ecg_config_floats.choice). */
enum ecg_class_weights { ECG_CLASS_WEIGHTS_NONE, ECG_CLASS_WEIGHTS_INVERSE_FREQUENCY };
extern const char *const ecg_class_weights_names[];

/* model.head_init: how a freshly initialised classification head starts (train/model_setup.c). */
enum ecg_head_init { ECG_HEAD_INIT_KERAS, ECG_HEAD_INIT_FAN_IN, ECG_HEAD_INIT_ZERO };
extern const char *const ecg_head_init_names[];

/* Which epoch's weights a run keeps in best.h5 and reports (train.select). */
enum ecg_select { ECG_SELECT_VAL_MACRO_F1, ECG_SELECT_LAST };
extern const char *const ecg_select_names[];

struct ecg_config_model {
    int arch;                       /* 0..7 = B0..B7 */
    int64_t in_channels;            /* 1 or 3 */
    int64_t num_classes;
    char *pretrained;               /* weight file; NULL ("none"): random initialisation */
    enum ecg_model_padding padding;
    double bn_eps;                  /* 0: from the weight file, else 1e-3 */
    double bn_momentum;             /* Keras convention: running = m*running + (1-m)*batch */
    double dropout;                 /* before the head */
    double drop_connect;            /* stochastic depth rate of the last block */
    char *freeze;                   /* "none", "backbone" or a block name (stem, block3b, top) */
    bool freeze_bn;                 /* batch norm uses running statistics in training too */
    bool sync_bn;                   /* data-parallel: batch statistics over every rank's samples */
    enum ecg_input_norm input_norm;
    enum ecg_head_init head_init;   /* a head not loaded from model.pretrained starts this way */
    bool rr_features;               /* the head also reads each beat's RR features (data/rr.h) */
    bool morphology_features;       /* ... and its morphology against the record's (data/morphology.h) */
    bool rhythm_features;           /* rhythm models: the head also reads the record's RR-interval features
                                       (data/rhythm_features.h) */
};

struct ecg_config_train {
    int64_t epochs;
    int64_t batch_size;
    int64_t warmup_epochs;          /* linear warm-up from 0 */
    enum ecg_sched_kind schedule;   /* optim/sched.h */
    int64_t step_epochs;            /* step schedule: epochs per step */
    double step_gamma;              /* step schedule: factor per step */
    double label_smoothing;
    double mixup_alpha;             /* mixup of image pairs, lam ~ Beta(alpha, alpha); 0: off (train/mixup.h) */
    struct ecg_config_floats class_weights; /* list (one per class) or enum ecg_class_weights */
    double class_weight_cap;        /* inverse-frequency weights above this are lowered to it; 0: no cap */
    int64_t max_per_class;          /* examples of a class per epoch at most (data/loader.h); 0: all */
    int64_t patience;               /* early stopping on validation macro-F1; 0: off */
    enum ecg_select select;         /* the epoch best.h5 keeps */
    int64_t head_epochs;            /* epochs training only the head first */
    char *unfreeze_from;            /* after the head epochs, train from this block up */
    double unfreeze_lr_mult;        /* learning-rate factor of the unfrozen backbone */
};

struct ecg_config_eval {
    int64_t batch_size;
    int64_t windows;                /* windows per record, predictions averaged */
    double hop_seconds;             /* > 0: windows tiling the whole record, starts at most this far apart */
    enum ecg_split_part split;      /* data/split.h; ECG_PART_ALL: every record */
    bool calibrate;                 /* fit a temperature on the validation split at the end (train/calibrate.c) */
    bool rr_fusion;                 /* then fit the RR fusion on it (eval/rr_fusion.h, train/calibrate.c) */
};

#endif
