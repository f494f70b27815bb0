/* metrics.json and the text classification report. */
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "eval/json.h"
#include "eval/report.h"

/* "aami": the AAMI EC57 figures of a beat classifier (eval/metrics_aami.c). */
static void aami_json(struct ecg_json *j, const struct ecg_metrics *m)
{
    const struct ecg_aami *a = &m->aami;
    ecg_json_key(j, "aami");
    ecg_json_begin_object(j);
    ecg_json_key(j, "n");
    ecg_json_int(j, a->n);
    ecg_json_key(j, "accuracy");
    ecg_json_number(j, a->accuracy);
    ecg_json_key(j, "macro_f1");
    ecg_json_number(j, a->macro_f1);
    ecg_json_key(j, "per_class");
    ecg_json_begin_object(j);
    for (int i = 0; i < 4; i++) {
        const struct ecg_aami_class *c = &a->cls[i];
        ecg_json_key(j, m->names[c->index]);
        ecg_json_begin_object(j);
        static const char *const keys[] = {"se", "ppv", "f1"};
        const double vals[] = {c->se, c->ppv, c->f1};
        for (int v = 0; v < 3; v++) {
            ecg_json_key(j, keys[v]);
            ecg_json_number(j, vals[v]);
        }
        static const char *const counts[] = {"tp", "fn", "fp"};
        const int64_t nums[] = {c->tp, c->fn, c->fp};
        for (int v = 0; v < 3; v++) {
            ecg_json_key(j, counts[v]);
            ecg_json_int(j, nums[v]);
        }
        ecg_json_end_object(j);
    }
    ecg_json_end_object(j);
    ecg_json_key(j, "q_support");
    ecg_json_int(j, a->q_support);
    ecg_json_key(j, "q_predicted");
    ecg_json_int(j, a->q_predicted);
    ecg_json_end_object(j);
}

/* A breakdown under its key: the predictions by fine label (ecg_metrics_add_breakdown). */
static void breakdown_json(struct ecg_json *j, const struct ecg_metrics *m, const struct ecg_breakdown *b)
{
    ecg_json_key(j, b->key);
    ecg_json_begin_object(j);
    ecg_json_key(j, "title");
    ecg_json_string(j, b->title);
    ecg_json_key(j, "rows");
    ecg_json_begin_array(j, false);
    for (int r = 0; r < b->rows; r++) {
        ecg_json_begin_object(j);
        ecg_json_key(j, "label");
        ecg_json_string(j, b->row[r].label);
        ecg_json_key(j, "class");
        ecg_json_string(j, m->names[b->row[r].truth]);
        ecg_json_key(j, "n");
        ecg_json_int(j, b->row[r].n);
        ecg_json_key(j, "predicted");
        ecg_json_begin_object(j);
        for (int p = 0; p < m->k; p++) {
            ecg_json_key(j, m->names[p]);
            ecg_json_int(j, b->predicted[(int64_t)r * m->k + p]);
        }
        ecg_json_end_object(j);
        ecg_json_end_object(j);
    }
    ecg_json_end_array(j);
    ecg_json_end_object(j);
}

/* "per_class": precision, recall, F1, support and ROC-AUC of each class. */
static void per_class_json(struct ecg_json *j, const struct ecg_metrics *m)
{
    ecg_json_key(j, "per_class");
    ecg_json_begin_object(j);
    for (int c = 0; c < m->k; c++) {
        const struct ecg_class_metrics *pc = &m->per_class[c];
        ecg_json_key(j, m->names[c]);
        ecg_json_begin_object(j);
        ecg_json_key(j, "precision");
        ecg_json_number(j, pc->precision);
        ecg_json_key(j, "recall");
        ecg_json_number(j, pc->recall);
        ecg_json_key(j, "f1");
        ecg_json_number(j, pc->f1);
        ecg_json_key(j, "support");
        ecg_json_int(j, pc->support);
        ecg_json_key(j, "auc");
        ecg_json_number(j, pc->auc);
        ecg_json_end_object(j);
    }
    ecg_json_end_object(j);
}

/* The confusion matrix, in counts and normalised by row. */
static void confusion_json(struct ecg_json *j, const struct ecg_metrics *m)
{
    for (int pass = 0; pass < 2; pass++) {
        ecg_json_key(j, pass ? "confusion_matrix_normalized" : "confusion_matrix");
        ecg_json_begin_array(j, false);
        for (int t = 0; t < m->k; t++) {
            ecg_json_begin_array(j, true);
            for (int p = 0; p < m->k; p++) {
                if (pass)
                    ecg_json_number(j, m->cm_norm[(int64_t)t * m->k + p]);
                else
                    ecg_json_int(j, m->cm[(int64_t)t * m->k + p]);
            }
            ecg_json_end_array(j);
        }
        ecg_json_end_array(j);
    }
}

void ecg_metrics_write_json(FILE *f, const struct ecg_metrics *m) { ecg_metrics_write_json_calibrated(f, m, NULL); }

void ecg_metrics_write_json_calibrated(FILE *f, const struct ecg_metrics *m, const struct ecg_calibration *cal)
{
    struct ecg_json j;
    const int k = m->k;
    ecg_json_init(&j, f, 2);
    ecg_json_begin_object(&j);
    ecg_json_key(&j, "classes");
    ecg_json_begin_array(&j, true);
    for (int c = 0; c < k; c++)
        ecg_json_string(&j, m->names[c]);
    ecg_json_end_array(&j);
    ecg_json_key(&j, "n");
    ecg_json_int(&j, m->n);
    static const char *const keys[] = {"accuracy",           "macro_precision", "macro_recall",
                                       "macro_f1",           "weighted_precision",
                                       "weighted_recall",    "weighted_f1"};
    const double vals[] = {m->accuracy,           m->macro_precision, m->macro_recall,
                           m->macro_f1,           m->weighted_precision,
                           m->weighted_recall,    m->weighted_f1};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        ecg_json_key(&j, keys[i]);
        ecg_json_number(&j, vals[i]);
    }
    if (m->cinc[0] >= 0 && m->cinc[1] >= 0 && m->cinc[2] >= 0) {
        ecg_json_key(&j, "cinc_f1");
        ecg_json_number(&j, m->cinc_f1);
    }
    ecg_json_key(&j, "roc_auc_macro");
    ecg_json_number(&j, m->roc_auc_macro);
    if (m->has_aami)
        aami_json(&j, m);
    for (int b = 0; b < m->breakdowns; b++)
        breakdown_json(&j, m, &m->breakdown[b]);
    per_class_json(&j, m);
    confusion_json(&j, m);
    if (cal) {
        ecg_json_key(&j, "calibration");
        ecg_calibration_write_json(&j, cal);
    }
    ecg_json_end_object(&j);
}

static void metric_cell(FILE *f, double v)
{
    if (isnan(v))
        fprintf(f, " %9s", "n/a");
    else
        fprintf(f, " %9.4f", v);
}

/* A breakdown's table: a row per fine label, its class, its count, and the count predicted as each class. */
static void breakdown_text(FILE *f, const struct ecg_metrics *m, const struct ecg_breakdown *b)
{
    int cw = 7, lw = 5;
    for (int c = 0; c < m->k; c++)
        if ((int)strlen(m->names[c]) > cw)
            cw = (int)strlen(m->names[c]);
    for (int r = 0; r < b->rows; r++)
        if ((int)strlen(b->row[r].label) > lw)
            lw = (int)strlen(b->row[r].label);
    fprintf(f, "\nby %s (rows: true label, columns: predicted)\n%-*s %-*s %*s", b->title, lw, "label", cw, "class",
            cw, "n");
    for (int p = 0; p < m->k; p++)
        fprintf(f, " %*s", cw, m->names[p]);
    fputc('\n', f);
    for (int r = 0; r < b->rows; r++) {
        fprintf(f, "%-*s %-*s %*" PRId64, lw, b->row[r].label, cw, m->names[b->row[r].truth], cw,
                b->row[r].n);
        for (int p = 0; p < m->k; p++)
            fprintf(f, " %*" PRId64, cw, b->predicted[(int64_t)r * m->k + p]);
        fputc('\n', f);
    }
}

/* The width of the label column: the longest class name or "weighted avg". */
static int label_width(const struct ecg_metrics *m)
{
    int w = (int)strlen("weighted avg");
    for (int c = 0; c < m->k; c++)
        if ((int)strlen(m->names[c]) > w)
            w = (int)strlen(m->names[c]);
    return w;
}

/* The per-class table with its accuracy, macro and weighted rows, then the CinC score and ROC-AUC. */
static void per_class_text(FILE *f, const struct ecg_metrics *m, int w)
{
    fprintf(f, "%*s %9s %9s %9s %9s %9s\n\n", w, "", "precision", "recall", "f1-score", "support", "auc");
    for (int c = 0; c < m->k; c++) {
        const struct ecg_class_metrics *pc = &m->per_class[c];
        fprintf(f, "%*s", w, m->names[c]);
        metric_cell(f, pc->precision);
        metric_cell(f, pc->recall);
        metric_cell(f, pc->f1);
        fprintf(f, " %9" PRId64, pc->support);
        metric_cell(f, pc->auc);
        fputc('\n', f);
    }
    fputc('\n', f);
    fprintf(f, "%*s %9s %9s", w, "accuracy", "", "");
    metric_cell(f, m->accuracy);
    fprintf(f, " %9" PRId64 "\n", m->n);
    fprintf(f, "%*s", w, "macro avg");
    metric_cell(f, m->macro_precision);
    metric_cell(f, m->macro_recall);
    metric_cell(f, m->macro_f1);
    fprintf(f, " %9" PRId64, m->n);
    metric_cell(f, m->roc_auc_macro);
    fputc('\n', f);
    fprintf(f, "%*s", w, "weighted avg");
    metric_cell(f, m->weighted_precision);
    metric_cell(f, m->weighted_recall);
    metric_cell(f, m->weighted_f1);
    fprintf(f, " %9" PRId64 "\n", m->n);
    if (m->cinc[0] >= 0 && m->cinc[1] >= 0 && m->cinc[2] >= 0)
        fprintf(f, "\nCinC 2017 score (mean F1 of %s, %s, %s): %.4f\n", m->names[m->cinc[0]],
                m->names[m->cinc[1]], m->names[m->cinc[2]], m->cinc_f1);
    if (isnan(m->roc_auc_macro))
        fprintf(f, "ROC-AUC macro (one-vs-rest): n/a\n");
    else
        fprintf(f, "ROC-AUC macro (one-vs-rest, %d of %d classes): %.4f\n", m->auc_classes, m->k,
                m->roc_auc_macro);
}

static void aami_text(FILE *f, const struct ecg_metrics *m, int w)
{
    const struct ecg_aami *a = &m->aami;
    fprintf(f, "\nAAMI EC57 (Q apart): %lld beats of N, S, V, F, accuracy %.4f, macro-F1 %.4f\n", (long long)a->n,
            a->accuracy, a->macro_f1);
    fprintf(f, "%*s %9s %9s %9s %9s %9s %9s\n", w, "", "Se", "+P", "F1", "TP", "FN", "FP");
    for (int i = 0; i < 4; i++) {
        const struct ecg_aami_class *c = &a->cls[i];
        fprintf(f, "%*s", w, m->names[c->index]);
        metric_cell(f, c->se);
        metric_cell(f, c->ppv);
        metric_cell(f, c->f1);
        fprintf(f, " %9" PRId64 " %9" PRId64 " %9" PRId64 "\n", c->tp, c->fn, c->fp);
    }
    fprintf(f, "Q: %" PRId64 " true Q beats (not scored); %" PRId64 " beats of N, S, V, F labelled Q\n",
            a->q_support, a->q_predicted);
}

static void confusion_text(FILE *f, const struct ecg_metrics *m, int w)
{
    const int k = m->k;
    int cw = 6;
    for (int c = 0; c < k; c++) {
        char buf[32];
        int len = (int)strlen(m->names[c]);
        if (len > cw)
            cw = len;
        for (int p = 0; p < k; p++) {
            len = snprintf(buf, sizeof buf, "%" PRId64, m->cm[(int64_t)c * k + p]);
            if (len > cw)
                cw = len;
        }
    }
    fprintf(f, "\nconfusion matrix (rows: true, columns: predicted)\n%*s", w, "");
    for (int p = 0; p < k; p++)
        fprintf(f, " %*s", cw, m->names[p]);
    fputc('\n', f);
    for (int t = 0; t < k; t++) {
        fprintf(f, "%*s", w, m->names[t]);
        for (int p = 0; p < k; p++)
            fprintf(f, " %*" PRId64, cw, m->cm[(int64_t)t * k + p]);
        fputc('\n', f);
    }
}

void ecg_report_write_text(FILE *f, const struct ecg_metrics *m)
{
    const int w = label_width(m);
    per_class_text(f, m, w);
    if (m->has_aami)
        aami_text(f, m, w);
    for (int b = 0; b < m->breakdowns; b++)
        breakdown_text(f, m, &m->breakdown[b]);
    confusion_text(f, m, w);
}
