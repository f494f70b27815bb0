/* Tests of the recipe options: model.head_init (statistics of a fresh head) and train.mixup_alpha (the mixed loss). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "train/mixup.h"
#include "train/train.h"
#include "tests/test_util.h"

/* Builds a random-weight B0 for 32 x 32 one-channel images with the given head_init. */
static void build(struct ecg_effnet *m, const char *head_init)
{
    struct ecg_config c;
    struct ecg_error err = {0};
    char assign[64];
    snprintf(assign, sizeof assign, "model.head_init=%s", head_init);
    CU_ASSERT_EQUAL_FATAL(ecg_config_defaults(&c, &err), ECG_OK);
    CU_ASSERT_EQUAL_FATAL(ecg_config_override(&c, "model.pretrained=none", &err), ECG_OK);
    CU_ASSERT_EQUAL_FATAL(ecg_config_override(&c, "data.spectrogram.height=32", &err), ECG_OK);
    CU_ASSERT_EQUAL_FATAL(ecg_config_override(&c, "data.spectrogram.width=32", &err), ECG_OK);
    CU_ASSERT_EQUAL_FATAL(ecg_config_override(&c, assign, &err), ECG_OK);
    int rc = ecg_model_build(&c, 1, true, m, NULL, &err);
    if (rc)
        fprintf(stderr, "%s\n", err.msg);
    CU_ASSERT_EQUAL_FATAL(rc, ECG_OK);
    ecg_config_free(&c);
}

/* Largest absolute value, mean and variance of the head's kernel; largest absolute bias. */
static void head_stats(const struct ecg_effnet *m, double *maxabs, double *mean, double *var, double *bias)
{
    int ki = ecg_model_block_start(m, "head");
    CU_ASSERT_FATAL(ki >= 0);
    const struct ecg_param *kp = &m->params->items[ki];
    CU_ASSERT_EQUAL_FATAL(kp->ndim, 2);
    CU_ASSERT_EQUAL(kp->shape[0], 1280);
    const float *v = ecg_params_value(m->params, ki);
    double s = 0, s2 = 0, mx = 0;
    for (int64_t j = 0; j < kp->numel; j++) {
        s += v[j];
        s2 += (double)v[j] * v[j];
        mx = fmax(mx, fabs(v[j]));
    }
    *maxabs = mx;
    *mean = s / (double)kp->numel;
    *var = s2 / (double)kp->numel - *mean * *mean;
    const float *b = ecg_params_value(m->params, ki + 1);
    *bias = 0;
    for (int64_t j = 0; j < m->params->items[ki + 1].numel; j++)
        *bias = fmax(*bias, fabs(b[j]));
}

static void head_initialisations_have_their_statistics(void)
{
    struct ecg_effnet m = {0};
    double mx, mean, var, bias;
    /* fan_in: uniform in +-1/sqrt(1280), variance limit^2 / 3. */
    build(&m, "fan_in");
    head_stats(&m, &mx, &mean, &var, &bias);
    double limit = 1.0 / sqrt(1280.0);
    CU_ASSERT_TRUE(mx <= limit && mx > 0.95 * limit);
    CU_ASSERT_DOUBLE_EQUAL(mean, 0.0, 0.05 * limit);
    CU_ASSERT_DOUBLE_EQUAL(var, limit * limit / 3.0, 0.1 * limit * limit / 3.0);
    CU_ASSERT_EQUAL(bias, 0.0);
    ecg_effnet_free(&m);
    /* keras: uniform in +-sqrt(1/classes). */
    build(&m, "keras");
    head_stats(&m, &mx, &mean, &var, &bias);
    CU_ASSERT_TRUE(mx <= 0.5 && mx > 0.45);
    CU_ASSERT_DOUBLE_EQUAL(var, 0.25 / 3.0, 0.1 * 0.25 / 3.0);
    ecg_effnet_free(&m);
    /* zero: every logit 0, every class equally likely. */
    build(&m, "zero");
    head_stats(&m, &mx, &mean, &var, &bias);
    CU_ASSERT_EQUAL(mx, 0.0);
    CU_ASSERT_EQUAL(bias, 0.0);
    ecg_effnet_free(&m);
}

static void the_head_init_leaves_the_backbone_alone(void)
{
    struct ecg_effnet a = {0}, b = {0};
    build(&a, "keras");
    build(&b, "fan_in");
    int head = ecg_model_block_start(&a, "head");
    size_t below = (size_t)(ecg_params_value(a.params, head) - a.params->values);
    CU_ASSERT_EQUAL(memcmp(a.params->values, b.params->values, below * sizeof(float)), 0);
    ecg_effnet_free(&a);
    ecg_effnet_free(&b);
}

static void a_bad_head_init_names_the_choices(void)
{
    struct ecg_config c;
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL_FATAL(ecg_config_defaults(&c, &err), ECG_OK);
    ECG_CHECK_ERROR(ecg_config_override(&c, "model.head_init=xavier", &err), &err, ECG_ERR_CONFIG, "keras");
    ecg_config_free(&c);
}

/* A fake model holding only what the loss reads and writes. */
struct fake {
    struct ecg_effnet m;
    float logits[3 * 4], probs[3 * 4], dlogits[3 * 4];
};

static void fake_init(struct fake *f)
{
    memset(f, 0, sizeof *f);
    f->m.n = 3;
    f->m.opt.num_classes = 4;
    f->m.logits = f->logits;
    f->m.probs = f->probs;
    f->m.dlogits = f->dlogits;
    const float z[12] = {0.5f, -1.0f, 2.0f, 0.1f, 1.5f, 0.3f, -0.7f, 0.0f, -0.2f, 0.8f, 0.4f, -1.3f};
    memcpy(f->logits, z, sizeof z);
}

static void the_mixup_loss_is_the_cross_entropy_of_the_mixed_target(void)
{
    struct fake f;
    fake_init(&f);
    struct ecg_mixup mx;
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL_FATAL(ecg_mixup_init(&mx, 3, 2, 4, &err), ECG_OK);
    float images[6] = {1, 2, 3, 4, 5, 6};
    const int32_t labels[3] = {2, 0, 3};
    struct ecg_rng rng = ecg_rng_init(7, 11);
    ecg_mixup_apply(&mx, images, labels, 3, 0.4, &rng);
    float lam = mx.lam;
    CU_ASSERT_TRUE(lam > 0 && lam < 1);
    const float orig[6] = {1, 2, 3, 4, 5, 6};
    for (int i = 0; i < 3; i++) {
        int64_t p = mx.perm[i];
        CU_ASSERT_EQUAL(mx.partner[i], labels[p]);
        for (int j = 0; j < 2; j++)
            CU_ASSERT_DOUBLE_EQUAL(images[i * 2 + j], lam * orig[i * 2 + j] + (1 - lam) * orig[p * 2 + j], 1e-6);
    }
    double loss = ecg_mixup_loss(&mx, &f.m, labels, NULL, 0.0f);
    /* Naively: target t = lam onehot(y) + (1 - lam) onehot(y_partner); loss = mean -sum t log softmax;
     * dL/dz = (softmax - t) / n. */
    double want = 0;
    float dwant[12];
    for (int i = 0; i < 3; i++) {
        double mxz = -1e9, sum = 0, t[4] = {0};
        t[labels[i]] += lam;
        t[mx.partner[i]] += 1.0 - lam;
        for (int j = 0; j < 4; j++)
            mxz = fmax(mxz, f.logits[i * 4 + j]);
        for (int j = 0; j < 4; j++)
            sum += exp(f.logits[i * 4 + j] - mxz);
        for (int j = 0; j < 4; j++) {
            double lp = f.logits[i * 4 + j] - mxz - log(sum);
            want -= t[j] * lp / 3.0;
            dwant[i * 4 + j] = (float)((exp(lp) - t[j]) / 3.0);
        }
    }
    CU_ASSERT_DOUBLE_EQUAL(loss, want, 1e-5);
    ECG_CHECK_CLOSE("dlogits", f.dlogits, dwant, 12, 1e-4, 1e-6);
    ecg_mixup_free(&mx);
}

static void mixup_is_a_function_of_the_seed(void)
{
    struct ecg_mixup a, b;
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL_FATAL(ecg_mixup_init(&a, 8, 3, 4, &err), ECG_OK);
    CU_ASSERT_EQUAL_FATAL(ecg_mixup_init(&b, 8, 3, 4, &err), ECG_OK);
    float x[24], y[24], z[24];
    for (int i = 0; i < 24; i++)
        x[i] = y[i] = z[i] = (float)i;
    const int32_t labels[8] = {0, 1, 2, 3, 0, 1, 2, 3};
    struct ecg_rng r1 = ecg_rng_init(42, 5), r2 = ecg_rng_init(42, 5), r3 = ecg_rng_init(43, 5);
    ecg_mixup_apply(&a, x, labels, 8, 0.2, &r1);
    ecg_mixup_apply(&b, y, labels, 8, 0.2, &r2);
    CU_ASSERT_EQUAL(a.lam, b.lam);
    CU_ASSERT_EQUAL(memcmp(a.perm, b.perm, 8 * sizeof *a.perm), 0);
    CU_ASSERT_EQUAL(memcmp(x, y, sizeof x), 0);
    ecg_mixup_apply(&b, z, labels, 8, 0.2, &r3);
    CU_ASSERT_NOT_EQUAL(a.lam, b.lam);
    ecg_mixup_free(&a);
    ecg_mixup_free(&b);
}

static void beta_draws_have_the_beta_mean_and_variance(void)
{
    struct ecg_rng r = ecg_rng_init(3, 0);
    const int N = 40000;
    for (double alpha = 0.2; alpha < 2.5; alpha *= 3) {
        double s = 0, s2 = 0;
        for (int i = 0; i < N; i++) {
            double v = ecg_mixup_beta(&r, alpha);
            CU_ASSERT_TRUE_FATAL(v >= 0 && v <= 1);
            s += v;
            s2 += v * v;
        }
        double mean = s / N, var = s2 / N - mean * mean, want = 1.0 / (4.0 * (2.0 * alpha + 1.0));
        CU_ASSERT_DOUBLE_EQUAL(mean, 0.5, 0.01);
        CU_ASSERT_DOUBLE_EQUAL(var, want, 0.05 * want);
    }
}

static const struct ecg_test head_tests[] = {
    {"head initialisations have their statistics", head_initialisations_have_their_statistics},
    {"the head init leaves the backbone alone", the_head_init_leaves_the_backbone_alone},
    {"a bad head init names the choices", a_bad_head_init_names_the_choices},
    {NULL, NULL},
};
static const struct ecg_test mixup_tests[] = {
    {"the mixup loss is the cross-entropy of the mixed target", the_mixup_loss_is_the_cross_entropy_of_the_mixed_target},
    {"mixup is a function of the seed", mixup_is_a_function_of_the_seed},
    {"beta draws have the beta mean and variance", beta_draws_have_the_beta_mean_and_variance},
    {NULL, NULL},
};
static const struct ecg_suite suites[] = {
    {"model.head_init", head_tests},
    {"train.mixup_alpha", mixup_tests},
    {NULL, NULL},
};

int main(int argc, char **argv) { return ecg_test_main(argc, argv, suites); }
