/* Reader for the `key count values...` text fixtures. */
#include "tests/optim/fxtext.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "tests/test_util.h"

bool fx_load(struct fx *f, const char *relative)
{
    memset(f, 0, sizeof *f);
    FILE *fp = fopen(ecg_test_fixture(relative), "r");
    if (!fp) {
        fprintf(stderr, "\n  cannot open fixture %s\n", ecg_test_fixture(relative));
        return false;
    }
    char key[128];
    long long count;
    int cap = 0;
    while (fscanf(fp, "%127s %lld", key, &count) == 2) {
        if (f->n == cap) {
            cap = cap ? cap * 2 : 64;
            f->e = realloc(f->e, (size_t)cap * sizeof *f->e);
            ECG_ASSERT(f->e);
        }
        struct fx_entry *e = &f->e[f->n++];
        strcpy(e->key, key);
        e->count = count;
        e->v = malloc((size_t)(count > 0 ? count : 1) * sizeof(double));
        ECG_ASSERT(e->v);
        for (long long i = 0; i < count; i++)
            ECG_ASSERT(fscanf(fp, "%lf", &e->v[i]) == 1);
    }
    fclose(fp);
    return f->n > 0;
}

void fx_free(struct fx *f)
{
    for (int i = 0; i < f->n; i++)
        free(f->e[i].v);
    free(f->e);
    memset(f, 0, sizeof *f);
}

const struct fx_entry *fx_find(const struct fx *f, const char *fmt, ...)
{
    char key[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(key, sizeof key, fmt, ap);
    va_end(ap);
    for (int i = 0; i < f->n; i++)
        if (strcmp(f->e[i].key, key) == 0)
            return &f->e[i];
    return NULL;
}

void fx_to_float(float *out, const struct fx_entry *e)
{
    for (int64_t i = 0; i < e->count; i++)
        out[i] = (float)e->v[i];
}

void fx_to_int(int *out, const struct fx_entry *e)
{
    for (int64_t i = 0; i < e->count; i++)
        out[i] = (int)e->v[i];
}
