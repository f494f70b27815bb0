/* Predictions counted by a finer true label than the classes (MIT-BIH beat symbols or records within the AAMI
 * classes). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval/metrics.h"

/* The row of (label, truth), appended when new; -1 on no memory. */
static int row_of(struct ecg_breakdown *b, int k, const char *label, int truth, int *cap)
{
    for (int r = 0; r < b->rows; r++)
        if (b->row[r].truth == truth && strcmp(b->row[r].label, label) == 0)
            return r;
    if (b->rows == *cap) {
        int grown = *cap ? 2 * *cap : 16;
        struct ecg_breakdown_row *row = realloc(b->row, (size_t)grown * sizeof *row);
        if (row)
            b->row = row;
        int64_t *pred = realloc(b->predicted, (size_t)grown * (size_t)k * sizeof *pred);
        if (pred)
            b->predicted = pred;
        if (!row || !pred)
            return -1;
        *cap = grown;
    }
    struct ecg_breakdown_row *r = &b->row[b->rows];
    memset(r, 0, sizeof *r);
    memcpy(r->label, label, strlen(label) + 1);
    r->truth = truth;
    memset(b->predicted + (int64_t)b->rows * k, 0, (size_t)k * sizeof *b->predicted);
    return b->rows++;
}

/* Class first, then label: the fine labels of a class stay together under it. */
static int by_class_then_label(const void *a, const void *b)
{
    const struct ecg_breakdown_row *x = a, *y = b;
    return x->truth != y->truth ? (x->truth > y->truth) - (x->truth < y->truth) : strcmp(x->label, y->label);
}

static void breakdown_free(struct ecg_breakdown *b)
{
    free(b->row);
    free(b->predicted);
    b->row = NULL;
    b->predicted = NULL;
}

/* Counts each labelled example (label[i] non-NULL) in the row of its label and class, by predicted class. */
static int count_rows(struct ecg_breakdown *b, int k, const char *const *label, const int *truth, const float *probs,
                      int64_t n, int *cap, struct ecg_error *err)
{
    for (int64_t i = 0; i < n; i++) {
        if (!label[i])
            continue;
        if (truth[i] < 0 || truth[i] >= k)
            return ecg_error_set(err, ECG_ERR_RANGE, "%s breakdown: example %lld has class %d, expected [0, %d)",
                                 b->title, (long long)i, truth[i], k);
        if (strlen(label[i]) >= ECG_BREAKDOWN_NAME_MAX)
            return ecg_error_set(err, ECG_ERR_VALUE, "%s breakdown: example %lld's label '%.40s' is longer than %d bytes",
                                 b->title, (long long)i, label[i], ECG_BREAKDOWN_NAME_MAX - 1);
        int r = row_of(b, k, label[i], truth[i], cap);
        if (r < 0)
            return ecg_error_set(err, ECG_ERR_NOMEM, "%s breakdown: no memory", b->title);
        b->row[r].n++;
        b->predicted[(int64_t)r * k + ecg_argmax(probs + i * k, k)]++;
    }
    return ECG_OK;
}

/* Sorts the rows by class then label, their counts with them: sort a copy, then gather the counts. */
static int sort_rows(struct ecg_breakdown *b, int k, int *cap, struct ecg_error *err)
{
    if (b->rows < 2)
        return ECG_OK;
    struct ecg_breakdown_row *sorted = malloc((size_t)b->rows * sizeof *sorted);
    int64_t *pred = malloc((size_t)b->rows * (size_t)k * sizeof *pred);
    if (!sorted || !pred) {
        free(sorted);
        free(pred);
        return ecg_error_set(err, ECG_ERR_NOMEM, "%s breakdown: no memory", b->title);
    }
    memcpy(sorted, b->row, (size_t)b->rows * sizeof *sorted);
    qsort(sorted, (size_t)b->rows, sizeof *sorted, by_class_then_label);
    for (int r = 0; r < b->rows; r++) {
        int from = row_of(b, k, sorted[r].label, sorted[r].truth, cap);
        memcpy(pred + (int64_t)r * k, b->predicted + (int64_t)from * k, (size_t)k * sizeof *pred);
    }
    free(b->row);
    free(b->predicted);
    b->row = sorted;
    b->predicted = pred;
    return ECG_OK;
}

/* Stores b under its key (replacing the breakdown held there); an empty b removes the key's breakdown and the
 * others close up.  b's rows belong to m afterwards, also when b is empty (freed). */
static int store(struct ecg_metrics *m, struct ecg_breakdown *b, struct ecg_error *err)
{
    int slot = 0;
    while (slot < m->breakdowns && strcmp(m->breakdown[slot].key, b->key) != 0)
        slot++;
    if (b->rows == 0) {
        breakdown_free(b);
        if (slot < m->breakdowns) {
            breakdown_free(&m->breakdown[slot]);
            memmove(&m->breakdown[slot], &m->breakdown[slot + 1],
                    (size_t)(m->breakdowns - slot - 1) * sizeof *m->breakdown);
            m->breakdowns--;
        }
        return ECG_OK;
    }
    _Static_assert(ECG_BREAKDOWNS_MAX == 2, "the message below names every key held");
    if (slot == ECG_BREAKDOWNS_MAX) {
        breakdown_free(b);
        return ecg_error_set(err, ECG_ERR_RANGE, "breakdown '%s': the metrics hold %d already ('%s', '%s')", b->key,
                             ECG_BREAKDOWNS_MAX, m->breakdown[0].key, m->breakdown[1].key);
    }
    if (slot < m->breakdowns)
        breakdown_free(&m->breakdown[slot]);
    m->breakdown[slot] = *b;
    if (slot == m->breakdowns)
        m->breakdowns++;
    return ECG_OK;
}

int ecg_metrics_add_breakdown(struct ecg_metrics *m, const char *key, const char *title, const char *const *label,
                              const int *truth, const float *probs, int64_t n, struct ecg_error *err)
{
    if (strlen(key) >= ECG_BREAKDOWN_KEY_MAX)
        return ecg_error_set(err, ECG_ERR_VALUE, "breakdown key '%.40s': longer than %d bytes", key,
                             ECG_BREAKDOWN_KEY_MAX - 1);
    struct ecg_breakdown b = {0};
    int cap = 0;
    snprintf(b.key, sizeof b.key, "%s", key);
    snprintf(b.title, sizeof b.title, "%s", title);
    int rc = count_rows(&b, m->k, label, truth, probs, n, &cap, err);
    if (!rc)
        rc = sort_rows(&b, m->k, &cap, err);
    if (rc) {
        breakdown_free(&b);
        return rc;
    }
    return store(m, &b, err);
}
