/* The one inference path: a record -> preprocessed signal -> windows -> spectrograms -> class probabilities. */
#ifndef ECG_INFER_INFER_H
#define ECG_INFER_INFER_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "data/record_features.h"

/*
 * Usage:
 *     struct ecg_infer_model *model;
 *     ecg_infer_model_load("runs/effb0/best.h5", NULL, 0, NULL, &model, &err);
 *     struct ecg_infer_context *ctx;               (one per thread)
 *     ecg_infer_context_init(model, &ctx, &err);
 *     struct ecg_infer_result r;
 *     ecg_infer_classify_samples(ctx, samples, n, 300.0, "rec1", &r, &err);
 *     ... r.probs[0 .. r.classes), r.best, r.images, r.window_probs ...
 *     ecg_infer_result_free(&r);
 *     ecg_infer_context_free(ctx);
 *     ecg_infer_model_free(model);
 *
 * The steps are the run's own, from its configuration: the finiteness check,
 * resampling to data.sample_rate, the band-pass, data.normalize
 * (ecg_prepare_record), then eval.windows evenly spaced windows of
 * data.window_seconds (a shorter record is zero-padded into one window), a
 * spectrogram image per window (data.spectrogram.*), the model's input
 * scaling (model.input_norm) and the network; each window's softmax, and
 * their mean per record.  ecgtrain's evaluation, ecgeval, ecgpredict and
 * ecgspec all see exactly these arrays.
 *
 * Threads: a model is read-only after ecg_infer_model_load() and may be
 * shared by any number of threads; each thread classifies with its own
 * context (the network's activation buffers and a copy of the weights, about
 * 16 MB for B0).  Spectrogram FFT plans live in the model and are created
 * under a lock on first use.  The functions taking a model only (prepare,
 * accessors) are safe to call concurrently.  The process-wide BLAS/OpenMP
 * thread count (ecg_threads_set) is the caller's to choose.
 *
 * Errors: every function that can fail returns ECG_OK or a status of
 * core/error.h and writes one message into `err` (may be NULL) naming the
 * file, record or configuration key.  On failure nothing is left allocated
 * and output structs are zeroed.
 */

struct ecg_config;
struct ecg_infer_model;
struct ecg_infer_context;

/*
 * Loads a model.  `weights` is a checkpoint written by ecgtrain (its stored
 * configuration is used) or, with `config_path`, any weight file
 * model.pretrained accepts (ecgexport's, a Keras file) described by that run
 * configuration (YAML).  `weights` NULL loads no network: a preprocessing
 * model for ecg_infer_prepare_*() only, configured by `config_path` (NULL:
 * the defaults).  `overrides` are key=value strings applied last (borrowed
 * during the call).  Errors: a file that is not a checkpoint, a bad key or
 * value (ECG_ERR_CONFIG), a weight file that does not fit the configuration,
 * a class count that is not the data format's.
 */
int ecg_infer_model_load(const char *weights, const char *config_path, int noverrides, char *const *overrides,
                         struct ecg_infer_model **out, struct ecg_error *err);

/*
 * The models a program uses when none is named, relative to the working
 * directory (the one place that says where they are): the shipped CinC 2017
 * rhythm model for records, the shipped MIT-BIH beat model for WFDB records
 * classified beat by beat.
 */
#define ECG_INFER_DEFAULT_MODEL "weights/ecg_effb0_cinc2017.h5"
#define ECG_INFER_DEFAULT_BEAT_MODEL "weights/ecg_effb0_mitbih.h5"
const char *ecg_infer_default_model(void);
const char *ecg_infer_default_beat_model(void);

/* Frees the model; NULL is a no-op.  No context of it may be in use. */
void ecg_infer_model_free(struct ecg_infer_model *m);

/* The resolved run configuration (borrowed, valid as long as the model). */
const struct ecg_config *ecg_infer_model_config(const struct ecg_infer_model *m);

/* Number of classes; names[i] (borrowed, static strings) in label order when names is not NULL. */
int ecg_infer_model_classes(const struct ecg_infer_model *m, const char *const **names);

/* The sampling rate every record is resampled to (data.sample_rate), in Hz. */
double ecg_infer_model_sample_rate(const struct ecg_infer_model *m);

/* True when the model carries a network (loaded with weights). */
int ecg_infer_model_has_network(const struct ecg_infer_model *m);

/* The temperature T of the model file or checkpoint (1 when it records none): each window's probabilities
 * are softmax(logits / T) (eval/calibration.h). */
double ecg_infer_model_temperature(const struct ecg_infer_model *m);

/*
 * A record's probabilities (classes) from its windows' (windows, classes): their mean, summed in window order as
 * ecgtrain's evaluation sums, then, when the model carries an RR fusion, the fusion's, with the RR-interval
 * features of `signal` (length samples at fs Hz: the record's preprocessed signal, a result's `signal`).  Every
 * program's record probabilities come from here.  Errors: no window (ECG_ERR_USAGE), a non-finite mean
 * (ECG_ERR_VALUE), the QRS detector's (a NaN sample), out of memory.
 */
int ecg_infer_record_probs(const struct ecg_infer_model *m, const float *window_probs, int64_t windows,
                           const float *signal, int64_t length, double fs, float *probs, struct ecg_error *err);

/* True when the model file or checkpoint carries an RR fusion (eval/rr_fusion.h): each record's mean
 * probabilities then go through it, with the RR-interval features of the record's signal. */
int ecg_infer_model_has_rr_fusion(const struct ecg_infer_model *m);

/*
 * A per-thread context: the network planned for eval.batch_size windows
 * with its own copy of the weights.  ECG_ERR_USAGE for a model without a
 * network.  The model must outlive the context.
 */
int ecg_infer_context_init(const struct ecg_infer_model *m, struct ecg_infer_context **out, struct ecg_error *err);
void ecg_infer_context_free(struct ecg_infer_context *ctx);

/* From now on (on) or no longer (off), every record this context classifies also gets the Grad-CAM
 * map of each window in result.cams (defined at ecg_infer_classify_images).  Errors: out of memory. */
int ecg_infer_context_explain(struct ecg_infer_context *ctx, int on, struct ecg_error *err);

/* Everything one record became; all arrays are owned by the result. */
struct ecg_infer_result {
    char record[64];    /* the record's id ("" when none was given) */
    int label;          /* its label when the file carried one, else -1 */
    double fs;          /* sampling rate of `signal` (the model's rate) */
    int64_t length;     /* samples of `signal` */
    float *signal;      /* (length) preprocessed signal, in mV unless data.normalize scaled it */
    int64_t windows;    /* windows classified (>= 1) */
    int64_t window_samples; /* samples per window */
    int64_t *starts;    /* (windows) first sample of each window in `signal`; negative when a short
                           record was padded on the left */
    int64_t height, width, channels;
    float *images;      /* (windows, height, width, channels) NHWC: each window's spectrogram image,
                           the network's input before its own input scaling (model.input_norm) */
    int classes;        /* 0 after ecg_infer_prepare_*() */
    float *window_probs; /* (windows, classes) softmax per window, NULL after prepare */
    float *probs;       /* (classes) the record's: mean over the windows, then the model's RR fusion if it has
                           one (ecg_infer_record_probs); NULL after prepare */
    int best;           /* argmax of probs (first of ties); -1 after prepare */
    float *cams;        /* (windows, height, width) Grad-CAM maps when the context explains
                           (ecg_infer_context_explain), else NULL */
    float features[ECG_RECORD_FEATURES]; /* the record's features (data/record.h): a beat's RR and morphology
                                            ones, or a rhythm record's RR-interval ones, which a model with
                                            model.rr_features, model.morphology_features or
                                            model.rhythm_features reads beside each window's image */
};

/* Frees the arrays and zeroes the struct; a zeroed result is a no-op. */
void ecg_infer_result_free(struct ecg_infer_result *r);

/*
 * The preprocessing half: samples x (n, mV) at fs Hz -> signal, windows,
 * images; no network needed.  `id` (may be NULL) names the record in
 * messages and in the result.  Errors: NaN/Inf samples, a flat signal under
 * data.normalize, a sampling rate the resampler cannot convert, n < 1
 * (ECG_ERR_VALUE, naming the record).
 */
int ecg_infer_prepare_samples(const struct ecg_infer_model *m, const float *x, int64_t n, double fs,
                              const char *id, struct ecg_infer_result *out, struct ecg_error *err);

/* Both halves: as prepare, then the network on every window. */
int ecg_infer_classify_samples(struct ecg_infer_context *ctx, const float *x, int64_t n, double fs, const char *id,
                               struct ecg_infer_result *out, struct ecg_error *err);

/*
 * The network on window images already prepared (a result's `images`, or
 * the same layout from elsewhere: a server batching the windows of several
 * requests): images (count, height, width, channels) NHWC of the model's
 * spectrogram geometry, before the input scaling (model.input_norm), which
 * this applies itself on a copy.  Any count >= 1; the windows run in
 * batches of eval.batch_size in order.  probs (count, classes) receives each
 * window's softmax, exactly as ecg_infer_classify_* computes it for the same
 * batches.  cam (may be NULL) receives each window's Grad-CAM map, (count,
 * height, width) floats in [0, 1], defined below.  Errors: count < 1 or NULL
 * arrays (ECG_ERR_USAGE), out of memory for the Grad-CAM buffers.
 *
 * Grad-CAM (Selvaraju et al. 2017), per window:
 *   A     the top activation: the output of top_bn followed by its SiLU (Keras
 *         "top_activation"), the last convolution's feature map and the input
 *         of the global average pooling, (th, tw, C): 1280 channels for B0 on
 *         a grid of ceil(height/32) x ceil(width/32);
 *   c*    the window's predicted class, the argmax of its logits (first of
 *         ties);
 *   g     d logit_c* / d A, through the head in evaluation mode: dense <-
 *         dropout (the identity) <- global average pooling;
 *   a_k   the spatial mean of g over channel k;
 *   M     ReLU(sum_k a_k A_k) on the (th, tw) grid;
 *   map   M resized bilinearly to the spectrogram's height x width with
 *         half-pixel centres (PyTorch's interpolate, align_corners=False),
 *         divided by its maximum; all zeros when M has no positive value.
 * Row 0 is the highest frequency and column 0 the earliest time, as in the
 * images.  With this head g is the same at every position (the dense
 * weights of c* over th * tw), so the map equals the class activation map
 * of Zhou et al. 2016 once normalised.
 */
int ecg_infer_classify_images(struct ecg_infer_context *ctx, const float *images, int64_t count, float *probs,
                              float *cam, struct ecg_error *err);

/* The same for a model that also reads each window's record features (model.rr_features,
 * model.morphology_features, model.rhythm_features): features (count, ECG_RECORD_FEATURES) beside the images,
 * each window's record's whole vector as ecg_infer_prepare_beats and ecg_infer_prepare_samples give them
 * (the model picks the ones it reads); NULL for a model
 * without them (then exactly ecg_infer_classify_images).  Errors as above, and ECG_ERR_USAGE when
 * the model needs features and they are NULL. */
int ecg_infer_classify_windows(struct ecg_infer_context *ctx, const float *images, const float *features,
                               int64_t count, float *probs, float *cam, struct ecg_error *err);

/*
 * Records of one file, for the *_file functions: `format` is "cinc2017"
 * (a .mat with its .hea beside it; label from REFERENCE.csv beside it or
 * one folder up), "cachet_short" (.h5: every 10 s segment is a record),
 * "csv" (text samples in mV: one column, or time,value; separators comma,
 * semicolon, tab or spaces; a non-numeric first line is a header; `fs` Hz,
 * or when fs <= 0 derived from a time column), or NULL to choose by the
 * file name (.mat, .h5/.hdf5, .csv/.txt).  `path` "-" reads standard input
 * and needs format "csv".  *out receives *count results (free with
 * ecg_infer_results_free).  Errors name the file and, when one record fails,
 * the record.
 */
/* Called once per record, in file order, by the *_each functions.  The result
 * is freed when the callback returns; to keep it, copy the struct and zero
 * *r.  A non-zero return stops the run with that status (set err). */
typedef int (*ecg_infer_result_fn)(void *user, struct ecg_infer_result *r, struct ecg_error *err);

int ecg_infer_prepare_file(const struct ecg_infer_model *m, const char *path, const char *format, double fs,
                           struct ecg_infer_result **out, int64_t *count, struct ecg_error *err);
int ecg_infer_classify_file(struct ecg_infer_context *ctx, const char *path, const char *format, double fs,
                            struct ecg_infer_result **out, int64_t *count, struct ecg_error *err);
void ecg_infer_results_free(struct ecg_infer_result *r, int64_t count);

/*
 * CSV/text samples held in memory (an upload), parsed as the "csv" format
 * above: *samples (malloc'd, *n of them, mV; free() them) and *fs_out (the
 * given fs, or the rate of the time column when fs <= 0).  `name` labels
 * messages ("upload.csv:12: expected one number, found 'x'").
 */
int ecg_infer_parse_csv(const char *text, size_t len, double fs, const char *name, float **samples, int64_t *n,
                        double *fs_out, struct ecg_error *err);

/* The same one record at a time, for files too large to hold every image (a CACHET-CADB file of
 * thousands of segments). */
int ecg_infer_classify_file_each(struct ecg_infer_context *ctx, const char *path, const char *format, double fs,
                                 ecg_infer_result_fn fn, void *user, struct ecg_error *err);

/*
 * Heartbeats of a WFDB record, for a beat model (data.format mitbih_wfdb in
 * its configuration): `hea` is NAME.hea with its signal file; NAME.atr
 * beside it is used when present.  The beats are the record's annotated
 * beats when the model's data.beats is reference and NAME.atr exists, else
 * the QRS detector's (data/qrs.h; labelled from NAME.atr when it exists).
 * Every beat is classified (Q beats too, whatever data.q_beats says) through
 * the run's own steps: a window of data.window_seconds centred on the beat,
 * cut from the channel described as MLII (else the first), then
 * ecg_prepare_record, the spectrogram and the network, in batches of
 * eval.batch_size.  Beats left out are counted in `left_out`.  Errors: a model that is not a beat model (ECG_ERR_USAGE), an
 * unreadable record (naming the file), a detector failure.
 */
struct ecg_infer_beats {
    char record[64];   /* the record's name from its header */
    double fs;         /* the record's own sampling rate (samples below count at it) */
    const char *source; /* "reference" or "detected" (static string) */
    int64_t count;     /* beats classified, in time order */
    int64_t *samples;  /* (count) R peak positions */
    int *labels;       /* (count) the annotated AAMI class (label order of the model), -1 when unknown */
    int classes;
    float *probs;      /* (count, classes) softmax per beat */
    int *best;         /* (count) argmax (first of ties) */
    int64_t left_out;  /* beats too close to the record's start or end for their window, or whose window
                          is unusable (flat, NaN) under data.bad_records: skip */
};

int ecg_infer_classify_beats(struct ecg_infer_context *ctx, const char *hea, struct ecg_infer_beats *out,
                             struct ecg_error *err);

/*
 * The preprocessing half for beats, from samples in memory: the beats the QRS detector finds in x (n
 * samples in mV at fs Hz, the record's own rate), each a prepared result of one window: its image,
 * its RR features and, in `samples`, its R peak.  Exactly the windows ecg_infer_classify_beats
 * prepares for a WFDB record without annotations holding the same samples.  `id` (may be NULL) names
 * the record.  *out receives *count results (free with ecg_infer_results_free) and *samples (free)
 * their positions; *left_out counts the beats too close to either end for their window.  Errors: a
 * rhythm model (ECG_ERR_USAGE), no samples or a bad rate (ECG_ERR_VALUE).
 */
int ecg_infer_prepare_beats(const struct ecg_infer_model *m, const float *x, int64_t n, double fs, const char *id,
                            struct ecg_infer_result **out, int64_t **samples, int64_t *count, int64_t *left_out,
                            struct ecg_error *err);
/* Frees the arrays and zeroes the struct; a zeroed struct is a no-op. */
void ecg_infer_beats_free(struct ecg_infer_beats *b);

/*
 * Batching: a context runs the windows of consecutive records together in
 * batches of eval.batch_size (a record's windows may share a batch with the
 * next record's), as ecgtrain's evaluation does, so ecgeval, ecgpredict and
 * the training run's test metrics agree to the bit for the same records in
 * the same order.  A record classified alone may differ from the same record
 * classified among others in the last bits of its probabilities (BLAS picks
 * kernels by matrix size); each call is deterministic.
 */

#endif
