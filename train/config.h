/* ecgtrain's configuration: the top-level struct composed of the modules' options, and its schema. */
#ifndef ECG_TRAIN_CONFIG_H
#define ECG_TRAIN_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "core/config.h"
#include "core/log.h"
#include "data/augment.h"
#include "data/readers.h"
#include "data/signal.h"
#include "data/spectrogram.h"
#include "data/split.h"
#include "data/window.h"
#include "optim/optim.h"
#include "train/options.h"

/*
 * One key, one field.  Every key is a row of train/config_schema.c that
 * points (offsetof) at the field of the module that uses the value, inside
 * struct ecg_config: data.spectrogram.window is the `window` field of the
 * spectrogram module's struct ecg_spec_opts, typed with that module's enum,
 * and the loader hands c->data.spectrogram to the spectrogram code as it is.
 * Fields that no key sets keep the module's own defaults (the schema's init
 * calls ecg_spec_opts_default() and friends before the key defaults apply).
 * Adding a key is its row, the code that reads the field, and its line in
 * docs/config.md.
 */

struct ecg_config_run {
    char *name;                   /* run name: letters, digits, '.', '_', '-' */
    char *dir;                    /* run directory; NULL ("none") means runs/<name> */
    char *resume;                 /* checkpoint to continue from; NULL ("none"): start afresh */
    int64_t seed;                 /* seeds the RNG of splits, initialisation, augmentation, dropout */
    int64_t threads;              /* 0: every core */
    int64_t replicas;             /* training: the batch over this many replicas, one thread each */
    enum ecg_log_level log_level; /* core/log.h */
    double dist_timeout;          /* seconds a data-parallel rank waits for the others before ending the job */
};

struct ecg_config_data {
    enum ecg_data_format format;      /* data/readers.h */
    char *path;                       /* dataset file or directory */
    struct ecg_split_opts split;      /* data.val_fraction, test_fraction, folds, fold (data/split.h) */
    double sample_rate;               /* signals are resampled to this rate, Hz */
    double window_seconds;            /* length of one model input (data/window.h length_s) */
    enum ecg_pad_mode pad;            /* records shorter than a window: zero, reflect or tile (data/window.h) */
    double band_low_hz;               /* band-pass low edge, Hz (0: no high-pass) */
    double band_high_hz;              /* band-pass high edge, Hz */
    enum ecg_normalize normalize;     /* per record (data/signal.h) */
    enum ecg_bad_policy bad_records;  /* data/readers.h */
    char *cache_dir;                  /* spectrogram cache; NULL ("none"): no cache */
    char *exclude;                    /* file listing record ids to leave out; NULL ("none"): none */
    char *records;                    /* mitbih_wfdb: "all", "DS1", "DS2" or a list (data/readers.h) */
    enum ecg_beat_source beats;       /* mitbih_wfdb: reference or detected beats (data/readers.h) */
    enum ecg_q_policy q_beats;        /* mitbih_wfdb: AAMI Q beats excluded or kept (data/readers.h) */
    struct ecg_spec_opts spectrogram; /* data.spectrogram.* (data/spectrogram.h) */
    struct ecg_aug_opts augment;      /* data.augment.* (data/augment.h) */
};

struct ecg_config_optim {
    struct ecg_optim_config rule; /* optim.name (rule.kind), momentum, nesterov, weight_decay, betas, eps,
                                     rmsprop_decay (optim/optim.h) */
    double lr;                    /* peak of the schedule (optim/sched.h; the train.* keys give its shape) */
    double clip_norm;             /* global gradient norm clip; 0: off (optim/grad.h) */
    double ema_decay;             /* weight averaging; 0: off (optim/ema.h) */
};

struct ecg_config {
    struct ecg_config_run run;
    struct ecg_config_data data;
    struct ecg_config_model model;
    struct ecg_config_optim optim;
    struct ecg_config_train train;
    struct ecg_config_eval eval;
};

/* ecgtrain's schema (train/config_schema.c). */
const struct ecg_schema *ecg_config_schema(void);

/* The table and its length; the row of a dotted key, or NULL. */
const struct ecg_config_key *ecg_config_keys(int64_t *count);
const struct ecg_config_key *ecg_config_find(const char *name);

/* The core/config.h operations on ecgtrain's schema (see there for the contracts). */
int ecg_config_defaults(struct ecg_config *c, struct ecg_error *err);
int ecg_config_load(struct ecg_config *c, const char *path, struct ecg_error *err);
int ecg_config_load_string(struct ecg_config *c, const char *text, const char *name, struct ecg_error *err);
int ecg_config_override(struct ecg_config *c, const char *assignment, struct ecg_error *err);
int ecg_config_check(const struct ecg_config *c, struct ecg_error *err);
int ecg_config_resolve(struct ecg_config *c, const char *path, int noverrides, char *const *overrides,
                       struct ecg_error *err);
void ecg_config_free(struct ecg_config *c);
int ecg_config_copy(struct ecg_config *dst, const struct ecg_config *src, struct ecg_error *err);
bool ecg_config_equal(const struct ecg_config *a, const struct ecg_config *b, const char **first);
int ecg_config_write_yaml(const struct ecg_config *c, FILE *f, struct ecg_error *err);
char *ecg_config_to_string(const struct ecg_config *c, struct ecg_error *err);
void ecg_config_format_value(const struct ecg_config *c, const struct ecg_config_key *k, char *buf, size_t n);
void ecg_config_print_help(FILE *f);

/* The closest key or section name to `name` into buf (n bytes), or NULL. */
const char *ecg_config_suggest(const char *name, char *buf, size_t n);

struct ecg_loader_opts; /* data/loader.h */
/*
 * Fills o from a resolved run configuration: batch size and mode from
 * train.* (train = 1) or eval.* (train = 0), run.seed, the window of
 * data.window_seconds and eval.windows, and c->data.spectrogram and
 * c->data.augment as they are (the config's own fields are the modules'
 * options).  `cache` is left NULL.
 */
void ecg_loader_opts_from_config(const struct ecg_config *c, int train, struct ecg_loader_opts *o);

/* The config's name of data.format ("cachet_short", ...). */
const char *ecg_config_format_name(const struct ecg_config *c);

/* How many of a record's features the model reads beside each image, its context: features[*first .. *first +
 * count) (data/record.h).  A beat's RR ones (model.rr_features), its morphology ones (model.morphology_features),
 * or both; a rhythm record's RR-interval ones (model.rhythm_features); 0 for none.  first may be NULL when only
 * the count matters. */
int ecg_config_context_features(const struct ecg_config *c, int *first);

#endif
