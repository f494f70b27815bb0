/* bench_data: records -> batches per second through the loader (crop, augmentation, spectrogram, batching). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/blas.h"
#include "core/error.h"
#include "core/log.h"
#include "core/rng.h"
#include "data/loader.h"
#include "data/readers.h"
#include "train/config.h"
#include "train/train.h"

/*
 * usage: bench_data [--cinc DIR] [--records N] [--threads T]
 *        bench_data --config FILE [--records N] [--threads T] [key=value ...]
 *
 * Synthetic records (30 s of ECG-like signal, like a typical CinC 2017
 * record) at 300 Hz and 1024 Hz, and with --cinc the real CinC 2017 records
 * of DIR (the first N), go through the training loader (random 10 s crop,
 * augmentation with every probability 0.5, spectrogram, masks) and the
 * evaluation loader (3 windows per record) at 128x128x3 and 224x224x3.
 * Prints samples (images) per second, the time per batch of 32 and the
 * records per second, for 1 and T (default 2) threads per batch, and the
 * images per second of CPU time (all threads), which shared machines under
 * load report more steadily than wall-clock rates.
 *
 * With --config, the pipeline of a training run instead: the config's data
 * (data.path, read and preprocessed as ecgtrain does; the first N records)
 * through its training loader (window, augmentation, spectrogram, batch size)
 * and its evaluation loader, for 1 and T threads; the first line gives the
 * shape (`shape=HxWxC batch=B`) for a training benchmark at the same size.
 */

static void synthetic(struct ecg_dataset *ds, int64_t n, double fs, struct ecg_error *err)
{
    memset(ds, 0, sizeof *ds);
    ds->task = ECG_TASK_RHYTHM;
    struct ecg_rng r = ecg_rng_init(1, 1);
    for (int64_t k = 0; k < n; k++) {
        struct ecg_record rec = {0};
        snprintf(rec.id, sizeof rec.id, "syn%05lld", (long long)k);
        rec.label = (int32_t)(k % 4);
        rec.fs = fs;
        rec.length = (int64_t)(30 * fs);
        rec.signal = malloc((size_t)rec.length * sizeof(float));
        double rr = 0.6 + 0.4 * ecg_rng_uniform(&r);
        for (int64_t i = 0; i < rec.length; i++) {
            double t = (double)i / fs, ph = fmod(t, rr) - 0.2;
            rec.signal[i] = (float)(1.2 * exp(-ph * ph / 0.0002) + 0.2 * sin(6.283 * 0.3 * t) + 0.02 * ecg_rng_normal(&r));
        }
        if (ecg_dataset_push(ds, &rec, err))
            return;
    }
}

/* One pass of a loader with options o over all of ds: one line of rates. */
static int run_loader(const char *name, const struct ecg_dataset *ds, const struct ecg_loader_opts *opts)
{
    struct ecg_loader_opts o = *opts;
    const int64_t h = o.spec.height, w = o.spec.width, ch = o.spec.channels;
    int64_t *idx = malloc((size_t)ds->count * sizeof *idx);
    for (int64_t i = 0; i < ds->count; i++)
        idx[i] = i;
    struct ecg_loader L;
    struct ecg_error err = {0};
    int rc = idx ? ecg_loader_init(&L, ds, idx, ds->count, &o, &err) : ECG_ERR_NOMEM;
    free(idx);
    if (rc) {
        fprintf(stderr, "bench_data: %s\n", rc == ECG_ERR_NOMEM && !err.msg[0] ? "out of memory" : err.msg);
        return rc;
    }
    double t0 = ecg_now();
    clock_t c0 = clock();
    int64_t samples = 0, batches = 0;
    const struct ecg_batch *b;
    if ((rc = ecg_loader_start(&L, 0, &err)) == ECG_OK)
        while ((rc = ecg_loader_next(&L, &b, &err)) == ECG_OK && b) {
            samples += b->count;
            batches++;
        }
    double dt = ecg_now() - t0, cpu = (double)(clock() - c0) / CLOCKS_PER_SEC;
    char shape[64];
    snprintf(shape, sizeof shape, "%lldx%lldx%lld", (long long)h, (long long)w, (long long)ch);
    if (rc)
        fprintf(stderr, "bench_data: %s\n", err.msg);
    else
        printf("%-24s %-5s %-11s threads %d  %7.1f images/s  %6.1f ms/batch of %lld  %7.1f records/s  "
               "%7.1f images/CPU-s\n",
               name, o.train ? "train" : "eval", shape, o.threads, (double)samples / dt, 1e3 * dt / (double)batches,
               (long long)o.batch_size, (double)ds->count / dt, (double)samples / cpu);
    ecg_loader_free(&L);
    return rc;
}

/* The fixed settings of the synthetic and --cinc runs: 3 channels, batch 32, every augmentation at 0.5. */
static int bench(const char *name, const struct ecg_dataset *ds, int64_t h, int64_t w, int train, int threads)
{
    struct ecg_loader_opts o;
    ecg_loader_opts_default(&o);
    o.batch_size = 32;
    o.train = train;
    o.shuffle = train;
    o.threads = threads;
    o.spec.height = h;
    o.spec.width = w;
    o.spec.channels = 3;
    o.spec.window_seconds = 0.25;
    o.spec.hop_seconds = 0.04;
    if (train) {
        o.aug.shift_prob = o.aug.scale_prob = o.aug.noise_prob = o.aug.wander_prob = o.aug.flip_prob = 0.5;
        o.aug.time_mask_prob = o.aug.freq_mask_prob = 0.5;
    }
    return run_loader(name, ds, &o);
}

/* --config: the run's own data and loaders, training and evaluation, at 1 and `threads` threads. */
static int bench_config(const char *path, int noverrides, char *const *overrides, long long nrec, int threads)
{
    struct ecg_config c = {0};
    struct ecg_dataset ds = {0};
    struct ecg_error err = {0};
    int rc = ecg_config_resolve(&c, path, noverrides, overrides, &err);
    double t0 = ecg_now();
    if (!rc)
        rc = ecg_prepare_dataset(&c, &ds, &err);
    if (rc) {
        fprintf(stderr, "bench_data: %s\n", err.msg);
        ecg_config_free(&c);
        return rc;
    }
    printf("read and preprocessed %lld records of %s in %.2f s\n", (long long)ds.count, c.data.path, ecg_now() - t0);
    printf("shape=%lldx%lldx%lld batch=%lld\n", (long long)c.data.spectrogram.height,
           (long long)c.data.spectrogram.width, (long long)c.data.spectrogram.channels,
           (long long)c.train.batch_size);
    const int64_t all = ds.count;
    ds.count = all < nrec ? all : nrec; /* the first N; the rest are freed with the dataset below */
    char name[64];
    snprintf(name, sizeof name, "%.40s", path);
    for (int train = 1; train >= 0 && !rc; train--)
        for (int t = 1; t <= threads && !rc; t += (threads > 1 ? threads - 1 : 1)) {
            struct ecg_loader_opts o;
            ecg_loader_opts_from_config(&c, train, &o);
            o.threads = t;
            rc = run_loader(name, &ds, &o);
        }
    ds.count = all;
    ecg_dataset_free(&ds);
    ecg_config_free(&c);
    return rc;
}

int main(int argc, char **argv)
{
    ecg_process_tune(argv);
    const char *cinc = NULL, *config = NULL;
    long long nrec = 600;
    int threads = 2, noverrides = 0;
    char **overrides = calloc((size_t)argc, sizeof *overrides);
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--cinc") && i + 1 < argc)
            cinc = argv[++i];
        else if (!strcmp(argv[i], "--config") && i + 1 < argc)
            config = argv[++i];
        else if (config && strchr(argv[i], '=') && argv[i][0] != '-' && overrides)
            overrides[noverrides++] = argv[i];
        else if (!strcmp(argv[i], "--records") && i + 1 < argc)
            nrec = atoll(argv[++i]);
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc)
            threads = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: bench_data [--cinc DIR] [--records N] [--threads T]\n"
                            "       bench_data --config FILE [--records N] [--threads T] [key=value ...]\n");
            free(overrides);
            return 2;
        }
    }
    if (nrec < 1 || threads < 1) {
        fprintf(stderr, "bench_data: --records and --threads must be positive\n");
        free(overrides);
        return 2;
    }
    if (config) {
        int rc = bench_config(config, noverrides, overrides, nrec, threads);
        free(overrides);
        return rc ? 1 : 0;
    }
    free(overrides);
    struct ecg_error err = {0};
    const int64_t sizes[2][2] = {{128, 128}, {224, 224}};
    const double rates[2] = {300.0, 1024.0};
    for (int r = 0; r < 2; r++) {
        struct ecg_dataset ds;
        synthetic(&ds, nrec / 3 > 32 ? nrec / 3 : 32, rates[r], &err);
        char name[64];
        snprintf(name, sizeof name, "synthetic 30 s @ %g Hz", rates[r]);
        for (int s = 0; s < 2; s++)
            for (int t = 1; t <= threads; t += (threads > 1 ? threads - 1 : 1)) {
                bench(name, &ds, sizes[s][0], sizes[s][1], 1, t);
                if (s == 0)
                    bench(name, &ds, sizes[s][0], sizes[s][1], 0, t);
            }
        ecg_dataset_free(&ds);
    }
    if (cinc) {
        struct ecg_dataset all = {0}, ds = {0};
        struct ecg_read_options opt;
        ecg_read_options_default(&opt);
        opt.skip_bad = ECG_BAD_SKIP;
        double t0 = ecg_now();
        if (ecg_cinc2017_read(cinc, &opt, &all, &err)) {
            fprintf(stderr, "bench_data: %s\n", err.msg);
            return 1;
        }
        printf("read %lld CinC 2017 records in %.2f s\n", (long long)all.count, ecg_now() - t0);
        /* Keep the first N: move their signals into a smaller dataset. */
        ds.task = all.task;
        ds.records = all.records;
        ds.count = all.count < nrec ? all.count : nrec;
        for (int s = 0; s < 2; s++)
            for (int t = 1; t <= threads; t += (threads > 1 ? threads - 1 : 1)) {
                bench("CinC 2017 @ 300 Hz", &ds, sizes[s][0], sizes[s][1], 1, t);
                if (s == 0)
                    bench("CinC 2017 @ 300 Hz", &ds, sizes[s][0], sizes[s][1], 0, t);
            }
        ecg_dataset_free(&all);
    }
    return 0;
}
