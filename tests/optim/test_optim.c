/* Tests of optim/: optimizers against PyTorch trajectories, state round trips, clipping, EMA, schedules, class weights. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/params.h"
#include "optim/class_weights.h"
#include "optim/ema.h"
#include "optim/grad.h"
#include "optim/optim.h"
#include "optim/sched.h"
#include "tests/optim/fxtext.h"
#include "tests/test_util.h"

/* ---- optimizer cases ---- */

static const char *const case_params[] = {"head/kernel", "head/bias", "stem/kernel", "late/kernel",
                                          "frozen/kernel"};
enum { NCASE_PARAMS = 5, IDX_LATE = 3, IDX_FROZEN = 4 };

/* A store with the fixture's parameters plus a batch-norm style buffer. */
static void build_store(struct ecg_params *p, const struct fx *f)
{
    struct ecg_error err = {0};
    memset(p, 0, sizeof *p);
    for (int i = 0; i < NCASE_PARAMS; i++) {
        const struct fx_entry *init = fx_find(f, "init.%s", case_params[i]);
        ECG_ASSERT(init);
        int64_t shape[1] = {init->count};
        unsigned flags = 0;
        if (i == 1)
            flags = ECG_PARAM_NO_DECAY;
        if (i == IDX_FROZEN)
            flags = ECG_PARAM_FROZEN;
        ECG_ASSERT(ecg_params_add(p, case_params[i], 1, shape, flags, NULL, &err) == ECG_OK);
    }
    int64_t bshape[1] = {3};
    ECG_ASSERT(ecg_params_add(p, "bn/moving_mean", 1, bshape, ECG_PARAM_BUFFER, NULL, &err) == 0);
    ECG_ASSERT(ecg_params_bind(p, &err) == ECG_OK);
    for (int i = 0; i < NCASE_PARAMS; i++)
        fx_to_float(ecg_params_value(p, i), fx_find(f, "init.%s", case_params[i]));
    float *bn = ecg_params_value(p, NCASE_PARAMS);
    for (int i = 0; i < 3; i++)
        bn[i] = 0.5f + (float)i;
}

static struct ecg_optim_config case_config(const struct fx *f, double *clip)
{
    const struct fx_entry *kind = fx_find(f, "kind"), *h = fx_find(f, "hyper");
    ECG_ASSERT(kind && h && h->count == 9);
    struct ecg_optim_config c = ecg_optim_defaults((enum ecg_optim_kind)(int)kind->v[0]);
    c.weight_decay = h->v[0];
    c.momentum = h->v[1];
    c.nesterov = h->v[2] != 0;
    c.betas[0] = h->v[3];
    c.betas[1] = h->v[4];
    c.eps = h->v[5];
    c.rmsprop_decay = h->v[6];
    c.centered = h->v[7] != 0;
    *clip = h->v[8];
    return c;
}

static void load_grads(struct ecg_params *p, const struct fx *f, int step)
{
    for (int i = 0; i < NCASE_PARAMS; i++)
        fx_to_float(ecg_params_grad(p, i), fx_find(f, "grad.%d.%s", step, case_params[i]));
    float *bn = ecg_params_grad(p, NCASE_PARAMS);
    for (int i = 0; i < 3; i++)
        bn[i] = 7.0f; /* a buffer's gradient must be ignored */
}

/* Runs steps [from, to) of the fixture on (p, o), checking values and norms. */
static void run_steps(const char *name, struct ecg_params *p, struct ecg_optim *o, const struct fx *f,
                      int from, int to)
{
    double clip;
    (void)case_config(f, &clip);
    const struct fx_entry *lr = fx_find(f, "lr");
    int late_from = (int)fx_find(f, "late_from")->v[0];
    struct ecg_error err = {0};
    float want[64];
    for (int s = from; s < to; s++) {
        load_grads(p, f, s);
        ecg_params_set_flags(p, "late/", ECG_PARAM_FROZEN, s < late_from);
        if (clip > 0) {
            double norm = 0;
            CU_ASSERT_EQUAL(ecg_grad_clip_norm(p, clip, &norm, &err), ECG_OK);
            const struct fx_entry *wn = fx_find(f, "norm.%d", s);
            CU_ASSERT_PTR_NOT_NULL_FATAL(wn);
            CU_ASSERT_TRUE(ecg_test_close_double("pre-clip norm", &norm, wn->v, 1, 1e-6, 0));
        }
        ecg_optim_step(o, p, lr->v[s]);
        for (int i = 0; i < NCASE_PARAMS; i++) {
            const struct fx_entry *w = fx_find(f, "value.%d.%s", s, case_params[i]);
            CU_ASSERT_PTR_NOT_NULL_FATAL(w);
            fx_to_float(want, w);
            char label[200];
            snprintf(label, sizeof label, "%s step %d %s", name, s, case_params[i]);
            if (i == IDX_FROZEN)
                CU_ASSERT_EQUAL(memcmp(ecg_params_value(p, i), want, (size_t)w->count * 4), 0);
            ECG_CHECK_CLOSE(label, ecg_params_value(p, i), want, w->count, 1e-6, 1e-7);
        }
        const float *bn = ecg_params_value(p, NCASE_PARAMS);
        CU_ASSERT(bn[0] == 0.5f && bn[1] == 1.5f && bn[2] == 2.5f);
    }
}

static const struct ecg_optim_blob *find_blob(const struct ecg_optim *o, const char *name,
                                              struct ecg_optim_blob *tmp)
{
    for (int i = 0; i < ecg_optim_state_count(o); i++) {
        *tmp = ecg_optim_state_blob(o, i);
        if (strcmp(tmp->name, name) == 0)
            return tmp;
    }
    return NULL;
}

/* Compares the final optimizer state with PyTorch's `state` dict. */
static void check_state(const char *name, const struct ecg_params *p, const struct ecg_optim *o,
                        const struct fx *f)
{
    static const char *const keys[] = {"momentum_buffer", "exp_avg", "exp_avg_sq", "square_avg",
                                       "grad_avg"};
    float want[64];
    int found = 0;
    for (int i = 0; i < NCASE_PARAMS; i++) {
        for (int k = 0; k < 5; k++) {
            const struct fx_entry *e = fx_find(f, "state.%s.%s", keys[k], case_params[i]);
            struct ecg_optim_blob tmp;
            const struct ecg_optim_blob *b = find_blob(o, keys[k], &tmp);
            if (i == IDX_FROZEN) {
                CU_ASSERT_PTR_NULL(e); /* PyTorch keeps no state for it */
            } else {
                CU_ASSERT_EQUAL(e != NULL, b != NULL);
            }
            if (!e || !b)
                continue;
            found++;
            fx_to_float(want, e);
            char label[200];
            snprintf(label, sizeof label, "%s state %s of %s", name, keys[k], case_params[i]);
            ECG_CHECK_CLOSE(label, b->data + p->items[i].offset, want, e->count, 1e-6, 1e-7);
        }
        const struct fx_entry *st = fx_find(f, "state.step.%s", case_params[i]);
        struct ecg_optim_blob tmp;
        const struct ecg_optim_blob *steps = find_blob(o, "step", &tmp);
        CU_ASSERT_PTR_NOT_NULL_FATAL(steps);
        CU_ASSERT_EQUAL(steps->count, p->count);
        if (st)
            CU_ASSERT_EQUAL(steps->data[i], (float)st->v[0]);
        if (i == IDX_FROZEN)
            CU_ASSERT_EQUAL(steps->data[i], 0.0f);
    }
    CU_ASSERT_TRUE(found > 0 || o->cfg.kind == ECG_OPTIM_SGD);
}

static void run_case(const char *name)
{
    char path[128];
    snprintf(path, sizeof path, "optim/%s.txt", name);
    struct fx f;
    CU_ASSERT_TRUE_FATAL(fx_load(&f, path));
    struct ecg_params p;
    build_store(&p, &f);
    double clip;
    struct ecg_optim_config cfg = case_config(&f, &clip);
    struct ecg_optim o;
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL_FATAL(ecg_optim_init(&o, &p, &cfg, &err), ECG_OK);
    int matched = 0;
    CU_ASSERT_EQUAL(ecg_optim_set_lr_mult(&o, &p, "stem/", 0.1, &matched, &err), ECG_OK);
    CU_ASSERT_EQUAL(matched, 1);
    run_steps(name, &p, &o, &f, 0, (int)fx_find(&f, "lr")->count);
    check_state(name, &p, &o, &f);
    CU_ASSERT_EQUAL(o.step, 6);
    ecg_optim_free(&o);
    ecg_params_free(&p);
    fx_free(&f);
}

static void sgd_matches_pytorch(void) { run_case("sgd_plain"); }
static void sgd_momentum_matches_pytorch(void) { run_case("sgd_momentum"); }
static void sgd_nesterov_with_clipping_matches_pytorch(void) { run_case("sgd_nesterov_clip"); }
static void adamw_matches_pytorch(void) { run_case("adamw"); }
static void adamw_with_clipping_matches_pytorch(void) { run_case("adamw_clip"); }
static void rmsprop_matches_pytorch(void) { run_case("rmsprop"); }
static void centered_rmsprop_with_momentum_matches_pytorch(void)
{
    run_case("rmsprop_centered_momentum");
}

/* Saving every state blob and the step, then restoring into a fresh optimizer, resumes bit-exactly. */
static void restored_state_resumes_bit_exactly(void)
{
    static const char *const cases[] = {"adamw_clip", "rmsprop_centered_momentum", "sgd_nesterov_clip"};
    for (int c = 0; c < 3; c++) {
        char path[128];
        snprintf(path, sizeof path, "optim/%s.txt", cases[c]);
        struct fx f;
        CU_ASSERT_TRUE_FATAL(fx_load(&f, path));
        struct ecg_params a, b;
        build_store(&a, &f);
        build_store(&b, &f);
        double clip;
        struct ecg_optim_config cfg = case_config(&f, &clip);
        struct ecg_optim oa, ob;
        struct ecg_error err = {0};
        CU_ASSERT_EQUAL_FATAL(ecg_optim_init(&oa, &a, &cfg, &err), ECG_OK);
        CU_ASSERT_EQUAL_FATAL(ecg_optim_init(&ob, &b, &cfg, &err), ECG_OK);
        ecg_optim_set_lr_mult(&oa, &a, "stem/", 0.1, NULL, &err);
        ecg_optim_set_lr_mult(&ob, &b, "stem/", 0.1, NULL, &err);
        run_steps(cases[c], &a, &oa, &f, 0, 4);
        /* "checkpoint": values, every blob by name, the step */
        memcpy(b.values, a.values, (size_t)a.total * sizeof(float));
        CU_ASSERT_EQUAL(ecg_optim_state_count(&oa), ecg_optim_state_count(&ob));
        for (int i = 0; i < ecg_optim_state_count(&oa); i++) {
            struct ecg_optim_blob sa = ecg_optim_state_blob(&oa, i), sb = ecg_optim_state_blob(&ob, i);
            CU_ASSERT_STRING_EQUAL(sa.name, sb.name);
            CU_ASSERT_EQUAL_FATAL(sa.count, sb.count);
            memcpy(sb.data, sa.data, (size_t)sa.count * sizeof(float));
        }
        ob.step = oa.step;
        run_steps(cases[c], &a, &oa, &f, 4, 6);
        run_steps(cases[c], &b, &ob, &f, 4, 6);
        CU_ASSERT_EQUAL(memcmp(a.values, b.values, (size_t)a.total * sizeof(float)), 0);
        CU_ASSERT_EQUAL(ob.step, 6);
        ecg_optim_free(&oa);
        ecg_optim_free(&ob);
        ecg_optim_free(&ob); /* freeing a zeroed optimizer is a no-op */
        ecg_params_free(&a);
        ecg_params_free(&b);
        fx_free(&f);
    }
}

static void state_blobs_are_named_like_pytorch(void)
{
    struct ecg_params p = {0};
    struct ecg_error err = {0};
    int64_t shape[1] = {10};
    ECG_ASSERT(ecg_params_add(&p, "w", 1, shape, 0, NULL, &err) == 0);
    ECG_ASSERT(ecg_params_bind(&p, &err) == 0);
    struct {
        enum ecg_optim_kind kind;
        double momentum;
        bool centered;
        const char *names;
    } cases[] = {
        {ECG_OPTIM_SGD, 0, false, "step"},
        {ECG_OPTIM_SGD, 0.9, false, "momentum_buffer step"},
        {ECG_OPTIM_ADAMW, 0, false, "exp_avg exp_avg_sq step"},
        {ECG_OPTIM_RMSPROP, 0, false, "square_avg step"},
        {ECG_OPTIM_RMSPROP, 0.5, true, "square_avg momentum_buffer grad_avg step"},
    };
    for (int c = 0; c < 5; c++) {
        struct ecg_optim_config cfg = ecg_optim_defaults(cases[c].kind);
        cfg.momentum = cases[c].momentum;
        cfg.centered = cases[c].centered;
        struct ecg_optim o;
        CU_ASSERT_EQUAL_FATAL(ecg_optim_init(&o, &p, &cfg, &err), ECG_OK);
        char got[200] = "";
        for (int i = 0; i < ecg_optim_state_count(&o); i++) {
            struct ecg_optim_blob b = ecg_optim_state_blob(&o, i);
            if (i)
                strcat(got, " ");
            strcat(got, b.name);
            CU_ASSERT_EQUAL(b.count, strcmp(b.name, "step") == 0 ? 1 : p.total);
        }
        CU_ASSERT_STRING_EQUAL(got, cases[c].names);
        ecg_optim_free(&o);
    }
    ecg_params_free(&p);
}

static void bad_optimizer_settings_are_rejected_with_the_field_named(void)
{
    struct ecg_params p = {0};
    struct ecg_error err = {0};
    int64_t shape[1] = {2};
    ECG_ASSERT(ecg_params_add(&p, "w", 1, shape, 0, NULL, &err) == 0);
    ECG_ASSERT(ecg_params_bind(&p, &err) == 0);
    struct ecg_optim o;
    struct ecg_optim_config c = ecg_optim_defaults(ECG_OPTIM_ADAMW);
    c.betas[0] = 1.0;
    ECG_CHECK_ERROR(ecg_optim_init(&o, &p, &c, &err), &err, ECG_ERR_RANGE, "optim.betas[0] = 1: expected a value in [0, 1)");
    c = ecg_optim_defaults(ECG_OPTIM_SGD);
    c.weight_decay = -0.1;
    ECG_CHECK_ERROR(ecg_optim_init(&o, &p, &c, &err), &err, ECG_ERR_RANGE, "weight_decay = -0.1");
    c = ecg_optim_defaults(ECG_OPTIM_SGD);
    c.nesterov = true;
    ECG_CHECK_ERROR(ecg_optim_init(&o, &p, &c, &err), &err, ECG_ERR_CONFIG, "needs optim.momentum > 0");
    c = ecg_optim_defaults(ECG_OPTIM_RMSPROP);
    c.rmsprop_decay = NAN;
    ECG_CHECK_ERROR(ecg_optim_init(&o, &p, &c, &err), &err, ECG_ERR_RANGE, "optim.rmsprop_decay = nan");
    c.rmsprop_decay = 0.99;
    c.eps = -1;
    ECG_CHECK_ERROR(ecg_optim_init(&o, &p, &c, &err), &err, ECG_ERR_RANGE, "eps = -1");
    enum ecg_optim_kind kind;
    ECG_CHECK_ERROR(ecg_optim_kind_parse("adam", &kind, &err), &err, ECG_ERR_CONFIG,
                    "optim.name 'adam': expected one of sgd, adamw, rmsprop");
    CU_ASSERT_EQUAL(ecg_optim_kind_parse("AdamW", &kind, &err), ECG_OK);
    CU_ASSERT_EQUAL(kind, ECG_OPTIM_ADAMW);
    CU_ASSERT_STRING_EQUAL(ecg_optim_kind_name(ECG_OPTIM_RMSPROP), "rmsprop");
    c = ecg_optim_defaults(ECG_OPTIM_SGD);
    CU_ASSERT_EQUAL_FATAL(ecg_optim_init(&o, &p, &c, &err), ECG_OK);
    ECG_CHECK_ERROR(ecg_optim_set_lr_mult(&o, &p, "block6", -2, NULL, &err), &err, ECG_ERR_RANGE,
                    "multiplier for 'block6': -2");
    ecg_optim_free(&o);
    ecg_params_free(&p);
}

/* A zero learning-rate multiplier freezes a parameter in effect, but SGD momentum keeps accumulating. */
static void lr_multipliers_scale_each_parameter_step(void)
{
    struct ecg_params p = {0};
    struct ecg_error err = {0};
    int64_t shape[1] = {3};
    ECG_ASSERT(ecg_params_add(&p, "block1/w", 1, shape, 0, NULL, &err) == 0);
    ECG_ASSERT(ecg_params_add(&p, "block2/w", 1, shape, 0, NULL, &err) == 0);
    ECG_ASSERT(ecg_params_add(&p, "head/w", 1, shape, 0, NULL, &err) == 0);
    ECG_ASSERT(ecg_params_bind(&p, &err) == 0);
    struct ecg_optim_config c = ecg_optim_defaults(ECG_OPTIM_SGD);
    struct ecg_optim o;
    CU_ASSERT_EQUAL_FATAL(ecg_optim_init(&o, &p, &c, &err), ECG_OK);
    int matched = -1;
    CU_ASSERT_EQUAL(ecg_optim_set_lr_mult(&o, &p, "block", 0.25, &matched, &err), ECG_OK);
    CU_ASSERT_EQUAL(matched, 2);
    CU_ASSERT_EQUAL(ecg_optim_set_lr_mult(&o, &p, "block2/", 0.0, &matched, &err), ECG_OK);
    CU_ASSERT_EQUAL(matched, 1);
    for (int64_t i = 0; i < p.total; i++)
        p.grads[i] = 1.0f;
    ecg_optim_step(&o, &p, 0.5);
    CU_ASSERT_EQUAL(ecg_params_value(&p, 0)[1], -0.125f);
    CU_ASSERT_EQUAL(ecg_params_value(&p, 1)[1], 0.0f);
    CU_ASSERT_EQUAL(ecg_params_value(&p, 2)[1], -0.5f);
    ecg_optim_free(&o);
    ecg_params_free(&p);
}

/* ---- gradient checks ---- */

static void store3(struct ecg_params *p)
{
    struct ecg_error err = {0};
    memset(p, 0, sizeof *p);
    int64_t s2[1] = {2}, s3[1] = {3};
    ECG_ASSERT(ecg_params_add(p, "stem_conv/kernel", 1, s3, 0, NULL, &err) == 0);
    ECG_ASSERT(ecg_params_add(p, "stem_bn/gamma", 1, s2, ECG_PARAM_NO_DECAY, NULL, &err) == 0);
    ECG_ASSERT(ecg_params_add(p, "stem_bn/moving_mean", 1, s2, ECG_PARAM_BUFFER, NULL, &err) == 0);
    ECG_ASSERT(ecg_params_add(p, "top_conv/kernel", 1, s3, ECG_PARAM_FROZEN, NULL, &err) == 0);
    ECG_ASSERT(ecg_params_bind(p, &err) == 0);
}

static void a_nan_gradient_is_reported_with_the_parameter_where_backward_met_it_first(void)
{
    struct ecg_params p;
    store3(&p);
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL(ecg_grad_check_finite(&p, &err), ECG_OK);
    ecg_params_grad(&p, 2)[0] = NAN;      /* a buffer: ignored */
    ecg_params_grad(&p, 3)[1] = INFINITY; /* frozen: ignored */
    CU_ASSERT_EQUAL(ecg_grad_check_finite(&p, &err), ECG_OK);
    ecg_params_grad(&p, 0)[2] = -INFINITY;
    ECG_CHECK_ERROR(ecg_grad_check_finite(&p, &err), &err, ECG_ERR_VALUE,
                    "parameter 'stem_conv/kernel': gradient element 2 is infinite");
    /* Backward order: the parameter nearer the head is where the non-finite value appeared. */
    ecg_params_grad(&p, 1)[1] = NAN;
    ECG_CHECK_ERROR(ecg_grad_check_finite(&p, &err), &err, ECG_ERR_VALUE,
                    "parameter 'stem_bn/gamma': gradient element 1 is NaN");
    float before[2] = {ecg_params_grad(&p, 1)[0], 0};
    double norm = 0;
    ECG_CHECK_ERROR(ecg_grad_clip_norm(&p, 1.0, &norm, &err), &err, ECG_ERR_VALUE,
                    "'stem_bn/gamma'");
    CU_ASSERT_TRUE(!isfinite(norm));
    CU_ASSERT_EQUAL(ecg_params_grad(&p, 1)[0], before[0]);
    ecg_params_free(&p);
}

static void clipping_scales_trainable_gradients_to_the_max_norm(void)
{
    struct ecg_params p;
    store3(&p);
    struct ecg_error err = {0};
    float g0[3] = {3, 0, 4}, g1[2] = {0, 12};
    memcpy(ecg_params_grad(&p, 0), g0, sizeof g0);
    memcpy(ecg_params_grad(&p, 1), g1, sizeof g1);
    ecg_params_grad(&p, 2)[0] = 100; /* buffer and frozen grads count for nothing */
    ecg_params_grad(&p, 3)[0] = 100;
    double norm = 0;
    CU_ASSERT_EQUAL(ecg_grad_clip_norm(&p, 0, &norm, &err), ECG_OK); /* measure only */
    CU_ASSERT_DOUBLE_EQUAL(norm, 13.0, 1e-12);
    CU_ASSERT_EQUAL(ecg_params_grad(&p, 0)[0], 3.0f);
    CU_ASSERT_EQUAL(ecg_grad_clip_norm(&p, 20, &norm, &err), ECG_OK); /* below the limit */
    CU_ASSERT_EQUAL(ecg_params_grad(&p, 1)[1], 12.0f);
    CU_ASSERT_EQUAL(ecg_grad_clip_norm(&p, 6.5, &norm, &err), ECG_OK);
    CU_ASSERT_DOUBLE_EQUAL(norm, 13.0, 1e-12);
    float want0[3] = {1.5f, 0, 2.0f}, want1[2] = {0, 6.0f};
    ECG_CHECK_CLOSE("clipped", ecg_params_grad(&p, 0), want0, 3, 1e-6, 0);
    ECG_CHECK_CLOSE("clipped", ecg_params_grad(&p, 1), want1, 2, 1e-6, 0);
    CU_ASSERT_EQUAL(ecg_params_grad(&p, 2)[0], 100.0f);
    CU_ASSERT_EQUAL(ecg_params_grad(&p, 3)[0], 100.0f);
    ecg_params_free(&p);
}

/* ---- EMA ---- */

static void ema_follows_the_closed_form_and_copies_frozen_weights(void)
{
    struct ecg_params p;
    store3(&p);
    struct ecg_error err = {0};
    for (int64_t i = 0; i < p.total; i++)
        p.values[i] = 1.0f;
    struct ecg_ema e;
    CU_ASSERT_EQUAL_FATAL(ecg_ema_init(&e, &p, 0.9, false, &err), ECG_OK);
    double want = 1.0;
    for (int t = 1; t <= 5; t++) {
        for (int64_t i = 0; i < p.total; i++)
            p.values[i] = (float)t * 0.5f;
        ecg_params_value(&p, 3)[0] = 0.1f * (float)t; /* a frozen weight changed from outside */
        CU_ASSERT_DOUBLE_EQUAL(ecg_ema_current_decay(&e), 0.9, 0);
        ecg_ema_update(&e, &p);
        want = 0.9 * want + 0.1 * (t * 0.5);
        CU_ASSERT_DOUBLE_EQUAL(e.shadow[p.items[0].offset], want, 1e-6);
        CU_ASSERT_DOUBLE_EQUAL(e.shadow[p.items[2].offset + 1], want, 1e-6); /* buffers averaged */
        CU_ASSERT_EQUAL(e.shadow[p.items[3].offset], 0.1f * (float)t);      /* frozen copied */
    }
    CU_ASSERT_EQUAL(e.updates, 5);
    ecg_ema_free(&e);
    ecg_ema_free(&e);
    ecg_params_free(&p);
}

static void ema_warm_up_uses_the_tensorflow_rule(void)
{
    struct ecg_params p;
    store3(&p);
    struct ecg_error err = {0};
    struct ecg_ema e;
    CU_ASSERT_EQUAL_FATAL(ecg_ema_init(&e, &p, 0.5, true, &err), ECG_OK);
    CU_ASSERT_DOUBLE_EQUAL(ecg_ema_current_decay(&e), 0.1, 1e-15);
    ecg_params_value(&p, 0)[0] = 10.0f;
    ecg_ema_update(&e, &p);
    CU_ASSERT_DOUBLE_EQUAL(e.shadow[0], 9.0, 1e-6); /* 0.1 * 0 + 0.9 * 10 */
    CU_ASSERT_DOUBLE_EQUAL(ecg_ema_current_decay(&e), 2.0 / 11.0, 1e-15);
    for (int i = 0; i < 20; i++)
        ecg_ema_update(&e, &p);
    CU_ASSERT_DOUBLE_EQUAL(ecg_ema_current_decay(&e), 0.5, 0); /* capped by decay */
    ecg_ema_free(&e);
    ECG_CHECK_ERROR(ecg_ema_init(&e, &p, 1.5, false, &err), &err, ECG_ERR_RANGE,
                    "optim.ema_decay = 1.5: expected a value in [0, 1]");
    ecg_params_free(&p);
}

static void ema_swap_twice_restores_the_live_weights(void)
{
    struct ecg_params p;
    store3(&p);
    struct ecg_error err = {0};
    for (int64_t i = 0; i < p.total; i++)
        p.values[i] = (float)i;
    struct ecg_ema e;
    CU_ASSERT_EQUAL_FATAL(ecg_ema_init(&e, &p, 0.99, false, &err), ECG_OK);
    for (int64_t i = 0; i < p.total; i++)
        p.values[i] = (float)(2 * i + 1);
    ecg_ema_update(&e, &p);
    float *live = malloc((size_t)p.total * sizeof(float)), *shadow = malloc((size_t)p.total * 4);
    memcpy(live, p.values, (size_t)p.total * 4);
    memcpy(shadow, e.shadow, (size_t)p.total * 4);
    ecg_ema_swap(&e, &p);
    CU_ASSERT_TRUE(e.swapped);
    CU_ASSERT_EQUAL(memcmp(p.values, shadow, (size_t)p.total * 4), 0);
    ecg_ema_swap(&e, &p);
    CU_ASSERT_FALSE(e.swapped);
    CU_ASSERT_EQUAL(memcmp(p.values, live, (size_t)p.total * 4), 0);
    CU_ASSERT_EQUAL(memcmp(e.shadow, shadow, (size_t)p.total * 4), 0);
    free(live);
    free(shadow);
    ecg_ema_free(&e);
    ecg_params_free(&p);
}

/* ---- schedules ---- */

static void schedules_match_pytorch_schedulers(void)
{
    struct fx f;
    CU_ASSERT_TRUE_FATAL(fx_load(&f, "optim/sched.txt"));
    static const struct {
        const char *name;
        enum ecg_sched_kind kind;
    } cases[] = {{"constant_warmup", ECG_SCHED_CONSTANT},
                 {"step_warmup", ECG_SCHED_STEP},
                 {"step", ECG_SCHED_STEP},
                 {"cosine_warmup", ECG_SCHED_COSINE},
                 {"cosine", ECG_SCHED_COSINE}};
    for (int c = 0; c < 5; c++) {
        const struct fx_entry *h = fx_find(&f, "%s.config", cases[c].name);
        const struct fx_entry *lr = fx_find(&f, "%s.lr", cases[c].name);
        CU_ASSERT_PTR_NOT_NULL_FATAL(h);
        CU_ASSERT_PTR_NOT_NULL_FATAL(lr);
        struct ecg_sched_config s = {0};
        s.kind = cases[c].kind;
        s.lr = h->v[0];
        int64_t spe = (int64_t)h->v[1];
        s.warmup_steps = (int64_t)h->v[2];
        s.gamma = h->v[3];
        s.step_epochs = (int64_t)h->v[4];
        s.epochs = (int64_t)h->v[5];
        s.min_lr = h->v[6];
        struct ecg_error err = {0};
        CU_ASSERT_EQUAL_FATAL(ecg_sched_check(&s, spe, &err), ECG_OK);
        double got[128];
        for (int64_t i = 0; i < lr->count; i++) /* backwards: a pure function of the step */
            got[lr->count - 1 - i] = ecg_sched_lr(&s, lr->count - 1 - i, spe);
        CU_ASSERT_TRUE(ecg_test_close_double(cases[c].name, got, lr->v, lr->count, 1e-9, 1e-15));
    }
    fx_free(&f);
}

static void schedules_follow_their_closed_forms(void)
{
    struct ecg_sched_config s = {.kind = ECG_SCHED_COSINE, .lr = 1.0, .min_lr = 0.1, .epochs = 10,
                                 .warmup_epochs = 1.5};
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL(ecg_sched_check(&s, 4, &err), ECG_OK);
    CU_ASSERT_EQUAL(ecg_sched_warmup_steps(&s, 4), 6);
    CU_ASSERT_DOUBLE_EQUAL(ecg_sched_lr(&s, 0, 4), 1.0 / 6, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(ecg_sched_lr(&s, 5, 4), 1.0, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(ecg_sched_lr(&s, 6, 4), 1.0, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(ecg_sched_lr(&s, 6 + 17, 4), 0.55, 1e-15); /* halfway of 34 steps */
    CU_ASSERT_DOUBLE_EQUAL(ecg_sched_lr(&s, 40, 4), 0.1, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(ecg_sched_lr(&s, 1000, 4), 0.1, 1e-15);
    struct ecg_sched_config st = {.kind = ECG_SCHED_STEP, .lr = 0.8, .gamma = 0.5, .step_epochs = 3};
    CU_ASSERT_EQUAL(ecg_sched_check(&st, 10, &err), ECG_OK);
    CU_ASSERT_DOUBLE_EQUAL(ecg_sched_lr(&st, 29, 10), 0.8, 0);
    CU_ASSERT_DOUBLE_EQUAL(ecg_sched_lr(&st, 30, 10), 0.4, 0);
    CU_ASSERT_DOUBLE_EQUAL(ecg_sched_lr(&st, 95, 10), 0.1, 0);
    struct ecg_sched_config k = {.kind = ECG_SCHED_CONSTANT, .lr = 0.3, .warmup_steps = 3};
    CU_ASSERT_DOUBLE_EQUAL(ecg_sched_lr(&k, 1, 100), 0.2, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(ecg_sched_lr(&k, 12345, 100), 0.3, 0);
}

static void bad_schedules_are_rejected_with_the_field_named(void)
{
    struct ecg_error err = {0};
    struct ecg_sched_config s = {.kind = ECG_SCHED_COSINE, .lr = 0.1, .epochs = 2, .warmup_epochs = 2};
    ECG_CHECK_ERROR(ecg_sched_check(&s, 5, &err), &err, ECG_ERR_RANGE,
                    "warm-up of 10 steps leaves nothing of 2 epochs x 5 steps");
    s.warmup_epochs = 0;
    s.min_lr = 0.5;
    ECG_CHECK_ERROR(ecg_sched_check(&s, 5, &err), &err, ECG_ERR_RANGE, "min_lr = 0.5: expected a value in [0, lr = 0.1]");
    s.min_lr = 0;
    ECG_CHECK_ERROR(ecg_sched_check(&s, 0, &err), &err, ECG_ERR_RANGE, "0 steps per epoch");
    s.lr = 0;
    ECG_CHECK_ERROR(ecg_sched_check(&s, 5, &err), &err, ECG_ERR_RANGE, "lr = 0: expected a finite value > 0");
    struct ecg_sched_config st = {.kind = ECG_SCHED_STEP, .lr = 0.1, .gamma = 0, .step_epochs = 1};
    ECG_CHECK_ERROR(ecg_sched_check(&st, 5, &err), &err, ECG_ERR_RANGE, "gamma = 0: expected a value in (0, 1]");
    st.gamma = 0.5;
    st.step_epochs = 0;
    ECG_CHECK_ERROR(ecg_sched_check(&st, 5, &err), &err, ECG_ERR_RANGE, "step_epochs = 0");
    st.step_epochs = 1;
    st.warmup_epochs = -1;
    ECG_CHECK_ERROR(ecg_sched_check(&st, 5, &err), &err, ECG_ERR_RANGE, "warmup_epochs = -1");
    enum ecg_sched_kind kind;
    ECG_CHECK_ERROR(ecg_sched_kind_parse("linear", &kind, &err), &err, ECG_ERR_CONFIG,
                    "train.schedule 'linear': expected one of constant, step, cosine");
    CU_ASSERT_EQUAL(ecg_sched_kind_parse("Cosine", &kind, &err), ECG_OK);
    CU_ASSERT_EQUAL(kind, ECG_SCHED_COSINE);
    CU_ASSERT_STRING_EQUAL(ecg_sched_kind_name(ECG_SCHED_STEP), "step");
}

/* ---- class weights ---- */

static void balanced_class_weights_are_inverse_frequency(void)
{
    struct ecg_error err = {0};
    int64_t counts[3] = {10, 30, 60};
    float w[3];
    CU_ASSERT_EQUAL(ecg_class_weights_balanced(counts, 3, NULL, w, &err), ECG_OK);
    float want[3] = {100.0f / 30.0f, 100.0f / 90.0f, 100.0f / 180.0f};
    ECG_CHECK_CLOSE("balanced", w, want, 3, 1e-6, 0);
    int64_t uniform[4] = {7, 7, 7, 7};
    float w4[4], ones[4] = {1, 1, 1, 1};
    CU_ASSERT_EQUAL(ecg_class_weights_balanced(uniform, 4, NULL, w4, &err), ECG_OK);
    ECG_CHECK_CLOSE("uniform", w4, ones, 4, 0, 0);
    int64_t missing[3] = {5, 0, 2};
    const char *names[3] = {"N", "A", "O"};
    ECG_CHECK_ERROR(ecg_class_weights_balanced(missing, 3, names, w, &err), &err, ECG_ERR_VALUE,
                    "class 'A' has 0 training examples");
    ECG_CHECK_ERROR(ecg_class_weights_balanced(missing, 3, NULL, w, &err), &err, ECG_ERR_VALUE,
                    "class 1 has 0 training examples");
}

static void capped_class_weights_skip_absent_classes_and_stop_at_the_cap(void)
{
    /* The beats of DS1 without Q: N 45000, S 900, V 3600, F 400, Q 0. n = 49900 over 4 present classes. */
    int64_t counts[5] = {45000, 900, 3600, 400, 0};
    float w[5];
    CU_ASSERT_EQUAL(ecg_class_weights_capped(counts, 5, 0, w), 1);
    float uncapped[5] = {49900.0f / 180000, 49900.0f / 3600, 49900.0f / 14400, 49900.0f / 1600, 0};
    ECG_CHECK_CLOSE("uncapped", w, uncapped, 5, 1e-6, 0);
    CU_ASSERT_EQUAL(ecg_class_weights_capped(counts, 5, 10, w), 1);
    float capped[5] = {49900.0f / 180000, 10, 49900.0f / 14400, 10, 0};
    ECG_CHECK_CLOSE("capped at 10", w, capped, 5, 1e-6, 0);
    int64_t none[2] = {0, 0}, negative[2] = {3, -1};
    CU_ASSERT_EQUAL(ecg_class_weights_capped(none, 2, 0, w), -1);
    CU_ASSERT_EQUAL(ecg_class_weights_capped(negative, 2, 0, w), -1);
}

static const struct ecg_test optim_tests[] = {
    {"SGD matches PyTorch with weight decay, no-decay, frozen and late-unfrozen parameters", sgd_matches_pytorch},
    {"capped class weights skip absent classes and stop at the cap",
     capped_class_weights_skip_absent_classes_and_stop_at_the_cap},
    {"SGD with momentum matches PyTorch", sgd_momentum_matches_pytorch},
    {"SGD with Nesterov momentum and gradient clipping matches PyTorch", sgd_nesterov_with_clipping_matches_pytorch},
    {"AdamW matches PyTorch, bias correction counted per parameter", adamw_matches_pytorch},
    {"AdamW with gradient clipping and other betas matches PyTorch", adamw_with_clipping_matches_pytorch},
    {"RMSprop matches PyTorch", rmsprop_matches_pytorch},
    {"centered RMSprop with momentum matches PyTorch", centered_rmsprop_with_momentum_matches_pytorch},
    {"restored state blobs resume bit-exactly", restored_state_resumes_bit_exactly},
    {"state blobs are named like PyTorch's state keys", state_blobs_are_named_like_pytorch},
    {"learning-rate multipliers scale each parameter's step", lr_multipliers_scale_each_parameter_step},
    {"bad optimizer settings are rejected with the field named", bad_optimizer_settings_are_rejected_with_the_field_named},
    {NULL, NULL},
};
static const struct ecg_test grad_tests[] = {
    {"a NaN or infinite gradient is reported with the parameter where backward met it first",
     a_nan_gradient_is_reported_with_the_parameter_where_backward_met_it_first},
    {"clipping scales trainable gradients to the max norm", clipping_scales_trainable_gradients_to_the_max_norm},
    {NULL, NULL},
};
static const struct ecg_test ema_tests[] = {
    {"EMA follows the closed form and copies frozen weights", ema_follows_the_closed_form_and_copies_frozen_weights},
    {"EMA warm-up uses the TensorFlow rule", ema_warm_up_uses_the_tensorflow_rule},
    {"EMA swap twice restores the live weights", ema_swap_twice_restores_the_live_weights},
    {NULL, NULL},
};
static const struct ecg_test sched_tests[] = {
    {"schedules match PyTorch's schedulers", schedules_match_pytorch_schedulers},
    {"schedules follow their closed forms", schedules_follow_their_closed_forms},
    {"bad schedules are rejected with the field named", bad_schedules_are_rejected_with_the_field_named},
    {"balanced class weights are inverse frequency", balanced_class_weights_are_inverse_frequency},
    {NULL, NULL},
};
static const struct ecg_suite suites[] = {
    {"optim", optim_tests},
    {"grad", grad_tests},
    {"ema", ema_tests},
    {"sched", sched_tests},
    {NULL, NULL},
};

int main(int argc, char **argv) { return ecg_test_main(argc, argv, suites); }
