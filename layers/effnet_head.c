/* The head's backward in evaluation mode, from the logits to the top activation: what Grad-CAM
 * differentiates. */
#include <string.h>

#include "layers/effnet.h"

/* Index of the global average pooling layer (whose output is m->features). */
static int pool_index(const struct ecg_effnet *m)
{
    for (int i = 1; i < m->net.count; i++)
        if (m->net.layers[i]->out == m->features)
            return i;
    ECG_ASSERT(!"the model has no pooling layer");
    return -1;
}

const float *ecg_effnet_top_activation(const struct ecg_effnet *m, int64_t *th, int64_t *tw)
{
    const struct ecg_layer *pool = m->net.layers[pool_index(m)];
    *th = pool->in_dims[0];
    *tw = pool->in_dims[1];
    return pool->in;
}

void ecg_effnet_head_backward(const struct ecg_effnet *m, const float *dlogits, int64_t n, float *dfeatures,
                              float *dtop)
{
    ECG_ASSERT(m->opt.num_classes > 0 && n >= 1 && n <= m->n);
    const struct ecg_layer *pool = m->net.layers[pool_index(m)];
    const struct ecg_layer *dense = m->net.layers[m->net.count - 1];
    const int64_t c = m->num_features, k = m->opt.num_classes;
    const float *kernel = ecg_params_value(m->params, dense->param[0]); /* (c, k) */
    /* dense: dfeatures = dlogits kernel^T; the dropout between is the identity in evaluation */
    memset(dfeatures, 0, (size_t)(n * c) * sizeof(float));
    ecg_dense_backward(dfeatures, NULL, NULL, dlogits, dense->in, kernel, n, c, k);
    /* global average pooling: each position gets dfeatures / (th tw) */
    memset(dtop, 0, (size_t)(n * pool->in_dims[0] * pool->in_dims[1] * c) * sizeof(float));
    ecg_gap_backward(dtop, dfeatures, n, pool->in_dims[0] * pool->in_dims[1], c);
}
