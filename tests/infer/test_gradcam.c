/* Tests of Grad-CAM: the head's gradient against finite differences, the maps against their definition. */
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "infer/infer_internal.h"
#include "tests/test_util.h"

enum { K = 4, WINDOWS = 3 };

static const char *source(const char *relative)
{
    static char bufs[4][1024];
    static int next;
    char *b = bufs[next++ % 4];
    const char *root = getenv("ECG_SOURCE_ROOT");
    snprintf(b, sizeof bufs[0], "%s/%s", root ? root : ".", relative);
    return b;
}

/* The shipped model (its own configuration) on 96 x 160 spectrograms, so that the top activation is a 3 x 5
 * grid, and three 4 s windows per record instead of its whole-record tiling, so that a 10 s fixture record has
 * three. */
static struct ecg_infer_model *load_model(void)
{
    char *overrides[] = {"data.spectrogram.height=96", "data.spectrogram.width=160", "data.window_seconds=4",
                         "eval.hop_seconds=0",         "eval.windows=3",             "eval.batch_size=4",
                         "run.log_level=warn"};
    struct ecg_infer_model *m = NULL;
    struct ecg_error err = {0};
    if (ecg_infer_model_load(source("weights/ecg_effb0_cinc2017.h5"), NULL, 7, overrides, &m, &err))
        fprintf(stderr, "\n  %s\n", err.msg);
    return m;
}

/* A fixture CinC record (an AF episode) prepared into its windows. */
static struct ecg_infer_result *prepare_record(const struct ecg_infer_model *m)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/A00592.mat", ecg_test_fixture("data/cinc2017"));
    struct ecg_infer_result *r = NULL;
    int64_t n = 0;
    struct ecg_error err = {0};
    if (ecg_infer_prepare_file(m, path, NULL, 0, &r, &n, &err) || n != 1) {
        fprintf(stderr, "\n  %s\n", err.msg);
        return NULL;
    }
    return r;
}

/* Logit c of one window from its top activation a (hw, ch), in double: global average pooling, then dense. */
static double head_logit(const struct ecg_effnet *net, const double *a, int64_t hw, int c)
{
    const struct ecg_params *p = net->params;
    const float *kernel = ecg_params_value(p, ecg_params_find(p, "predictions/kernel"));
    const float *bias = ecg_params_value(p, ecg_params_find(p, "predictions/bias"));
    const int64_t ch = net->num_features;
    double z = bias[c];
    for (int64_t k = 0; k < ch; k++) {
        double mean = 0;
        for (int64_t q = 0; q < hw; q++)
            mean += a[q * ch + k];
        z += kernel[k * K + c] * (mean / (double)hw);
    }
    return z;
}

static int argmax(const float *z)
{
    int best = 0;
    for (int j = 1; j < K; j++)
        if (z[j] > z[best])
            best = j;
    return best;
}

/* The network run on the record's windows, with everything the checks need. */
struct run {
    struct ecg_infer_model *m;
    struct ecg_infer_context *ctx;
    struct ecg_infer_result *r;
    float probs[WINDOWS * K];
    float *cam;
    const float *a; /* top activation of the last forward */
    int64_t th, tw;
};

static bool run_open(struct run *x)
{
    memset(x, 0, sizeof *x);
    struct ecg_error err = {0};
    if (!(x->m = load_model()) || ecg_infer_context_init(x->m, &x->ctx, &err) ||
        !(x->r = prepare_record(x->m)))
        return false;
    if (x->r->windows != WINDOWS) {
        fprintf(stderr, "\n  %lld windows, expected %d\n", (long long)x->r->windows, WINDOWS);
        return false;
    }
    x->cam = malloc((size_t)(WINDOWS * x->r->height * x->r->width) * sizeof *x->cam);
    if (!x->cam || ecg_infer_classify_images(x->ctx, x->r->images, WINDOWS, x->probs, x->cam, &err)) {
        fprintf(stderr, "\n  %s\n", err.msg);
        return false;
    }
    x->a = ecg_effnet_top_activation(&x->ctx->net, &x->th, &x->tw);
    return true;
}

static void run_close(struct run *x)
{
    free(x->cam);
    ecg_infer_results_free(x->r, x->r ? 1 : 0);
    ecg_infer_context_free(x->ctx);
    ecg_infer_model_free(x->m);
}

/* One window's top activation in double. */
static double *window_activation(const struct run *x, int64_t w)
{
    const int64_t per = x->th * x->tw * x->ctx->net.num_features;
    double *a = malloc((size_t)per * sizeof *a);
    for (int64_t i = 0; a && i < per; i++)
        a[i] = x->a[w * per + i];
    return a;
}

static void the_top_activation_is_what_the_head_reads(void)
{
    struct run x;
    CU_ASSERT_TRUE_FATAL(run_open(&x));
    CU_ASSERT_TRUE(x.th == 3 && x.tw == 5);
    double want[WINDOWS * K], got[WINDOWS * K];
    for (int64_t w = 0; w < WINDOWS; w++) {
        double *a = window_activation(&x, w);
        CU_ASSERT_PTR_NOT_NULL_FATAL(a);
        for (int c = 0; c < K; c++) {
            want[w * K + c] = x.ctx->net.logits[w * K + c];
            got[w * K + c] = head_logit(&x.ctx->net, a, x.th * x.tw, c);
        }
        free(a);
    }
    CU_ASSERT_TRUE(
        ecg_test_close_double("logits from the top activation", got, want, WINDOWS * K, 1e-4, 1e-4));
    run_close(&x);
}

static void the_head_gradient_equals_finite_differences_of_the_logit(void)
{
    struct run x;
    CU_ASSERT_TRUE_FATAL(run_open(&x));
    const struct ecg_effnet *net = &x.ctx->net;
    const int64_t ch = net->num_features, hw = x.th * x.tw, per = hw * ch;
    float dlogits[WINDOWS * K] = {0};
    for (int w = 0; w < WINDOWS; w++)
        dlogits[w * K + argmax(net->logits + w * K)] = 1.0f;
    float *dfeat = malloc((size_t)(WINDOWS * ch) * sizeof *dfeat);
    float *dtop = malloc((size_t)(WINDOWS * per) * sizeof *dtop);
    CU_ASSERT_TRUE_FATAL(dfeat && dtop);
    ecg_effnet_head_backward(net, dlogits, WINDOWS, dfeat, dtop);
    enum { SAMPLES = 64 };
    double fd[WINDOWS * SAMPLES], an[WINDOWS * SAMPLES];
    const double h = 1e-2;
    for (int64_t w = 0; w < WINDOWS; w++) {
        double *a = window_activation(&x, w);
        CU_ASSERT_PTR_NOT_NULL_FATAL(a);
        int c = argmax(net->logits + w * K);
        for (int s = 0; s < SAMPLES; s++) {
            int64_t i = (int64_t)((uint64_t)(s + 1) * 2654435761u % (uint64_t)per);
            double keep = a[i];
            a[i] = keep + h;
            double up = head_logit(net, a, hw, c);
            a[i] = keep - h;
            double down = head_logit(net, a, hw, c);
            a[i] = keep;
            fd[w * SAMPLES + s] = (up - down) / (2 * h);
            an[w * SAMPLES + s] = dtop[w * per + i];
        }
        free(a);
    }
    CU_ASSERT_TRUE(
        ecg_test_close_double("d logit / d top activation", an, fd, WINDOWS * SAMPLES, 1e-4, 1e-9));
    free(dfeat);
    free(dtop);
    run_close(&x);
}

/* Bilinear weight of source pixel i for destination d (in -> out pixels, half-pixel centres, edges clamped).
 */
static double bilinear_weight(int64_t d, int64_t i, int64_t in, int64_t out)
{
    double src = fmax(0.0, ((double)d + 0.5) * (double)in / (double)out - 0.5);
    int64_t lo = (int64_t)floor(src), hi = lo + 1 < in ? lo + 1 : lo;
    double t = src - (double)lo;
    return (i == lo ? 1 - t : 0) + (i == hi ? t : 0);
}

/* The definition: channel weights from finite differences of the logit when a whole channel moves. */
static void reference_map(const struct run *x, int64_t w, double *map)
{
    const struct ecg_effnet *net = &x->ctx->net;
    const int64_t ch = net->num_features, hw = x->th * x->tw, hh = x->r->height, ww = x->r->width;
    double *a = window_activation(x, w), *m = calloc((size_t)hw, sizeof *m);
    int c = argmax(net->logits + w * K);
    const double h = 1e-2;
    for (int64_t k = 0; k < ch; k++) {
        for (int64_t q = 0; q < hw; q++)
            a[q * ch + k] += h;
        double up = head_logit(net, a, hw, c);
        for (int64_t q = 0; q < hw; q++)
            a[q * ch + k] -= 2 * h;
        double down = head_logit(net, a, hw, c);
        for (int64_t q = 0; q < hw; q++)
            a[q * ch + k] += h;
        double alpha = (up - down) / (2 * h) / (double)hw; /* the mean over positions of the gradient */
        for (int64_t q = 0; q < hw; q++)
            m[q] += alpha * x->a[(w * hw + q) * ch + k];
    }
    double top = 0;
    for (int64_t y = 0; y < hh; y++)
        for (int64_t z = 0; z < ww; z++) {
            double v = 0;
            for (int64_t q = 0; q < hw; q++)
                v += bilinear_weight(y, q / x->tw, x->th, hh) * bilinear_weight(z, q % x->tw, x->tw, ww) *
                     fmax(m[q], 0.0);
            map[y * ww + z] = v;
            top = fmax(top, v);
        }
    for (int64_t p = 0; p < hh * ww; p++)
        map[p] = top > 0 ? map[p] / top : 0;
    free(a);
    free(m);
}

static void grad_cam_maps_follow_their_definition_from_finite_differences(void)
{
    struct run x;
    CU_ASSERT_TRUE_FATAL(run_open(&x));
    const int64_t per = x.r->height * x.r->width;
    double *want = malloc((size_t)per * sizeof *want), *got = malloc((size_t)per * sizeof *got);
    CU_ASSERT_TRUE_FATAL(want && got);
    for (int64_t w = 0; w < WINDOWS; w++) {
        reference_map(&x, w, want);
        float lo = 1, hi = 0;
        for (int64_t p = 0; p < per; p++) {
            got[p] = x.cam[w * per + p];
            lo = fminf(lo, x.cam[w * per + p]);
            hi = fmaxf(hi, x.cam[w * per + p]);
        }
        char label[64];
        snprintf(label, sizeof label, "Grad-CAM of window %lld", (long long)w);
        CU_ASSERT_TRUE(ecg_test_close_double(label, got, want, per, 0, 1e-5));
        CU_ASSERT_TRUE(lo >= 0.0f && hi == 1.0f);
        CU_ASSERT_TRUE(hi - lo > 0.05f); /* a map that shows something, not a constant */
    }
    free(want);
    free(got);
    run_close(&x);
}

static void classified_images_give_the_probabilities_of_the_path(void)
{
    struct run x;
    CU_ASSERT_TRUE_FATAL(run_open(&x));
    struct ecg_error err = {0};
    struct ecg_infer_result *r = NULL;
    int64_t n = 0;
    char path[1024];
    snprintf(path, sizeof path, "%s/A00592.mat", ecg_test_fixture("data/cinc2017"));
    CU_ASSERT_EQUAL_FATAL(ecg_infer_context_explain(x.ctx, 1, &err), ECG_OK);
    CU_ASSERT_EQUAL_FATAL(ecg_infer_classify_file(x.ctx, path, NULL, 0, &r, &n, &err), ECG_OK);
    CU_ASSERT_EQUAL_FATAL(r->windows, WINDOWS);
    /* the same three windows in one batch: the same bits */
    CU_ASSERT_EQUAL(memcmp(r->window_probs, x.probs, sizeof x.probs), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r->cams);
    CU_ASSERT_EQUAL(memcmp(r->cams, x.cam, (size_t)(WINDOWS * r->height * r->width) * sizeof(float)), 0);
    ecg_infer_results_free(r, n);
    CU_ASSERT_EQUAL_FATAL(ecg_infer_context_explain(x.ctx, 0, &err), ECG_OK);
    CU_ASSERT_EQUAL_FATAL(ecg_infer_classify_file(x.ctx, path, NULL, 0, &r, &n, &err), ECG_OK);
    CU_ASSERT_PTR_NULL(r->cams);
    ecg_infer_results_free(r, n);
    run_close(&x);
}

static void more_images_than_a_batch_run_in_batches_in_order(void)
{
    struct run x;
    CU_ASSERT_TRUE_FATAL(run_open(&x));
    /* 9 windows with batch 4: batches of 4, 4, 1; every copy of a window gets its class and map */
    const int64_t per = x.r->height * x.r->width * x.r->channels, n = 3 * WINDOWS;
    float *images = malloc((size_t)(n * per) * sizeof *images), probs[3 * WINDOWS * K];
    float *cam = malloc((size_t)(n * x.r->height * x.r->width) * sizeof *cam);
    CU_ASSERT_TRUE_FATAL(images && cam);
    for (int64_t i = 0; i < n; i++)
        memcpy(images + i * per, x.r->images + (i % WINDOWS) * per, (size_t)per * sizeof *images);
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL_FATAL(ecg_infer_classify_images(x.ctx, images, n, probs, cam, &err), ECG_OK);
    for (int64_t i = 0; i < n; i++) {
        CU_ASSERT_TRUE(
            ecg_test_close("probabilities", probs + i * K, x.probs + (i % WINDOWS) * K, K, 1e-5, 1e-6));
        CU_ASSERT_TRUE(ecg_test_close("map", cam + i * x.r->height * x.r->width,
                                      x.cam + (i % WINDOWS) * x.r->height * x.r->width,
                                      x.r->height * x.r->width, 0, 1e-4));
    }
    free(images);
    free(cam);
    run_close(&x);
}

static void classifying_no_images_is_a_usage_error(void)
{
    struct run x;
    CU_ASSERT_TRUE_FATAL(run_open(&x));
    struct ecg_error err = {0};
    float probs[K];
    int rc = ecg_infer_classify_images(x.ctx, x.r->images, 0, probs, NULL, &err);
    ECG_CHECK_ERROR(rc, &err, ECG_ERR_USAGE, "expected count >= 1 images and probs, found 0");
    run_close(&x);
}

/* A dataset of exactly n elements as floats or doubles (out_f or out_d); false with a message otherwise. */
static bool read_fixture(hid_t f, const char *path, float *out_f, double *out_d, int64_t n)
{
    hid_t d = H5Dopen2(f, path, H5P_DEFAULT);
    if (d < 0) {
        printf("\n  fixture: no dataset %s\n", path);
        return false;
    }
    hid_t sp = H5Dget_space(d);
    bool ok = H5Sget_simple_extent_npoints(sp) == n &&
              H5Dread(d, out_f ? H5T_NATIVE_FLOAT : H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT,
                      out_f ? (void *)out_f : (void *)out_d) >= 0;
    if (!ok)
        printf("\n  fixture: %s is not %lld elements\n", path, (long long)n);
    H5Sclose(sp);
    H5Dclose(d);
    return ok;
}

static void grad_cam_maps_equal_pytorch_s_for_the_shipped_weights(void)
{
    enum { N = 2, H = 96, W = 160 };
    struct ecg_infer_model *m = load_model(); /* 96 x 160 images */
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    struct ecg_infer_context *ctx = NULL;
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL_FATAL(ecg_infer_context_init(m, &ctx, &err), ECG_OK);
    float *input = malloc(N * H * W * sizeof *input), *want_cam = malloc(N * H * W * sizeof *want_cam);
    float *cam = malloc(N * H * W * sizeof *cam), probs[N * K], want_probs[N * K];
    double logits[N * K];
    CU_ASSERT_TRUE_FATAL(input && want_cam && cam);
    hid_t f = H5Fopen(ecg_test_fixture("gradcam/b0_shipped.h5"), H5F_ACC_RDONLY, H5P_DEFAULT);
    CU_ASSERT_TRUE_FATAL(f >= 0);
    bool read = read_fixture(f, "input", input, NULL, N * H * W) &&
                read_fixture(f, "logits", NULL, logits, N * K) &&
                read_fixture(f, "cam", want_cam, NULL, N * H * W);
    H5Fclose(f);
    CU_ASSERT_TRUE_FATAL(read);
    /* softmax(logits / T) at the temperature the model file records; the maps do not depend on it */
    const double t = ecg_infer_model_temperature(m);
    for (int i = 0; i < N; i++) {
        double z = 0, top = logits[i * K];
        for (int c = 1; c < K; c++)
            top = fmax(top, logits[i * K + c]);
        for (int c = 0; c < K; c++)
            z += exp((logits[i * K + c] - top) / t);
        for (int c = 0; c < K; c++)
            want_probs[i * K + c] = (float)(exp((logits[i * K + c] - top) / t) / z);
    }
    CU_ASSERT_EQUAL_FATAL(ecg_infer_classify_images(ctx, input, N, probs, cam, &err), ECG_OK);
    ECG_CHECK_CLOSE("probabilities against PyTorch", probs, want_probs, N * K, 1e-4, 1e-5);
    ECG_CHECK_CLOSE("Grad-CAM against PyTorch", cam, want_cam, N * H * W, 0, 1e-5); /* 5e-7 here */
    free(input);
    free(want_cam);
    free(cam);
    ecg_infer_context_free(ctx);
    ecg_infer_model_free(m);
}

static const struct ecg_test gradcam_tests[] = {
    {"the top activation is what the head reads", the_top_activation_is_what_the_head_reads},
    {"the head's gradient equals finite differences of the logit",
     the_head_gradient_equals_finite_differences_of_the_logit},
    {"Grad-CAM maps follow their definition from finite differences",
     grad_cam_maps_follow_their_definition_from_finite_differences},
    {"Grad-CAM maps equal PyTorch's for the shipped weights",
     grad_cam_maps_equal_pytorch_s_for_the_shipped_weights},
    {"classified images give the probabilities and maps of the path",
     classified_images_give_the_probabilities_of_the_path},
    {"more images than a batch run in batches, in order", more_images_than_a_batch_run_in_batches_in_order},
    {"classifying no images is a usage error", classifying_no_images_is_a_usage_error},
    {NULL, NULL},
};
static const struct ecg_suite suites[] = {{"gradcam", gradcam_tests}, {NULL, NULL}};

int main(int argc, char **argv)
{
    return ecg_test_main(argc, argv, suites);
}
