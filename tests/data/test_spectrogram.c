/* Tests of data/spectrogram: scipy fixtures, the image pipeline, geometry, threads and errors. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "data/png.h"
#include "data/spectrogram.h"
#include "tests/test_util.h"

struct fcase {
    char name[64], window[16], detrend[16], norm[16];
    double fs, alpha, win_s, hop_s, fmin, fmax, lo, hi, floor;
    long long n, h, w, c, nfreq, nseg;
    int log;
};

static int read_cases(struct fcase *cases, int max)
{
    FILE *f = fopen(ecg_test_fixture("spectrogram/cases.txt"), "r");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    char line[1024];
    int n = 0;
    while (n < max && fgets(line, sizeof line, f)) {
        if (line[0] == '#')
            continue;
        struct fcase *k = &cases[n];
        int got = sscanf(line, "%63s %lf %lld %15s %lf %15s %lf %lf %lf %lf %lld %lld %lld %15s %lf %lf %d %lf %lld %lld",
                         k->name, &k->fs, &k->n, k->window, &k->alpha, k->detrend, &k->win_s, &k->hop_s, &k->fmin,
                         &k->fmax, &k->h, &k->w, &k->c, k->norm, &k->lo, &k->hi, &k->log, &k->floor, &k->nfreq,
                         &k->nseg);
        CU_ASSERT_EQUAL_FATAL(got, 20);
        n++;
    }
    fclose(f);
    return n;
}

static float *read_f32(const char *name, const char *suffix, long long count)
{
    char rel[256];
    snprintf(rel, sizeof rel, "spectrogram/%s_%s.f32", name, suffix);
    FILE *f = fopen(ecg_test_fixture(rel), "rb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    float *v = malloc((size_t)count * sizeof *v);
    CU_ASSERT_EQUAL_FATAL(fread(v, sizeof *v, (size_t)count, f), (size_t)count);
    CU_ASSERT_EQUAL(fgetc(f), EOF); /* the file holds exactly that many values */
    fclose(f);
    return v;
}

static void opts_of(const struct fcase *k, struct ecg_spec_opts *o)
{
    struct ecg_error err = {0};
    ecg_spec_opts_default(o);
    CU_ASSERT_EQUAL_FATAL(ecg_spec_window_parse("window", k->window, &o->window, &err), ECG_OK);
    CU_ASSERT_EQUAL_FATAL(ecg_spec_detrend_parse("detrend", k->detrend, &o->detrend, &err), ECG_OK);
    CU_ASSERT_EQUAL_FATAL(ecg_spec_norm_parse("norm", k->norm, &o->norm, &err), ECG_OK);
    o->tukey_alpha = k->alpha;
    o->window_seconds = k->win_s;
    o->hop_seconds = k->hop_s;
    o->fmin = k->fmin;
    o->fmax = k->fmax;
    o->height = k->h;
    o->width = k->w;
    o->channels = k->c;
    o->norm_lo = k->lo;
    o->norm_hi = k->hi;
    o->log = k->log;
    o->log_floor = k->floor;
}

static void power_matches_scipy_spectrogram_for_every_fixture(void)
{
    struct fcase cases[8];
    int nc = read_cases(cases, 8);
    CU_ASSERT_EQUAL(nc, 5);
    for (int i = 0; i < nc; i++) {
        const struct fcase *k = &cases[i];
        struct ecg_spec_opts o;
        opts_of(k, &o);
        struct ecg_spec s;
        struct ecg_error err = {0};
        CU_ASSERT_EQUAL_FATAL(ecg_spec_init(&s, &o, &err), ECG_OK);
        struct ecg_spec_geom g;
        CU_ASSERT_EQUAL_FATAL(ecg_spec_geometry(&o, k->fs, k->n, &g, &err), ECG_OK);
        CU_ASSERT_EQUAL(g.nfreq, k->nfreq);
        CU_ASSERT_EQUAL(g.nseg, k->nseg);
        float *x = read_f32(k->name, "signal", k->n);
        float *want = read_f32(k->name, "power", k->nfreq * k->nseg);
        float *got = malloc((size_t)(k->nfreq * k->nseg) * sizeof *got);
        CU_ASSERT_EQUAL_FATAL(ecg_spec_power(&s, x, k->n, k->fs, got, &err), ECG_OK);
        float peak = 0;
        for (long long j = 0; j < k->nfreq * k->nseg; j++)
            peak = want[j] > peak ? want[j] : peak;
        /* rtol 1e-4; atol covers float32 rounding in bins 1e6 below the peak. */
        ECG_CHECK_CLOSE(k->name, got, want, k->nfreq * k->nseg, 1e-4, 1e-6 * peak);
        free(x);
        free(want);
        free(got);
        ecg_spec_free(&s);
    }
}

static void image_pipeline_matches_the_numpy_model(void)
{
    struct fcase cases[8];
    int nc = read_cases(cases, 8);
    for (int i = 0; i < nc; i++) {
        const struct fcase *k = &cases[i];
        struct ecg_spec_opts o;
        opts_of(k, &o);
        struct ecg_spec s;
        struct ecg_error err = {0};
        CU_ASSERT_EQUAL_FATAL(ecg_spec_init(&s, &o, &err), ECG_OK);
        float *x = read_f32(k->name, "signal", k->n);
        long long m = k->h * k->w * k->c;
        float *want = read_f32(k->name, "image", m);
        float *got = malloc((size_t)m * sizeof *got);
        CU_ASSERT_EQUAL_FATAL(ecg_spec_image(&s, x, k->n, k->fs, got, &err), ECG_OK);
        double amax = 0;
        for (long long j = 0; j < m; j++)
            amax = fabs(want[j]) > amax ? fabs(want[j]) : amax;
        ECG_CHECK_CLOSE(k->name, got, want, m, 1e-4, 1e-4 * (amax > 1 ? amax : 1));
        free(x);
        free(want);
        free(got);
        ecg_spec_free(&s);
    }
}

static void one_config_in_seconds_works_at_300_and_1024_hz(void)
{
    struct ecg_spec_opts o;
    ecg_spec_opts_default(&o);
    struct ecg_spec_geom a, b;
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL(ecg_spec_geometry(&o, 300.0, 3000, &a, &err), ECG_OK);
    CU_ASSERT_EQUAL(ecg_spec_geometry(&o, 1024.0, 10240, &b, &err), ECG_OK);
    CU_ASSERT_EQUAL(a.nperseg, 150);
    CU_ASSERT_EQUAL(a.hop, 15);
    CU_ASSERT_EQUAL(a.nseg, 191);
    CU_ASSERT_EQUAL(b.nperseg, 512);
    CU_ASSERT_EQUAL(b.hop, 51);
    CU_ASSERT_EQUAL(b.nseg, (10240 - 512) / 51 + 1);
    /* 0..50 Hz: bins 0..25 at 2 Hz spacing (300 Hz) and 0..25 at 2 Hz spacing (1024 Hz). */
    CU_ASSERT_EQUAL(a.bin_lo, 0);
    CU_ASSERT_EQUAL(a.bin_hi, 26);
    CU_ASSERT_EQUAL(b.bin_hi, 26);
}

static void windows_follow_their_definitions(void)
{
    float w[16], h[16];
    ecg_spec_window_fill(ECG_SPEC_HANN, 0, 16, h);
    CU_ASSERT_DOUBLE_EQUAL(h[0], 0.0, 1e-7);
    CU_ASSERT_DOUBLE_EQUAL(h[8], 1.0, 1e-7); /* periodic: the peak is at n/2 */
    CU_ASSERT_DOUBLE_EQUAL(h[4], 0.5, 1e-6);
    ecg_spec_window_fill(ECG_SPEC_TUKEY, 1.0, 16, w);
    ECG_CHECK_CLOSE("tukey(1) is hann", w, h, 16, 0, 1e-6);
    ecg_spec_window_fill(ECG_SPEC_TUKEY, 0.0, 16, w);
    for (int i = 0; i < 16; i++)
        CU_ASSERT_EQUAL(w[i], 1.0f);
    ecg_spec_window_fill(ECG_SPEC_HAMMING, 0, 16, w);
    CU_ASSERT_DOUBLE_EQUAL(w[0], 0.08, 1e-6);
}

/* Row of the brightest value in a (h, w, 1) image, summed over time. */
static int64_t brightest_row(const float *img, int64_t h, int64_t w)
{
    int64_t best = 0;
    double bestv = -INFINITY;
    for (int64_t y = 0; y < h; y++) {
        double s = 0;
        for (int64_t x = 0; x < w; x++)
            s += img[y * w + x];
        if (s > bestv) {
            bestv = s;
            best = y;
        }
    }
    return best;
}

static void low_frequencies_are_at_the_bottom_of_the_image(void)
{
    struct ecg_spec_opts o;
    ecg_spec_opts_default(&o);
    o.height = 50;
    o.width = 20;
    o.channels = 1;
    o.fmin = 0;
    o.fmax = 50;
    struct ecg_spec s;
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL_FATAL(ecg_spec_init(&s, &o, &err), ECG_OK);
    const int64_t n = 3000;
    float *x = malloc(n * sizeof *x), img[50 * 20];
    for (int f = 5; f <= 40; f += 35) {
        for (int64_t i = 0; i < n; i++)
            x[i] = (float)sin(2 * 3.141592653589793 * f * (double)i / 300.0);
        CU_ASSERT_EQUAL_FATAL(ecg_spec_image(&s, x, n, 300.0, img, &err), ECG_OK);
        int64_t row = brightest_row(img, 50, 20);
        /* Row r covers frequency 50 * (49.5 - r) / 50 Hz. */
        CU_ASSERT_TRUE(llabs(row - (int64_t)(49.5 - f)) <= 1);
    }
    free(x);
    ecg_spec_free(&s);
}

static void channels_are_replicated_and_zscore_has_unit_variance(void)
{
    struct ecg_spec_opts o;
    ecg_spec_opts_default(&o);
    o.height = 16;
    o.width = 12;
    struct ecg_spec s;
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL_FATAL(ecg_spec_init(&s, &o, &err), ECG_OK);
    float x[2000], img[16 * 12 * 3];
    for (int i = 0; i < 2000; i++)
        x[i] = (float)(sin(i * 0.1) + 0.3 * sin(i * 0.77) * (i > 1000));
    CU_ASSERT_EQUAL_FATAL(ecg_spec_image(&s, x, 2000, 300.0, img, &err), ECG_OK);
    double sum = 0, sq = 0;
    for (int i = 0; i < 16 * 12; i++) {
        CU_ASSERT_EQUAL(img[3 * i], img[3 * i + 1]);
        CU_ASSERT_EQUAL(img[3 * i], img[3 * i + 2]);
        sum += img[3 * i];
        sq += img[3 * i] * img[3 * i];
    }
    CU_ASSERT_DOUBLE_EQUAL(sum / 192, 0.0, 1e-5);
    CU_ASSERT_DOUBLE_EQUAL(sq / 192, 1.0, 1e-4);
    ecg_spec_free(&s);
}

struct thread_job {
    struct ecg_spec *s;
    const float *x;
    float *out;
    int rc;
};

static void *run_job(void *arg)
{
    struct thread_job *j = arg;
    j->rc = ecg_spec_image(j->s, j->x, 4000, 300.0, j->out, NULL);
    return NULL;
}

static void one_engine_gives_identical_images_from_several_threads(void)
{
    struct ecg_spec_opts o;
    ecg_spec_opts_default(&o);
    o.height = 32;
    o.width = 32;
    struct ecg_spec s;
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL_FATAL(ecg_spec_init(&s, &o, &err), ECG_OK);
    enum { T = 4, M = 32 * 32 * 3 };
    float *x = malloc(4000 * sizeof *x), *serial = malloc(T * M * sizeof(float)), *par = malloc(T * M * sizeof(float));
    for (int i = 0; i < 4000; i++)
        x[i] = (float)sin(i * 0.05) + (float)((i * 7919) % 13) * 0.01f;
    /* Threads start with no plan cached, so they race to create it. */
    pthread_t th[T];
    struct thread_job jobs[T];
    for (int t = 0; t < T; t++) {
        jobs[t] = (struct thread_job){&s, x, par + t * M, -1};
        pthread_create(&th[t], NULL, run_job, &jobs[t]);
    }
    for (int t = 0; t < T; t++) {
        pthread_join(th[t], NULL);
        CU_ASSERT_EQUAL(jobs[t].rc, ECG_OK);
    }
    CU_ASSERT_EQUAL(s.nplans, 1);
    for (int t = 0; t < T; t++)
        CU_ASSERT_EQUAL(ecg_spec_image(&s, x, 4000, 300.0, serial + t * M, &err), ECG_OK);
    CU_ASSERT_EQUAL(memcmp(serial, par, T * M * sizeof(float)), 0);
    free(x);
    free(serial);
    free(par);
    ecg_spec_free(&s);
    ecg_spec_free(&s); /* freeing twice (a zeroed struct) is a no-op */
}

static void bad_options_and_signals_fail_with_messages(void)
{
    struct ecg_spec_opts o;
    struct ecg_error err = {0};
    ecg_spec_opts_default(&o);
    o.window_seconds = 0.001;
    ECG_CHECK_ERROR(ecg_spec_opts_check(&o, 300.0, &err), &err, ECG_ERR_RANGE,
                    "data.spectrogram.window_seconds: expected a window of at least 2 samples at 300 Hz");
    ecg_spec_opts_default(&o);
    o.hop_seconds = 1.0;
    ECG_CHECK_ERROR(ecg_spec_opts_check(&o, 300.0, &err), &err, ECG_ERR_RANGE, "data.spectrogram.hop_seconds");
    ecg_spec_opts_default(&o);
    o.fmax = 200;
    ECG_CHECK_ERROR(ecg_spec_opts_check(&o, 300.0, &err), &err, ECG_ERR_RANGE, "fmax <= 150 Hz");
    ecg_spec_opts_default(&o);
    o.channels = 2;
    ECG_CHECK_ERROR(ecg_spec_opts_check(&o, 300.0, &err), &err, ECG_ERR_RANGE, "expected 1 or 3, found 2");
    ecg_spec_opts_default(&o);
    o.log_floor = 0;
    ECG_CHECK_ERROR(ecg_spec_opts_check(&o, 300.0, &err), &err, ECG_ERR_RANGE, "data.spectrogram.log_floor");
    ecg_spec_opts_default(&o);
    o.norm = ECG_SPEC_NORM_RANGE;
    o.norm_lo = 1;
    o.norm_hi = 0;
    ECG_CHECK_ERROR(ecg_spec_opts_check(&o, 300.0, &err), &err, ECG_ERR_RANGE, "lo < hi");
    ecg_spec_opts_default(&o);
    o.fmin = 10.2;
    o.fmax = 11.0;
    struct ecg_spec_geom g;
    ECG_CHECK_ERROR(ecg_spec_geometry(&o, 300.0, 3000, &g, &err), &err, ECG_ERR_RANGE, "holds no frequency bin");
    ecg_spec_opts_default(&o);
    ECG_CHECK_ERROR(ecg_spec_geometry(&o, 0.0, 3000, &g, &err), &err, ECG_ERR_RANGE, "sampling rate");
    enum ecg_spec_window w;
    ECG_CHECK_ERROR(ecg_spec_window_parse("spectrogram.window", "kaiser", &w, &err), &err, ECG_ERR_CONFIG,
                    "spectrogram.window: expected one of hann, hamming, blackman, tukey, boxcar, found 'kaiser'");

    struct ecg_spec s;
    CU_ASSERT_EQUAL_FATAL(ecg_spec_init(&s, &o, &err), ECG_OK);
    float x[400] = {0}, img[128 * 128 * 3];
    ECG_CHECK_ERROR(ecg_spec_image(&s, x, 100, 300.0, img, &err), &err, ECG_ERR_VALUE,
                    "signal of 100 samples is shorter than one spectrogram window (150 samples");
    x[77] = NAN;
    ECG_CHECK_ERROR(ecg_spec_image(&s, x, 400, 300.0, img, &err), &err, ECG_ERR_VALUE, "sample 77 is NaN");
    ecg_spec_free(&s);
}

static void a_flat_signal_gives_a_zero_image_not_nan(void)
{
    struct ecg_spec_opts o;
    ecg_spec_opts_default(&o);
    o.height = 8;
    o.width = 8;
    o.channels = 1;
    struct ecg_spec s;
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL_FATAL(ecg_spec_init(&s, &o, &err), ECG_OK);
    float x[600], img[64];
    for (int i = 0; i < 600; i++)
        x[i] = 0.7f;
    CU_ASSERT_EQUAL_FATAL(ecg_spec_image(&s, x, 600, 300.0, img, &err), ECG_OK);
    for (int i = 0; i < 64; i++)
        CU_ASSERT_EQUAL(img[i], 0.0f);
    ecg_spec_free(&s);
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void png_files_decode_to_the_pixels_written(void)
{
    for (int channels = 1; channels <= 3; channels += 2) {
        enum { H = 5, W = 7 };
        uint8_t px[H * W * 3];
        for (int i = 0; i < H * W * channels; i++)
            px[i] = (uint8_t)(i * 37 + 11);
        char path[1024];
        snprintf(path, sizeof path, "%s/t%d.png", ecg_test_tmpdir(), channels);
        struct ecg_error err = {0};
        CU_ASSERT_EQUAL_FATAL(ecg_png_write(path, px, H, W, channels, &err), ECG_OK);
        FILE *f = fopen(path, "rb");
        CU_ASSERT_PTR_NOT_NULL_FATAL(f);
        unsigned char buf[4096];
        size_t n = fread(buf, 1, sizeof buf, f);
        fclose(f);
        CU_ASSERT_EQUAL(memcmp(buf, "\x89PNG\r\n\x1a\n", 8), 0);
        /* IHDR: length 13, size, depth 8, colour type 0 or 2, and its CRC. */
        CU_ASSERT_EQUAL(be32(buf + 8), 13);
        CU_ASSERT_EQUAL(memcmp(buf + 12, "IHDR", 4), 0);
        CU_ASSERT_EQUAL(be32(buf + 16), W);
        CU_ASSERT_EQUAL(be32(buf + 20), H);
        CU_ASSERT_EQUAL(buf[24], 8);
        CU_ASSERT_EQUAL(buf[25], channels == 3 ? 2 : 0);
        CU_ASSERT_EQUAL(be32(buf + 29), (uint32_t)crc32(crc32(0, NULL, 0), buf + 12, 17));
        /* IDAT inflates to filter byte 0 + the row, for every row. */
        CU_ASSERT_EQUAL(memcmp(buf + 37, "IDAT", 4), 0);
        uint32_t zlen = be32(buf + 33);
        CU_ASSERT_TRUE_FATAL(41 + zlen + 4 + 12 == n); /* then its CRC and IEND */
        CU_ASSERT_EQUAL(memcmp(buf + n - 8, "IEND", 4), 0);
        unsigned char raw[H * (W * 3 + 1)];
        uLongf rlen = sizeof raw;
        CU_ASSERT_EQUAL_FATAL(uncompress(raw, &rlen, buf + 41, zlen), Z_OK);
        CU_ASSERT_EQUAL(rlen, (uLongf)(H * (W * channels + 1)));
        for (int y = 0; y < H; y++) {
            CU_ASSERT_EQUAL(raw[y * (W * channels + 1)], 0);
            CU_ASSERT_EQUAL(memcmp(raw + y * (W * channels + 1) + 1, px + y * W * channels, W * channels), 0);
        }
    }
    struct ecg_error err = {0};
    uint8_t one[3] = {0};
    ECG_CHECK_ERROR(ecg_png_write("/nonexistent-dir/x.png", one, 1, 1, 3, &err), &err, ECG_ERR_IO,
                    "/nonexistent-dir/x.png: cannot create the PNG");
    ECG_CHECK_ERROR(ecg_png_write("x.png", one, 1, 1, 2, &err), &err, ECG_ERR_RANGE, "1 or 3 channels");
}

static const struct ecg_test png_tests[] = {
    {"PNG files decode to the pixels written", png_files_decode_to_the_pixels_written},
    {NULL, NULL},
};

static const struct ecg_test spec_tests[] = {
    {"the power matches scipy.signal.spectrogram for every fixture", power_matches_scipy_spectrogram_for_every_fixture},
    {"the image pipeline matches the numpy model", image_pipeline_matches_the_numpy_model},
    {"one config in seconds works at 300 and 1024 Hz", one_config_in_seconds_works_at_300_and_1024_hz},
    {"windows follow their definitions", windows_follow_their_definitions},
    {"low frequencies are at the bottom of the image", low_frequencies_are_at_the_bottom_of_the_image},
    {"channels are replicated and z-score has unit variance", channels_are_replicated_and_zscore_has_unit_variance},
    {"one engine gives identical images from several threads", one_engine_gives_identical_images_from_several_threads},
    {"bad options and signals fail with messages", bad_options_and_signals_fail_with_messages},
    {"a flat signal gives a zero image, not NaN", a_flat_signal_gives_a_zero_image_not_nan},
    {NULL, NULL},
};
static const struct ecg_suite suites[] = {
    {"spectrogram", spec_tests},
    {"png", png_tests},
    {NULL, NULL},
};

int main(int argc, char **argv) { return ecg_test_main(argc, argv, suites); }
