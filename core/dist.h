/* Data-parallel processes: rank, size and the few collectives training needs, over MPI or as one process. */
#ifndef ECG_CORE_DIST_H
#define ECG_CORE_DIST_H

#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"

/*
 * A build with MPI (meson -Dmpi=enabled, or auto when Open MPI is installed)
 * implements these over MPI_COMM_WORLD; a build without it compiles the same
 * API as one process (rank 0 of 1, every collective a no-op), so callers need
 * no #ifdef.  A program started without mpirun is also one process.
 *
 * Collectives are called by the main thread only, in the same order on every
 * rank.  They cannot fail: an MPI error (a peer process died, the network
 * dropped) prints one message naming the rank and the operation and ends the
 * whole job with exit status 1 (MPI_Abort), and so does a collective that
 * waits longer than the timeout set with ecg_dist_set_timeout() (a peer that
 * hangs), so a job never waits forever.
 */

/* Starts MPI when the program runs under mpirun (or srun); a no-op otherwise.  Call once, first. */
int ecg_dist_init(int *argc, char ***argv, struct ecg_error *err);

/* Ends MPI (after the last collective); a no-op without it. */
void ecg_dist_finalize(void);

/* Whether this build has MPI. */
bool ecg_dist_compiled(void);

int ecg_dist_rank(void);
int ecg_dist_size(void);
/* Ranks on this host (for the default thread count); 1 without MPI. */
int ecg_dist_local_size(void);
static inline bool ecg_dist_is_root(void) { return ecg_dist_rank() == 0; }

/* Seconds a collective may wait before the job is ended as hung; 0 (the start) means no limit. */
void ecg_dist_set_timeout(double seconds);

/* A function called when this rank ends the job on its own (a hung collective, an MPI error,
 * ecg_dist_abort), after its message and before the process ends without exit handlers: it
 * finishes output that would otherwise be lost (the run's train.log copy; train/run_log.h).  It
 * may run on the watchdog's thread while the main thread waits in a collective.  NULL: none. */
void ecg_dist_set_exit_hook(void (*hook)(void));

/* In-place sums over every rank.  Open MPI hands every rank the same sums in practice; MPI does not
 * promise it, so callers that need identical replicas re-broadcast (train/data_parallel.h). */
void ecg_dist_sum_floats(float *buf, int64_t n);
void ecg_dist_sum_doubles(double *buf, int64_t n);

/* Copies rank 0's buf (bytes) to every rank. */
void ecg_dist_broadcast(void *buf, int64_t bytes);

/* Returns when every rank has called it. */
void ecg_dist_barrier(void);

/* Prints msg naming the rank and ends every rank with exit status `code` (exit(code) without MPI). */
_Noreturn void ecg_dist_abort(const char *msg, int code);

#endif
