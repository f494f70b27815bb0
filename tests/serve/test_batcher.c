/* Tests of dynamic batching (results independent of batch company, queue bound, drain) and of the response
 * JSON. */
#define _GNU_SOURCE /* open_memstream */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serve/batcher.h"
#include "serve/respond.h"
#include "tests/serve/test_backend.h"
#include "tests/test_util.h"

#define NJOBS 12

struct waiter {
    struct ecg_batch_job job;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int done;
};

static void on_done(struct ecg_batch_job *job)
{
    struct waiter *w = job->user;
    pthread_mutex_lock(&w->mu);
    w->done = 1;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

static void wait_done(struct waiter *w)
{
    pthread_mutex_lock(&w->mu);
    while (!w->done)
        pthread_cond_wait(&w->cv, &w->mu);
    pthread_mutex_unlock(&w->mu);
}

/* A 30 s signal whose amplitude depends on `seed`, prepared by the test backend. */
static void prepared(const struct ecg_serve_backend *be, int seed, struct ecg_serve_prepared *p)
{
    int64_t n = 9000 + 900 * (seed % 4);
    float *x = malloc((size_t)n * sizeof *x);
    CU_ASSERT_FATAL(x != NULL);
    for (int64_t i = 0; i < n; i++)
        x[i] = (float)((seed + 1) * 0.1 * ((i * 7 + seed) % 13) / 13.0);
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL_FATAL(be->prepare(be->model, NULL, x, n, 300.0, p, &err), ECG_OK);
    free(x);
}

static int64_t input_size(const struct ecg_serve_backend *be)
{
    return be->info.input_h * be->info.input_w * be->info.input_c;
}

static void batched_results_equal_one_window_at_a_time(void)
{
    struct ecg_serve_backend be;
    ecg_test_backend_init(&be, 20);
    struct ecg_batcher *b;
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL_FATAL(ecg_batcher_start(&be, 5, 0.05, NJOBS, NULL, NULL, &b, &err), ECG_OK);
    struct waiter w[NJOBS];
    struct ecg_serve_prepared p[NJOBS];
    long calls0 = ecg_test_backend_calls(), windows = 0;
    for (int i = 0; i < NJOBS; i++) {
        prepared(&be, i, &p[i]);
        memset(&w[i], 0, sizeof w[i]);
        pthread_mutex_init(&w[i].mu, NULL);
        pthread_cond_init(&w[i].cv, NULL);
        w[i].job = (struct ecg_batch_job){.inputs = p[i].inputs,
                                          .count = p[i].windows,
                                          .probs = malloc((size_t)(p[i].windows * 4) * sizeof(float)),
                                          .on_done = on_done,
                                          .user = &w[i]};
        windows += p[i].windows;
        CU_ASSERT_EQUAL_FATAL(ecg_batcher_submit(b, &w[i].job, &err), ECG_OK);
    }
    for (int i = 0; i < NJOBS; i++)
        wait_done(&w[i]);
    long calls = ecg_test_backend_calls() - calls0;
    /* 12 jobs of 3..6 windows in batches of at most 5: fewer calls than jobs, at least windows/5. */
    CU_ASSERT_TRUE(calls >= (windows + 4) / 5 && calls < windows);
    for (int i = 0; i < NJOBS; i++) {
        CU_ASSERT_EQUAL(w[i].job.status, ECG_OK);
        float want[4];
        for (int64_t k = 0; k < p[i].windows; k++) {
            CU_ASSERT_EQUAL(
                be.classify(be.model, NULL, p[i].inputs + k * input_size(&be), NULL, 1, want, NULL, &err), ECG_OK);
            ECG_CHECK_CLOSE("window probabilities", w[i].job.probs + 4 * k, want, 4, 0, 0);
        }
        free(w[i].job.probs);
        ecg_serve_prepared_free(&p[i]);
    }
    ecg_batcher_free(b);
}

static void a_full_queue_refuses_with_a_message_and_drain_finishes_the_rest(void)
{
    struct ecg_serve_backend be;
    ecg_test_backend_init(&be, 100);
    struct ecg_batcher *b;
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL_FATAL(ecg_batcher_start(&be, 1, 0, 2, NULL, NULL, &b, &err), ECG_OK);
    struct ecg_serve_prepared p;
    prepared(&be, 0, &p);
    struct waiter w[3];
    float probs[3][6 * 4];
    for (int i = 0; i < 3; i++) {
        memset(&w[i], 0, sizeof w[i]);
        pthread_mutex_init(&w[i].mu, NULL);
        pthread_cond_init(&w[i].cv, NULL);
        w[i].job = (struct ecg_batch_job){
            .inputs = p.inputs, .count = p.windows, .probs = probs[i], .on_done = on_done, .user = &w[i]};
    }
    CU_ASSERT_EQUAL(ecg_batcher_submit(b, &w[0].job, &err), ECG_OK);
    CU_ASSERT_EQUAL(ecg_batcher_submit(b, &w[1].job, &err), ECG_OK);
    ECG_CHECK_ERROR(ecg_batcher_submit(b, &w[2].job, &err), &err, ECG_ERR_RANGE,
                    "the model's queue is full (2 requests waiting)");
    CU_ASSERT_EQUAL(ecg_batcher_depth(b), 2);
    ecg_batcher_drain(b);
    CU_ASSERT_TRUE(w[0].done && w[1].done);
    CU_ASSERT_EQUAL(ecg_batcher_depth(b), 0);
    ECG_CHECK_ERROR(ecg_batcher_submit(b, &w[2].job, &err), &err, ECG_ERR_RANGE, "shutting down");
    ecg_batcher_free(b);
    ecg_serve_prepared_free(&p);
}

static void base64_matches_rfc_4648_vectors(void)
{
    static const char *const in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    static const char *const out[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    for (int i = 0; i < 7; i++) {
        char buf[16];
        ecg_serve_base64(buf, (const unsigned char *)in[i], strlen(in[i]));
        CU_ASSERT_STRING_EQUAL(buf, out[i]);
    }
}

static void results_average_windows_and_report_unclassified_records(void)
{
    struct ecg_serve_backend be;
    ecg_test_backend_init(&be, 0);
    struct ecg_serve_record recs[2] = {{.name = "a", .file = "a.csv", .fs = 300, .length = 6000},
                                       {.name = "b\"q", .fs = 300, .length = 300}};
    struct ecg_serve_result res[2] = {{.rec = &recs[0]}, {.rec = &recs[1]}};
    double starts[2] = {0, 9};
    res[0].prep.windows = 2;
    res[0].prep.window_start_s = starts;
    const float probs[8] = {0.1f, 0.2f, 0.3f, 0.4f, 0.3f, 0.4f, 0.1f, 0.2f};
    res[0].probs = probs;
    snprintf(res[1].error, sizeof res[1].error, "1.00 s long");
    for (int i = 0; i < 2; i++)
        ecg_serve_result_finish(&be, &res[i]);
    CU_ASSERT_PTR_NULL(res[1].record_probs);
    char *text = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&text, &size);
    ecg_serve_write_results(f, &be.info, res, 2, 0);
    fclose(f);
    CU_ASSERT_PTR_NOT_NULL(strstr(
        text, "\"record\":\"a\",\"file\":\"a.csv\",\"fs\":300,\"seconds\":20,"
              "\"class\":\"NSR\",\"probabilities\":{\"AF\":0.2,\"NSR\":0.3,\"Noise\":0.2,\"Other\":0.3}"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "{\"start_s\":9,\"class\":\"NSR\""));
    CU_ASSERT_PTR_NOT_NULL(
        strstr(text, "\"record\":\"b\\\"q\",\"fs\":300,\"seconds\":1,\"class\":null,"
                     "\"probabilities\":null,\"error\":\"1.00 s long\",\"windows\":[],\"checks\":[]"));
    if (!strstr(text, "\"class\":\"NSR\""))
        fprintf(stderr, "\n%s\n", text);
    free(text);
    free(res[0].record_probs);
}

static const struct ecg_test batch_tests[] = {
    {"batched results equal one window at a time", batched_results_equal_one_window_at_a_time},
    {"a full queue refuses with a message and drain finishes the rest",
     a_full_queue_refuses_with_a_message_and_drain_finishes_the_rest},
    {NULL, NULL},
};
static const struct ecg_test respond_tests[] = {
    {"base64 matches the RFC 4648 test vectors", base64_matches_rfc_4648_vectors},
    {"results average the windows and report unclassified records",
     results_average_windows_and_report_unclassified_records},
    {NULL, NULL},
};
static const struct ecg_suite suites[] = {{"batcher", batch_tests}, {"respond", respond_tests}, {NULL, NULL}};

int main(int argc, char **argv)
{
    return ecg_test_main(argc, argv, suites);
}
