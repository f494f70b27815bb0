/* Batches of spectrogram images and labels from a dataset split, prepared by a prefetch thread. */
#ifndef ECG_DATA_LOADER_H
#define ECG_DATA_LOADER_H

#include <pthread.h>
#include <stdint.h>

#include "core/error.h"
#include "data/augment.h"
#include "data/record.h"
#include "data/spectrogram.h"
#include "data/window.h"

struct ecg_cache;

/* Labels at or above this are never capped by max_per_class. */
#define ECG_LOADER_MAX_CLASSES 64

/*
 * Signals are used as they are in the dataset: resample, band-pass and
 * normalise them first (data/signal.h) if the run asks for it.
 *
 * Samples.  In training mode every record of the split gives one sample per
 * epoch: a random crop (data/window.h), the signal augmentations, the
 * spectrogram, then the image masks (data/augment.h).  In evaluation mode a
 * record gives ecg_window_count() samples (evenly spaced windows, window ids
 * 0..K-1) with no randomness; the caller averages predictions per record using
 * batch->records.  Records that the short-record policy skips are counted in
 * `skipped` and never appear.
 *
 * Balanced sampling.  With max_per_class > 0 (training), an epoch holds at
 * most that many samples of each class: the first ones of the class in the
 * epoch's permutation, so every epoch draws another subset of a large class
 * and over the epochs sees all of it; smaller classes are whole every epoch.
 * An epoch then has epoch_samples = sum over classes of min(count, cap).
 *
 * Order and randomness.  With shuffle, the sample order of epoch e is a
 * permutation drawn from stream (seed, e); otherwise samples go in split order
 * (records in the order of `indices`, windows in order).  The RNG stream of a
 * sample is derived from (seed, epoch, record index, window id) alone, so the
 * contents of batch b of epoch e are the same whatever the thread count or
 * timing - ecg_loader_get() computes the same batch synchronously.
 *
 * Prefetch.  ecg_loader_start() launches one producer thread for the epoch.
 * It fills two batch buffers alternately (double buffering): while the caller
 * holds batch b (until its next call), the thread prepares b + 1.  Within a
 * batch, `threads` > 1 spreads the samples over OpenMP threads.  A failure
 * (NaN in a record, ...) stops the epoch: the next call of ecg_loader_next()
 * returns the status with the message naming the record; the producer never
 * blocks forever, and ecg_loader_free() (or a new start) stops and joins it.
 */

struct ecg_loader_opts {
    int64_t batch_size;
    int train;     /* 1: crops + augmentation; 0: evaluation windows */
    int shuffle;   /* 1: new sample order each epoch */
    int drop_last; /* 1: drop a final partial batch */
    uint64_t seed;
    int threads;   /* OpenMP threads per batch (1 = the producer thread alone) */
    int64_t max_per_class; /* training: at most this many samples of a class per epoch; 0: all */
    /* Data-parallel sharding: batches keep their whole-batch order and size, and this loader
     * prepares only part `shard` of `shards` of each (a contiguous run; 0 of 1 = all). */
    int shard, shards;
    struct ecg_window_opts window;
    struct ecg_spec_opts spec;
    struct ecg_aug_opts aug; /* used only when train */
    struct ecg_cache *cache; /* optional, borrowed; used only when !train */
};

/* Defaults: batch 32, training with shuffle, keep the last batch, seed 0, 1
 * thread, and the window/spectrogram/augmentation defaults. */
void ecg_loader_opts_default(struct ecg_loader_opts *o);

/* ecg_loader_opts_from_config() (train/config.h) fills these from a run's config. */

/* One batch; all arrays are owned by the loader and valid until the next call. */
struct ecg_batch {
    int64_t epoch, index; /* which batch of which epoch */
    int64_t count;        /* samples in this batch (<= batch_size): this shard's */
    int64_t first, total; /* the shard starts at sample `first` of the whole batch of `total` */
    int64_t h, w, c;
    float *images;     /* (count, h, w, c) NHWC */
    int32_t *labels;   /* (count) */
    int64_t *records;  /* (count) dataset record index */
    int32_t *windows;  /* (count) window id within its record (0 in training) */
    float *features;      /* (count, ECG_RECORD_FEATURES) each sample's record's features (data/record.h) */
};

struct ecg_loader_slot {
    struct ecg_batch batch;
    int state; /* free, filling, ready, held */
    int status;
    struct ecg_error err;
};

struct ecg_loader {
    const struct ecg_dataset *ds; /* borrowed: must outlive the loader */
    struct ecg_loader_opts opts;
    struct ecg_spec spec;
    int64_t nsamples;
    int64_t *sample_record; /* (nsamples) */
    int32_t *sample_window; /* (nsamples) */
    int64_t *order;         /* (nsamples) this epoch's order; its first epoch_samples are the epoch */
    int64_t epoch_samples;  /* samples per epoch (nsamples unless max_per_class caps a class) */
    int64_t skipped;        /* records dropped by the short-record policy */
    int64_t batches;        /* per epoch */
    struct ecg_error *sample_err; /* (batch_size) per-sample messages */
    struct ecg_loader_slot slots[2];
    int64_t epoch, produced, consumed;
    int running, stop, failed;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int sync_ready;
};

/*
 * Prepares a loader over ds->records[indices[0..n)] (indices are borrowed only
 * during the call).  Checks every option against every record's sampling rate
 * and the window against the spectrogram window; errors name the key or the
 * record.  ECG_ERR_VALUE when no sample remains.
 */
int ecg_loader_init(struct ecg_loader *L, const struct ecg_dataset *ds, const int64_t *indices, int64_t n,
                    const struct ecg_loader_opts *o, struct ecg_error *err);

/* Stops any running epoch and starts epoch `epoch` in the background. */
int ecg_loader_start(struct ecg_loader *L, int64_t epoch, struct ecg_error *err);

/* The next batch of the current epoch in *out (NULL after the last one).
 * Errors of the producer come back here, once per failed epoch and then on
 * every further call until the next start. */
int ecg_loader_next(struct ecg_loader *L, const struct ecg_batch **out, struct ecg_error *err);

/* Computes batch `index` of `epoch` synchronously into `out` (allocate with
 * ecg_batch_alloc).  The same contents the prefetch thread delivers. */
int ecg_loader_get(struct ecg_loader *L, int64_t epoch, int64_t index, struct ecg_batch *out,
                   struct ecg_error *err);

int ecg_batch_alloc(struct ecg_batch *b, int64_t batch_size, int64_t h, int64_t w, int64_t c,
                    struct ecg_error *err);
void ecg_batch_free(struct ecg_batch *b);

/* Stops and joins the thread, frees everything; a zeroed loader is a no-op. */
void ecg_loader_free(struct ecg_loader *L);

#endif
