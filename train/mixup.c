/* Mixup: Beta draws, image mixing and the mixed loss (train/mixup.h). */
#include "train/mixup.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "layers/kernels.h"

int ecg_mixup_init(struct ecg_mixup *mx, int64_t batch, int64_t image_size, int64_t classes, struct ecg_error *err)
{
    memset(mx, 0, sizeof *mx);
    mx->batch = batch;
    mx->image_size = image_size;
    mx->classes = classes;
    mx->perm = malloc((size_t)batch * sizeof *mx->perm);
    mx->partner = malloc((size_t)batch * sizeof *mx->partner);
    mx->copy = malloc((size_t)(batch * image_size) * sizeof *mx->copy);
    mx->dscratch = malloc((size_t)(batch * classes) * sizeof *mx->dscratch);
    if (!mx->perm || !mx->partner || !mx->copy || !mx->dscratch) {
        ecg_mixup_free(mx);
        return ecg_error_set(err, ECG_ERR_NOMEM, "train.mixup_alpha: out of memory for a batch of %lld images",
                             (long long)batch);
    }
    return ECG_OK;
}

void ecg_mixup_free(struct ecg_mixup *mx)
{
    free(mx->perm);
    free(mx->partner);
    free(mx->copy);
    free(mx->dscratch);
    memset(mx, 0, sizeof *mx);
}

/* Gamma(a, 1) by Marsaglia and Tsang; a < 1 through Gamma(a + 1) U^(1/a). */
static double gamma_draw(struct ecg_rng *rng, double a)
{
    if (a < 1.0) {
        double u = ecg_rng_uniform_double(rng);
        return gamma_draw(rng, a + 1.0) * pow(u > 0 ? u : 1e-300, 1.0 / a);
    }
    double d = a - 1.0 / 3.0, c = 1.0 / sqrt(9.0 * d);
    for (;;) {
        double x = ecg_rng_normal(rng), v = 1.0 + c * x;
        if (v <= 0)
            continue;
        v = v * v * v;
        double u = ecg_rng_uniform_double(rng);
        if (u > 0 && log(u) < 0.5 * x * x + d - d * v + d * log(v))
            return d * v;
    }
}

double ecg_mixup_beta(struct ecg_rng *rng, double alpha)
{
    double a = gamma_draw(rng, alpha), b = gamma_draw(rng, alpha);
    return a + b > 0 ? a / (a + b) : 0.5;
}

void ecg_mixup_apply(struct ecg_mixup *mx, float *images, const int32_t *labels, int64_t n, double alpha,
                     struct ecg_rng *rng)
{
    ECG_ASSERT(n >= 1 && n <= mx->batch && alpha > 0);
    mx->lam = (float)ecg_mixup_beta(rng, alpha);
    for (int64_t i = 0; i < n; i++)
        mx->perm[i] = i;
    ecg_rng_shuffle(rng, mx->perm, n);
    int64_t size = mx->image_size;
    memcpy(mx->copy, images, (size_t)(n * size) * sizeof *images);
    float lam = mx->lam, rest = 1.0f - mx->lam;
    for (int64_t i = 0; i < n; i++) {
        const float *other = mx->copy + mx->perm[i] * size;
        float *x = images + i * size;
        for (int64_t j = 0; j < size; j++)
            x[j] = lam * x[j] + rest * other[j];
        mx->partner[i] = labels[mx->perm[i]];
    }
}

double ecg_mixup_loss(struct ecg_mixup *mx, struct ecg_effnet *m, const int32_t *labels, const float *class_weight,
                      float smoothing)
{
    int64_t n = m->n, k = m->opt.num_classes;
    ECG_ASSERT(n <= mx->batch && k == mx->classes);
    size_t bytes = (size_t)(n * k) * sizeof(float);
    memset(mx->dscratch, 0, bytes);
    double lb = ecg_softmax_xent(m->probs, mx->dscratch, m->logits, mx->partner, class_weight, n, k, smoothing);
    memset(m->dlogits, 0, bytes);
    double la = ecg_softmax_xent(m->probs, m->dlogits, m->logits, labels, class_weight, n, k, smoothing);
    float lam = mx->lam, rest = 1.0f - mx->lam;
    for (int64_t i = 0; i < n * k; i++)
        m->dlogits[i] = lam * m->dlogits[i] + rest * mx->dscratch[i];
    return (double)lam * la + (double)rest * lb;
}
