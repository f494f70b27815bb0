/* Helpers of the fuzz harnesses: splitting inputs, the per-process scratch directory, the error contract. */
#define _XOPEN_SOURCE 700 /* nftw */
#include "tests/fuzz/fuzz.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"

int fuzz_split(const uint8_t *data, size_t size, struct fuzz_part *parts, int max)
{
    static const size_t seplen = sizeof FUZZ_SEP - 1;
    for (int i = 0; i < max; i++)
        parts[i] = (struct fuzz_part){NULL, 0};
    int n = 0;
    const uint8_t *p = data, *end = data + size;
    while (n < max - 1) {
        const uint8_t *cut = NULL;
        for (const uint8_t *q = p; q + seplen <= end && !cut; q++)
            if (memcmp(q, FUZZ_SEP, seplen) == 0)
                cut = q;
        if (!cut)
            break;
        parts[n++] = (struct fuzz_part){p, (size_t)(cut - p)};
        p = cut + seplen;
    }
    parts[n++] = (struct fuzz_part){p, (size_t)(end - p)};
    return n;
}

static char scratch[256];

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    remove(path);
    return 0;
}

static void remove_scratch(void)
{
    if (scratch[0] && getpid() == (pid_t)strtol(strrchr(scratch, '-') + 1, NULL, 10))
        nftw(scratch, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

void fuzz_init(void)
{
    if (scratch[0])
        return;
    ecg_log_set_level(ECG_LOG_QUIET);
    const char *base = getenv("TMPDIR");
    if (!base || !base[0] || strlen(base) > 180)
        base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(scratch, sizeof scratch, "%s/ecgfuzz-%ld", base, (long)getpid());
    if (mkdir(scratch, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, "fuzz: cannot create %s: %s\n", scratch, strerror(errno));
        abort();
    }
    atexit(remove_scratch);
}

const char *fuzz_dir(void)
{
    fuzz_init();
    return scratch;
}

/* Creates the directories of path below the scratch directory. */
static void make_parents(char *path)
{
    for (char *s = path + strlen(scratch) + 1; (s = strchr(s, '/')); s++) {
        *s = '\0';
        if (mkdir(path, 0700) != 0 && errno != EEXIST) {
            fprintf(stderr, "fuzz: cannot create %s: %s\n", path, strerror(errno));
            abort();
        }
        *s = '/';
    }
}

const char *fuzz_file(const char *name, const uint8_t *data, size_t size)
{
    static char ring[8][512];
    static int next;
    char *path = ring[next++ % 8];
    snprintf(path, sizeof ring[0], "%s/%s", fuzz_dir(), name);
    if (!data) {
        unlink(path);
        return path;
    }
    make_parents(path);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0) {
        fprintf(stderr, "fuzz: cannot write %s: %s\n", path, strerror(errno));
        abort();
    }
    return path;
}

char *fuzz_text(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        abort();
    if (size)
        memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

void fuzz_check_status(int rc, const struct ecg_error *err)
{
    static int verbose = -1;
    if (verbose < 0)
        verbose = getenv("FUZZ_VERBOSE") != NULL;
    if (verbose)
        fprintf(stderr, "  -> %s%s%s\n", ecg_status_name((enum ecg_status)rc), rc ? ": " : "",
                rc ? err->msg : "");
    if (rc == ECG_OK)
        return;
    if (rc < ECG_OK || rc > ECG_ERR_INTERRUPTED || (int)err->code != rc || !err->msg[0]) {
        fprintf(stderr, "fuzz: error contract broken: status %d, message status %d, message '%s'\n", rc,
                (int)err->code, err->msg);
        abort();
    }
}
