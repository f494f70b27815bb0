/* The run configuration: typed structs filled from YAML files and key=value overrides through one schema table. */
#ifndef ECG_CORE_CONFIG_H
#define ECG_CORE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/error.h"

/*
 * How it works
 *
 * Every key is one row of the schema table (core/config_schema.c): its dotted
 * name ("optim.lr"), type, default (as YAML text, parsed by the same code as
 * files), range, enum names, help text and the offset of its field in
 * struct ecg_config.  Loading, overrides, validation, printing, --help,
 * copying, comparing and freeing all walk that table; nothing else knows the
 * keys.  Adding a key is one struct field below plus one table row (see
 * docs/config.md).
 *
 * Field types by schema type:
 *   bool   -> bool             int    -> int64_t        float -> double
 *   enum   -> int (an enum ecg_* constant below, the index in the names)
 *   string, path, block -> char * (heap-owned; a path may be NULL for "none")
 *   floats -> struct ecg_config_floats (a list, or one of the key's names)
 *
 * Relative paths in a config (data.path, model.pretrained, ...) are kept as
 * written and are relative to the working directory, except `base:`, which is
 * relative to the file that names it.  The loader never checks that data or
 * weight files exist: whoever opens them does.
 *
 * Error contract: every fallible function returns an enum ecg_status and
 * fills `err` with one message naming the file:line:column (or the override),
 * the key, what was expected and what was found.  Type and syntax errors are
 * ECG_ERR_CONFIG, out-of-range values ECG_ERR_RANGE, unreadable files
 * ECG_ERR_IO, allocation failures ECG_ERR_NOMEM.
 */

/* A list of floats, or one named alternative (such as "none" or "inverse_frequency"). */
struct ecg_config_floats {
    int choice;     /* index into the key's names when n == 0; -1 for a list */
    int64_t n;      /* number of values (0 when a named choice is set) */
    double *values; /* heap-owned, n values */
};

/* Enum values: the order matches the names in the schema table. */
enum ecg_data_format {
    ECG_DATA_CACHET_SHORT,
    ECG_DATA_CACHET_FULL,
    ECG_DATA_CINC2017,
    ECG_DATA_MITBIH_WFDB,
    ECG_DATA_MITBIH_CSV,
};
enum ecg_bad_records { ECG_BAD_RECORDS_SKIP, ECG_BAD_RECORDS_ERROR };
enum ecg_normalize { ECG_NORMALIZE_NONE, ECG_NORMALIZE_ZSCORE, ECG_NORMALIZE_MINMAX };
enum ecg_window {
    ECG_WINDOW_HANN,
    ECG_WINDOW_HAMMING,
    ECG_WINDOW_BLACKMAN,
    ECG_WINDOW_TUKEY,
    ECG_WINDOW_BOXCAR,
};
enum ecg_arch { ECG_ARCH_B0, ECG_ARCH_B1, ECG_ARCH_B2, ECG_ARCH_B3, ECG_ARCH_B4, ECG_ARCH_B5, ECG_ARCH_B6, ECG_ARCH_B7 };
enum ecg_config_padding { ECG_CONFIG_PAD_SAME, ECG_CONFIG_PAD_SYMMETRIC, ECG_CONFIG_PAD_AUTO };
enum ecg_config_optimizer { ECG_CONFIG_OPTIM_SGD, ECG_CONFIG_OPTIM_ADAMW, ECG_CONFIG_OPTIM_RMSPROP };
enum ecg_schedule { ECG_SCHEDULE_CONSTANT, ECG_SCHEDULE_STEP, ECG_SCHEDULE_COSINE };
enum ecg_input_norm { ECG_INPUT_NORM_NONE, ECG_INPUT_NORM_IMAGENET };
enum ecg_split { ECG_SPLIT_TRAIN, ECG_SPLIT_VAL, ECG_SPLIT_TEST, ECG_SPLIT_ALL };
/* Named alternatives of train.class_weights (struct ecg_config_floats.choice). */
enum ecg_class_weights { ECG_CLASS_WEIGHTS_NONE, ECG_CLASS_WEIGHTS_INVERSE_FREQUENCY };

struct ecg_config_run {
    char *name;      /* run name: letters, digits, '.', '_', '-' */
    char *dir;       /* run directory; NULL ("none") means runs/<name> */
    char *resume;    /* checkpoint to continue from; NULL ("none"): start afresh */
    int64_t seed;    /* seeds the RNG of splits, initialisation, augmentation, dropout */
    int64_t threads; /* 0: every core */
    int log_level;   /* enum ecg_log_level (core/log.h), same order */
    double dist_timeout; /* seconds a data-parallel rank waits for the others before ending the job */
};

struct ecg_config_spectrogram {
    int window;            /* enum ecg_window */
    double window_seconds; /* STFT window length */
    double hop_seconds;    /* STFT hop */
    double fmin, fmax;     /* kept frequency band, Hz */
    int64_t height, width; /* image size given to the model */
    int64_t channels;      /* image channels (1 or 3); equals model.in_channels */
    double log_floor;      /* power floor before the log */
};

struct ecg_config_augment {
    double shift_prob, shift_seconds;       /* random time shift of the window */
    double scale_prob, scale_amount;        /* amplitude x U(1-a, 1+a) */
    double noise_prob, noise_std;           /* additive Gaussian noise, in signal std units */
    double wander_prob, wander_amount;      /* baseline wander amplitude, signal std units */
    double flip_prob;                       /* polarity flip */
    double time_mask_prob, time_mask_max;   /* masks up to this fraction of the width */
    double freq_mask_prob, freq_mask_max;   /* masks up to this fraction of the height */
};

struct ecg_config_data {
    int format;              /* enum ecg_data_format */
    char *path;              /* dataset file or directory */
    double val_fraction;     /* records held out for validation */
    double test_fraction;    /* records held out for test */
    double sample_rate;      /* signals are resampled to this rate, Hz */
    double window_seconds;   /* length of one model input */
    double band_low_hz;      /* band-pass low edge, Hz (0: no high-pass) */
    double band_high_hz;     /* band-pass high edge, Hz */
    int normalize;           /* enum ecg_normalize, per record */
    int bad_records;         /* enum ecg_bad_records */
    char *cache_dir;         /* spectrogram cache; NULL ("none"): no cache */
    char *exclude;           /* file listing record ids to leave out; NULL ("none"): none */
    struct ecg_config_spectrogram spectrogram;
    struct ecg_config_augment augment;
};

struct ecg_config_model {
    int arch;                /* enum ecg_arch */
    int64_t in_channels;     /* 1 or 3 */
    int64_t num_classes;
    char *pretrained;        /* weight file; NULL ("none"): random initialisation */
    int padding;             /* enum ecg_config_padding */
    double bn_eps;           /* 0: from the weight file, else 1e-3 */
    double bn_momentum;      /* Keras convention: running = m*running + (1-m)*batch */
    double dropout;          /* before the head */
    double drop_connect;     /* stochastic depth rate of the last block */
    char *freeze;            /* "none", "backbone" or a block name (stem, block3b, top) */
    bool freeze_bn;          /* batch norm uses running statistics in training too */
    bool sync_bn;            /* data-parallel: batch statistics over every rank's samples */
    int input_norm;          /* enum ecg_input_norm */
};

struct ecg_config_optim {
    int name;                /* enum ecg_config_optimizer */
    double lr;
    double momentum;         /* SGD and RMSprop */
    bool nesterov;           /* SGD */
    double weight_decay;     /* decoupled for AdamW, L2 for SGD and RMSprop */
    struct ecg_config_floats betas; /* AdamW, 2 values */
    double eps;
    double rmsprop_decay;    /* RMSprop squared-gradient average decay */
    double clip_norm;        /* global gradient norm clip; 0: off */
    double ema_decay;        /* exponential moving average of weights; 0: off */
};

struct ecg_config_train {
    int64_t epochs;
    int64_t batch_size;
    int64_t warmup_epochs;   /* linear warm-up from 0 */
    int schedule;            /* enum ecg_schedule */
    int64_t step_epochs;     /* step schedule: epochs per step */
    double step_gamma;       /* step schedule: factor per step */
    double label_smoothing;
    struct ecg_config_floats class_weights; /* list (one per class) or enum ecg_class_weights */
    int64_t patience;        /* early stopping on validation macro-F1; 0: off */
    int64_t head_epochs;     /* epochs training only the head first */
    char *unfreeze_from;     /* after the head epochs, train from this block up */
    double unfreeze_lr_mult; /* learning-rate factor of the unfrozen backbone */
};

struct ecg_config_eval {
    int64_t batch_size;
    int64_t windows;         /* windows per record, predictions averaged */
    int split;               /* enum ecg_split */
};

struct ecg_config {
    struct ecg_config_run run;
    struct ecg_config_data data;
    struct ecg_config_model model;
    struct ecg_config_optim optim;
    struct ecg_config_train train;
    struct ecg_config_eval eval;
};

/* ---- the schema ---- */

enum ecg_config_type {
    ECG_CFG_BOOL,
    ECG_CFG_INT,
    ECG_CFG_FLOAT,
    ECG_CFG_STRING,
    ECG_CFG_PATH,   /* a string, or plain `none` (stored as NULL) */
    ECG_CFG_ENUM,
    ECG_CFG_BLOCK,  /* one of the names, or an EfficientNet block name: stem, block<1-7><a-z>, top */
    ECG_CFG_FLOATS, /* a list of floats (each in range), or one of the names */
};

/* Row flags. */
#define ECG_CFG_MIN_OPEN 1u /* range excludes min */
#define ECG_CFG_MAX_OPEN 2u /* range excludes max */

struct ecg_config_key {
    const char *name;             /* dotted: "optim.lr" */
    enum ecg_config_type type;
    size_t offset;                /* of the field in struct ecg_config */
    int ctype;                    /* C type of the field (internal check) */
    const char *def;              /* default, as YAML text */
    double min, max;              /* inclusive unless flagged; int, float, each list element */
    unsigned flags;
    const char *const *names;     /* NULL-terminated: enum names, named alternatives */
    int64_t min_len, max_len;     /* floats: allowed list length */
    /* Optional extra check of a value already stored: writes "expected ..., found ..." */
    int (*check)(const void *field, char *why, size_t n);
    const char *help;
};

/* The table and its length. */
const struct ecg_config_key *ecg_config_keys(int64_t *count);

/* The row of a dotted key, or NULL. */
const struct ecg_config_key *ecg_config_find(const char *name);

/* The type's name as --help shows it: "int", "float", "enum", ... */
const char *ecg_config_type_name(enum ecg_config_type type);

/* ---- loading ---- */

/* Sets every field to its default.  `c` must be uninitialised or freed (it is
 * zeroed first).  Fails only on allocation. */
int ecg_config_defaults(struct ecg_config *c, struct ecg_error *err);

/* Applies the YAML file at `path` on top of `c` (which holds defaults or an
 * earlier state): first its `base:` chain, outermost base first, then its own
 * keys.  An empty file changes nothing.  Does not run the cross-key checks
 * (overrides may still fix them): see ecg_config_check(). */
int ecg_config_load(struct ecg_config *c, const char *path, struct ecg_error *err);

/* Same from YAML text; `name` labels messages and is the base for a relative `base:`. */
int ecg_config_load_string(struct ecg_config *c, const char *text, const char *name,
                           struct ecg_error *err);

/* Applies one "dotted.key=value" assignment; the value is YAML ("[1, 2]" for lists). */
int ecg_config_override(struct ecg_config *c, const char *assignment, struct ecg_error *err);

/* Checks constraints between keys (split fractions, frequency band, ...). */
int ecg_config_check(const struct ecg_config *c, struct ecg_error *err);

/* The whole sequence a program runs: defaults, the file (path may be NULL for
 * defaults only), the overrides in order, the cross-key checks.  On failure
 * `c` is freed. */
int ecg_config_resolve(struct ecg_config *c, const char *path, int noverrides,
                       char *const *overrides, struct ecg_error *err);

/* Frees heap-owned strings and lists; freeing a zeroed config is a no-op. */
void ecg_config_free(struct ecg_config *c);

/* Deep copy into `dst` (uninitialised or freed). */
int ecg_config_copy(struct ecg_config *dst, const struct ecg_config *src, struct ecg_error *err);

/* True when every key has the same value; otherwise false and, if `first`
 * is not NULL, the name of the first differing key. */
bool ecg_config_equal(const struct ecg_config *a, const struct ecg_config *b, const char **first);

/* ---- printing ---- */

/* Writes every key, grouped in sections, as YAML that loads back to the
 * identical values (floats are printed round-trip exact). */
int ecg_config_write_yaml(const struct ecg_config *c, FILE *f, struct ecg_error *err);

/* The same YAML as a heap-owned string (free() it), e.g. to store in a checkpoint; NULL on failure. */
char *ecg_config_to_string(const struct ecg_config *c, struct ecg_error *err);

/* Writes one key's value as YAML text into buf (truncated to n). */
void ecg_config_format_value(const struct ecg_config *c, const struct ecg_config_key *k, char *buf,
                             size_t n);

/* Lists every key: name, type, default, range or names, help. */
void ecg_config_print_help(FILE *f);

#endif
