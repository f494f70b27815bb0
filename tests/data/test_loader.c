/* Tests of data/loader (batches, determinism, prefetch, errors) and data/cache. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "train/config.h"
#include "data/cache.h"
#include "data/loader.h"
#include "data/record.h"
#include "tests/test_util.h"

/* Records at 100 Hz: lengths 250..(250 + 37 * k) samples, a few below the 2 s window. */
static void make_dataset(struct ecg_dataset *ds, int nrec)
{
    struct ecg_error err = {0};
    memset(ds, 0, sizeof *ds);
    ds->task = ECG_TASK_RHYTHM;
    for (int k = 0; k < nrec; k++) {
        struct ecg_record r = {0};
        snprintf(r.id, sizeof r.id, "rec%02d", k);
        r.label = k % 4;
        r.fs = 100.0;
        r.length = k < 2 ? 150 : 250 + 37 * k;
        r.signal = malloc((size_t)r.length * sizeof(float));
        for (int64_t i = 0; i < r.length; i++)
            r.signal[i] = (float)(sin(0.05 * (double)i * (1 + k % 5)) + 0.2 * sin(1.3 * (double)i) + 0.01 * k);
        CU_ASSERT_EQUAL_FATAL(ecg_dataset_push(ds, &r, &err), ECG_OK);
    }
}

static void small_opts(struct ecg_loader_opts *o)
{
    ecg_loader_opts_default(o);
    o->batch_size = 4;
    o->seed = 77;
    o->window.length_s = 2.0;
    o->window.eval_windows = 3;
    o->spec.window_seconds = 0.32;
    o->spec.hop_seconds = 0.08;
    o->spec.height = 12;
    o->spec.width = 10;
    o->spec.channels = 3;
    o->aug.noise_prob = 0.5;
    o->aug.flip_prob = 0.5;
    o->aug.scale_prob = 0.5;
    o->aug.time_mask_prob = 0.5;
    o->aug.freq_mask_prob = 0.5;
}

static int64_t *all_indices(int64_t n)
{
    int64_t *idx = malloc((size_t)n * sizeof *idx);
    for (int64_t i = 0; i < n; i++)
        idx[i] = i;
    return idx;
}

static int same_batch(const struct ecg_batch *a, const struct ecg_batch *b)
{
    if (a->count != b->count || a->index != b->index)
        return 0;
    int64_t per = a->h * a->w * a->c;
    return memcmp(a->images, b->images, (size_t)(a->count * per) * sizeof(float)) == 0 &&
           memcmp(a->labels, b->labels, (size_t)a->count * sizeof(int32_t)) == 0 &&
           memcmp(a->records, b->records, (size_t)a->count * sizeof(int64_t)) == 0 &&
           memcmp(a->windows, b->windows, (size_t)a->count * sizeof(int32_t)) == 0;
}

static void evaluation_batches_hold_every_window_in_order(void)
{
    struct ecg_dataset ds;
    make_dataset(&ds, 9);
    int64_t *idx = all_indices(ds.count);
    struct ecg_loader_opts o;
    small_opts(&o);
    o.train = 0;
    o.shuffle = 0;
    struct ecg_loader L;
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL_FATAL(ecg_loader_init(&L, &ds, idx, ds.count, &o, &err), ECG_OK);
    /* 2 short records give 1 padded window each, the 7 others 3 windows: 23 samples, 6 batches. */
    CU_ASSERT_EQUAL(L.nsamples, 23);
    CU_ASSERT_EQUAL(L.batches, 6);
    CU_ASSERT_EQUAL(L.skipped, 0);
    CU_ASSERT_EQUAL_FATAL(ecg_loader_start(&L, 0, &err), ECG_OK);
    const struct ecg_batch *b;
    int64_t seen = 0, batches = 0;
    struct ecg_spec sp;
    CU_ASSERT_EQUAL_FATAL(ecg_spec_init(&sp, &o.spec, &err), ECG_OK);
    float want[12 * 10 * 3], x[200];
    while (ecg_loader_next(&L, &b, &err) == ECG_OK && b) {
        CU_ASSERT_EQUAL(b->index, batches);
        for (int64_t k = 0; k < b->count; k++, seen++) {
            const struct ecg_record *r = &ds.records[b->records[k]];
            CU_ASSERT_EQUAL(b->labels[k], r->label);
            /* The image is the spectrogram of exactly the documented window. */
            int64_t start = ecg_window_eval_start(&o.window, r->length, r->fs, b->windows[k]);
            ecg_window_extract(&o.window, r->signal, r->length, start, 200, x);
            CU_ASSERT_EQUAL_FATAL(ecg_spec_image(&sp, x, 200, 100.0, want, &err), ECG_OK);
            CU_ASSERT_EQUAL(memcmp(b->images + k * 360, want, sizeof want), 0);
        }
        batches++;
    }
    CU_ASSERT_EQUAL(seen, 23);
    CU_ASSERT_EQUAL(batches, 6);
    CU_ASSERT_EQUAL(ecg_loader_next(&L, &b, &err), ECG_OK); /* stays at the end */
    CU_ASSERT_PTR_NULL(b);
    ecg_spec_free(&sp);
    ecg_loader_free(&L);
    ecg_loader_free(&L);
    free(idx);
    ecg_dataset_free(&ds);
}

/* Collects every batch of an epoch through the prefetch thread. */
static int64_t run_epoch(struct ecg_loader *L, int64_t epoch, struct ecg_batch *copies, int max)
{
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL_FATAL(ecg_loader_start(L, epoch, &err), ECG_OK);
    const struct ecg_batch *b;
    int64_t n = 0;
    while (ecg_loader_next(L, &b, &err) == ECG_OK && b) {
        CU_ASSERT_FATAL(n < max);
        struct ecg_batch *c = &copies[n++];
        CU_ASSERT_EQUAL_FATAL(ecg_batch_alloc(c, L->opts.batch_size, b->h, b->w, b->c, &err), ECG_OK);
        int64_t per = b->h * b->w * b->c;
        memcpy(c->images, b->images, (size_t)(b->count * per) * sizeof(float));
        memcpy(c->labels, b->labels, (size_t)b->count * sizeof(int32_t));
        memcpy(c->records, b->records, (size_t)b->count * sizeof(int64_t));
        memcpy(c->windows, b->windows, (size_t)b->count * sizeof(int32_t));
        c->count = b->count;
        c->index = b->index;
        c->epoch = b->epoch;
    }
    return n;
}

static void training_batches_depend_only_on_seed_epoch_and_index(void)
{
    struct ecg_dataset ds;
    make_dataset(&ds, 14);
    int64_t *idx = all_indices(ds.count);
    struct ecg_loader_opts o;
    small_opts(&o);
    struct ecg_error err = {0};
    struct ecg_loader one, two;
    CU_ASSERT_EQUAL_FATAL(ecg_loader_init(&one, &ds, idx, ds.count, &o, &err), ECG_OK);
    o.threads = 2;
    CU_ASSERT_EQUAL_FATAL(ecg_loader_init(&two, &ds, idx, ds.count, &o, &err), ECG_OK);
    CU_ASSERT_EQUAL(one.batches, 4); /* 14 records, batch 4, last batch of 2 */
    struct ecg_batch a[8], b[8], c[8];
    for (int64_t epoch = 0; epoch < 2; epoch++) {
        int64_t na = run_epoch(&one, epoch, a, 8), nb = run_epoch(&two, epoch, b, 8);
        CU_ASSERT_EQUAL(na, 4);
        CU_ASSERT_EQUAL(nb, 4);
        int64_t records_seen[14] = {0};
        for (int64_t i = 0; i < na; i++) {
            CU_ASSERT_TRUE(same_batch(&a[i], &b[i]));
            /* The synchronous computation agrees with the prefetched one. */
            struct ecg_batch s;
            CU_ASSERT_EQUAL_FATAL(ecg_batch_alloc(&s, 4, 12, 10, 3, &err), ECG_OK);
            CU_ASSERT_EQUAL_FATAL(ecg_loader_get(&one, epoch, i, &s, &err), ECG_OK);
            CU_ASSERT_TRUE(same_batch(&a[i], &s));
            ecg_batch_free(&s);
            for (int64_t k = 0; k < a[i].count; k++)
                records_seen[a[i].records[k]]++;
        }
        CU_ASSERT_EQUAL(a[3].count, 2);
        for (int r = 0; r < 14; r++)
            CU_ASSERT_EQUAL(records_seen[r], 1);
        if (epoch == 0)
            memcpy(c, a, sizeof a); /* keep epoch 0 for the comparison below */
        else
            for (int64_t i = 0; i < na; i++)
                ecg_batch_free(&a[i]);
        for (int64_t i = 0; i < nb; i++)
            ecg_batch_free(&b[i]);
    }
    /* Epoch 1 differs from epoch 0 in order and in crops/augmentation. */
    struct ecg_batch e1;
    CU_ASSERT_EQUAL_FATAL(ecg_batch_alloc(&e1, 4, 12, 10, 3, &err), ECG_OK);
    CU_ASSERT_EQUAL_FATAL(ecg_loader_get(&one, 1, 0, &e1, &err), ECG_OK);
    CU_ASSERT_FALSE(same_batch(&c[0], &e1));
    ecg_batch_free(&e1);
    for (int i = 0; i < 4; i++)
        ecg_batch_free(&c[i]);
    ecg_loader_free(&one);
    ecg_loader_free(&two);
    free(idx);
    ecg_dataset_free(&ds);
}

static void balanced_sampling_caps_each_class_per_epoch_and_draws_anew(void)
{
    struct ecg_dataset ds;
    make_dataset(&ds, 14); /* labels k % 4: 4, 4, 3, 3 records */
    int64_t *idx = all_indices(ds.count);
    struct ecg_loader_opts o;
    small_opts(&o);
    o.max_per_class = 2;
    struct ecg_error err = {0};
    struct ecg_loader L;
    CU_ASSERT_EQUAL_FATAL(ecg_loader_init(&L, &ds, idx, ds.count, &o, &err), ECG_OK);
    CU_ASSERT_EQUAL(L.epoch_samples, 8);
    CU_ASSERT_EQUAL(L.batches, 2);
    int64_t ever[14] = {0};
    int differ = 0, first[14] = {0};
    for (int64_t epoch = 0; epoch < 8; epoch++) {
        struct ecg_batch b[4];
        CU_ASSERT_EQUAL_FATAL(run_epoch(&L, epoch, b, 4), 2);
        int per_class[4] = {0}, seen[14] = {0};
        for (int i = 0; i < 2; i++) {
            for (int64_t k = 0; k < b[i].count; k++) {
                per_class[b[i].labels[k]]++;
                seen[b[i].records[k]]++;
                ever[b[i].records[k]]++;
            }
            ecg_batch_free(&b[i]);
        }
        for (int c = 0; c < 4; c++)
            CU_ASSERT_EQUAL(per_class[c], 2);
        for (int r = 0; r < 14; r++) {
            CU_ASSERT_TRUE(seen[r] <= 1);
            if (epoch == 0)
                first[r] = seen[r];
            else
                differ |= first[r] != seen[r];
        }
    }
    CU_ASSERT_TRUE(differ); /* another subset in a later epoch */
    for (int r = 0; r < 14; r++)
        CU_ASSERT_TRUE(ever[r] > 0); /* over 8 epochs every record came */
    ecg_loader_free(&L);
    /* Evaluation is never capped. */
    o.train = 0;
    o.shuffle = 0;
    CU_ASSERT_EQUAL_FATAL(ecg_loader_init(&L, &ds, idx, ds.count, &o, &err), ECG_OK);
    CU_ASSERT_EQUAL(L.epoch_samples, L.nsamples);
    ecg_loader_free(&L);
    o.train = 1;
    o.max_per_class = -1;
    ECG_CHECK_ERROR(ecg_loader_init(&L, &ds, idx, ds.count, &o, &err), &err, ECG_ERR_RANGE,
                    "train.max_per_class: expected >= 0, found -1");
    free(idx);
    ecg_dataset_free(&ds);
}

static void a_bad_record_fails_the_epoch_with_its_name_and_never_hangs(void)
{
    struct ecg_dataset ds;
    make_dataset(&ds, 12);
    /* NaN everywhere in record 9, so every crop of it holds one. */
    for (int64_t i = 0; i < ds.records[9].length; i++)
        ds.records[9].signal[i] = NAN;
    int64_t *idx = all_indices(ds.count);
    struct ecg_loader_opts o;
    small_opts(&o);
    o.shuffle = 0;
    o.threads = 2;
    struct ecg_loader L;
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL_FATAL(ecg_loader_init(&L, &ds, idx, ds.count, &o, &err), ECG_OK);
    for (int round = 0; round < 2; round++) {
        CU_ASSERT_EQUAL_FATAL(ecg_loader_start(&L, round, &err), ECG_OK);
        const struct ecg_batch *b;
        /* Batches 0 and 1 (records 0..7) are fine; batch 2 holds record 9. */
        CU_ASSERT_EQUAL(ecg_loader_next(&L, &b, &err), ECG_OK);
        CU_ASSERT_EQUAL(ecg_loader_next(&L, &b, &err), ECG_OK);
        ECG_CHECK_ERROR(ecg_loader_next(&L, &b, &err), &err, ECG_ERR_VALUE,
                        "record 'rec09' (index 9, window 0): signal sample 0 is NaN");
        CU_ASSERT_PTR_NULL(b);
        ECG_CHECK_ERROR(ecg_loader_next(&L, &b, &err), &err, ECG_ERR_VALUE, "rec09");
    }
    /* Start an epoch and abandon it after one batch: free stops the thread. */
    CU_ASSERT_EQUAL_FATAL(ecg_loader_start(&L, 5, &err), ECG_OK);
    const struct ecg_batch *b;
    CU_ASSERT_EQUAL(ecg_loader_next(&L, &b, &err), ECG_OK);
    ecg_loader_free(&L);
    free(idx);
    ecg_dataset_free(&ds);
}

static void short_records_are_skipped_and_counted_by_policy(void)
{
    struct ecg_dataset ds;
    make_dataset(&ds, 6);
    int64_t *idx = all_indices(ds.count);
    struct ecg_loader_opts o;
    small_opts(&o);
    o.window.short_policy = ECG_SHORT_SKIP;
    struct ecg_loader L;
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL_FATAL(ecg_loader_init(&L, &ds, idx, ds.count, &o, &err), ECG_OK);
    CU_ASSERT_EQUAL(L.skipped, 2);
    CU_ASSERT_EQUAL(L.nsamples, 4);
    ecg_loader_free(&L);
    /* Only short records: no samples is an error, not an empty epoch. */
    ECG_CHECK_ERROR(ecg_loader_init(&L, &ds, idx, 2, &o, &err), &err, ECG_ERR_VALUE,
                    "no samples: 2 records given, 2 skipped as shorter than the 2 s window");
    free(idx);
    ecg_dataset_free(&ds);
}

static void bad_loader_requests_fail_with_messages(void)
{
    struct ecg_dataset ds;
    make_dataset(&ds, 4);
    int64_t idx[3] = {0, 3, 4};
    struct ecg_loader_opts o;
    struct ecg_loader L;
    struct ecg_error err = {0};
    small_opts(&o);
    ECG_CHECK_ERROR(ecg_loader_init(&L, &ds, idx, 3, &o, &err), &err, ECG_ERR_RANGE,
                    "record index 4 outside the dataset of 4 records");
    small_opts(&o);
    o.batch_size = 0;
    ECG_CHECK_ERROR(ecg_loader_init(&L, &ds, idx, 2, &o, &err), &err, ECG_ERR_RANGE,
                    "train.batch_size: expected 1..65536, found 0");
    small_opts(&o);
    o.window.length_s = 0.1; /* 10 samples: shorter than the 32-sample spectrogram window */
    ECG_CHECK_ERROR(ecg_loader_init(&L, &ds, idx, 2, &o, &err), &err, ECG_ERR_VALUE,
                    "record 'rec00' at 100 Hz with 0.1 s windows: signal of 10 samples is shorter than one "
                    "spectrogram window");
    small_opts(&o);
    o.aug.noise_prob = -1;
    ECG_CHECK_ERROR(ecg_loader_init(&L, &ds, idx, 2, &o, &err), &err, ECG_ERR_RANGE, "augment.noise_p");
    small_opts(&o);
    o.spec.fmax = 80;
    ECG_CHECK_ERROR(ecg_loader_init(&L, &ds, idx, 2, &o, &err), &err, ECG_ERR_RANGE, "Nyquist at 100 Hz");
    small_opts(&o);
    CU_ASSERT_EQUAL_FATAL(ecg_loader_init(&L, &ds, idx, 2, &o, &err), ECG_OK);
    const struct ecg_batch *b;
    ECG_CHECK_ERROR(ecg_loader_next(&L, &b, &err), &err, ECG_ERR_USAGE, "before ecg_loader_start");
    struct ecg_batch s = {0};
    ECG_CHECK_ERROR(ecg_loader_get(&L, 0, 9, &s, &err), &err, ECG_ERR_RANGE, "batch 9 outside 0..0");
    ecg_loader_free(&L);
    ecg_dataset_free(&ds);
}

static void the_cache_returns_the_same_images_and_is_keyed_by_options(void)
{
    struct ecg_dataset ds;
    make_dataset(&ds, 7);
    int64_t *idx = all_indices(ds.count);
    struct ecg_loader_opts o;
    small_opts(&o);
    o.train = 0;
    o.shuffle = 0;
    struct ecg_error err = {0};
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/spec-cache", ecg_test_tmpdir());
    struct ecg_cache cache;
    CU_ASSERT_EQUAL_FATAL(ecg_cache_init(&cache, dir, "synthetic-7", &o.spec, &o.window, &err), ECG_OK);
    struct ecg_loader plain, cached;
    CU_ASSERT_EQUAL_FATAL(ecg_loader_init(&plain, &ds, idx, ds.count, &o, &err), ECG_OK);
    o.cache = &cache;
    CU_ASSERT_EQUAL_FATAL(ecg_loader_init(&cached, &ds, idx, ds.count, &o, &err), ECG_OK);
    struct ecg_batch want[8], got[8];
    int64_t n = run_epoch(&plain, 0, want, 8);
    for (int pass = 0; pass < 2; pass++) {
        CU_ASSERT_EQUAL(run_epoch(&cached, 0, got, 8), n);
        for (int64_t i = 0; i < n; i++) {
            CU_ASSERT_TRUE(same_batch(&want[i], &got[i]));
            ecg_batch_free(&got[i]);
        }
        if (pass == 0) {
            CU_ASSERT_EQUAL(cache.hits, 0);
            CU_ASSERT_EQUAL(cache.misses, plain.nsamples);
        } else {
            CU_ASSERT_EQUAL(cache.hits, plain.nsamples);
        }
    }
    /* Other options or other data: another folder. */
    struct ecg_cache other;
    o.spec.width = 11;
    CU_ASSERT_EQUAL_FATAL(ecg_cache_init(&other, dir, "synthetic-7", &o.spec, &o.window, &err), ECG_OK);
    CU_ASSERT_NOT_EQUAL(other.key, cache.key);
    o.spec.width = 10;
    CU_ASSERT_EQUAL_FATAL(ecg_cache_init(&other, dir, "synthetic-8", &o.spec, &o.window, &err), ECG_OK);
    CU_ASSERT_NOT_EQUAL(other.key, cache.key);
    /* A damaged entry is a miss, not wrong data. */
    float img[360];
    CU_ASSERT_EQUAL(ecg_cache_load(&cache, 3, "rec03", 1, img, 360), 1);
    CU_ASSERT_EQUAL(ecg_cache_load(&cache, 3, "rec03", 1, img, 359), 0); /* wrong size */
    CU_ASSERT_EQUAL(ecg_cache_load(&cache, 3, "rec99", 1, img, 360), 0);  /* not stored */
    CU_ASSERT_EQUAL(ecg_cache_store(&cache, 3, "rec03", 1, img, 100, &err), ECG_OK);
    CU_ASSERT_EQUAL(ecg_cache_load(&cache, 3, "rec03", 1, img, 360), 0); /* truncated entry */
    char blocked[1100];
    snprintf(blocked, sizeof blocked, "%s/file", ecg_test_tmpdir());
    FILE *f = fopen(blocked, "w");
    fclose(f);
    ECG_CHECK_ERROR(ecg_cache_init(&other, blocked, "x", &o.spec, &o.window, &err), &err, ECG_ERR_IO,
                    "cache: cannot create folder");
    char ident[256];
    ECG_CHECK_ERROR(ecg_cache_identity("/nonexistent/data.h5", ident, sizeof ident, &err), &err, ECG_ERR_IO,
                    "cannot stat data '/nonexistent/data.h5'");
    for (int64_t i = 0; i < n; i++)
        ecg_batch_free(&want[i]);
    ecg_loader_free(&plain);
    ecg_loader_free(&cached);
    free(idx);
    ecg_dataset_free(&ds);
}

static void options_follow_the_run_configuration(void)
{
    struct ecg_config c;
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL_FATAL(ecg_config_defaults(&c, &err), ECG_OK);
    /* A key's value lands in the module's own field: the override is all it takes. */
    CU_ASSERT_EQUAL_FATAL(ecg_config_override(&c, "data.spectrogram.window=blackman", &err), ECG_OK);
    CU_ASSERT_EQUAL_FATAL(ecg_config_override(&c, "data.augment.scale_amount=0.25", &err), ECG_OK);
    c.eval.windows = 5;
    struct ecg_loader_opts o;
    ecg_loader_opts_from_config(&c, 1, &o);
    CU_ASSERT_EQUAL(o.train, 1);
    CU_ASSERT_EQUAL(o.shuffle, 1);
    CU_ASSERT_EQUAL(o.batch_size, c.train.batch_size);
    CU_ASSERT_EQUAL(o.seed, (uint64_t)c.run.seed);
    CU_ASSERT_EQUAL(o.spec.window, ECG_SPEC_BLACKMAN);
    CU_ASSERT_EQUAL(memcmp(&o.spec, &c.data.spectrogram, sizeof o.spec), 0);
    CU_ASSERT_EQUAL(memcmp(&o.aug, &c.data.augment, sizeof o.aug), 0);
    CU_ASSERT_DOUBLE_EQUAL(o.aug.scale_amount, 0.25, 0);
    /* Fields no key sets keep the modules' defaults. */
    CU_ASSERT_DOUBLE_EQUAL(o.spec.tukey_alpha, 0.25, 0);
    CU_ASSERT_EQUAL(o.spec.norm, ECG_SPEC_NORM_ZSCORE);
    CU_ASSERT_EQUAL(o.aug.time_mask_count, 1);
    CU_ASSERT_DOUBLE_EQUAL(o.window.length_s, c.data.window_seconds, 0);
    CU_ASSERT_EQUAL(o.window.eval_windows, 5);
    CU_ASSERT_EQUAL(o.window.pad, ECG_PAD_ZERO);
    CU_ASSERT_DOUBLE_EQUAL(o.window.eval_hop_s, 0, 0);
    CU_ASSERT_EQUAL_FATAL(ecg_config_override(&c, "data.pad=tile", &err), ECG_OK);
    CU_ASSERT_EQUAL_FATAL(ecg_config_override(&c, "eval.hop_seconds=2.5", &err), ECG_OK);
    ecg_loader_opts_from_config(&c, 1, &o);
    CU_ASSERT_EQUAL(o.window.pad, ECG_PAD_TILE);
    CU_ASSERT_DOUBLE_EQUAL(o.window.eval_hop_s, 2.5, 0);
    CU_ASSERT_EQUAL(ecg_spec_opts_check(&o.spec, c.data.sample_rate, &err), ECG_OK);
    CU_ASSERT_EQUAL(ecg_aug_opts_check(&o.aug, &err), ECG_OK);
    ecg_loader_opts_from_config(&c, 0, &o);
    CU_ASSERT_EQUAL(o.train, 0);
    CU_ASSERT_EQUAL(o.shuffle, 0);
    CU_ASSERT_EQUAL(o.batch_size, c.eval.batch_size);
    ecg_config_free(&c);
}

/* Data-parallel ranks each prepare a contiguous part of every batch; the parts, in rank order, are the
 * batch one loader prepares (the last, smaller batch included). */
static void shards_of_a_batch_are_its_contiguous_parts_in_rank_order(void)
{
    struct ecg_dataset ds;
    make_dataset(&ds, 14);
    int64_t *idx = all_indices(ds.count);
    struct ecg_loader_opts o;
    small_opts(&o);
    struct ecg_error err = {0};
    struct ecg_loader whole, part[3];
    CU_ASSERT_EQUAL_FATAL(ecg_loader_init(&whole, &ds, idx, ds.count, &o, &err), ECG_OK);
    for (int r = 0; r < 3; r++) {
        o.shard = r;
        o.shards = 3;
        CU_ASSERT_EQUAL_FATAL(ecg_loader_init(&part[r], &ds, idx, ds.count, &o, &err), ECG_OK);
        CU_ASSERT_EQUAL(part[r].batches, whole.batches);
    }
    const int64_t per = 12 * 10 * 3;
    for (int64_t i = 0; i < whole.batches; i++) {
        struct ecg_batch w, s;
        CU_ASSERT_EQUAL_FATAL(ecg_batch_alloc(&w, 4, 12, 10, 3, &err), ECG_OK);
        CU_ASSERT_EQUAL_FATAL(ecg_batch_alloc(&s, 4, 12, 10, 3, &err), ECG_OK);
        CU_ASSERT_EQUAL_FATAL(ecg_loader_get(&whole, 1, i, &w, &err), ECG_OK);
        int64_t next = 0;
        for (int r = 0; r < 3; r++) {
            CU_ASSERT_EQUAL_FATAL(ecg_loader_get(&part[r], 1, i, &s, &err), ECG_OK);
            CU_ASSERT_EQUAL(s.first, next);
            CU_ASSERT_EQUAL(s.total, w.count);
            CU_ASSERT_EQUAL(memcmp(s.images, w.images + next * per, (size_t)(s.count * per) * sizeof(float)), 0);
            CU_ASSERT_EQUAL(memcmp(s.records, w.records + next, (size_t)s.count * sizeof(int64_t)), 0);
            CU_ASSERT_EQUAL(memcmp(s.labels, w.labels + next, (size_t)s.count * sizeof(int32_t)), 0);
            next += s.count;
        }
        CU_ASSERT_EQUAL(next, w.count);
        ecg_batch_free(&w);
        ecg_batch_free(&s);
    }
    o.shard = 3;
    struct ecg_loader bad;
    ECG_CHECK_ERROR(ecg_loader_init(&bad, &ds, idx, ds.count, &o, &err), &err, ECG_ERR_RANGE,
                    "loader.shard: expected 0..2, found 3");
    for (int r = 0; r < 3; r++)
        ecg_loader_free(&part[r]);
    ecg_loader_free(&whole);
    free(idx);
    ecg_dataset_free(&ds);
}

static const struct ecg_test loader_tests[] = {
    {"evaluation batches hold every window in order", evaluation_batches_hold_every_window_in_order},
    {"training batches depend only on seed, epoch and index", training_batches_depend_only_on_seed_epoch_and_index},
    {"balanced sampling caps each class per epoch and draws anew",
     balanced_sampling_caps_each_class_per_epoch_and_draws_anew},
    {"shards of a batch are its contiguous parts in rank order", shards_of_a_batch_are_its_contiguous_parts_in_rank_order},
    {"a bad record fails the epoch with its name and never hangs", a_bad_record_fails_the_epoch_with_its_name_and_never_hangs},
    {"short records are skipped and counted by policy", short_records_are_skipped_and_counted_by_policy},
    {"bad loader requests fail with messages", bad_loader_requests_fail_with_messages},
    {"options follow the run configuration", options_follow_the_run_configuration},
    {"the cache returns the same images and is keyed by options", the_cache_returns_the_same_images_and_is_keyed_by_options},
    {NULL, NULL},
};
static const struct ecg_suite suites[] = {
    {"loader", loader_tests},
    {NULL, NULL},
};

int main(int argc, char **argv) { return ecg_test_main(argc, argv, suites); }
