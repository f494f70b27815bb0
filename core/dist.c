/* Data-parallel processes over MPI_COMM_WORLD, or one process when built or started without MPI. */
#include "core/dist.h"

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#if ECG_HAVE_MPI
#include <mpi.h>
#endif

static int g_rank, g_size = 1, g_local_size = 1;
static bool g_active; /* MPI initialised by us and more than the default world */

bool ecg_dist_compiled(void) { return ECG_HAVE_MPI != 0; }
int ecg_dist_rank(void) { return g_rank; }
int ecg_dist_size(void) { return g_size; }
int ecg_dist_local_size(void) { return g_local_size; }

/* ---- the watchdog: a collective that waits too long ends the job ------------------------ */

static _Atomic double g_timeout;          /* seconds; 0: no limit */
static _Atomic double g_wait_since;       /* monotonic seconds when the current collective began; 0: none */
static const char *_Atomic g_wait_what;   /* its name */
static pthread_t g_watchdog;
static bool g_watchdog_running;

static double mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void ecg_dist_set_timeout(double seconds) { g_timeout = seconds > 0 ? seconds : 0; }

static void (*_Atomic g_exit_hook)(void);

void ecg_dist_set_exit_hook(void (*hook)(void)) { g_exit_hook = hook; }

/* Before ending the job without exit handlers (ecg_dist_set_exit_hook). */
static void before_ending(void)
{
    void (*hook)(void) = g_exit_hook;
    if (hook)
        hook();
}

static void *watchdog(void *arg)
{
    (void)arg;
    for (;;) {
        sleep(1);
        double since = g_wait_since, limit = g_timeout;
        if (since > 0 && limit > 0 && mono_now() - since > limit) {
            char msg[256];
            int n = snprintf(msg, sizeof msg,
                             "ecgtrain: rank %d of %d: %s waited more than %.0f s for the other ranks "
                             "(run.dist_timeout): a rank has hung or died; ending the job\n",
                             g_rank, g_size, g_wait_what ? g_wait_what : "a collective", limit);
            if (write(STDERR_FILENO, msg, (size_t)(n > 0 ? n : 0)) < 0)
                n = 0;
            before_ending();
            /* Not MPI_Abort: only the main thread may call MPI.  A rank that exits without
             * MPI_Finalize makes mpirun end every other rank. */
            _exit(1);
        }
    }
    return NULL;
}

static void wait_begin(const char *what)
{
    g_wait_what = what;
    g_wait_since = mono_now();
}

static void wait_end(void) { g_wait_since = 0; }

#if ECG_HAVE_MPI

/* Any MPI error: one message naming the rank and the error, then the whole job ends. */
static void on_mpi_error(MPI_Comm *comm, int *code, ...)
{
    (void)comm;
    char text[MPI_MAX_ERROR_STRING];
    int len = 0;
    MPI_Error_string(*code, text, &len);
    fprintf(stderr, "ecgtrain: rank %d of %d: communication failed during %s: %s (another rank has probably "
                    "died); ending the job\n",
            g_rank, g_size, g_wait_what ? g_wait_what : "MPI", text);
    fflush(stderr);
    before_ending();
    MPI_Abort(MPI_COMM_WORLD, 1);
    _exit(1);
}

/* Whether a launcher (mpirun, srun with PMI) started us: without one, stay a plain process. */
static bool launched_by_mpi(void)
{
    static const char *vars[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "SLURM_STEP_ID"};
    for (size_t i = 0; i < sizeof vars / sizeof *vars; i++)
        if (getenv(vars[i]))
            return true;
    return false;
}

int ecg_dist_init(int *argc, char ***argv, struct ecg_error *err)
{
    if (!launched_by_mpi())
        return ECG_OK;
    int provided = 0;
    if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
        return ecg_error_set(err, ECG_ERR_IO, "MPI could not start (MPI_Init_thread failed)");
    g_active = true;
    static MPI_Errhandler handler;
    MPI_Comm_create_errhandler(on_mpi_error, &handler);
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, handler);
    MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &g_size);
    MPI_Comm local;
    MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &local);
    MPI_Comm_size(local, &g_local_size);
    MPI_Comm_free(&local);
    if (g_size > 1 && pthread_create(&g_watchdog, NULL, watchdog, NULL) == 0) {
        pthread_detach(g_watchdog);
        g_watchdog_running = true;
    }
    return ECG_OK;
}

void ecg_dist_finalize(void)
{
    if (!g_active)
        return;
    g_timeout = 0;
    MPI_Finalize();
    g_active = false;
}

/* MPI counts are int: long buffers go in pieces. */
#define CHUNK (INT_MAX / 8)

static void sum_any(void *buf, int64_t n, MPI_Datatype type, size_t size, const char *what)
{
    if (g_size < 2)
        return;
    wait_begin(what);
    for (int64_t off = 0; off < n; off += CHUNK) {
        int count = (int)(n - off < CHUNK ? n - off : CHUNK);
        MPI_Allreduce(MPI_IN_PLACE, (char *)buf + (size_t)off * size, count, type, MPI_SUM, MPI_COMM_WORLD);
    }
    wait_end();
}

void ecg_dist_sum_floats(float *buf, int64_t n) { sum_any(buf, n, MPI_FLOAT, sizeof *buf, "the gradient sum"); }
void ecg_dist_sum_doubles(double *buf, int64_t n) { sum_any(buf, n, MPI_DOUBLE, sizeof *buf, "a sum"); }

void ecg_dist_broadcast(void *buf, int64_t bytes)
{
    if (g_size < 2)
        return;
    wait_begin("a broadcast");
    for (int64_t off = 0; off < bytes; off += CHUNK) {
        int count = (int)(bytes - off < CHUNK ? bytes - off : CHUNK);
        MPI_Bcast((char *)buf + off, count, MPI_BYTE, 0, MPI_COMM_WORLD);
    }
    wait_end();
}

void ecg_dist_barrier(void)
{
    if (g_size < 2)
        return;
    wait_begin("a barrier");
    MPI_Barrier(MPI_COMM_WORLD);
    wait_end();
}

_Noreturn void ecg_dist_abort(const char *msg, int code)
{
    fprintf(stderr, "ecgtrain: rank %d of %d: %s; ending the job\n", g_rank, g_size, msg);
    fflush(stderr);
    if (g_active) {
        before_ending();
        MPI_Abort(MPI_COMM_WORLD, code);
    }
    exit(code);
}

#else /* one process */

int ecg_dist_init(int *argc, char ***argv, struct ecg_error *err)
{
    (void)argc;
    (void)argv;
    (void)err;
    (void)g_active;
    (void)g_watchdog;
    (void)g_watchdog_running;
    (void)watchdog;
    (void)wait_begin;
    (void)wait_end;
    return ECG_OK;
}

void ecg_dist_finalize(void) {}
void ecg_dist_sum_floats(float *buf, int64_t n) { (void)buf, (void)n; }
void ecg_dist_sum_doubles(double *buf, int64_t n) { (void)buf, (void)n; }
void ecg_dist_broadcast(void *buf, int64_t bytes) { (void)buf, (void)bytes; }
void ecg_dist_barrier(void) {}

_Noreturn void ecg_dist_abort(const char *msg, int code)
{
    fprintf(stderr, "ecgtrain: %s\n", msg);
    exit(code);
}

#endif
