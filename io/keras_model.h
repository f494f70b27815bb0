/* What io/ asks of the model a Keras weight file is for: io/ reads and writes named weights, the model's side says what they mean. */
#ifndef ECG_IO_KERAS_MODEL_H
#define ECG_IO_KERAS_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "core/params.h"

/* (No HDF5 here: a model's library provides its ecg_keras_model without linking io/.) */

/* What a weight file says about itself (ecg_keras_probe / ecg_keras_load). */
struct ecg_keras_info {
    bool has_bn_eps;
    double bn_eps;
    bool has_padding;
    char padding[16]; /* "same" or "symmetric" */
    bool has_arch;
    char arch[8];     /* the ecg_arch attribute, "b0" .. "b7" */
    /* Filled by the model's describe() (zero without a model): */
    char inferred_arch[8];    /* the architecture the weights fit ("b0"); "" when none */
    int64_t stem_in_channels; /* input channels of the first layer; 0 when unknown */
    int64_t num_classes;      /* units of the classification head; 0 when the file has none */
    int64_t head_inputs;      /* inputs of the classification head (features and context); 0 without */
    /*
     * The Keras `normalization` layer (mean, variance, count): the input
     * normalisation, not a model parameter.  The official files store the
     * standard deviation in "variance" ([0.229, 0.224, 0.225]), so norm_std
     * is that stored value as is; effective input = (x/255 - mean) / std.
     */
    bool has_normalization;
    int norm_channels; /* at most 4 */
    float norm_mean[4];
    float norm_std[4];
    int64_t norm_count;
    char keras_version[32];
    char backend[32];
    int layers;         /* layers with weights in the file */
    int64_t weights;    /* datasets mapped to parameters (normalization excluded) */
};

/* A weight of a file: the parameter it maps to ("<layer>/<weight>") and its shape. */
struct ecg_keras_weight {
    const char *param;
    int ndim;
    const int64_t *shape;
};

/*
 * The model's part of loading, given by the caller (EfficientNet's is
 * ecg_effnet_keras, layers/effnet_keras.h); any member may be NULL.
 */
struct ecg_keras_model {
    const char *family; /* "EfficientNet", in messages */
    /* Fills inferred_arch, stem_in_channels and num_classes of info from the file's weights. */
    void (*describe)(const struct ecg_keras_weight *w, int n, struct ecg_keras_info *info);
    /* The architecture of a parameter store in the words of inferred_arch; "" when unknown.
     * A file whose inferred_arch differs is refused before any weight is compared. */
    void (*store_arch)(const struct ecg_params *p, char out[8]);
    /* Whether a file weight of shape (ndim, fshape), unlike p's, still loads into p (a
     * three-channel stem into a one-channel model); adapt() then converts its values
     * src into p->numel values at dst.  Not used for strict (checkpoint) loads. */
    bool (*adapts)(const struct ecg_param *p, int ndim, const int64_t *fshape);
    void (*adapt)(const struct ecg_param *p, const int64_t *fshape, const float *src, float *dst);
};

#endif
