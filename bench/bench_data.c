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

/*
 * usage: bench_data [--cinc DIR] [--records N] [--threads T]
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
    int64_t *idx = malloc((size_t)ds->count * sizeof *idx);
    for (int64_t i = 0; i < ds->count; i++)
        idx[i] = i;
    struct ecg_loader L;
    struct ecg_error err = {0};
    int rc = ecg_loader_init(&L, ds, idx, ds->count, &o, &err);
    free(idx);
    if (rc) {
        fprintf(stderr, "bench_data: %s\n", err.msg);
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
    if (rc)
        fprintf(stderr, "bench_data: %s\n", err.msg);
    else
        printf("%-24s %-5s %3lldx%-3lldx3  threads %d  %7.1f images/s  %6.1f ms/batch of 32  %7.1f records/s  "
               "%7.1f images/CPU-s\n",
               name, train ? "train" : "eval", (long long)h, (long long)w, threads, (double)samples / dt,
               1e3 * dt / (double)batches, (double)ds->count / dt, (double)samples / cpu);
    ecg_loader_free(&L);
    return rc;
}

int main(int argc, char **argv)
{
    ecg_process_tune(argv);
    const char *cinc = NULL;
    long long nrec = 600;
    int threads = 2;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--cinc") && i + 1 < argc)
            cinc = argv[++i];
        else if (!strcmp(argv[i], "--records") && i + 1 < argc)
            nrec = atoll(argv[++i]);
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc)
            threads = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: bench_data [--cinc DIR] [--records N] [--threads T]\n");
            return 2;
        }
    }
    if (nrec < 1 || threads < 1) {
        fprintf(stderr, "bench_data: --records and --threads must be positive\n");
        return 2;
    }
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
