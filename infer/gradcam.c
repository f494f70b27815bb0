/* Grad-CAM of each window: where the network looked for the class it predicted (the definition is in
 * infer.h). */
#include <math.h>
#include <stdlib.h>

#include "infer/network.h"

int ecg_infer_cam_work_init(const struct ecg_infer_context *ctx, struct ecg_infer_cam_work *w,
                            struct ecg_error *err)
{
    const struct ecg_effnet *net = &ctx->net;
    const int64_t b = net->batch, c = net->num_features;
    int64_t th, tw;
    /* the pooling layer's input shape is fixed at plan time; no forward is needed to read it */
    (void)ecg_effnet_top_activation(net, &th, &tw);
    w->dlogits = malloc((size_t)(b * net->opt.num_classes) * sizeof *w->dlogits);
    w->dfeatures = malloc((size_t)(b * c) * sizeof *w->dfeatures);
    w->dtop = malloc((size_t)(b * th * tw * c) * sizeof *w->dtop);
    w->coarse = malloc((size_t)(th * tw) * sizeof *w->coarse);
    w->maps = malloc((size_t)(b * ctx->model->lo.spec.height * ctx->model->lo.spec.width) * sizeof *w->maps);
    if (!w->dlogits || !w->dfeatures || !w->dtop || !w->coarse || !w->maps) {
        ecg_infer_cam_work_free(w);
        return ecg_error_set(err, ECG_ERR_NOMEM, "Grad-CAM: out of memory for a batch of %lld windows",
                             (long long)b);
    }
    return ECG_OK;
}

void ecg_infer_cam_work_free(struct ecg_infer_cam_work *w)
{
    free(w->dlogits);
    free(w->dfeatures);
    free(w->dtop);
    free(w->coarse);
    free(w->maps);
    w->dlogits = w->dfeatures = w->dtop = w->maps = NULL;
    w->coarse = NULL;
}

/* One-hot rows at each sample's predicted class (first of ties, as the record's best class). */
static void predicted_one_hot(const float *logits, int64_t n, int k, float *dlogits)
{
    for (int64_t i = 0; i < n; i++) {
        int best = 0;
        for (int j = 1; j < k; j++)
            if (logits[i * k + j] > logits[i * k + best])
                best = j;
        for (int j = 0; j < k; j++)
            dlogits[i * k + j] = j == best ? 1.0f : 0.0f;
    }
}

/* ReLU(sum_c alpha_c A_c) on the top grid, alpha_c the spatial mean of the gradient of channel c. */
static void coarse_map(const float *a, const float *g, int64_t hw, int64_t c, double *out)
{
    for (int64_t p = 0; p < hw; p++)
        out[p] = 0.0;
    for (int64_t ch = 0; ch < c; ch++) {
        double alpha = 0.0;
        for (int64_t p = 0; p < hw; p++)
            alpha += g[p * c + ch];
        alpha /= (double)hw;
        for (int64_t p = 0; p < hw; p++)
            out[p] += alpha * a[p * c + ch];
    }
    for (int64_t p = 0; p < hw; p++)
        out[p] = out[p] > 0.0 ? out[p] : 0.0;
}

/* Source index and weight of bilinear resizing with half-pixel centres (PyTorch align_corners=False). */
static void source(int64_t dst, int64_t in, int64_t out, int64_t *i0, int64_t *i1, double *frac)
{
    double x = ((double)dst + 0.5) * (double)in / (double)out - 0.5;
    if (x < 0.0)
        x = 0.0;
    *i0 = (int64_t)x;
    if (*i0 > in - 1)
        *i0 = in - 1;
    *i1 = *i0 + 1 < in ? *i0 + 1 : *i0;
    *frac = x - (double)*i0;
}

/* Bilinear upsampling of the (th, tw) map to (h, w), then division by its maximum (all zero stays zero). */
static void upsample_normalised(const double *m, int64_t th, int64_t tw, int64_t h, int64_t w, float *out)
{
    float top = 0.0f; /* the largest stored value, so that it becomes exactly 1 */
    for (int64_t y = 0; y < h; y++) {
        int64_t y0, y1, x0, x1;
        double fy, fx;
        source(y, th, h, &y0, &y1, &fy);
        for (int64_t x = 0; x < w; x++) {
            source(x, tw, w, &x0, &x1, &fx);
            double v = (1 - fy) * ((1 - fx) * m[y0 * tw + x0] + fx * m[y0 * tw + x1]) +
                       fy * ((1 - fx) * m[y1 * tw + x0] + fx * m[y1 * tw + x1]);
            out[y * w + x] = (float)v;
            top = out[y * w + x] > top ? out[y * w + x] : top;
        }
    }
    for (int64_t p = 0; p < h * w; p++)
        out[p] = top > 0.0f ? out[p] / top : 0.0f;
}

void ecg_infer_gradcam(const struct ecg_infer_context *ctx, int64_t n, struct ecg_infer_cam_work *w,
                       float *cam)
{
    const struct ecg_effnet *net = &ctx->net;
    const struct ecg_spec_opts *s = &ctx->model->lo.spec;
    const int64_t c = net->num_features;
    int64_t th, tw;
    const float *a = ecg_effnet_top_activation(net, &th, &tw);
    predicted_one_hot(net->logits, n, ctx->model->classes, w->dlogits);
    ecg_effnet_head_backward(net, w->dlogits, n, w->dfeatures, w->dtop);
    for (int64_t i = 0; i < n; i++) {
        coarse_map(a + i * th * tw * c, w->dtop + i * th * tw * c, th * tw, c, w->coarse);
        upsample_normalised(w->coarse, th, tw, s->height, s->width, cam + i * s->height * s->width);
    }
}

int ecg_infer_context_explain(struct ecg_infer_context *ctx, int on, struct ecg_error *err)
{
    if (ctx->explain) {
        ecg_infer_cam_work_free(ctx->explain);
        free(ctx->explain);
        ctx->explain = NULL;
    }
    if (!on)
        return ECG_OK;
    if (!(ctx->explain = calloc(1, sizeof *ctx->explain)))
        return ecg_error_set(err, ECG_ERR_NOMEM, "Grad-CAM: out of memory");
    int rc = ecg_infer_cam_work_init(ctx, ctx->explain, err);
    if (rc) {
        free(ctx->explain);
        ctx->explain = NULL;
    }
    return rc;
}
