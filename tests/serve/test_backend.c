/* The deterministic model double: linear resampling, fixed features, fixed softmax scores. */
#include "tests/serve/test_backend.h"

#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FS 300.0
#define WIN 2700 /* 9 s at 300 Hz */
#define H 16
#define W 32
#define C 3
#define NCLASS 4

static const char *const class_names[NCLASS] = {"AF", "NSR", "Noise", "Other"};
static atomic_long calls;
static int delay;

static const char card[] =
    "{\"name\":\"test-model\",\"classes\":[\"AF\",\"NSR\",\"Noise\",\"Other\"],"
    "\"preprocessing\":{\"fs\":300,\"window_s\":9},\"training_data\":\"none (a test double)\","
    "\"metrics\":{}}";

static void *context_new(void *model)
{
    return malloc(1);
}

static void context_free(void *ctx)
{
    free(ctx);
}

/* Linear interpolation to 300 Hz. */
static float *resample(const float *x, int64_t n, double fs, int64_t *out_n)
{
    int64_t m = (int64_t)floor((double)(n - 1) * FS / fs) + 1;
    float *y = malloc((size_t)m * sizeof *y);
    if (!y)
        return NULL;
    for (int64_t i = 0; i < m; i++) {
        double t = (double)i * fs / FS;
        int64_t k = (int64_t)t;
        double f = t - (double)k;
        y[i] = k + 1 < n ? (float)((1 - f) * x[k] + f * x[k + 1]) : x[n - 1];
    }
    *out_n = m;
    return y;
}

static int prepare(void *model, void *ctx, const float *mv, int64_t length, double fs,
                   struct ecg_serve_prepared *out, struct ecg_error *err)
{
    memset(out, 0, sizeof *out);
    int64_t n;
    float *y = resample(mv, length, fs, &n);
    if (!y)
        return ecg_error_set(err, ECG_ERR_NOMEM, "out of memory");
    int64_t nw = n / WIN;
    if (nw < 1) {
        free(y);
        return ecg_error_set(err, ECG_ERR_VALUE, "%lld samples at 300 Hz, expected at least %d", (long long)n,
                             WIN);
    }
    out->inputs = malloc((size_t)(nw * H * W * C) * sizeof(float));
    out->window_start_s = malloc((size_t)nw * sizeof(double));
    if (!out->inputs || !out->window_start_s) {
        free(y);
        ecg_serve_prepared_free(out);
        return ecg_error_set(err, ECG_ERR_NOMEM, "out of memory");
    }
    for (int64_t w = 0; w < nw; w++) {
        out->window_start_s[w] = (double)(w * WIN) / FS;
        const float *x = y + w * WIN;
        for (int col = 0; col < W; col++) {
            double e = 0;
            for (int k = col * (WIN / W); k < (col + 1) * (WIN / W); k++)
                e += fabs(x[k]);
            e /= WIN / W;
            for (int row = 0; row < H; row++)
                for (int c = 0; c < C; c++)
                    out->inputs[((w * H + row) * W + col) * C + c] = (float)(e * (row + 1) / H);
        }
    }
    out->windows = nw;
    out->signal = y;
    out->signal_length = n;
    out->signal_fs = FS;
    return ECG_OK;
}

static int classify(void *model, void *ctx, const float *inputs, const float *context, int64_t count, float *probs,
                    float *cam, struct ecg_error *err)
{
    (void)context; /* context_c is 0 */
    if (delay > 0) {
        struct timespec ts = {delay / 1000, (long)(delay % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
    atomic_fetch_add(&calls, 1);
    for (int64_t w = 0; w < count; w++) {
        const float *in = inputs + w * H * W * C;
        double z[NCLASS] = {0}, zmax = -INFINITY, sum = 0;
        for (int i = 0; i < H * W * C; i++)
            for (int c = 0; c < NCLASS; c++)
                z[c] += in[i] * sin(0.37 * (i + 1) * (c + 1));
        for (int c = 0; c < NCLASS; c++)
            zmax = z[c] > zmax ? z[c] : zmax;
        for (int c = 0; c < NCLASS; c++)
            sum += exp(z[c] - zmax);
        for (int c = 0; c < NCLASS; c++)
            probs[w * NCLASS + c] = (float)(exp(z[c] - zmax) / sum);
        if (cam)
            for (int r = 0; r < 4; r++)
                for (int q = 0; q < 8; q++)
                    cam[w * 32 + r * 8 + q] = (float)((r + q) % 5) / 4.0f;
    }
    return ECG_OK;
}

void ecg_test_backend_init(struct ecg_serve_backend *be, int delay_ms)
{
    memset(be, 0, sizeof *be);
    delay = delay_ms;
    be->model = (void *)card;
    be->info = (struct ecg_serve_model_info){.name = "test-model",
                                             .nclass = NCLASS,
                                             .class_names = class_names,
                                             .fs = FS,
                                             .window_s = 9.0,
                                             .min_s = 9.0,
                                             .max_s = 61.0,
                                             .input_h = H,
                                             .input_w = W,
                                             .input_c = C,
                                             .cam_h = 4,
                                             .cam_w = 8,
                                             .card_json = card};
    be->context_new = context_new;
    be->context_free = context_free;
    be->prepare = prepare;
    be->classify = classify;
}

long ecg_test_backend_calls(void)
{
    return atomic_load(&calls);
}
