/* Reader for the text fixtures of tests/fixtures/optim and tests/fixtures/eval: lines of `key count v1 ... vcount`. */
#ifndef ECG_TESTS_FXTEXT_H
#define ECG_TESTS_FXTEXT_H

#include <stdbool.h>
#include <stdint.h>

struct fx_entry {
    char key[128];
    int64_t count;
    double *v; /* "nan" parses as NaN */
};

struct fx {
    struct fx_entry *e;
    int n;
};

/* Loads tests/fixtures/<relative>; false (with a message on stderr) if missing or empty. */
bool fx_load(struct fx *f, const char *relative);
void fx_free(struct fx *f);

/* The entry whose key is the formatted string, or NULL. */
const struct fx_entry *fx_find(const struct fx *f, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Copies an entry's values as floats / ints. */
void fx_to_float(float *out, const struct fx_entry *e);
void fx_to_int(int *out, const struct fx_entry *e);

#endif
