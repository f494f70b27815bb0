/* Writing and reading the trainer's resumable counters as JSON. */
#include "train/state.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *ecg_train_state_to_json(const struct ecg_train_state *s)
{
    size_t cap = 1024 + (size_t)s->k * (size_t)s->k * 24;
    char *out = malloc(cap);
    if (!out)
        return NULL;
    int n = snprintf(out, cap,
                     "{\"epoch\": %lld, \"batch_in_epoch\": %lld, \"step\": %lld, \"loss_sum\": %.17g, "
                     "\"seen\": %lld, \"seconds\": %.17g, \"best_f1\": %.17g, \"best_epoch\": %lld, "
                     "\"bad_epochs\": %lld, \"ema_updates\": %lld, \"k\": %d, \"train_cm\": [",
                     (long long)s->epoch, (long long)s->batch_in_epoch, (long long)s->step, s->loss_sum,
                     (long long)s->seen, s->seconds, s->best_f1, (long long)s->best_epoch,
                     (long long)s->bad_epochs, (long long)s->ema_updates, s->k);
    for (int i = 0; i < s->k * s->k && n > 0 && (size_t)n < cap; i++)
        n += snprintf(out + n, cap - (size_t)n, i ? ", %lld" : "%lld", (long long)s->cm[i]);
    if (n > 0 && (size_t)n < cap)
        snprintf(out + n, cap - (size_t)n, "]}");
    return out;
}

/* The number after "key": in json; fails when absent or malformed. */
static int number_of(const char *json, const char *key, double *v, const char *what, struct ecg_error *err)
{
    char pattern[64];
    snprintf(pattern, sizeof pattern, "\"%s\":", key);
    const char *p = strstr(json, pattern);
    if (!p)
        return ecg_error_set(err, ECG_ERR_FORMAT, "%s: trainer state has no '%s'", what, key);
    p += strlen(pattern);
    char *end;
    errno = 0;
    *v = strtod(p, &end);
    if (end == p || errno)
        return ecg_error_set(err, ECG_ERR_FORMAT, "%s: trainer state '%s' is not a number", what, key);
    return ECG_OK;
}

int ecg_train_state_from_json(struct ecg_train_state *s, const char *json, const char *what,
                              struct ecg_error *err)
{
    memset(s, 0, sizeof *s);
    double v;
#define GET(field, type)                                      \
    do {                                                      \
        ECG_TRY(number_of(json, #field, &v, what, err));      \
        s->field = (type)v;                                   \
    } while (0)
    GET(epoch, int64_t);
    GET(batch_in_epoch, int64_t);
    GET(step, int64_t);
    GET(loss_sum, double);
    GET(seen, int64_t);
    GET(seconds, double);
    GET(best_f1, double);
    GET(best_epoch, int64_t);
    GET(bad_epochs, int64_t);
    GET(ema_updates, int64_t);
    GET(k, int);
#undef GET
    if (s->k < 1 || s->k > ECG_STATE_MAX_CLASSES)
        return ecg_error_set(err, ECG_ERR_FORMAT, "%s: trainer state has %d classes", what, s->k);
    const char *p = strstr(json, "\"train_cm\": [");
    if (!p)
        return ecg_error_set(err, ECG_ERR_FORMAT, "%s: trainer state has no 'train_cm'", what);
    p += strlen("\"train_cm\": [");
    for (int i = 0; i < s->k * s->k; i++) {
        char *end;
        s->cm[i] = strtoll(p, &end, 10);
        if (end == p)
            return ecg_error_set(err, ECG_ERR_FORMAT, "%s: trainer state 'train_cm' has fewer than %d counts",
                                 what, s->k * s->k);
        p = end;
        while (*p == ',' || *p == ' ')
            p++;
    }
    return ECG_OK;
}
