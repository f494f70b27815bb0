/* Tests of core/: arenas, the parameter store, errors, the RNG, shapes and the GEMM wrapper. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "core/arena.h"
#include "core/blas.h"
#include "core/error.h"
#include "core/params.h"
#include "core/rng.h"
#include "core/tensor.h"
#include "tests/test_util.h"

static void planning_arena_counts_aligned_bytes_without_memory(void)
{
    struct ecg_arena a;
    ecg_arena_init_plan(&a);
    CU_ASSERT_PTR_NULL(ecg_arena_alloc(&a, 1));
    CU_ASSERT_PTR_NULL(ecg_arena_floats(&a, 17));
    CU_ASSERT_EQUAL(a.used, 64 + 128);
    CU_ASSERT_EQUAL(a.high, 192);
    ecg_arena_free(&a);
}

static void bound_arena_returns_aligned_disjoint_blocks(void)
{
    struct ecg_arena a;
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL_FATAL(ecg_arena_init(&a, 1000, &err), ECG_OK);
    char *p = ecg_arena_alloc(&a, 10);
    char *q = ecg_arena_alloc(&a, 100);
    CU_ASSERT_EQUAL((uintptr_t)p % ECG_ARENA_ALIGN, 0);
    CU_ASSERT_EQUAL((uintptr_t)q % ECG_ARENA_ALIGN, 0);
    CU_ASSERT_TRUE(q >= p + 10);
    memset(p, 1, 10);
    memset(q, 2, 100);
    CU_ASSERT_EQUAL(p[9], 1);
    ecg_arena_free(&a);
    CU_ASSERT_PTR_NULL(a.base);
    ecg_arena_free(&a); /* freeing a zeroed arena is a no-op */
}

static void arena_high_water_mark_survives_a_rewind(void)
{
    struct ecg_arena a;
    ecg_arena_init_plan(&a);
    ecg_arena_alloc(&a, 64);
    int64_t mark = ecg_arena_mark(&a);
    ecg_arena_alloc(&a, 640);
    ecg_arena_rewind(&a, mark);
    ecg_arena_alloc(&a, 64);
    CU_ASSERT_EQUAL(a.used, 128);
    CU_ASSERT_EQUAL(a.high, 704);
}

static void a_plan_then_bind_uses_exactly_the_planned_bytes(void)
{
    struct ecg_arena plan, real;
    struct ecg_error err = {0};
    ecg_arena_init_plan(&plan);
    for (int i = 1; i < 20; i++)
        ecg_arena_floats(&plan, i * 7);
    CU_ASSERT_EQUAL_FATAL(ecg_arena_init(&real, plan.high, &err), ECG_OK);
    for (int i = 1; i < 20; i++)
        CU_ASSERT_PTR_NOT_NULL(ecg_arena_floats(&real, i * 7));
    CU_ASSERT_EQUAL(real.used, plan.used);
    ecg_arena_free(&real);
}

static void size_arithmetic_detects_overflow(void)
{
    int64_t out = 0;
    CU_ASSERT_TRUE(ecg_size_mul(1 << 20, 1 << 20, &out));
    CU_ASSERT_EQUAL(out, (int64_t)1 << 40);
    CU_ASSERT_FALSE(ecg_size_mul(INT64_MAX / 2, 3, &out));
    CU_ASSERT_FALSE(ecg_size_mul(-1, 3, &out));
    CU_ASSERT_FALSE(ecg_size_add(INT64_MAX, 1, &out));
    CU_ASSERT_PTR_NULL(ecg_aligned_calloc(INT64_MAX / 2, 4));
}

static void arena_of_impossible_size_fails_with_a_message(void)
{
    struct ecg_arena a;
    struct ecg_error err = {0};
    int rc = ecg_arena_init(&a, INT64_MAX, &err);
    ECG_CHECK_ERROR(rc, &err, ECG_ERR_NOMEM, "arena");
}

static void params_live_in_one_values_and_one_grads_array(void)
{
    struct ecg_params p = {0};
    struct ecg_error err = {0};
    int64_t k[4] = {3, 3, 3, 32}, g[1] = {32};
    int ik = -1, ig = -1, im = -1;
    CU_ASSERT_EQUAL(ecg_params_add(&p, "stem_conv/kernel", 4, k, 0, &ik, &err), ECG_OK);
    CU_ASSERT_EQUAL(ecg_params_add(&p, "stem_bn/gamma", 1, g, ECG_PARAM_NO_DECAY, &ig, &err), ECG_OK);
    CU_ASSERT_EQUAL(ecg_params_add(&p, "stem_bn/moving_mean", 1, g, ECG_PARAM_BUFFER, &im, &err), ECG_OK);
    CU_ASSERT_EQUAL_FATAL(ecg_params_bind(&p, &err), ECG_OK);
    CU_ASSERT_EQUAL(ecg_params_find(&p, "stem_bn/gamma"), ig);
    CU_ASSERT_EQUAL(ecg_params_find(&p, "nope"), -1);
    CU_ASSERT_EQUAL(p.items[ik].numel, 864);
    float *kv = ecg_params_value(&p, ik), *gv = ecg_params_value(&p, ig);
    CU_ASSERT_TRUE(gv >= kv + 864);
    CU_ASSERT_EQUAL((uintptr_t)gv % ECG_ARENA_ALIGN, 0);
    CU_ASSERT_EQUAL(ecg_params_count(&p, ECG_PARAM_BUFFER), 864 + 32);
    CU_ASSERT_EQUAL(ecg_params_count(&p, 0), 864 + 64);
    ecg_params_grad(&p, ig)[5] = 3.0f;
    ecg_params_zero_grad(&p);
    CU_ASSERT_EQUAL(ecg_params_grad(&p, ig)[5], 0.0f);
    CU_ASSERT_EQUAL(ecg_params_set_flags(&p, "stem_bn/", ECG_PARAM_FROZEN, true), 2);
    CU_ASSERT_TRUE(p.items[ig].flags & ECG_PARAM_FROZEN);
    CU_ASSERT_FALSE(p.items[ik].flags & ECG_PARAM_FROZEN);
    ecg_params_free(&p);
    ecg_params_free(&p);
}

static void params_reject_duplicates_bad_shapes_and_late_adds(void)
{
    struct ecg_params p = {0};
    struct ecg_error err = {0};
    int64_t s[2] = {4, 0}, ok[1] = {4};
    ECG_CHECK_ERROR(ecg_params_add(&p, "dense/kernel", 2, s, 0, NULL, &err), &err, ECG_ERR_SHAPE,
                    "parameter 'dense/kernel': invalid shape (4, 0)");
    CU_ASSERT_EQUAL(ecg_params_add(&p, "dense/bias", 1, ok, 0, NULL, &err), ECG_OK);
    ECG_CHECK_ERROR(ecg_params_add(&p, "dense/bias", 1, ok, 0, NULL, &err), &err, ECG_ERR_USAGE,
                    "registered twice");
    CU_ASSERT_EQUAL(ecg_params_bind(&p, &err), ECG_OK);
    ECG_CHECK_ERROR(ecg_params_add(&p, "late/bias", 1, ok, 0, NULL, &err), &err, ECG_ERR_USAGE,
                    "already bound");
    ecg_params_free(&p);
}

static int fails_deep(struct ecg_error *err)
{
    return ecg_error_set(err, ECG_ERR_SHAPE, "expected (3, 3, 3, 32), found (3, 3, 1, 32)");
}

static void error_context_reads_from_the_outside_in(void)
{
    struct ecg_error err = {0};
    int rc = fails_deep(&err);
    ecg_error_prefix(&err, ECG_ERR_SHAPE, "layer 'stem_conv'");
    ecg_error_prefix(&err, ECG_ERR_SHAPE, "%s", "weights.h5");
    CU_ASSERT_EQUAL(rc, ECG_ERR_SHAPE);
    CU_ASSERT_STRING_EQUAL(err.msg,
                           "weights.h5: layer 'stem_conv': expected (3, 3, 3, 32), found (3, 3, 1, 32)");
    CU_ASSERT_EQUAL(ecg_status_exit_code(ECG_ERR_CONFIG), 2);
    CU_ASSERT_EQUAL(ecg_status_exit_code(ECG_ERR_IO), 1);
    CU_ASSERT_EQUAL(ecg_status_exit_code(ECG_OK), 0);
    CU_ASSERT_EQUAL(ecg_error_set(NULL, ECG_ERR_IO, "ignored"), ECG_ERR_IO);
    ecg_error_clear(&err);
    CU_ASSERT_EQUAL(err.code, ECG_OK);
}

static void adding_context_without_an_error_struct_still_passes_the_failure_up(void)
{
    CU_ASSERT_EQUAL(ecg_error_prefix(NULL, ECG_ERR_IO, "data.path"), ECG_ERR_IO);
    CU_ASSERT_EQUAL(ecg_error_prefix(NULL, ECG_ERR_SHAPE, "layer '%s'", "stem_conv"), ECG_ERR_SHAPE);
    struct ecg_error err = {0};
    fails_deep(&err);
    CU_ASSERT_EQUAL(ecg_error_prefix(&err, ECG_ERR_SHAPE, "model"), ECG_ERR_SHAPE);
    CU_ASSERT_EQUAL(err.code, ECG_ERR_SHAPE);
}

static void rng_is_a_pure_function_of_seed_stream_and_counter(void)
{
    struct ecg_rng a = ecg_rng_init(42, 0), b = ecg_rng_init(42, 0), c = ecg_rng_init(43, 0);
    uint64_t first = ecg_rng_u64(&a);
    CU_ASSERT_EQUAL(first, ecg_rng_u64(&b));
    CU_ASSERT_NOT_EQUAL(first, ecg_rng_u64(&c));
    CU_ASSERT_EQUAL(first, ecg_rng_hash(42, 0, 0));
    /* Streams drawn in any order give the same numbers. */
    struct ecg_rng parent = ecg_rng_init(7, 1);
    uint64_t forward[8], backward[8];
    for (int i = 0; i < 8; i++) {
        struct ecg_rng s = ecg_rng_stream(&parent, (uint64_t)i);
        forward[i] = ecg_rng_u64(&s);
    }
    for (int i = 7; i >= 0; i--) {
        struct ecg_rng s = ecg_rng_stream(&parent, (uint64_t)i);
        backward[i] = ecg_rng_u64(&s);
    }
    CU_ASSERT_EQUAL(memcmp(forward, backward, sizeof forward), 0);
    CU_ASSERT_NOT_EQUAL(forward[0], forward[1]);
}

static void rng_distributions_have_the_right_moments(void)
{
    struct ecg_rng r = ecg_rng_init(1, 2);
    const int n = 200000;
    double su = 0, sn = 0, sn2 = 0;
    int counts[5] = {0};
    for (int i = 0; i < n; i++) {
        float u = ecg_rng_uniform(&r);
        CU_ASSERT_TRUE(u >= 0.0f && u < 1.0f);
        su += u;
        double z = ecg_rng_normal(&r);
        sn += z;
        sn2 += z * z;
        counts[ecg_rng_below(&r, 5)]++;
    }
    CU_ASSERT_DOUBLE_EQUAL(su / n, 0.5, 0.005);
    CU_ASSERT_DOUBLE_EQUAL(sn / n, 0.0, 0.01);
    CU_ASSERT_DOUBLE_EQUAL(sn2 / n, 1.0, 0.02);
    for (int i = 0; i < 5; i++)
        CU_ASSERT_DOUBLE_EQUAL(counts[i] / (double)n, 0.2, 0.01);
}

static void shuffle_is_a_seeded_permutation(void)
{
    int64_t a[100], b[100];
    for (int i = 0; i < 100; i++)
        a[i] = b[i] = i;
    struct ecg_rng r1 = ecg_rng_init(5, 0), r2 = ecg_rng_init(5, 0);
    ecg_rng_shuffle(&r1, a, 100);
    ecg_rng_shuffle(&r2, b, 100);
    CU_ASSERT_EQUAL(memcmp(a, b, sizeof a), 0);
    int seen[100] = {0}, moved = 0;
    for (int i = 0; i < 100; i++) {
        seen[a[i]]++;
        moved += a[i] != i;
    }
    for (int i = 0; i < 100; i++)
        CU_ASSERT_EQUAL(seen[i], 1);
    CU_ASSERT_TRUE(moved > 80);
}

static void shapes_print_like_python_tuples(void)
{
    char buf[64];
    int64_t d4[4] = {2, 56, 56, 24}, d1[1] = {7};
    CU_ASSERT_STRING_EQUAL(ecg_shape_str(buf, sizeof buf, 4, d4), "(2, 56, 56, 24)");
    CU_ASSERT_STRING_EQUAL(ecg_shape_str(buf, sizeof buf, 1, d1), "(7,)");
    CU_ASSERT_STRING_EQUAL(ecg_shape_str(buf, sizeof buf, 0, d1), "()");
    struct ecg_tensor t = ecg_tensor_shape4(2, 3, 4, 5);
    CU_ASSERT_EQUAL(ecg_tensor_numel(&t), 120);
}

static void sgemm_wrapper_matches_a_naive_loop_with_transposes(void)
{
    enum { M = 7, N = 5, K = 3 };
    float a[M * K], at[K * M], b[K * N], bt[N * K], c[M * N], want[M * N];
    struct ecg_rng r = ecg_rng_init(3, 0);
    for (int i = 0; i < M * K; i++)
        a[i] = ecg_rng_normal(&r);
    for (int i = 0; i < K * N; i++)
        b[i] = ecg_rng_normal(&r);
    for (int i = 0; i < M; i++)
        for (int k = 0; k < K; k++)
            at[k * M + i] = a[i * K + k];
    for (int k = 0; k < K; k++)
        for (int j = 0; j < N; j++)
            bt[j * K + k] = b[k * N + j];
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double s = 0;
            for (int k = 0; k < K; k++)
                s += (double)a[i * K + k] * b[k * N + j];
            want[i * N + j] = (float)(2.0 * s + 1.0);
        }
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
            for (int i = 0; i < M * N; i++)
                c[i] = 1.0f;
            ecg_sgemm(ta, tb, M, N, K, 2.0f, ta ? at : a, ta ? M : K, tb ? bt : b, tb ? K : N, 1.0f,
                      c, N);
            ECG_CHECK_CLOSE("sgemm", c, want, M * N, 1e-5, 1e-5);
        }
}

static const struct ecg_test arena_tests[] = {
    {"a planning arena counts aligned bytes and owns no memory", planning_arena_counts_aligned_bytes_without_memory},
    {"a bound arena returns aligned, disjoint blocks", bound_arena_returns_aligned_disjoint_blocks},
    {"the high-water mark survives a rewind", arena_high_water_mark_survives_a_rewind},
    {"a plan then a bind use exactly the planned bytes", a_plan_then_bind_uses_exactly_the_planned_bytes},
    {"size arithmetic detects overflow", size_arithmetic_detects_overflow},
    {"an arena of impossible size fails with a message", arena_of_impossible_size_fails_with_a_message},
    {NULL, NULL},
};
static const struct ecg_test params_tests[] = {
    {"parameters live in one values and one grads array", params_live_in_one_values_and_one_grads_array},
    {"duplicates, bad shapes and adds after bind are rejected", params_reject_duplicates_bad_shapes_and_late_adds},
    {NULL, NULL},
};
static const struct ecg_test misc_tests[] = {
    {"error context reads from the outside in", error_context_reads_from_the_outside_in},
    {"adding context without an error struct still passes the failure up",
     adding_context_without_an_error_struct_still_passes_the_failure_up},
    {"the RNG is a pure function of seed, stream and counter", rng_is_a_pure_function_of_seed_stream_and_counter},
    {"RNG distributions have the right moments", rng_distributions_have_the_right_moments},
    {"shuffle is a seeded permutation", shuffle_is_a_seeded_permutation},
    {"shapes print like Python tuples", shapes_print_like_python_tuples},
    {"the sgemm wrapper matches a naive loop with transposes", sgemm_wrapper_matches_a_naive_loop_with_transposes},
    {NULL, NULL},
};
static const struct ecg_suite suites[] = {
    {"arena", arena_tests},
    {"params", params_tests},
    {"core", misc_tests},
    {NULL, NULL},
};

int main(int argc, char **argv) { return ecg_test_main(argc, argv, suites); }
