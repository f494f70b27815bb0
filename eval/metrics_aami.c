/* The AAMI EC57 figures of a beat classifier: Se, +P and F1 of N, S, V, F from the confusion matrix, Q apart. */
#include <string.h>

#include "eval/metrics.h"

static double ratio(int64_t num, int64_t den) { return den > 0 ? (double)num / (double)den : 0.0; }

int ecg_metrics_set_aami(struct ecg_metrics *m, int n, int s, int v, int f, int q, struct ecg_error *err)
{
    const int idx[5] = {n, s, v, f, q};
    const int k = m->k;
    for (int i = 0; i < 5; i++) {
        if (i == 4 && q == -1)
            continue;
        if (idx[i] < 0 || idx[i] >= k)
            return ecg_error_set(err, ECG_ERR_RANGE, "AAMI figures: class index %d out of range [0, %d)", idx[i], k);
        for (int j = 0; j < i; j++)
            if (idx[j] == idx[i])
                return ecg_error_set(err, ECG_ERR_RANGE, "AAMI figures: class %d ('%s') given twice", idx[i],
                                     m->names[idx[i]]);
    }
    struct ecg_aami a = {.q = q};
    int64_t correct = 0;
    for (int i = 0; i < 4; i++) {
        struct ecg_aami_class *c = &a.cls[i];
        c->index = idx[i];
        for (int p = 0; p < k; p++) {
            int64_t row = m->cm[(int64_t)idx[i] * k + p];
            if (p == idx[i])
                c->tp = row;
            else
                c->fn += row;
            if (p == q)
                a.q_predicted += row;
            a.n += row;
        }
        for (int t = 0; t < 4; t++)
            if (t != i)
                c->fp += m->cm[(int64_t)idx[t] * k + idx[i]];
        c->se = ratio(c->tp, c->tp + c->fn);
        c->ppv = ratio(c->tp, c->tp + c->fp);
        c->f1 = ratio(2 * c->tp, 2 * c->tp + c->fn + c->fp);
        correct += c->tp;
        a.macro_f1 += c->f1 / 4;
    }
    a.accuracy = ratio(correct, a.n);
    if (q >= 0)
        a.q_support = m->per_class[q].support;
    m->aami = a;
    m->has_aami = true;
    return ECG_OK;
}

/* Index of the class named `name`, or -1. */
static int class_named(const struct ecg_metrics *m, const char *name)
{
    for (int c = 0; c < m->k; c++)
        if (strcmp(m->names[c], name) == 0)
            return c;
    return -1;
}

int ecg_metrics_find_aami(struct ecg_metrics *m, struct ecg_error *err)
{
    static const char *const names[4] = {"N", "S", "V", "F"};
    int idx[4];
    for (int i = 0; i < 4; i++)
        if ((idx[i] = class_named(m, names[i])) < 0)
            return ecg_error_set(err, ECG_ERR_VALUE, "AAMI figures: the classes have no '%s'", names[i]);
    return ecg_metrics_set_aami(m, idx[0], idx[1], idx[2], idx[3], class_named(m, "Q"), err);
}
