/* Tests of data-parallel replicas in one process: the step of the whole batch, reproducibility, freezing,
 * errors. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/blas.h"
#include "core/params.h"
#include "core/rng.h"
#include "layers/effnet.h"
#include "layers/effnet_replicas.h"
#include "tests/layers/gradcheck.h"
#include "tests/test_util.h"

enum { BATCH = 7, RES = 64, CLASSES = 4, CONTEXT = 3 };

/* What a training step leaves behind: the loss, every probability, the gradients and the weights
 * with the running statistics after it. */
struct step_result {
    double loss;
    float probs[BATCH * CLASSES];
    float *grads, *values;
    int64_t total;
};

static void step_result_free(struct step_result *s)
{
    free(s->grads);
    free(s->values);
}

struct step_setup {
    int replicas;
    int64_t n;
    int64_t context;          /* context values per sample (0: none) */
    const char *frozen_up_to; /* parameters before the first one named so are frozen (NULL: none) */
    bool class_weights;
};

static const float class_weight[CLASSES] = {1.0f, 3.0f, 0.5f, 2.0f};

/* One training step of a fresh B0 (seed 5, dropout and drop-connect on) on fixed inputs. */
static int run_step(const struct step_setup *st, struct step_result *out)
{
    struct ecg_effnet_options o;
    ecg_effnet_options_default(&o, 0);
    o.num_classes = CLASSES;
    o.context_features = st->context;
    o.dropout = 0.3f;
    o.drop_connect = 0.3f;
    struct ecg_effnet m;
    struct ecg_replicas rp;
    struct ecg_error err = {0};
    /* replica 0 planned for its shard only, as bench_effnet plans it */
    const int64_t planned = (BATCH + st->replicas - 1) / st->replicas;
    if (ecg_effnet_init(&m, &o, planned, RES, RES, &err))
        return printf("\n  init: %s\n", err.msg), -1;
    ecg_effnet_init_weights(&m, 5);
    if (ecg_replicas_init(&rp, &m, st->replicas, BATCH, &err)) {
        ecg_effnet_free(&m);
        return printf("\n  replicas: %s\n", err.msg), -1;
    }
    if (st->frozen_up_to) {
        int stop = ecg_params_find(m.params, st->frozen_up_to);
        for (int i = 0; i < stop; i++)
            m.params->items[i].flags |= ECG_PARAM_FROZEN;
    }
    const int64_t per = RES * RES * 3;
    float *x = malloc((size_t)(BATCH * per) * sizeof(float));
    ecg_gradcheck_fill(x, BATCH * per, 9, -1.0f, 1.0f);
    float ctx[BATCH * CONTEXT];
    ecg_gradcheck_fill(ctx, BATCH * CONTEXT, 10, -1.0f, 1.0f);
    const int32_t labels[BATCH] = {0, 1, 2, 3, 1, 0, 3};
    struct ecg_rng rng = ecg_rng_init(77, 3);
    ecg_params_zero_grad(m.params);
    out->loss = ecg_replicas_forward_loss(&rp, x, st->context ? ctx : NULL, CONTEXT, labels, st->n, 0, &rng,
                                          st->class_weights ? class_weight : NULL, 0.1f);
    ecg_replicas_backward(&rp);
    memset(out->probs, 0, sizeof out->probs);
    memcpy(out->probs, rp.probs, (size_t)(st->n * CLASSES) * sizeof(float));
    out->total = m.params->total;
    out->grads = malloc((size_t)out->total * sizeof(float));
    out->values = malloc((size_t)out->total * sizeof(float));
    memcpy(out->grads, m.params->grads, (size_t)out->total * sizeof(float));
    memcpy(out->values, m.params->values, (size_t)out->total * sizeof(float));
    free(x);
    ecg_replicas_free(&rp);
    ecg_effnet_free(&m);
    return 0;
}

/* The largest relative L2 difference of one parameter's gradient: elementwise comparisons would
 * fail on the small elements that are differences of large sums (the stem's kernel gradient sums
 * thousands of products, in another order over two replicas). */
static bool gradients_agree(const struct step_result *got, const struct step_result *want)
{
    struct ecg_effnet_options o;
    ecg_effnet_options_default(&o, 0);
    o.num_classes = CLASSES;
    struct ecg_effnet m;
    struct ecg_error err = {0};
    if (ecg_effnet_init(&m, &o, 1, RES, RES, &err))
        return false;
    bool ok = true;
    for (int i = 0; i < m.params->count; i++) {
        const struct ecg_param *it = &m.params->items[i];
        double d2 = 0.0, w2 = 0.0;
        for (int64_t j = it->offset; j < it->offset + it->numel; j++) {
            double d = (double)got->grads[j] - (double)want->grads[j];
            d2 += d * d;
            w2 += (double)want->grads[j] * want->grads[j];
        }
        /* relative, or absolute at the level of float rounding for gradients that are ~0 in exact
         * arithmetic (a batch norm's beta before a batch norm that removes any constant shift) */
        double rms_diff = sqrt(d2 / (double)it->numel), rms = sqrt(w2 / (double)it->numel);
        if (!(rms_diff <= 5e-4 * rms + 1e-5)) {
            printf("\n  gradient of '%s': rms difference %.2e, rms %.2e\n", it->name, rms_diff, rms);
            ok = false;
        }
    }
    ecg_effnet_free(&m);
    return ok;
}

/* Replicas against one network on the same batch: equal up to rounding. */
static void check_against_one_network(struct step_setup st)
{
    struct step_result one, many;
    const int replicas = st.replicas;
    st.replicas = 1;
    CU_ASSERT_EQUAL_FATAL(run_step(&st, &one), 0);
    st.replicas = replicas;
    CU_ASSERT_EQUAL_FATAL(run_step(&st, &many), 0);
    CU_ASSERT_TRUE(isfinite(one.loss));
    CU_ASSERT_DOUBLE_EQUAL(many.loss, one.loss, 1e-5 * fabs(one.loss));
    /* batch-norm sums in another order, through 16 blocks of an untrained network: 1.5e-4 seen
     * with OpenBLAS's Haswell kernels (OPENBLAS_CORETYPE=Haswell), 1e-4 with SkylakeX's */
    ECG_CHECK_CLOSE("probabilities", many.probs, one.probs, st.n * CLASSES, 5e-4, 1e-6);
    CU_ASSERT_TRUE(gradients_agree(&many, &one));
    /* the running statistics after the step (and the untouched weights) */
    ECG_CHECK_CLOSE("weights and running statistics", many.values, one.values, one.total, 1e-5, 1e-6);
    step_result_free(&one);
    step_result_free(&many);
}

static void two_replicas_compute_the_step_of_the_whole_batch(void)
{
    check_against_one_network((struct step_setup){.replicas = 2, .n = BATCH});
}

static void three_replicas_with_class_weights_and_context_compute_the_same_step(void)
{
    check_against_one_network(
        (struct step_setup){.replicas = 3, .n = BATCH, .context = CONTEXT, .class_weights = true});
}

static void a_batch_smaller_than_the_replicas_runs_on_fewer(void)
{
    check_against_one_network((struct step_setup){.replicas = 3, .n = 2});
    /* one sample: the one-network step itself, bit for bit */
    struct step_result one, many;
    CU_ASSERT_EQUAL_FATAL(run_step(&(struct step_setup){.replicas = 1, .n = 1}, &one), 0);
    CU_ASSERT_EQUAL_FATAL(run_step(&(struct step_setup){.replicas = 3, .n = 1}, &many), 0);
    CU_ASSERT_EQUAL(memcmp(many.grads, one.grads, (size_t)one.total * sizeof(float)), 0);
    CU_ASSERT_EQUAL(memcmp(many.values, one.values, (size_t)one.total * sizeof(float)), 0);
    step_result_free(&one);
    step_result_free(&many);
}

static void frozen_parameters_stay_frozen_in_every_replica(void)
{
    const char *head = "top_conv/kernel";
    check_against_one_network((struct step_setup){.replicas = 2, .n = BATCH, .frozen_up_to = head});
    struct step_result s;
    CU_ASSERT_EQUAL_FATAL(run_step(&(struct step_setup){.replicas = 2, .n = BATCH, .frozen_up_to = head}, &s),
                          0);
    struct ecg_effnet_options o;
    ecg_effnet_options_default(&o, 0);
    o.num_classes = CLASSES;
    struct ecg_effnet m;
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL_FATAL(ecg_effnet_init(&m, &o, 1, RES, RES, &err), ECG_OK);
    int64_t frozen_end = m.params->items[ecg_params_find(m.params, head)].offset;
    bool zero = true;
    for (int64_t i = 0; i < frozen_end; i++)
        zero = zero && s.grads[i] == 0.0f;
    CU_ASSERT_TRUE(zero);
    bool live = false;
    for (int64_t i = frozen_end; i < s.total; i++)
        live = live || s.grads[i] != 0.0f;
    CU_ASSERT_TRUE(live);
    ecg_effnet_free(&m);
    step_result_free(&s);
}

static void replica_steps_are_bit_identical_across_thread_counts(void)
{
    struct step_result a, b;
    struct step_setup st = {.replicas = 2, .n = BATCH, .class_weights = true};
    ecg_threads_set(1);
    CU_ASSERT_EQUAL_FATAL(run_step(&st, &a), 0);
    ecg_threads_set(2);
    CU_ASSERT_EQUAL_FATAL(run_step(&st, &b), 0);
    ecg_threads_set(1);
    CU_ASSERT_EQUAL(a.loss, b.loss);
    CU_ASSERT_EQUAL(memcmp(a.grads, b.grads, (size_t)a.total * sizeof(float)), 0);
    CU_ASSERT_EQUAL(memcmp(a.values, b.values, (size_t)a.total * sizeof(float)), 0);
    step_result_free(&a);
    step_result_free(&b);
}

static void bad_replica_counts_fail_with_a_message(void)
{
    struct ecg_effnet_options o;
    ecg_effnet_options_default(&o, 0);
    o.num_classes = CLASSES;
    struct ecg_effnet m;
    struct ecg_replicas rp;
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL_FATAL(ecg_effnet_init(&m, &o, 4, RES, RES, &err), ECG_OK);
    ECG_CHECK_ERROR(ecg_replicas_init(&rp, &m, 0, 4, &err), &err, ECG_ERR_RANGE, "found 0");
    ECG_CHECK_ERROR(ecg_replicas_init(&rp, &m, 5, 4, &err), &err, ECG_ERR_RANGE,
                    "batch of 4 samples, found 5");
    ECG_CHECK_ERROR(ecg_replicas_init(&rp, &m, ECG_REPLICAS_MAX + 1, 64, &err), &err, ECG_ERR_RANGE,
                    "expected 1 to");
    CU_ASSERT_EQUAL(rp.count, 0); /* left zeroed */
    ecg_replicas_free(&rp);       /* and freeing it again is harmless */
    ecg_effnet_free(&m);
}

static const struct ecg_test replica_tests[] = {
    {"two replicas compute the step of the whole batch", two_replicas_compute_the_step_of_the_whole_batch},
    {"three replicas with class weights and context compute the same step",
     three_replicas_with_class_weights_and_context_compute_the_same_step},
    {"a batch smaller than the replicas runs on fewer", a_batch_smaller_than_the_replicas_runs_on_fewer},
    {"frozen parameters stay frozen in every replica", frozen_parameters_stay_frozen_in_every_replica},
    {"replica steps are bit-identical across thread counts",
     replica_steps_are_bit_identical_across_thread_counts},
    {"bad replica counts fail with a message", bad_replica_counts_fail_with_a_message},
    {NULL, NULL},
};
static const struct ecg_suite suites[] = {
    {"replicas", replica_tests},
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    ecg_threads_set(1);
    return ecg_test_main(argc, argv, suites);
}
