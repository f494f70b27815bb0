/* The network on window images already prepared: input scaling, batches of eval.batch_size, softmax,
 * Grad-CAM. */
#include <string.h>

#include "eval/calibration.h"
#include "infer/network.h"

void ecg_infer_forward(struct ecg_infer_context *ctx, int64_t n)
{
    const struct ecg_infer_model *m = ctx->model;
    ecg_input_scaling_apply(&m->norm, ctx->input, n, m->lo.spec.height, m->lo.spec.width);
    ecg_effnet_forward(&ctx->net, ctx->input, n, false, NULL);
}

void ecg_infer_probs_row(const struct ecg_infer_context *ctx, int64_t i, float *out)
{
    const int k = ctx->model->classes;
    ecg_calibration_softmax(out, ctx->net.logits + i * k, k, ctx->model->temperature);
}

int ecg_infer_classify_windows(struct ecg_infer_context *ctx, const float *images, const float *features,
                               int64_t count, float *probs, float *cam, struct ecg_error *err)
{
    const struct ecg_spec_opts *s = &ctx->model->lo.spec;
    const int64_t per = s->height * s->width * s->channels, batch = ctx->net.batch;
    const int k = ctx->model->classes;
    if (ctx->net.opt.context_features > 0 && !features)
        return ecg_error_set(err, ECG_ERR_USAGE,
                             "classify images: the model also reads its records' features (model.rr_features, "
                             "model.morphology_features or model.rhythm_features), which images alone do not "
                             "carry; classify the records instead");
    if (count < 1 || !images || !probs)
        return ecg_error_set(err, ECG_ERR_USAGE,
                             "classify images: expected count >= 1 images and probs, found %lld",
                             (long long)count);
    struct ecg_infer_cam_work w = {0};
    if (cam)
        ECG_TRY(ecg_infer_cam_work_init(ctx, &w, err));
    for (int64_t start = 0; start < count; start += batch) {
        const int64_t n = count - start < batch ? count - start : batch;
        memcpy(ctx->input, images + start * per, (size_t)(n * per) * sizeof(float));
        if (features)
            ecg_effnet_set_context(&ctx->net, 0, features + start * ECG_RECORD_FEATURES + ctx->model->first_feature, n,
                                   ECG_RECORD_FEATURES);
        ecg_infer_forward(ctx, n);
        for (int64_t i = 0; i < n; i++)
            ecg_infer_probs_row(ctx, i, probs + (start + i) * k);
        if (cam)
            ecg_infer_gradcam(ctx, n, &w, cam + start * s->height * s->width);
    }
    ecg_infer_cam_work_free(&w);
    return ECG_OK;
}

int ecg_infer_classify_images(struct ecg_infer_context *ctx, const float *images, int64_t count, float *probs,
                              float *cam, struct ecg_error *err)
{
    return ecg_infer_classify_windows(ctx, images, NULL, count, probs, cam, err);
}
