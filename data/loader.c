/* The batch loader: sample lists, deterministic per-sample preparation, and the double-buffered producer thread. */
#include "data/loader.h"

#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/log.h"
#include "core/rng.h"
#include "data/cache.h"

enum { SLOT_FREE, SLOT_FILLING, SLOT_READY, SLOT_HELD };

/* Stream ids under the loader's root RNG. */
enum { STREAM_ORDER = 1, STREAM_SAMPLE = 2 };
enum { SAMPLE_CROP = 0x100 };

void ecg_loader_opts_default(struct ecg_loader_opts *o)
{
    memset(o, 0, sizeof *o);
    o->batch_size = 32;
    o->train = 1;
    o->shuffle = 1;
    o->threads = 1;
    ecg_window_opts_default(&o->window);
    ecg_spec_opts_default(&o->spec);
    ecg_aug_opts_default(&o->aug);
}

int ecg_batch_alloc(struct ecg_batch *b, int64_t batch_size, int64_t h, int64_t w, int64_t c,
                    struct ecg_error *err)
{
    memset(b, 0, sizeof *b);
    int64_t per = 0, total = 0;
    if (!ecg_size_mul(h, w, &per) || !ecg_size_mul(per, c, &per) || !ecg_size_mul(per, batch_size, &total))
        return ecg_error_set(err, ECG_ERR_NOMEM, "loader: batch of %lld x %lld x %lld x %lld overflows",
                             (long long)batch_size, (long long)h, (long long)w, (long long)c);
    b->images = ecg_aligned_calloc(total, sizeof(float));
    b->labels = calloc((size_t)batch_size, sizeof *b->labels);
    b->records = calloc((size_t)batch_size, sizeof *b->records);
    b->windows = calloc((size_t)batch_size, sizeof *b->windows);
    b->features = calloc((size_t)batch_size * ECG_RECORD_FEATURES, sizeof *b->features);
    b->h = h;
    b->w = w;
    b->c = c;
    if (!b->images || !b->labels || !b->records || !b->windows || !b->features) {
        ecg_batch_free(b);
        return ecg_error_set(err, ECG_ERR_NOMEM, "loader: cannot allocate a batch of %lld images of %lld x %lld x %lld",
                             (long long)batch_size, (long long)h, (long long)w, (long long)c);
    }
    return ECG_OK;
}

void ecg_batch_free(struct ecg_batch *b)
{
    if (!b)
        return;
    ecg_aligned_free(b->images);
    free(b->labels);
    free(b->records);
    free(b->windows);
    free(b->features);
    memset(b, 0, sizeof *b);
}

static struct ecg_rng root_rng(const struct ecg_loader *L) { return ecg_rng_init(L->opts.seed, 0x10ade4); }

/* Keeps, in order, the first max_per_class samples of each class (labels 0..ECG_LOADER_MAX_CLASSES-1);
 * returns how many remain. */
static int64_t cap_classes(const struct ecg_loader *L, int64_t *order)
{
    int64_t seen[ECG_LOADER_MAX_CLASSES] = {0}, kept = 0;
    for (int64_t i = 0; i < L->nsamples; i++) {
        int32_t label = L->ds->records[L->sample_record[order[i]]].label;
        if (label < 0 || label >= ECG_LOADER_MAX_CLASSES || seen[label]++ < L->opts.max_per_class)
            order[kept++] = order[i];
    }
    return kept;
}

/* The sample order of an epoch into order[] (its first L->epoch_samples entries are the epoch). */
static int64_t epoch_order(const struct ecg_loader *L, int64_t epoch, int64_t *order)
{
    for (int64_t i = 0; i < L->nsamples; i++)
        order[i] = i;
    if (L->opts.shuffle) {
        struct ecg_rng root = root_rng(L);
        struct ecg_rng o = ecg_rng_stream(&root, STREAM_ORDER);
        struct ecg_rng r = ecg_rng_stream(&o, (uint64_t)epoch);
        ecg_rng_shuffle(&r, order, L->nsamples);
    }
    return L->opts.train && L->opts.max_per_class > 0 ? cap_classes(L, order) : L->nsamples;
}

/* Prepares sample s of epoch `epoch` into img (h*w*c). */
static int prepare_sample(struct ecg_loader *L, int64_t epoch, int64_t s, float *img, struct ecg_error *err)
{
    const int64_t ri = L->sample_record[s];
    const int32_t wi = L->sample_window[s];
    const struct ecg_record *rec = &L->ds->records[ri];
    const struct ecg_loader_opts *o = &L->opts;
    const int64_t count = o->spec.height * o->spec.width * o->spec.channels;
    if (!o->train && o->cache && ecg_cache_load(o->cache, ri, rec->id, wi, img, count))
        return ECG_OK;
    const int64_t len = ecg_window_samples(&o->window, rec->fs);
    float *x = malloc((size_t)len * sizeof *x);
    if (!x)
        return ecg_error_set(err, ECG_ERR_NOMEM, "record '%s': cannot allocate a window of %lld samples", rec->id,
                             (long long)len);
    struct ecg_rng root = root_rng(L);
    struct ecg_rng samples = ecg_rng_stream(&root, STREAM_SAMPLE);
    struct ecg_rng ep = ecg_rng_stream(&samples, (uint64_t)epoch);
    struct ecg_rng rr = ecg_rng_stream(&ep, (uint64_t)ri);
    struct ecg_rng sr = ecg_rng_stream(&rr, (uint64_t)wi);
    int64_t start;
    if (o->train) {
        struct ecg_rng crop = ecg_rng_stream(&sr, SAMPLE_CROP);
        start = ecg_window_train_start(&o->window, rec->length, rec->fs, &crop);
    } else {
        start = ecg_window_eval_start(&o->window, rec->length, rec->fs, wi);
    }
    ecg_window_extract(&o->window, rec->signal, rec->length, start, len, x);
    if (o->train)
        ecg_aug_signal(&o->aug, &sr, x, len, rec->fs);
    int rc = ecg_spec_image(&L->spec, x, len, rec->fs, img, err);
    free(x);
    if (rc)
        return ecg_error_prefix(err, rc, "record '%s' (index %lld, window %d)", rec->id, (long long)ri, wi);
    if (o->train)
        ecg_aug_image(&o->aug, &sr, img, o->spec.height, o->spec.width, o->spec.channels);
    else if (o->cache)
        ecg_cache_store(o->cache, ri, rec->id, wi, img, count, NULL); /* a failed write only costs speed */
    return ECG_OK;
}

/* Fills batch `index` given the epoch's order. */
static int fill_batch(struct ecg_loader *L, int64_t epoch, const int64_t *order, int64_t index, struct ecg_batch *b,
                      struct ecg_error *errs, struct ecg_error *err)
{
    const int64_t bs = L->opts.batch_size;
    const int64_t total = L->epoch_samples - index * bs < bs ? L->epoch_samples - index * bs : bs;
    const int64_t shards = L->opts.shards > 1 ? L->opts.shards : 1;
    const int64_t lo = total * L->opts.shard / shards, hi = total * (L->opts.shard + 1) / shards;
    const int64_t first = index * bs + lo, count = hi - lo;
    const int64_t per = L->opts.spec.height * L->opts.spec.width * L->opts.spec.channels;
    b->epoch = epoch;
    b->index = index;
    b->count = count;
    b->first = lo;
    b->total = total;
    int failed = 0;
#pragma omp parallel for schedule(dynamic, 1) num_threads(L->opts.threads) if (L->opts.threads > 1) reduction(| : failed)
    for (int64_t k = 0; k < count; k++) {
        int64_t s = order[first + k];
        b->labels[k] = L->ds->records[L->sample_record[s]].label;
        memcpy(b->features + k * ECG_RECORD_FEATURES, L->ds->records[L->sample_record[s]].features,
               sizeof(float) * ECG_RECORD_FEATURES);
        b->records[k] = L->sample_record[s];
        b->windows[k] = L->sample_window[s];
        ecg_error_clear(&errs[k]);
        if (prepare_sample(L, epoch, s, b->images + k * per, &errs[k]))
            failed = 1;
    }
    if (failed)
        for (int64_t k = 0; k < count; k++) /* the first failing sample, whatever the schedule */
            if (errs[k].code) {
                if (err)
                    *err = errs[k];
                return errs[k].code;
            }
    return ECG_OK;
}

/* The options a loader cannot work with, named by their config keys. */
static int check_opts(const struct ecg_loader_opts *o, struct ecg_error *err)
{
    if (o->batch_size < 1 || o->batch_size > 65536)
        return ecg_error_set(err, ECG_ERR_RANGE, "%s: expected 1..65536, found %lld",
                             o->train ? "train.batch_size" : "eval.batch_size", (long long)o->batch_size);
    if (o->threads < 1 || o->threads > 256)
        return ecg_error_set(err, ECG_ERR_RANGE, "run.threads: expected 1..256 threads per batch, found %d",
                             o->threads);
    if (o->shards > 0 && (o->shard < 0 || o->shard >= o->shards))
        return ecg_error_set(err, ECG_ERR_RANGE, "loader.shard: expected 0..%d, found %d", o->shards - 1, o->shard);
    if (o->window.eval_windows < 1 || o->window.eval_windows > 1000)
        return ecg_error_set(err, ECG_ERR_RANGE, "eval.windows: expected 1..1000, found %lld",
                             (long long)o->window.eval_windows);
    if (o->max_per_class < 0)
        return ecg_error_set(err, ECG_ERR_RANGE, "train.max_per_class: expected >= 0, found %lld",
                             (long long)o->max_per_class);
    return o->train ? ecg_aug_opts_check(&o->aug, err) : ECG_OK;
}

/* L's samples: every window of the n records indices[] names (records shorter than a window are skipped),
 * each record's sampling rate checked once against the window and spectrogram. */
static int list_samples(struct ecg_loader *L, const int64_t *indices, int64_t n, struct ecg_error *err)
{
    const struct ecg_dataset *ds = L->ds;
    const struct ecg_loader_opts *o = &L->opts;
    /* Windows per record vary with eval.hop_seconds: count them before allocating. */
    int64_t capacity = 1;
    for (int64_t k = 0; k < n; k++)
        if (indices[k] >= 0 && indices[k] < ds->count)
            capacity += ecg_window_count(&o->window, ds->records[indices[k]].length, ds->records[indices[k]].fs,
                                         o->train != 0);
    L->sample_record = malloc((size_t)capacity * sizeof *L->sample_record);
    L->sample_window = malloc((size_t)capacity * sizeof *L->sample_window);
    if (!L->sample_record || !L->sample_window)
        return ecg_error_set(err, ECG_ERR_NOMEM, "loader: cannot allocate the sample list of %lld records",
                             (long long)n);
    double checked_fs = -1;
    for (int64_t k = 0; k < n; k++) {
        int64_t ri = indices[k];
        if (ri < 0 || ri >= ds->count)
            return ecg_error_set(err, ECG_ERR_RANGE, "loader: record index %lld outside the dataset of %lld records",
                                 (long long)ri, (long long)ds->count);
        const struct ecg_record *rec = &ds->records[ri];
        if (rec->fs != checked_fs) {
            struct ecg_spec_geom g;
            int64_t len = ecg_window_samples(&o->window, rec->fs);
            int rc = ecg_window_opts_check(&o->window, rec->fs, err);
            if (!rc)
                rc = ecg_spec_geometry(&o->spec, rec->fs, len, &g, err);
            if (rc)
                return ecg_error_prefix(err, rc, "record '%s' at %g Hz with %g s windows", rec->id, rec->fs,
                                        o->window.length_s);
            checked_fs = rec->fs;
        }
        if (rec->length < 1 || !rec->signal)
            return ecg_error_set(err, ECG_ERR_VALUE, "loader: record '%s' has no samples", rec->id);
        int64_t windows = ecg_window_count(&o->window, rec->length, rec->fs, o->train != 0);
        if (windows == 0)
            L->skipped++;
        for (int64_t w = 0; w < windows; w++) {
            L->sample_record[L->nsamples] = ri;
            L->sample_window[L->nsamples] = (int32_t)w;
            L->nsamples++;
        }
    }
    if (L->nsamples == 0)
        return ecg_error_set(err, ECG_ERR_VALUE,
                             "loader: no samples: %lld records given, %lld skipped as shorter than the %g s window",
                             (long long)n, (long long)L->skipped, o->window.length_s);
    if (L->skipped)
        ecg_warn("loader: %lld of %lld records are shorter than the %g s window and were skipped", (long long)L->skipped,
                 (long long)n, o->window.length_s);
    return ECG_OK;
}

/* The epoch order, the batch count and the two batches the producer fills in turn. */
static int alloc_batches(struct ecg_loader *L, struct ecg_error *err)
{
    const struct ecg_loader_opts *o = &L->opts;
    L->order = malloc((size_t)L->nsamples * sizeof *L->order);
    if (!L->order)
        return ecg_error_set(err, ECG_ERR_NOMEM, "loader: cannot allocate for %lld samples", (long long)L->nsamples);
    L->epoch_samples = epoch_order(L, 0, L->order); /* the same count every epoch */
    L->batches = o->drop_last ? L->epoch_samples / o->batch_size
                              : (L->epoch_samples + o->batch_size - 1) / o->batch_size;
    if (L->batches == 0)
        return ecg_error_set(err, ECG_ERR_VALUE, "loader: %lld samples make no full batch of %lld (drop_last)",
                             (long long)L->epoch_samples, (long long)o->batch_size);
    L->sample_err = calloc((size_t)o->batch_size, sizeof *L->sample_err);
    if (!L->sample_err)
        return ecg_error_set(err, ECG_ERR_NOMEM, "loader: cannot allocate for %lld samples", (long long)L->nsamples);
    for (int i = 0; i < 2; i++)
        ECG_TRY(ecg_batch_alloc(&L->slots[i].batch, o->batch_size, o->spec.height, o->spec.width, o->spec.channels,
                                err));
    return ECG_OK;
}

int ecg_loader_init(struct ecg_loader *L, const struct ecg_dataset *ds, const int64_t *indices, int64_t n,
                    const struct ecg_loader_opts *o, struct ecg_error *err)
{
    memset(L, 0, sizeof *L);
    pthread_mutex_init(&L->mu, NULL);
    pthread_cond_init(&L->cv, NULL);
    L->sync_ready = 1;
    L->ds = ds;
    L->opts = *o;
    int rc = check_opts(o, err);
    if (!rc)
        rc = ecg_spec_init(&L->spec, &o->spec, err);
    if (!rc)
        rc = list_samples(L, indices, n, err);
    if (!rc)
        rc = alloc_batches(L, err);
    if (rc)
        ecg_loader_free(L);
    return rc;
}

static void *producer(void *arg)
{
    struct ecg_loader *L = arg;
    pthread_mutex_lock(&L->mu);
    while (!L->stop && L->produced < L->batches) {
        struct ecg_loader_slot *slot = &L->slots[L->produced % 2];
        if (slot->state != SLOT_FREE) {
            pthread_cond_wait(&L->cv, &L->mu);
            continue;
        }
        slot->state = SLOT_FILLING;
        int64_t index = L->produced;
        pthread_mutex_unlock(&L->mu);
        ecg_error_clear(&slot->err);
        int rc = fill_batch(L, L->epoch, L->order, index, &slot->batch, L->sample_err, &slot->err);
        pthread_mutex_lock(&L->mu);
        slot->status = rc;
        slot->state = SLOT_READY;
        L->produced++;
        pthread_cond_broadcast(&L->cv);
        if (rc)
            break; /* the consumer reports it; nothing after a failed batch */
    }
    pthread_mutex_unlock(&L->mu);
    return NULL;
}

static void stop_thread(struct ecg_loader *L)
{
    if (!L->running)
        return;
    pthread_mutex_lock(&L->mu);
    L->stop = 1;
    pthread_cond_broadcast(&L->cv);
    pthread_mutex_unlock(&L->mu);
    pthread_join(L->thread, NULL);
    L->running = 0;
}

int ecg_loader_start(struct ecg_loader *L, int64_t epoch, struct ecg_error *err)
{
    ECG_ASSERT(L->order);
    stop_thread(L);
    L->stop = 0;
    L->failed = 0;
    L->epoch = epoch;
    L->produced = 0;
    L->consumed = 0;
    for (int i = 0; i < 2; i++) {
        L->slots[i].state = SLOT_FREE;
        L->slots[i].status = ECG_OK;
    }
    epoch_order(L, epoch, L->order);
    if (pthread_create(&L->thread, NULL, producer, L) != 0)
        return ecg_error_set(err, ECG_ERR_NOMEM, "loader: cannot start the prefetch thread");
    L->running = 1;
    return ECG_OK;
}

int ecg_loader_next(struct ecg_loader *L, const struct ecg_batch **out, struct ecg_error *err)
{
    *out = NULL;
    if (!L->running)
        return ecg_error_set(err, ECG_ERR_USAGE, "loader: ecg_loader_next called before ecg_loader_start");
    pthread_mutex_lock(&L->mu);
    int rc = ECG_OK;
    if (L->failed) {
        /* The failing slot keeps its status and message for every further call. */
        struct ecg_loader_slot *bad = &L->slots[(L->consumed) % 2];
        rc = bad->status;
        if (err)
            *err = bad->err;
        goto done;
    }
    /* Release the batch the caller held. */
    if (L->consumed > 0) {
        struct ecg_loader_slot *prev = &L->slots[(L->consumed - 1) % 2];
        if (prev->state == SLOT_HELD) {
            prev->state = SLOT_FREE;
            pthread_cond_broadcast(&L->cv);
        }
    }
    if (L->consumed >= L->batches)
        goto done;
    struct ecg_loader_slot *slot = &L->slots[L->consumed % 2];
    while (slot->state != SLOT_READY)
        pthread_cond_wait(&L->cv, &L->mu);
    if (slot->status) {
        L->failed = 1;
        rc = slot->status;
        if (err)
            *err = slot->err;
        goto done;
    }
    slot->state = SLOT_HELD;
    L->consumed++;
    *out = &slot->batch;
done:
    pthread_mutex_unlock(&L->mu);
    return rc;
}

int ecg_loader_get(struct ecg_loader *L, int64_t epoch, int64_t index, struct ecg_batch *out,
                   struct ecg_error *err)
{
    if (index < 0 || index >= L->batches)
        return ecg_error_set(err, ECG_ERR_RANGE, "loader: batch %lld outside 0..%lld", (long long)index,
                             (long long)L->batches - 1);
    int64_t *order = malloc((size_t)L->nsamples * sizeof *order);
    struct ecg_error *errs = calloc((size_t)L->opts.batch_size, sizeof *errs);
    int rc;
    if (!order || !errs) {
        rc = ecg_error_set(err, ECG_ERR_NOMEM, "loader: cannot allocate the sample order");
    } else {
        epoch_order(L, epoch, order);
        rc = fill_batch(L, epoch, order, index, out, errs, err);
    }
    free(order);
    free(errs);
    return rc;
}

void ecg_loader_free(struct ecg_loader *L)
{
    if (!L || !L->sync_ready)
        return;
    stop_thread(L);
    for (int i = 0; i < 2; i++)
        ecg_batch_free(&L->slots[i].batch);
    free(L->sample_record);
    free(L->sample_window);
    free(L->order);
    free(L->sample_err);
    ecg_spec_free(&L->spec);
    pthread_mutex_destroy(&L->mu);
    pthread_cond_destroy(&L->cv);
    memset(L, 0, sizeof *L);
}
