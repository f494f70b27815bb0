/* The schema table: every config key with its type, default, range, names and help; lookup and suggestions. */
#include <stdlib.h>
#include <string.h>

#include "core/config_internal.h"
#include "core/log.h"

/* Enum names, indexed by the enum constants of core/config.h. */
static const char *const log_level_names[] = {
    [ECG_LOG_DEBUG] = "debug", [ECG_LOG_INFO] = "info",   [ECG_LOG_WARN] = "warn",
    [ECG_LOG_ERROR] = "error", [ECG_LOG_QUIET] = "quiet", NULL,
};
static const char *const format_names[] = {
    [ECG_DATA_CACHET_SHORT] = "cachet_short", [ECG_DATA_CACHET_FULL] = "cachet_full",
    [ECG_DATA_CINC2017] = "cinc2017",         [ECG_DATA_MITBIH_WFDB] = "mitbih_wfdb",
    [ECG_DATA_MITBIH_CSV] = "mitbih_csv",     NULL,
};
static const char *const bad_records_names[] = {
    [ECG_BAD_RECORDS_SKIP] = "skip", [ECG_BAD_RECORDS_ERROR] = "error", NULL,
};
static const char *const normalize_names[] = {
    [ECG_NORMALIZE_NONE] = "none", [ECG_NORMALIZE_ZSCORE] = "zscore",
    [ECG_NORMALIZE_MINMAX] = "minmax", NULL,
};
static const char *const window_names[] = {
    [ECG_WINDOW_HANN] = "hann",   [ECG_WINDOW_HAMMING] = "hamming", [ECG_WINDOW_BLACKMAN] = "blackman",
    [ECG_WINDOW_TUKEY] = "tukey", [ECG_WINDOW_BOXCAR] = "boxcar",   NULL,
};
static const char *const arch_names[] = {
    [ECG_ARCH_B0] = "b0", [ECG_ARCH_B1] = "b1", [ECG_ARCH_B2] = "b2", [ECG_ARCH_B3] = "b3",
    [ECG_ARCH_B4] = "b4", [ECG_ARCH_B5] = "b5", [ECG_ARCH_B6] = "b6", [ECG_ARCH_B7] = "b7", NULL,
};
static const char *const padding_names[] = {
    [ECG_CONFIG_PAD_SAME] = "same", [ECG_CONFIG_PAD_SYMMETRIC] = "symmetric", [ECG_CONFIG_PAD_AUTO] = "auto", NULL,
};
static const char *const input_norm_names[] = {
    [ECG_INPUT_NORM_NONE] = "none", [ECG_INPUT_NORM_IMAGENET] = "imagenet", NULL,
};
static const char *const optimizer_names[] = {
    [ECG_CONFIG_OPTIM_SGD] = "sgd", [ECG_CONFIG_OPTIM_ADAMW] = "adamw", [ECG_CONFIG_OPTIM_RMSPROP] = "rmsprop", NULL,
};
static const char *const schedule_names[] = {
    [ECG_SCHEDULE_CONSTANT] = "constant", [ECG_SCHEDULE_STEP] = "step",
    [ECG_SCHEDULE_COSINE] = "cosine", NULL,
};
static const char *const split_names[] = {
    [ECG_SPLIT_TRAIN] = "train", [ECG_SPLIT_VAL] = "val", [ECG_SPLIT_TEST] = "test",
    [ECG_SPLIT_ALL] = "all", NULL,
};
static const char *const class_weights_names[] = {
    [ECG_CLASS_WEIGHTS_NONE] = "none",
    [ECG_CLASS_WEIGHTS_INVERSE_FREQUENCY] = "inverse_frequency", NULL,
};
static const char *const freeze_names[] = {"none", "backbone", NULL};
static const char *const no_names[] = {NULL};

/* Extra per-key checks: write "expected ..., found ..." and return a status. */
static int check_run_name(const void *field, char *why, size_t n)
{
    const char *s = *(char *const *)field;
    bool ok = s && s[0] && s[0] != '.';
    for (const char *p = s; ok && *p; p++)
        ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
             *p == '.' || *p == '_' || *p == '-';
    if (ok)
        return ECG_OK;
    snprintf(why, n, "expected a name of letters, digits, '.', '_' and '-' (a directory name), found '%s'",
             s ? s : "");
    return ECG_ERR_CONFIG;
}

static int check_one_or_three(const void *field, char *why, size_t n)
{
    int64_t v = *(const int64_t *)field;
    if (v == 1 || v == 3)
        return ECG_OK;
    snprintf(why, n, "expected 1 or 3, found %lld", (long long)v);
    return ECG_ERR_RANGE;
}

/* The C type of a member, so a test can catch a row whose type and field disagree. */
#define CTYPE(member)                                                                             \
    _Generic(((struct ecg_config *)0)->member, bool: ECG_CT_BOOL, int64_t: ECG_CT_I64,             \
             double: ECG_CT_DOUBLE, int: ECG_CT_INT, char *: ECG_CT_STR,                           \
             struct ecg_config_floats: ECG_CT_FLOATS, default: ECG_CT_OTHER)
/* The key's dotted name is the member path itself. */
#define KEY(ty, member) \
    .name = #member, .type = (ty), .offset = offsetof(struct ecg_config, member), .ctype = CTYPE(member)
#define RANGE(lo, hi) .min = (lo), .max = (hi)
#define NAMES(list) .names = (list)

/*
 * The schema.  Keys of one section stay together (the printer relies on it).
 * Defaults follow the usual EfficientNet-B0 fine-tuning recipe: AdamW with
 * cosine decay and warm-up, label smoothing 0.1, dropout and drop-connect 0.2,
 * a few head-only epochs, then the whole network at a lower backbone rate.
 */
static const struct ecg_config_key keys[] = {
    /* run */
    {KEY(ECG_CFG_STRING, run.name), .def = "effb0", .check = check_run_name,
     .help = "name of the run; the default run directory is runs/<name>"},
    {KEY(ECG_CFG_PATH, run.dir), .def = "none",
     .help = "run directory for logs, checkpoints and the resolved config; none: runs/<run.name>"},
    {KEY(ECG_CFG_PATH, run.resume), .def = "none",
     .help = "checkpoint (last.h5 of an earlier run of this config) to continue from; none: start afresh"},
    {KEY(ECG_CFG_INT, run.seed), .def = "42", RANGE(0, 4294967295.0),
     .help = "seed of every random choice (splits, initialisation, augmentation, dropout)"},
    {KEY(ECG_CFG_INT, run.threads), .def = "0", RANGE(0, 1024),
     .help = "compute threads; 0: one per core"},
    {KEY(ECG_CFG_ENUM, run.log_level), .def = "info", NAMES(log_level_names),
     .help = "least severe log messages shown"},
    {KEY(ECG_CFG_FLOAT, run.dist_timeout), .def = "300", RANGE(1, 86400),
     .help = "data-parallel runs (mpirun): seconds a rank waits for the others in training before the job "
             "ends as hung"},

    /* data */
    {KEY(ECG_CFG_ENUM, data.format), .def = "cachet_short", NAMES(format_names),
     .help = "dataset format of data.path"},
    {KEY(ECG_CFG_PATH, data.path), .def = "data/sample/cachet_sample.h5",
     .help = "dataset file or directory (relative to the working directory)"},
    {KEY(ECG_CFG_FLOAT, data.val_fraction), .def = "0.15", RANGE(0, 1), .flags = ECG_CFG_MAX_OPEN,
     .help = "fraction of records held out for validation (stratified by class)"},
    {KEY(ECG_CFG_FLOAT, data.test_fraction), .def = "0.15", RANGE(0, 1), .flags = ECG_CFG_MAX_OPEN,
     .help = "fraction of records held out for test (stratified by class)"},
    {KEY(ECG_CFG_FLOAT, data.sample_rate), .def = "300", RANGE(50, 8192),
     .help = "signals are resampled to this rate, Hz"},
    {KEY(ECG_CFG_FLOAT, data.window_seconds), .def = "10", RANGE(0.5, 600),
     .help = "length of the signal window that becomes one image, seconds"},
    {KEY(ECG_CFG_FLOAT, data.band_low_hz), .def = "0.5", RANGE(0, 100),
     .help = "zero-phase band-pass low edge, Hz; 0: no high-pass"},
    {KEY(ECG_CFG_FLOAT, data.band_high_hz), .def = "40", RANGE(1, 4096),
     .help = "zero-phase band-pass high edge, Hz; below data.sample_rate / 2"},
    {KEY(ECG_CFG_ENUM, data.normalize), .def = "zscore", NAMES(normalize_names),
     .help = "per-record signal normalisation"},
    {KEY(ECG_CFG_ENUM, data.bad_records), .def = "skip", NAMES(bad_records_names),
     .help = "unreadable, NaN, flat or too-short records: skip them (counted and reported) or stop with an error"},
    {KEY(ECG_CFG_PATH, data.cache_dir), .def = "none",
     .help = "directory of the on-disk spectrogram cache; none: no cache"},
    {KEY(ECG_CFG_PATH, data.exclude), .def = "none",
     .help = "text file of record ids to leave out (first word of each line; # starts a comment); none: keep all"},
    {KEY(ECG_CFG_ENUM, data.spectrogram.window), .def = "hann", NAMES(window_names),
     .help = "STFT window function"},
    {KEY(ECG_CFG_FLOAT, data.spectrogram.window_seconds), .def = "0.25", RANGE(0.001, 60),
     .help = "STFT window length, seconds"},
    {KEY(ECG_CFG_FLOAT, data.spectrogram.hop_seconds), .def = "0.04", RANGE(0.0005, 60),
     .help = "STFT hop between windows, seconds; at most the window length"},
    {KEY(ECG_CFG_FLOAT, data.spectrogram.fmin), .def = "0", RANGE(0, 4096),
     .help = "lowest frequency kept, Hz"},
    {KEY(ECG_CFG_FLOAT, data.spectrogram.fmax), .def = "50", RANGE(1, 4096),
     .help = "highest frequency kept, Hz; above fmin, at most data.sample_rate / 2"},
    {KEY(ECG_CFG_INT, data.spectrogram.height), .def = "64", RANGE(16, 2048),
     .help = "image height (frequency axis) after resizing"},
    {KEY(ECG_CFG_INT, data.spectrogram.width), .def = "64", RANGE(16, 2048),
     .help = "image width (time axis) after resizing"},
    {KEY(ECG_CFG_INT, data.spectrogram.channels), .def = "1", RANGE(1, 3), .check = check_one_or_three,
     .help = "image channels, 1 or 3 (3 repeats the image); must equal model.in_channels"},
    {KEY(ECG_CFG_FLOAT, data.spectrogram.log_floor), .def = "1e-10", RANGE(0, 1), .flags = ECG_CFG_MIN_OPEN,
     .help = "power floor before the logarithm"},
    {KEY(ECG_CFG_FLOAT, data.augment.shift_prob), .def = "0.5", RANGE(0, 1),
     .help = "probability of a random time shift (training only)"},
    {KEY(ECG_CFG_FLOAT, data.augment.shift_seconds), .def = "1", RANGE(0, 60),
     .help = "largest time shift, seconds"},
    {KEY(ECG_CFG_FLOAT, data.augment.scale_prob), .def = "0.5", RANGE(0, 1),
     .help = "probability of an amplitude scale"},
    {KEY(ECG_CFG_FLOAT, data.augment.scale_amount), .def = "0.2", RANGE(0, 1), .flags = ECG_CFG_MAX_OPEN,
     .help = "amplitude is multiplied by a uniform factor in [1 - a, 1 + a]"},
    {KEY(ECG_CFG_FLOAT, data.augment.noise_prob), .def = "0.3", RANGE(0, 1),
     .help = "probability of additive Gaussian noise"},
    {KEY(ECG_CFG_FLOAT, data.augment.noise_std), .def = "0.05", RANGE(0, 10),
     .help = "noise standard deviation, in units of the record's standard deviation"},
    {KEY(ECG_CFG_FLOAT, data.augment.wander_prob), .def = "0.3", RANGE(0, 1),
     .help = "probability of added baseline wander"},
    {KEY(ECG_CFG_FLOAT, data.augment.wander_amount), .def = "0.1", RANGE(0, 10),
     .help = "baseline wander amplitude, in units of the record's standard deviation"},
    {KEY(ECG_CFG_FLOAT, data.augment.flip_prob), .def = "0", RANGE(0, 1),
     .help = "probability of a polarity flip"},
    {KEY(ECG_CFG_FLOAT, data.augment.time_mask_prob), .def = "0.3", RANGE(0, 1),
     .help = "probability of masking a band of time columns of the spectrogram"},
    {KEY(ECG_CFG_FLOAT, data.augment.time_mask_max), .def = "0.1", RANGE(0, 1),
     .help = "widest time mask, fraction of the image width"},
    {KEY(ECG_CFG_FLOAT, data.augment.freq_mask_prob), .def = "0.3", RANGE(0, 1),
     .help = "probability of masking a band of frequency rows of the spectrogram"},
    {KEY(ECG_CFG_FLOAT, data.augment.freq_mask_max), .def = "0.1", RANGE(0, 1),
     .help = "widest frequency mask, fraction of the image height"},

    /* model */
    {KEY(ECG_CFG_ENUM, model.arch), .def = "b0", NAMES(arch_names),
     .help = "EfficientNet variant"},
    {KEY(ECG_CFG_INT, model.in_channels), .def = "1", RANGE(1, 3), .check = check_one_or_three,
     .help = "input channels: 1 sums the RGB stem kernels of pretrained weights, 3 keeps them"},
    {KEY(ECG_CFG_INT, model.num_classes), .def = "4", RANGE(2, 100000),
     .help = "classes of the freshly initialised head"},
    {KEY(ECG_CFG_PATH, model.pretrained), .def = "weights/ecg_effb0_pretrained.h5",
     .help = "Keras-layout HDF5 weights to start from; none: random initialisation"},
    {KEY(ECG_CFG_ENUM, model.padding), .def = "auto", NAMES(padding_names),
     .help = "convolution padding: same (TF/Keras weights), symmetric (PyTorch weights), auto: as the weight file says (same when it says nothing)"},
    {KEY(ECG_CFG_FLOAT, model.bn_eps), .def = "0", RANGE(0, 1),
     .help = "batch-norm epsilon: 1e-3 for Keras weights, 1e-5 for torchvision weights; 0: as the weight file says (1e-3 when it says nothing)"},
    {KEY(ECG_CFG_FLOAT, model.bn_momentum), .def = "0.99", RANGE(0, 1), .flags = ECG_CFG_MAX_OPEN,
     .help = "batch-norm running-statistics momentum, Keras convention: running = m*running + (1-m)*batch "
             "(PyTorch's 0.1 is 0.9 here)"},
    {KEY(ECG_CFG_FLOAT, model.dropout), .def = "0.2", RANGE(0, 1), .flags = ECG_CFG_MAX_OPEN,
     .help = "dropout rate before the classification head"},
    {KEY(ECG_CFG_FLOAT, model.drop_connect), .def = "0.2", RANGE(0, 1), .flags = ECG_CFG_MAX_OPEN,
     .help = "stochastic depth rate, reached at the last block (scaled linearly from 0)"},
    {KEY(ECG_CFG_BLOCK, model.freeze), .def = "none", NAMES(freeze_names),
     .help = "layers never trained: none, backbone (all but the head), or every layer up to and including "
             "a block (stem, block1a .. block7d, top)"},
    {KEY(ECG_CFG_BOOL, model.freeze_bn), .def = "true",
     .help = "batch norm uses its running statistics in training too and does not update them"},
    {KEY(ECG_CFG_BOOL, model.sync_bn), .def = "true",
     .help = "data-parallel runs (mpirun): batch-norm batch statistics over the samples of every rank, as "
             "one process computes them; false: each rank's own samples"},
    {KEY(ECG_CFG_ENUM, model.input_norm), .def = "none", NAMES(input_norm_names),
     .help = "input scaling: none (the per-image z-scored spectrogram), imagenet (each image scaled to [0, 1], then (x - mean) / std per channel with the weight file's ImageNet mean and std, for ImageNet weights)"},

    /* optim */
    {KEY(ECG_CFG_ENUM, optim.name), .def = "adamw", NAMES(optimizer_names),
     .help = "optimizer"},
    {KEY(ECG_CFG_FLOAT, optim.lr), .def = "0.001", RANGE(0, 10), .flags = ECG_CFG_MIN_OPEN,
     .help = "peak learning rate (after warm-up)"},
    {KEY(ECG_CFG_FLOAT, optim.momentum), .def = "0.9", RANGE(0, 1), .flags = ECG_CFG_MAX_OPEN,
     .help = "momentum of SGD and RMSprop"},
    {KEY(ECG_CFG_BOOL, optim.nesterov), .def = "false",
     .help = "Nesterov momentum (SGD)"},
    {KEY(ECG_CFG_FLOAT, optim.weight_decay), .def = "0.01", RANGE(0, 1),
     .help = "weight decay: decoupled for AdamW, L2 for SGD and RMSprop; never on biases and batch norm"},
    {KEY(ECG_CFG_FLOATS, optim.betas), .def = "[0.9, 0.999]", RANGE(0, 1), .flags = ECG_CFG_MAX_OPEN,
     NAMES(no_names), .min_len = 2, .max_len = 2,
     .help = "AdamW moment decay rates beta1, beta2"},
    {KEY(ECG_CFG_FLOAT, optim.eps), .def = "1e-08", RANGE(0, 1), .flags = ECG_CFG_MIN_OPEN,
     .help = "denominator epsilon of AdamW and RMSprop"},
    {KEY(ECG_CFG_FLOAT, optim.rmsprop_decay), .def = "0.9", RANGE(0, 1), .flags = ECG_CFG_MAX_OPEN,
     .help = "RMSprop decay of the squared-gradient average"},
    {KEY(ECG_CFG_FLOAT, optim.clip_norm), .def = "0", RANGE(0, 1e6),
     .help = "clip the global gradient norm to this; 0: no clipping"},
    {KEY(ECG_CFG_FLOAT, optim.ema_decay), .def = "0", RANGE(0, 1), .flags = ECG_CFG_MAX_OPEN,
     .help = "decay of an exponential moving average of the weights used for evaluation; 0: off"},

    /* train */
    {KEY(ECG_CFG_INT, train.epochs), .def = "20", RANGE(1, 100000),
     .help = "training epochs, head-only epochs included"},
    {KEY(ECG_CFG_INT, train.batch_size), .def = "32", RANGE(1, 65536),
     .help = "images per training step"},
    {KEY(ECG_CFG_INT, train.warmup_epochs), .def = "1", RANGE(0, 100000),
     .help = "epochs of linear learning-rate warm-up from 0"},
    {KEY(ECG_CFG_ENUM, train.schedule), .def = "cosine", NAMES(schedule_names),
     .help = "learning-rate schedule after warm-up"},
    {KEY(ECG_CFG_INT, train.step_epochs), .def = "10", RANGE(1, 100000),
     .help = "step schedule: epochs between learning-rate drops"},
    {KEY(ECG_CFG_FLOAT, train.step_gamma), .def = "0.1", RANGE(0, 1), .flags = ECG_CFG_MIN_OPEN,
     .help = "step schedule: learning-rate factor at each drop"},
    {KEY(ECG_CFG_FLOAT, train.label_smoothing), .def = "0.1", RANGE(0, 1), .flags = ECG_CFG_MAX_OPEN,
     .help = "label smoothing of the cross-entropy loss"},
    {KEY(ECG_CFG_FLOATS, train.class_weights), .def = "inverse_frequency", RANGE(0, 1e6),
     NAMES(class_weights_names), .min_len = 2, .max_len = 100000,
     .help = "loss weight per class: none, inverse_frequency (of the training split), or a list with "
             "one weight per class"},
    {KEY(ECG_CFG_INT, train.patience), .def = "10", RANGE(0, 100000),
     .help = "stop after this many epochs without a better validation macro-F1; 0: never stop early"},
    {KEY(ECG_CFG_INT, train.head_epochs), .def = "2", RANGE(0, 100000),
     .help = "first epochs train only the head (the backbone frozen)"},
    {KEY(ECG_CFG_BLOCK, train.unfreeze_from), .def = "stem", NAMES(no_names),
     .help = "after the head-only epochs, train from this block up (stem: the whole network)"},
    {KEY(ECG_CFG_FLOAT, train.unfreeze_lr_mult), .def = "0.1", RANGE(0, 1000), .flags = ECG_CFG_MIN_OPEN,
     .help = "learning-rate factor of the unfrozen backbone layers relative to the head"},

    /* eval */
    {KEY(ECG_CFG_INT, eval.batch_size), .def = "64", RANGE(1, 65536),
     .help = "images per evaluation step"},
    {KEY(ECG_CFG_INT, eval.windows), .def = "1", RANGE(1, 1000),
     .help = "windows per record at evaluation; their predictions are averaged"},
    {KEY(ECG_CFG_ENUM, eval.split), .def = "test", NAMES(split_names),
     .help = "split the final evaluation reports"},
};

#define NKEYS ((int64_t)(sizeof keys / sizeof keys[0]))

const struct ecg_config_key *ecg_config_keys(int64_t *count)
{
    if (count)
        *count = NKEYS;
    return keys;
}

const struct ecg_config_key *ecg_config_find(const char *name)
{
    for (int64_t i = 0; i < NKEYS; i++)
        if (strcmp(keys[i].name, name) == 0)
            return &keys[i];
    return NULL;
}

const char *ecg_config_type_name(enum ecg_config_type type)
{
    switch (type) {
    case ECG_CFG_BOOL: return "bool";
    case ECG_CFG_INT: return "int";
    case ECG_CFG_FLOAT: return "float";
    case ECG_CFG_STRING: return "string";
    case ECG_CFG_PATH: return "path";
    case ECG_CFG_ENUM: return "enum";
    case ECG_CFG_BLOCK: return "block";
    case ECG_CFG_FLOATS: return "floats";
    }
    return "?";
}

enum ecg_config_ctype ecg_config_ctype_of(enum ecg_config_type type)
{
    switch (type) {
    case ECG_CFG_BOOL: return ECG_CT_BOOL;
    case ECG_CFG_INT: return ECG_CT_I64;
    case ECG_CFG_FLOAT: return ECG_CT_DOUBLE;
    case ECG_CFG_ENUM: return ECG_CT_INT;
    case ECG_CFG_STRING:
    case ECG_CFG_PATH:
    case ECG_CFG_BLOCK: return ECG_CT_STR;
    case ECG_CFG_FLOATS: return ECG_CT_FLOATS;
    }
    return ECG_CT_OTHER;
}

bool ecg_config_is_section(const char *name)
{
    size_t len = strlen(name);
    for (int64_t i = 0; i < NKEYS; i++)
        if (strncmp(keys[i].name, name, len) == 0 && keys[i].name[len] == '.')
            return true;
    return false;
}

/* Levenshtein distance, capped so long strings stay cheap. */
static int edit_distance(const char *a, const char *b)
{
    enum { MAXLEN = 96 };
    size_t la = strlen(a), lb = strlen(b);
    if (la >= MAXLEN || lb >= MAXLEN)
        return MAXLEN;
    int prev[MAXLEN + 1], cur[MAXLEN + 1];
    for (size_t j = 0; j <= lb; j++)
        prev[j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = (int)i;
        for (size_t j = 1; j <= lb; j++) {
            int sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
            int del = prev[j] + 1, ins = cur[j - 1] + 1;
            cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
        }
        memcpy(prev, cur, sizeof(int) * (lb + 1));
    }
    return prev[lb];
}

const char *ecg_config_suggest(const char *name)
{
    /* Candidates: every key and every section (each dotted prefix of a key). */
    static char best_buf[128];
    int best = 1 << 20;
    size_t len = strlen(name);
    for (int64_t i = 0; i < NKEYS; i++) {
        const char *k = keys[i].name;
        for (const char *end = strchr(k, '.');; end = strchr(end + 1, '.')) {
            size_t plen = end ? (size_t)(end - k) : strlen(k);
            char cand[128];
            if (plen >= sizeof cand)
                break;
            memcpy(cand, k, plen);
            cand[plen] = '\0';
            int d = edit_distance(name, cand);
            if (d < best) {
                best = d;
                memcpy(best_buf, cand, plen + 1);
            }
            if (!end)
                break;
        }
    }
    /* Close enough: up to a third of the name's length, at least 1, at most 3 edits. */
    int limit = (int)(len / 3);
    if (limit < 1)
        limit = 1;
    if (limit > 3)
        limit = 3;
    return best <= limit ? best_buf : NULL;
}
