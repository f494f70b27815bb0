/* report.html (inline SVGs, tables, config) and writing a whole report directory. */
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "core/file.h"
#include "eval/report.h"

static const char style[] =
    "body{font-family:'DejaVu Sans',Helvetica,Arial,sans-serif;max-width:960px;margin:24px auto;"
    "padding:0 16px;color:#222;line-height:1.4}"
    "h1{font-size:24px;margin-bottom:4px}h2{font-size:18px;margin-top:28px;border-bottom:1px solid #ddd;"
    "padding-bottom:4px}.sub{color:#666;margin-top:0}"
    "table{border-collapse:collapse;margin:8px 0}th,td{padding:4px 12px;border-bottom:1px solid #e5e5e5;"
    "text-align:right}th:first-child,td:first-child{text-align:left}thead th{border-bottom:2px solid #999}"
    "tr.avg td{color:#444;font-style:italic}.big td{font-size:17px}"
    "pre{background:#f6f6f6;border:1px solid #e0e0e0;padding:10px;overflow-x:auto;font-size:12px}"
    "svg{max-width:100%;height:auto}";

static void num_cell(FILE *f, double v)
{
    if (isnan(v))
        fputs("<td>n/a</td>", f);
    else
        fprintf(f, "<td>%.4f</td>", v);
}

static void summary_row(FILE *f, const char *name, double v)
{
    fputs("<tr><td>", f);
    ecg_xml_escape(f, name);
    fputs("</td>", f);
    num_cell(f, v);
    fputs("</tr>\n", f);
}

/* The predictions by fine label: which kinds of beat, or whose, each class's errors come from. */
static void breakdown_html(FILE *f, const struct ecg_metrics *m, const struct ecg_breakdown *b)
{
    fputs("<h2>By ", f);
    ecg_xml_escape(f, b->title);
    fputs("</h2>\n<table>\n<thead><tr><th>label</th><th>class</th><th>n</th>", f);
    for (int p = 0; p < m->k; p++) {
        fputs("<th>", f);
        ecg_xml_escape(f, m->names[p]);
        fputs("</th>", f);
    }
    fputs("</tr></thead>\n<tbody>\n", f);
    for (int r = 0; r < b->rows; r++) {
        fputs("<tr><td>", f);
        ecg_xml_escape(f, b->row[r].label);
        fputs("</td><td>", f);
        ecg_xml_escape(f, m->names[b->row[r].truth]);
        fprintf(f, "</td><td>%" PRId64 "</td>", b->row[r].n);
        for (int p = 0; p < m->k; p++)
            fprintf(f, "<td>%" PRId64 "</td>", b->predicted[(int64_t)r * m->k + p]);
        fputs("</tr>\n", f);
    }
    fputs("</tbody>\n</table>\n", f);
}

static void header_html(FILE *f, const struct ecg_report *r)
{
    const char *title = r->title ? r->title : "evaluation";
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>ecgtrain report: ",
          f);
    ecg_xml_escape(f, title);
    fprintf(f, "</title>\n<style>%s</style>\n</head>\n<body>\n<h1>", style);
    ecg_xml_escape(f, title);
    fputs("</h1>\n<p class=\"sub\">", f);
    if (r->split) {
        ecg_xml_escape(f, r->split);
        fputs(" split, ", f);
    }
    fprintf(f, "%" PRId64 " examples, %d classes</p>\n", r->metrics->n, r->metrics->k);
}

static void summary_html(FILE *f, const struct ecg_metrics *m)
{
    fputs("<h2>Summary</h2>\n<table class=\"big\">\n", f);
    summary_row(f, "accuracy", m->accuracy);
    summary_row(f, "macro-F1", m->macro_f1);
    summary_row(f, "weighted F1", m->weighted_f1);
    if (m->cinc[0] >= 0 && m->cinc[1] >= 0 && m->cinc[2] >= 0) {
        char name[3 * ECG_CLASS_NAME_MAX + 64];
        snprintf(name, sizeof name, "CinC 2017 score (mean F1 of %s, %s, %s)", m->names[m->cinc[0]],
                 m->names[m->cinc[1]], m->names[m->cinc[2]]);
        summary_row(f, name, m->cinc_f1);
    }
    summary_row(f, "ROC-AUC, macro one-vs-rest", m->roc_auc_macro);
    fputs("</table>\n", f);
}

static void per_class_html(FILE *f, const struct ecg_metrics *m)
{
    fputs("<h2>Per-class metrics</h2>\n<table>\n<thead><tr><th>class</th><th>precision</th><th>recall</th>"
          "<th>F1</th><th>support</th><th>ROC-AUC</th></tr></thead>\n<tbody>\n",
          f);
    for (int c = 0; c < m->k; c++) {
        const struct ecg_class_metrics *pc = &m->per_class[c];
        fputs("<tr><td>", f);
        ecg_xml_escape(f, m->names[c]);
        fputs("</td>", f);
        num_cell(f, pc->precision);
        num_cell(f, pc->recall);
        num_cell(f, pc->f1);
        fprintf(f, "<td>%" PRId64 "</td>", pc->support);
        num_cell(f, pc->auc);
        fputs("</tr>\n", f);
    }
    fputs("<tr class=\"avg\"><td>macro avg</td>", f);
    num_cell(f, m->macro_precision);
    num_cell(f, m->macro_recall);
    num_cell(f, m->macro_f1);
    fprintf(f, "<td>%" PRId64 "</td>", m->n);
    num_cell(f, m->roc_auc_macro);
    fputs("</tr>\n<tr class=\"avg\"><td>weighted avg</td>", f);
    num_cell(f, m->weighted_precision);
    num_cell(f, m->weighted_recall);
    num_cell(f, m->weighted_f1);
    fprintf(f, "<td>%" PRId64 "</td><td></td></tr>\n</tbody>\n</table>\n", m->n);
}

static void aami_html(FILE *f, const struct ecg_metrics *m)
{
    const struct ecg_aami *a = &m->aami;
    fprintf(f,
            "<h2>AAMI EC57 beat classes</h2>\n<p>%" PRId64 " beats of N, S, V, F: accuracy %.4f, "
            "macro-F1 %.4f. Q beats are not scored: %" PRId64 " true Q beats; %" PRId64
            " beats of N, S, V, F labelled Q (counted as misses).</p>\n",
            a->n, a->accuracy, a->macro_f1, a->q_support, a->q_predicted);
    fputs("<table>\n<thead><tr><th>class</th><th>Se</th><th>+P</th><th>F1</th><th>TP</th><th>FN</th>"
          "<th>FP</th></tr></thead>\n<tbody>\n",
          f);
    for (int i = 0; i < 4; i++) {
        const struct ecg_aami_class *c = &a->cls[i];
        fputs("<tr><td>", f);
        ecg_xml_escape(f, m->names[c->index]);
        fputs("</td>", f);
        num_cell(f, c->se);
        num_cell(f, c->ppv);
        num_cell(f, c->f1);
        fprintf(f, "<td>%" PRId64 "</td><td>%" PRId64 "</td><td>%" PRId64 "</td></tr>\n", c->tp, c->fn,
                c->fp);
    }
    fputs("</tbody>\n</table>\n", f);
}

static void confusion_html(FILE *f, const struct ecg_metrics *m)
{
    const int k = m->k;
    fputs("<h2>Confusion matrix</h2>\n", f);
    ecg_svg_confusion(f, m);
    fputs("<table>\n<thead><tr><th>true \\ predicted</th>", f);
    for (int p = 0; p < k; p++) {
        fputs("<th>", f);
        ecg_xml_escape(f, m->names[p]);
        fputs("</th>", f);
    }
    fputs("<th>support</th></tr></thead>\n<tbody>\n", f);
    for (int t = 0; t < k; t++) {
        fputs("<tr><td>", f);
        ecg_xml_escape(f, m->names[t]);
        fputs("</td>", f);
        for (int p = 0; p < k; p++)
            fprintf(f, "<td>%" PRId64 "</td>", m->cm[(int64_t)t * k + p]);
        fprintf(f, "<td>%" PRId64 "</td></tr>\n", m->per_class[t].support);
    }
    fputs("</tbody>\n</table>\n", f);
}

void ecg_report_write_html(FILE *f, const struct ecg_report *r)
{
    const struct ecg_metrics *m = r->metrics;
    header_html(f, r);
    summary_html(f, m);
    per_class_html(f, m);
    if (m->has_aami)
        aami_html(f, m);
    for (int b = 0; b < m->breakdowns; b++)
        breakdown_html(f, m, &m->breakdown[b]);
    confusion_html(f, m);
    if (r->calibration)
        ecg_calibration_write_html(f, r->calibration);
    if (r->n_epochs > 0) {
        fputs("<h2>Learning curves</h2>\n", f);
        ecg_svg_curves(f, r->epochs, r->n_epochs);
    }
    if (r->config_text) {
        fputs("<h2>Run configuration</h2>\n<pre>", f);
        ecg_xml_escape(f, r->config_text);
        fputs("</pre>\n", f);
    }
    fputs("<p class=\"sub\">Written by ecgtrain " ECG_VERSION ".</p>\n</body>\n</html>\n", f);
}

enum report_part { PART_JSON, PART_TEXT, PART_CONFUSION, PART_CURVES, PART_RELIABILITY, PART_HTML };

static int write_part(const char *dir, const char *name, enum report_part part, const struct ecg_report *r,
                      struct ecg_error *err)
{
    char path[4096];
    if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path)
        return ecg_error_set(err, ECG_ERR_IO, "%s/%s: path too long", dir, name);
    struct ecg_file_buf b;
    ECG_TRY(ecg_file_buf_open(&b, path, err));
    FILE *f = b.f;
    switch (part) {
    case PART_JSON:
        ecg_metrics_write_json_calibrated(f, r->metrics, r->calibration);
        break;
    case PART_TEXT:
        ecg_report_write_text(f, r->metrics);
        if (r->calibration)
            ecg_calibration_write_text(f, r->calibration);
        break;
    case PART_RELIABILITY:
        ecg_calibration_svg(f, r->calibration);
        break;
    case PART_CONFUSION:
        ecg_svg_confusion(f, r->metrics);
        break;
    case PART_CURVES:
        ecg_svg_curves(f, r->epochs, r->n_epochs);
        break;
    case PART_HTML:
        ecg_report_write_html(f, r);
        break;
    }
    return ecg_file_buf_commit(&b, path, err);
}

int ecg_report_write(const char *dir, const struct ecg_report *r, struct ecg_error *err)
{
    ECG_TRY(write_part(dir, "metrics.json", PART_JSON, r, err));
    ECG_TRY(write_part(dir, "report.txt", PART_TEXT, r, err));
    ECG_TRY(write_part(dir, "confusion.svg", PART_CONFUSION, r, err));
    if (r->n_epochs > 0)
        ECG_TRY(write_part(dir, "curves.svg", PART_CURVES, r, err));
    if (r->calibration)
        ECG_TRY(write_part(dir, "reliability.svg", PART_RELIABILITY, r, err));
    ECG_TRY(write_part(dir, "report.html", PART_HTML, r, err));
    return ECG_OK;
}
