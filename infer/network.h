/* Running a context's network on its input buffer: input scaling and forward, probabilities, Grad-CAM
 * (internal). */
#ifndef ECG_INFER_NETWORK_H
#define ECG_INFER_NETWORK_H

#include "infer/infer_internal.h"

/* Scales the first n images of ctx->input in place (model.input_norm) and runs the network on them. */
void ecg_infer_forward(struct ecg_infer_context *ctx, int64_t n);

/* Softmax of the last forward's logits of sample i into out (classes floats). */
void ecg_infer_probs_row(const struct ecg_infer_context *ctx, int64_t i, float *out);

/* Buffers of Grad-CAM for one batch of a context (malloc'd per call; a zeroed one frees as a no-op). */
struct ecg_infer_cam_work {
    float *dlogits, *dfeatures, *dtop; /* (batch, classes), (batch, features), (batch, th, tw, features) */
    double *coarse;                    /* (th, tw) one window's map before upsampling */
    float *maps; /* (batch, height, width) the last batch's maps (explaining contexts) */
};
int ecg_infer_cam_work_init(const struct ecg_infer_context *ctx, struct ecg_infer_cam_work *w,
                            struct ecg_error *err);
void ecg_infer_cam_work_free(struct ecg_infer_cam_work *w);

/* The Grad-CAM maps of the last forward's first n samples (infer.h gives the definition) into cam
 * (n, height, width) of the spectrogram. */
void ecg_infer_gradcam(const struct ecg_infer_context *ctx, int64_t n, struct ecg_infer_cam_work *w,
                       float *cam);

#endif
