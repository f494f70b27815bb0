/* Softmax cross-entropy with label smoothing and per-class weights, PyTorch's conventions. */
#include <math.h>

#include "core/error.h"
#include "layers/kernels.h"

/*
 * loss = sum_i [(1-s) w[y_i] (-log p_i,y_i) + (s/k) sum_j w[j] (-log p_ij)] / sum_i w[y_i]
 * dL/dz_ij = [p_ij ((1-s) w[y_i] + (s/k) sum_l w[l]) - (1-s) w[y_i] [j == y_i] - (s/k) w[j]] / W
 * Serial, in double: (n, k) is a batch of logits, tiny next to the network.
 */
double ecg_softmax_xent(float *probs, float *dlogits, const float *logits, const int32_t *labels,
                        const float *class_weight, int64_t n, int64_t k, float smoothing)
{
    ECG_ASSERT(n >= 1 && k >= 1);
    const double s = smoothing;
    double wsum_all = 0.0, wtotal = 0.0, loss = 0.0;
    for (int64_t j = 0; j < k; j++)
        wsum_all += class_weight ? (double)class_weight[j] : 1.0;
    for (int64_t i = 0; i < n; i++) {
        ECG_ASSERT(labels[i] >= 0 && labels[i] < k);
        wtotal += class_weight ? (double)class_weight[labels[i]] : 1.0;
    }
    if (!(wtotal > 0.0))
        return NAN;
    for (int64_t i = 0; i < n; i++) {
        const float *z = logits + i * k;
        float *p = probs + i * k;
        const int32_t y = labels[i];
        double zmax = z[0];
        for (int64_t j = 1; j < k; j++)
            if (z[j] > zmax || isnan(z[j]))
                zmax = z[j];
        double se = 0.0;
        for (int64_t j = 0; j < k; j++)
            se += exp((double)z[j] - zmax);
        const double lse = zmax + log(se);
        const double wy = class_weight ? (double)class_weight[y] : 1.0;
        double smooth = 0.0;
        for (int64_t j = 0; j < k; j++) {
            double logp = (double)z[j] - lse;
            p[j] = (float)exp(logp);
            smooth -= (class_weight ? (double)class_weight[j] : 1.0) * logp;
        }
        loss += (1.0 - s) * wy * (lse - (double)z[y]) + s / (double)k * smooth;
        if (dlogits) {
            float *d = dlogits + i * k;
            const double a = (1.0 - s) * wy + s / (double)k * wsum_all;
            for (int64_t j = 0; j < k; j++) {
                double pj = exp((double)z[j] - lse);
                double wj = class_weight ? (double)class_weight[j] : 1.0;
                double gj = pj * a - s / (double)k * wj - (j == y ? (1.0 - s) * wy : 0.0);
                d[j] += (float)(gj / wtotal);
            }
        }
    }
    return loss / wtotal;
}
