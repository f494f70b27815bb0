/* Tests of the process-wide settings: the log level and log lines under several threads, the thread count. */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/blas.h"
#include "core/log.h"
#include "core/openmp.h"
#include "tests/test_util.h"

enum { WRITERS = 4, LINES = 1500, BODY = 300 };

static void *write_lines(void *arg)
{
    int id = (int)(intptr_t)arg;
    char body[BODY + 1];
    memset(body, 'a' + id, BODY);
    body[BODY] = '\0';
    for (int i = 0; i < LINES; i++)
        ecg_warn("writer %d line %d %s", id, i, body);
    return NULL;
}

/* Counts the lines of `text` that are exactly what write_lines() writes; -1 at the first other line. */
static int count_whole_lines(const char *text)
{
    int whole = 0;
    for (const char *p = text; *p;) {
        const char *end = strchr(p, '\n');
        if (!end)
            return -1;
        int id, i, used = 0;
        if (sscanf(p, "warning: writer %d line %d %n", &id, &i, &used) != 2 || id < 0 || id >= WRITERS ||
            end - (p + used) != BODY) {
            fprintf(stderr, "\n  torn line: %.80s\n", p);
            return -1;
        }
        for (const char *q = p + used; q < end; q++)
            if (*q != 'a' + id) {
                fprintf(stderr, "\n  mixed line: %.80s\n", p);
                return -1;
            }
        whole++;
        p = end + 1;
    }
    return whole;
}

static void log_lines_from_several_threads_never_interleave(void)
{
    char path[600];
    snprintf(path, sizeof path, "%s/threads.log", ecg_test_tmpdir());
    fflush(stderr);
    int saved = dup(2), fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CU_ASSERT_FATAL(saved >= 0 && fd >= 0);
    dup2(fd, 2);
    close(fd);
    enum ecg_log_level level = ecg_log_get_level();
    ecg_log_set_level(ECG_LOG_INFO);
    pthread_t t[WRITERS];
    for (int i = 0; i < WRITERS; i++)
        pthread_create(&t[i], NULL, write_lines, (void *)(intptr_t)i);
    for (int i = 0; i < WRITERS; i++)
        pthread_join(t[i], NULL);
    ecg_log_set_level(level);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    char *text = ecg_test_read_file(path);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    CU_ASSERT_EQUAL(count_whole_lines(text), WRITERS * LINES);
    free(text);
}

static void *read_level(void *arg)
{
    *(enum ecg_log_level *)arg = ecg_log_get_level();
    return NULL;
}

static void the_log_level_is_one_setting_for_every_thread(void)
{
    enum ecg_log_level level = ecg_log_get_level(), seen = ECG_LOG_DEBUG;
    ecg_log_set_level(ECG_LOG_ERROR);
    pthread_t t;
    pthread_create(&t, NULL, read_level, &seen);
    pthread_join(t, NULL);
    CU_ASSERT_EQUAL(seen, ECG_LOG_ERROR);
    ecg_log_set_level(level);
}

struct thread_view {
    int count, omp_before, omp_after;
};

static void *adopt_thread_count(void *arg)
{
    struct thread_view *v = arg;
    v->count = ecg_threads_get();
    v->omp_before = omp_get_max_threads();
    ecg_threads_adopt();
    v->omp_after = omp_get_max_threads();
    return NULL;
}

static void a_thread_the_program_starts_adopts_the_process_thread_count(void)
{
    int saved = ecg_threads_get();
    /* a count no default gives: OMP_NUM_THREADS is unset in tests and the cores are fewer */
    int n = omp_get_num_procs() + 3;
    ecg_threads_set(n);
    struct thread_view v = {0};
    pthread_t t;
    pthread_create(&t, NULL, adopt_thread_count, &v);
    pthread_join(t, NULL);
    CU_ASSERT_EQUAL(v.count, n);
    CU_ASSERT_NOT_EQUAL(v.omp_before, n); /* why adopting is needed: OpenMP counts per thread */
    CU_ASSERT_EQUAL(v.omp_after, n);
    CU_ASSERT_EQUAL(omp_get_max_threads(), n);
    ecg_threads_set(saved);
}

static const struct ecg_test process_tests[] = {
    {"log lines from several threads never interleave", log_lines_from_several_threads_never_interleave},
    {"the log level is one setting for every thread", the_log_level_is_one_setting_for_every_thread},
    {"a thread the program starts adopts the process's thread count",
     a_thread_the_program_starts_adopts_the_process_thread_count},
    {NULL, NULL},
};
static const struct ecg_suite suites[] = {
    {"process", process_tests},
    {NULL, NULL},
};

int main(int argc, char **argv) { return ecg_test_main(argc, argv, suites); }
