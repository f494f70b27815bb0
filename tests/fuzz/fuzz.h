/* What the fuzz harnesses share: inputs cut into files, a private scratch directory, the error contract. */
#ifndef ECG_TESTS_FUZZ_H
#define ECG_TESTS_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

/* libFuzzer's entry point; tests/fuzz/replay.c calls it on committed inputs in every build. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An input that stands for several files holds them one after another with this line between them
 * (tests/fuzz/README.md: the layout of each harness). */
#define FUZZ_SEP "\n--8<--\n"
#define FUZZ_MAX_PARTS 8

struct fuzz_part {
    const uint8_t *data; /* NULL when the input has fewer parts */
    size_t size;
};

/* Cuts the input at each FUZZ_SEP into at most `max` parts (the last one keeps any further separators);
 * parts beyond the input's count are {NULL, 0}.  Returns the number of parts present (at least 1). */
int fuzz_split(const uint8_t *data, size_t size, struct fuzz_part *parts, int max);

/* Once per process: logging off (warnings of skipped records would only slow the fuzzer down) and the
 * scratch directory, a fresh directory under $TMPDIR (else /dev/shm, else /tmp) removed at exit. */
void fuzz_init(void);
const char *fuzz_dir(void);

/* Writes `data` to <scratch>/<name> (subdirectories are created); data NULL removes the file, so that no
 * file of an earlier input is read.  Returns the path (one of 8 rotating static buffers).  An I/O failure
 * aborts: it is the harness's, not the code under test's. */
const char *fuzz_file(const char *name, const uint8_t *data, size_t size);

/* A NUL-terminated malloc'd copy of the bytes (never NULL). */
char *fuzz_text(const uint8_t *data, size_t size);

/* The error contract, checked on every failure: a known status, the same in `err`, with a message.  A
 * breach aborts, so the fuzzer reports it like a crash.  With FUZZ_VERBOSE set in the environment every
 * result is printed (what a seed or regression input exercises). */
void fuzz_check_status(int rc, const struct ecg_error *err);

#endif
