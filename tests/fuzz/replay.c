/* Runs a fuzz harness on every file of the given directories (seed corpus, regressions): the normal test
 * suite's replay of what the fuzzers found, in builds without libFuzzer. */
#define _DEFAULT_SOURCE /* DT_REG */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/fuzz.h"

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The whole file, malloc'd; NULL when unreadable. */
static unsigned char *slurp(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    unsigned char *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n == cap) {
            cap = cap ? 2 * cap : 65536;
            unsigned char *g = realloc(buf, cap);
            if (!g)
                break;
            buf = g;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad || n == cap) { /* n == cap: the realloc failed */
        free(buf);
        return NULL;
    }
    *size = n;
    return buf;
}

/* Replays every regular file of dir in name order; returns the number replayed, -1 on an unreadable file. */
static int replay_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0; /* a harness may have no regressions yet */
    char **names = NULL;
    int n = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.' || strcmp(e->d_name, "README.md") == 0)
            continue;
        char **g = realloc(names, (size_t)(n + 1) * sizeof *names);
        if (!g || !(g[n] = strdup(e->d_name)))
            abort();
        names = g;
        n++;
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof *names, by_name);
    int done = 0;
    for (int i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        size_t size = 0;
        unsigned char *data = slurp(path, &size);
        if (!data) {
            fprintf(stderr, "replay: cannot read %s\n", path);
            done = -1;
            break;
        }
        fprintf(stderr, "replay: %s (%zu bytes)\n", path, size);
        LLVMFuzzerTestOneInput(data, size);
        free(data);
        done++;
    }
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return done;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s DIR...  (runs the harness on every file of each DIR)\n", argv[0]);
        return 2;
    }
    int total = 0;
    for (int i = 1; i < argc; i++) {
        int n = replay_dir(argv[i]);
        if (n < 0)
            return 1;
        total += n;
    }
    if (total == 0) {
        fprintf(stderr, "replay: no inputs in %s%s\n", argv[1], argc > 2 ? " ..." : "");
        return 1;
    }
    printf("replay: %d inputs, none crashed\n", total);
    return 0;
}
