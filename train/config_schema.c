/* ecgtrain's schema: one row per config key, pointing at the field of the module that uses the value. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "train/config_keys.h"

/* core/log.h's levels by name (run.log_level). */
static const char *const log_level_names[] = {
    [ECG_LOG_DEBUG] = "debug", [ECG_LOG_INFO] = "info",   [ECG_LOG_WARN] = "warn",
    [ECG_LOG_ERROR] = "error", [ECG_LOG_QUIET] = "quiet", NULL,
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

/* The C type of a member, so a test can catch a row whose type and field disagree.  A module's enum is
 * compatible with unsigned int (no negative constants), so it counts as int. */
#define CTYPE(member)                                                                                  \
    _Generic(((struct ecg_config *)0)->member, bool: ECG_CT_BOOL, int64_t: ECG_CT_I64,                  \
             double: ECG_CT_DOUBLE, int: ECG_CT_INT, unsigned int: ECG_CT_INT, char *: ECG_CT_STR,       \
             double *: ECG_CT_VECTOR, struct ecg_config_floats: ECG_CT_FLOATS, default: ECG_CT_OTHER)
/* A key named by the member path itself, or by the name given (where a module's struct sits under the
 * section that names it: data.val_fraction is data.split.val_fraction). */
#define KEY_AT(ty, keyname, member)                                                                      \
    .name = keyname, .type = (ty), .offset = offsetof(struct ecg_config, member), .ctype = CTYPE(member)
#define KEY(ty, member) KEY_AT(ty, #member, member)
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
    {KEY(ECG_CFG_INT, run.replicas), .def = "1", RANGE(1, 16),
     .help = "training: the batch split over this many replicas of the model, side by side on one thread each, "
             "batch norm over the whole batch (at small images faster than threads inside each layer); the "
             "numbers depend on it (up to rounding), never on run.threads"},
    {KEY(ECG_CFG_ENUM, run.log_level), .def = "info", NAMES(log_level_names),
     .help = "least severe log messages shown"},
    {KEY(ECG_CFG_FLOAT, run.dist_timeout), .def = "300", RANGE(1, 86400),
     .help = "data-parallel runs (mpirun): seconds a rank waits for the others in training before the job "
             "ends as hung"},

    /* data */
    {KEY(ECG_CFG_ENUM, data.format), .def = "cachet_short", NAMES(ecg_data_format_names),
     .help = "dataset format of data.path"},
    {KEY(ECG_CFG_PATH, data.path), .def = "data/sample/cachet_sample.h5",
     .help = "dataset file or directory (relative to the working directory)"},
    {KEY_AT(ECG_CFG_FLOAT, "data.val_fraction", data.split.val_fraction), .def = "0.15", RANGE(0, 1), .flags = ECG_CFG_MAX_OPEN,
     .help = "fraction of records held out for validation (stratified by class)"},
    {KEY_AT(ECG_CFG_FLOAT, "data.test_fraction", data.split.test_fraction), .def = "0.15", RANGE(0, 1), .flags = ECG_CFG_MAX_OPEN,
     .help = "fraction of records held out for test (stratified by class); ignored with data.folds"},
    {KEY_AT(ECG_CFG_INT, "data.folds", data.split.folds), .def = "0", RANGE(0, 1000),
     .help = "k-fold cross-validation: 0 or 1: no folds (data.test_fraction is the test split); k >= 2: the "
             "records (or subjects) are cut into k stratified folds and data.fold is the test split"},
    {KEY_AT(ECG_CFG_INT, "data.fold", data.split.fold), .def = "0", RANGE(0, 999),
     .help = "with data.folds >= 2: the fold, 0 .. folds - 1, that is the test split; validation is "
             "data.val_fraction of all records, taken from the other folds"},
    {KEY_AT(ECG_CFG_ENUM, "data.group", data.split.group), .def = "auto", NAMES(ecg_group_mode_names),
     .help = "what a split keeps together: auto (the subjects when the data name them, else records), subject, or "
             "record (each record alone; for beat data that is random beats, an intra-patient split whose figures "
             "are optimistic)"},
    {KEY(ECG_CFG_FLOAT, data.sample_rate), .def = "300", RANGE(50, 8192),
     .help = "signals are resampled to this rate, Hz"},
    {KEY(ECG_CFG_FLOAT, data.window_seconds), .def = "10", RANGE(0.5, 600),
     .help = "length of the signal window that becomes one image, seconds; beat data (mitbih_wfdb): the window "
             "centred on each beat's R peak"},
    {KEY(ECG_CFG_ENUM, data.pad), .def = "zero", NAMES(ecg_pad_mode_names),
     .help = "a record shorter than data.window_seconds is centred in the window and the rest filled with: "
             "zero (silence), reflect (the record mirrored at its ends) or tile (the record repeated)"},
    {KEY(ECG_CFG_FLOAT, data.band_low_hz), .def = "0.5", RANGE(0, 100),
     .help = "zero-phase band-pass low edge, Hz; 0: no high-pass"},
    {KEY(ECG_CFG_FLOAT, data.band_high_hz), .def = "40", RANGE(1, 4096),
     .help = "zero-phase band-pass high edge, Hz; below data.sample_rate / 2"},
    {KEY(ECG_CFG_ENUM, data.normalize), .def = "zscore", NAMES(ecg_normalize_names),
     .help = "per-record signal normalisation"},
    {KEY(ECG_CFG_ENUM, data.bad_records), .def = "skip", NAMES(ecg_bad_policy_names),
     .help = "unreadable, NaN, flat or too-short records: skip them (counted and reported) or stop with an error"},
    {KEY(ECG_CFG_PATH, data.cache_dir), .def = "none",
     .help = "directory of the on-disk spectrogram cache; none: no cache"},
    {KEY(ECG_CFG_PATH, data.exclude), .def = "none",
     .help = "text file of record ids to leave out (first word of each line; # starts a comment); none: keep all"},
    {KEY(ECG_CFG_STRING, data.records), .def = "all",
     .help = "mitbih_wfdb: the records read: all (every NAME.hea with NAME.atr but the paced 102, 104, 107, 217), "
             "DS1 or DS2 (de Chazal's inter-patient halves; each must exist), or a comma-separated list"},
    {KEY(ECG_CFG_ENUM, data.beats), .def = "reference", NAMES(ecg_beat_source_names),
     .help = "mitbih_wfdb: the beats classified: reference (the annotated beats of each .atr) or detected (the QRS "
             "detector's, labelled by the annotated beat within 150 ms; unmatched detections left out)"},
    {KEY(ECG_CFG_ENUM, data.q_beats), .def = "exclude", NAMES(ecg_q_policy_names),
     .help = "mitbih_wfdb: AAMI Q beats (unclassifiable, paced fusion) are left out of the data (exclude, "
             "counted) or kept as class Q (keep)"},
    {KEY(ECG_CFG_ENUM, data.spectrogram.window), .def = "hann", NAMES(ecg_spec_window_names),
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
    {KEY(ECG_CFG_ENUM, model.arch), .def = "b0", NAMES(ecg_model_arch_names),
     .help = "EfficientNet variant"},
    {KEY(ECG_CFG_INT, model.in_channels), .def = "1", RANGE(1, 3), .check = check_one_or_three,
     .help = "input channels: 1 sums the RGB stem kernels of pretrained weights, 3 keeps them"},
    {KEY(ECG_CFG_INT, model.num_classes), .def = "4", RANGE(2, 100000),
     .help = "classes of the freshly initialised head"},
    {KEY(ECG_CFG_PATH, model.pretrained), .def = "weights/ecg_effb0_cinc2017.h5",
     .help = "Keras-layout HDF5 weights to start from (by default the shipped rhythm model; its head is kept when it "
             "has model.num_classes outputs, else initialised afresh); none: random initialisation"},
    {KEY(ECG_CFG_ENUM, model.padding), .def = "auto", NAMES(ecg_model_padding_names),
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
    {KEY(ECG_CFG_ENUM, model.input_norm), .def = "none", NAMES(ecg_input_norm_names),
     .help = "input scaling: none (the per-image z-scored spectrogram), imagenet (each image scaled to [0, 1], then (x - mean) / std per channel with the weight file's ImageNet mean and std, for ImageNet weights)"},
    {KEY(ECG_CFG_ENUM, model.head_init), .def = "keras", NAMES(ecg_head_init_names),
     .help = "a classification head not loaded from model.pretrained starts as: keras (uniform, limit "
             "sqrt(1/classes), EfficientNet's own), fan_in (uniform, limit 1/sqrt(features), PyTorch's Linear) or "
             "zero (every class equally likely at the start); biases start at 0"},
    {KEY(ECG_CFG_BOOL, model.rr_features), .def = "false",
     .help = "beat models: the classifier also reads the beat's RR intervals (before, after, local and record "
             "medians, as log ratios, and how irregular the local ones are; docs/beats.md), which carry the "
             "prematurity that marks S beats and tell it from atrial fibrillation"},
    {KEY(ECG_CFG_BOOL, model.morphology_features), .def = "false",
     .help = "beat models: the classifier also reads how the beat's shape differs from its record's median beat "
             "(correlation, size, distance; docs/beats.md), which tells a patient's usual wide beats from "
             "ventricular ones"},
    {KEY(ECG_CFG_BOOL, model.rhythm_features), .def = "false",
     .help = "rhythm models: the classifier also reads eight RR-interval features of the whole record (how "
             "irregular its beat-to-beat timing is, its rate; from the QRS detector's R peaks; "
             "docs/training.md), the timing that marks atrial fibrillation, finer than the spectrogram's columns"},

    /* optim */
    {KEY_AT(ECG_CFG_ENUM, "optim.name", optim.rule.kind), .def = "adamw", NAMES(ecg_optim_kind_names),
     .help = "optimizer"},
    {KEY(ECG_CFG_FLOAT, optim.lr), .def = "0.001", RANGE(0, 10), .flags = ECG_CFG_MIN_OPEN,
     .help = "peak learning rate (after warm-up)"},
    {KEY_AT(ECG_CFG_FLOAT, "optim.momentum", optim.rule.momentum), .def = "0.9", RANGE(0, 1), .flags = ECG_CFG_MAX_OPEN,
     .help = "momentum of SGD and RMSprop"},
    {KEY_AT(ECG_CFG_BOOL, "optim.nesterov", optim.rule.nesterov), .def = "false",
     .help = "Nesterov momentum (SGD)"},
    {KEY_AT(ECG_CFG_FLOAT, "optim.weight_decay", optim.rule.weight_decay), .def = "0.01", RANGE(0, 1),
     .help = "weight decay: decoupled for AdamW, L2 for SGD and RMSprop; never on biases and batch norm"},
    {KEY_AT(ECG_CFG_VECTOR, "optim.betas", optim.rule.betas), .def = "[0.9, 0.999]", RANGE(0, 1),
     .flags = ECG_CFG_MAX_OPEN, .min_len = 2, .max_len = 2,
     .help = "AdamW moment decay rates beta1, beta2"},
    {KEY_AT(ECG_CFG_FLOAT, "optim.eps", optim.rule.eps), .def = "1e-08", RANGE(0, 1), .flags = ECG_CFG_MIN_OPEN,
     .help = "denominator epsilon of AdamW and RMSprop"},
    {KEY_AT(ECG_CFG_FLOAT, "optim.rmsprop_decay", optim.rule.rmsprop_decay), .def = "0.9", RANGE(0, 1), .flags = ECG_CFG_MAX_OPEN,
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
    {KEY(ECG_CFG_ENUM, train.schedule), .def = "cosine", NAMES(ecg_sched_kind_names),
     .help = "learning-rate schedule after warm-up"},
    {KEY(ECG_CFG_INT, train.step_epochs), .def = "10", RANGE(1, 100000),
     .help = "step schedule: epochs between learning-rate drops"},
    {KEY(ECG_CFG_FLOAT, train.step_gamma), .def = "0.1", RANGE(0, 1), .flags = ECG_CFG_MIN_OPEN,
     .help = "step schedule: learning-rate factor at each drop"},
    {KEY(ECG_CFG_FLOAT, train.label_smoothing), .def = "0.1", RANGE(0, 1), .flags = ECG_CFG_MAX_OPEN,
     .help = "label smoothing of the cross-entropy loss"},
    {KEY(ECG_CFG_FLOAT, train.mixup_alpha), .def = "0", RANGE(0, 100),
     .help = "mixup: each training image becomes lam * itself + (1 - lam) * another image of the batch, and the "
             "loss lam * L(its label) + (1 - lam) * L(the other's), lam ~ Beta(alpha, alpha) per batch; 0: off"},
    {KEY(ECG_CFG_FLOATS, train.class_weights), .def = "inverse_frequency", RANGE(0, 1e6),
     NAMES(ecg_class_weights_names), .min_len = 2, .max_len = 100000,
     .help = "loss weight per class: none, inverse_frequency (of the training split), or a list with "
             "one weight per class"},
    {KEY(ECG_CFG_FLOAT, train.class_weight_cap), .def = "0", RANGE(0, 1e6),
     .help = "inverse_frequency: weights above this are lowered to it, so that a rare class is learned without "
             "flooding the others; with a cap, or on beat data, a class absent from the training split gets weight 0 "
             "instead of an error; 0: no cap"},
    {KEY(ECG_CFG_INT, train.max_per_class), .def = "0", RANGE(0, 1e12),
     .help = "balanced sampling: each epoch trains on at most this many examples of a class, drawn anew every "
             "epoch (a large class is seen whole over several epochs); inverse_frequency weights then follow the "
             "per-epoch counts; 0: every example every epoch"},
    {KEY(ECG_CFG_INT, train.patience), .def = "10", RANGE(0, 100000),
     .help = "stop after this many epochs without a better validation macro-F1; 0: never stop early"},
    {KEY(ECG_CFG_ENUM, train.select), .def = "val_macro_f1", NAMES(ecg_select_names),
     .help = "the epoch whose weights best.h5 keeps and the report evaluates: val_macro_f1 (the highest "
             "validation macro-F1; training macro-F1 without a validation split) or last (the end of the "
             "schedule, whatever the validation says; a finished run resumed with it takes its last epoch)"},
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
     .help = "windows per record at evaluation, evenly spaced from the start to the end; their predictions "
             "are averaged (ignored when eval.hop_seconds is set)"},
    {KEY(ECG_CFG_FLOAT, eval.hop_seconds), .def = "0", RANGE(0, 600),
     .help = "0: eval.windows windows per record; > 0: as many windows as cover the whole record with starts at "
             "most this many seconds apart (data.window_seconds tiles it; at most 1000 per record)"},
    {KEY(ECG_CFG_BOOL, eval.calibrate), .def = "false",
     .help = "at the end of training, fit the temperature T of softmax(logits / T) on the validation split "
             "(lowest negative log-likelihood) and store it in best.h5, where ecgeval, ecgpredict and ecgexport "
             "use it; the report shows the calibration error before and after"},
    {KEY(ECG_CFG_BOOL, eval.rr_fusion), .def = "false",
     .help = "rhythm records: at the end of training, fit on the validation split a correction of each "
             "record's probabilities by its RR-interval features (from the R peaks of the QRS detector), "
             "softmax(ln p + W f + b), and store it in best.h5; the test report, ecgeval, ecgpredict, ecgserve "
             "and ecgexport's model file then give the corrected probabilities (needs eval.calibrate)"},
    {KEY(ECG_CFG_ENUM, eval.split), .def = "test", NAMES(ecg_split_part_names),
     .help = "split the final evaluation reports"},
};

#define NKEYS ((int64_t)(sizeof keys / sizeof keys[0]))

/* The fields no key sets get their module's defaults (tukey alpha, detrend, dB, per-image z-score, the
 * wander band, one mask of each kind, RMSprop not centered, AUTO subject grouping, ...). */
static void init_modules(void *root)
{
    struct ecg_config *c = root;
    ecg_split_opts_default(&c->data.split);
    ecg_spec_opts_default(&c->data.spectrogram);
    ecg_aug_opts_default(&c->data.augment);
    c->optim.rule = ecg_optim_defaults(ECG_OPTIM_ADAMW);
}

static const struct ecg_schema schema = {
    .keys = keys,
    .count = NKEYS,
    .size = sizeof(struct ecg_config),
    .program = "ecgtrain",
    .init = init_modules,
    .check = ecg_config_check_keys,
};

const struct ecg_schema *ecg_config_schema(void) { return &schema; }
