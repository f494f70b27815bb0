/* Confusion-matrix metrics, the CinC 2017 score and exact one-vs-rest ROC-AUC. */
#include "eval/metrics.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static double ratio(int64_t num, int64_t den) { return den > 0 ? (double)num / (double)den : 0.0; }

static int alloc_metrics(struct ecg_metrics *m, int k, const char *const *names,
                         struct ecg_error *err)
{
    memset(m, 0, sizeof *m);
    if (k < 1 || k > 100000)
        return ecg_error_set(err, ECG_ERR_RANGE, "metrics: %d classes, expected 1 to 100000", k);
    m->k = k;
    m->names = calloc((size_t)k, sizeof *m->names);
    m->cm = calloc((size_t)k * (size_t)k, sizeof *m->cm);
    m->cm_norm = calloc((size_t)k * (size_t)k, sizeof *m->cm_norm);
    m->per_class = calloc((size_t)k, sizeof *m->per_class);
    if (!m->names || !m->cm || !m->cm_norm || !m->per_class) {
        ecg_metrics_free(m);
        return ecg_error_set(err, ECG_ERR_NOMEM, "metrics: cannot allocate for %d classes", k);
    }
    for (int c = 0; c < k; c++) {
        if (names)
            snprintf(m->names[c], ECG_CLASS_NAME_MAX, "%s", names[c]);
        else
            snprintf(m->names[c], ECG_CLASS_NAME_MAX, "%d", c);
        m->per_class[c].auc = NAN;
    }
    m->roc_auc_macro = NAN;
    m->cinc_f1 = NAN;
    return ECG_OK;
}

int ecg_argmax(const float *p, int k)
{
    int best = 0;
    for (int c = 1; c < k; c++)
        if (p[c] > p[best])
            best = c;
    return best;
}

void ecg_metrics_free(struct ecg_metrics *m)
{
    free(m->names);
    free(m->cm);
    free(m->cm_norm);
    free(m->per_class);
    for (int b = 0; b < m->breakdowns; b++) {
        free(m->breakdown[b].row);
        free(m->breakdown[b].predicted);
    }
    memset(m, 0, sizeof *m);
}

/* Index of the first class whose name is one of `aliases` (case-insensitive), or -1. */
static int find_class(const struct ecg_metrics *m, const char *const *aliases)
{
    for (int c = 0; c < m->k; c++)
        for (const char *const *a = aliases; *a; a++)
            if (strcasecmp(m->names[c], *a) == 0)
                return c;
    return -1;
}

static void update_cinc(struct ecg_metrics *m)
{
    m->cinc_f1 = NAN;
    if (m->cinc[0] < 0 || m->cinc[1] < 0 || m->cinc[2] < 0)
        return;
    double s = 0;
    for (int i = 0; i < 3; i++)
        s += m->per_class[m->cinc[i]].f1;
    m->cinc_f1 = s / 3.0;
}

/* Everything that follows from the counts in m->cm. */
static int derive(struct ecg_metrics *m, struct ecg_error *err)
{
    const int k = m->k;
    int64_t n = 0, correct = 0;
    for (int t = 0; t < k; t++)
        for (int p = 0; p < k; p++) {
            int64_t v = m->cm[(int64_t)t * k + p];
            if (v < 0)
                return ecg_error_set(err, ECG_ERR_VALUE,
                                     "confusion matrix: count %lld at (true %s, predicted %s), "
                                     "expected >= 0",
                                     (long long)v, m->names[t], m->names[p]);
            n += v;
            m->per_class[t].support += v;
            m->per_class[p].predicted += v;
            if (t == p)
                correct += v;
        }
    if (n == 0)
        return ecg_error_set(err, ECG_ERR_VALUE, "metrics: no examples (empty confusion matrix)");
    m->n = n;
    m->accuracy = ratio(correct, n);
    for (int c = 0; c < k; c++) {
        struct ecg_class_metrics *pc = &m->per_class[c];
        int64_t tp = m->cm[(int64_t)c * k + c];
        pc->precision = ratio(tp, pc->predicted);
        pc->recall = ratio(tp, pc->support);
        pc->f1 = ratio(2 * tp, pc->support + pc->predicted);
        for (int p = 0; p < k; p++)
            m->cm_norm[(int64_t)c * k + p] = ratio(m->cm[(int64_t)c * k + p], pc->support);
        m->macro_precision += pc->precision;
        m->macro_recall += pc->recall;
        m->macro_f1 += pc->f1;
        double w = (double)pc->support / (double)n;
        m->weighted_precision += w * pc->precision;
        m->weighted_recall += w * pc->recall;
        m->weighted_f1 += w * pc->f1;
    }
    m->macro_precision /= k;
    m->macro_recall /= k;
    m->macro_f1 /= k;
    static const char *const normal[] = {"N", "Normal", "NSR", "SR", NULL};
    static const char *const af[] = {"A", "AF", "AFib", NULL};
    static const char *const other[] = {"O", "Other", NULL};
    m->cinc[0] = find_class(m, normal);
    m->cinc[1] = find_class(m, af);
    m->cinc[2] = find_class(m, other);
    update_cinc(m);
    return ECG_OK;
}

int ecg_metrics_set_cinc(struct ecg_metrics *m, int normal, int af, int other,
                         struct ecg_error *err)
{
    int idx[3] = {normal, af, other};
    for (int i = 0; i < 3; i++) {
        if (idx[i] < 0 || idx[i] >= m->k)
            return ecg_error_set(err, ECG_ERR_RANGE,
                                 "CinC score: class index %d out of range [0, %d)", idx[i], m->k);
        for (int j = 0; j < i; j++)
            if (idx[j] == idx[i])
                return ecg_error_set(err, ECG_ERR_RANGE,
                                     "CinC score: class %d ('%s') given twice; normal, AF and other "
                                     "must be distinct classes",
                                     idx[i], m->names[idx[i]]);
    }
    for (int i = 0; i < 3; i++)
        m->cinc[i] = idx[i];
    update_cinc(m);
    return ECG_OK;
}

int ecg_metrics_from_confusion(struct ecg_metrics *m, int k, const char *const *names,
                               const int64_t *counts, struct ecg_error *err)
{
    ECG_TRY(alloc_metrics(m, k, names, err));
    memcpy(m->cm, counts, (size_t)k * (size_t)k * sizeof *m->cm);
    int rc = derive(m, err);
    if (rc)
        ecg_metrics_free(m);
    return rc;
}

struct scored {
    float score;
    int positive;
};

static int cmp_scored(const void *a, const void *b)
{
    float x = ((const struct scored *)a)->score, y = ((const struct scored *)b)->score;
    return (x > y) - (x < y);
}

int ecg_roc_auc_ovr(const float *probs, int k, const int *truth, int64_t n, int cls, double *auc,
                    struct ecg_error *err)
{
    *auc = NAN;
    int64_t npos = 0;
    for (int64_t i = 0; i < n; i++)
        npos += truth[i] == cls;
    int64_t nneg = n - npos;
    if (npos == 0 || nneg == 0)
        return ECG_OK;
    struct scored *s = malloc((size_t)n * sizeof *s);
    if (!s)
        return ecg_error_set(err, ECG_ERR_NOMEM, "ROC-AUC: cannot allocate for %lld examples",
                             (long long)n);
    for (int64_t i = 0; i < n; i++) {
        s[i].score = probs[i * k + cls];
        s[i].positive = truth[i] == cls;
    }
    qsort(s, (size_t)n, sizeof *s, cmp_scored);
    /* Mann-Whitney: each (positive, negative) pair counts 1 when the positive
     * scores higher, 1/2 when tied.  Sums stay exact in doubles of integers. */
    double u = 0, neg_below = 0;
    for (int64_t i = 0; i < n;) {
        int64_t j = i, pos_g = 0, neg_g = 0;
        while (j < n && s[j].score == s[i].score) {
            pos_g += s[j].positive;
            neg_g += !s[j].positive;
            j++;
        }
        u += (double)pos_g * (2.0 * neg_below + (double)neg_g);
        neg_below += (double)neg_g;
        i = j;
    }
    free(s);
    *auc = u / (2.0 * (double)npos * (double)nneg);
    return ECG_OK;
}

int ecg_metrics_compute(struct ecg_metrics *m, int k, const char *const *names, const int *truth,
                        const int *pred, const float *probs, int64_t n, struct ecg_error *err)
{
    ECG_ASSERT(pred || probs);
    ECG_TRY(alloc_metrics(m, k, names, err));
    int rc = ECG_OK;
    if (n <= 0) {
        rc = ecg_error_set(err, ECG_ERR_VALUE, "metrics: no examples");
        goto fail;
    }
    for (int64_t i = 0; i < n; i++) {
        int t = truth[i], p;
        if (t < 0 || t >= k) {
            rc = ecg_error_set(err, ECG_ERR_RANGE,
                               "metrics: example %lld has true label %d, expected 0 to %d",
                               (long long)i, t, k - 1);
            goto fail;
        }
        if (probs) {
            for (int c = 0; c < k; c++)
                if (isnan(probs[i * k + c])) {
                    rc = ecg_error_set(err, ECG_ERR_VALUE,
                                       "metrics: example %lld has a NaN probability for class '%s'",
                                       (long long)i, m->names[c]);
                    goto fail;
                }
        }
        if (pred) {
            p = pred[i];
        } else {
            p = ecg_argmax(probs + i * k, k);
        }
        if (p < 0 || p >= k) {
            rc = ecg_error_set(err, ECG_ERR_RANGE,
                               "metrics: example %lld has predicted label %d, expected 0 to %d",
                               (long long)i, p, k - 1);
            goto fail;
        }
        m->cm[(int64_t)t * k + p]++;
    }
    rc = derive(m, err);
    if (rc)
        goto fail;
    if (probs) {
        double sum = 0;
        for (int c = 0; c < k; c++) {
            rc = ecg_roc_auc_ovr(probs, k, truth, n, c, &m->per_class[c].auc, err);
            if (rc)
                goto fail;
            if (!isnan(m->per_class[c].auc)) {
                sum += m->per_class[c].auc;
                m->auc_classes++;
            }
        }
        m->roc_auc_macro = m->auc_classes ? sum / m->auc_classes : NAN;
    }
    return ECG_OK;
fail:
    ecg_metrics_free(m);
    return rc;
}
