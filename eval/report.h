/* Reports of an evaluation: metrics.json, a text classification report, SVG charts and one report.html. */
#ifndef ECG_EVAL_REPORT_H
#define ECG_EVAL_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "core/error.h"
#include "eval/calibration.h"
#include "eval/epoch_log.h"
#include "eval/metrics.h"

/*
 * The FILE* writers cannot fail by themselves: write errors surface in
 * ferror(f).  ecg_report_write() builds each file in memory and writes it
 * with ecg_file_replace() (core/file.h), so a full or failing disk is one
 * message naming the file and the reason, and a file is either whole or
 * absent (or the previous one), never cut short.
 * Everything is written by hand with no dependencies; the SVGs are
 * self-contained (no external fonts, styles or scripts).
 */

struct ecg_report {
    const char *title;                /* e.g. the run name                          */
    const char *split;                /* "test", "val", ... (may be NULL)            */
    const struct ecg_metrics *metrics;
    const struct ecg_epoch_row *epochs; /* learning curves; may be NULL with n 0     */
    int64_t n_epochs;
    const char *config_text;          /* the resolved config, shown in a <pre>; may be NULL */
    const struct ecg_calibration *calibration; /* ECE, reliability, temperature; may be NULL */
};

/*
 * metrics.json: {"classes", "n", "accuracy", "macro_precision",
 * "macro_recall", "macro_f1", "weighted_precision", "weighted_recall",
 * "weighted_f1", "cinc_f1" (only when the classes include N, A and O),
 * "roc_auc_macro", "aami" (beat classes only: {"n", "accuracy", "macro_f1",
 * "per_class": {N, S, V, F: {"se", "ppv", "f1", "tp", "fn", "fp"}}, "q_support",
 * "q_predicted"}), each breakdown under its key (ecg_metrics_add_breakdown; for
 * beats "breakdown" by annotation symbol and "breakdown_records" by record:
 * {"title", "rows": [{"label", "class", "n", "predicted": {class: count}}]}), "per_class": {name: {"precision", "recall", "f1",
 * "support", "auc"}}, "confusion_matrix" (counts, rows = true),
 * "confusion_matrix_normalized"}.  NaN is written as null.
 */
void ecg_metrics_write_json(FILE *f, const struct ecg_metrics *m);
/* The same with a "calibration" member (eval/calibration.h) when cal is not NULL. */
void ecg_metrics_write_json_calibrated(FILE *f, const struct ecg_metrics *m, const struct ecg_calibration *cal);

/* A classification report like sklearn's classification_report (4 digits,
 * plus an AUC column), the CinC and macro AUC lines, and the confusion
 * matrix in text, for terminals and logs. */
void ecg_report_write_text(FILE *f, const struct ecg_metrics *m);

/* Confusion-matrix heat map: colours by row-normalised value, count and
 * percentage in each cell, class names on both axes. */
void ecg_svg_confusion(FILE *f, const struct ecg_metrics *m);

/* Learning curves: two panels (loss, macro-F1) against the epoch, train and
 * validation series, axes with ticks, grid and legend.  NaN points are
 * skipped; no rows gives panels that say so. */
void ecg_svg_curves(FILE *f, const struct ecg_epoch_row *rows, int64_t n);

/* An ECG trace: x[i] at t0 + i / fs seconds, with axes in s and `unit`, an
 * optional shaded span, and optionally an image (the spectrogram PNG, by
 * reference) below it on the same time scale, with a frequency axis in Hz. */
struct ecg_svg_trace {
    const char *title;
    const float *x;
    int64_t n;
    double fs, t0;
    const char *unit;              /* y axis label, e.g. "mV" */
    double shade_from, shade_to;   /* seconds; no shade when shade_to <= shade_from */
    const char *image_href;        /* NULL: trace only */
    double img_t0, img_t1;         /* seconds spanned by the image's columns */
    double img_f0, img_f1;         /* Hz at the image's bottom and top edges */
};
void ecg_svg_trace(FILE *f, const struct ecg_svg_trace *t);

/* One self-contained HTML page: summary, per-class table, confusion matrix
 * (heat map and counts), learning curves, the config. */
void ecg_report_write_html(FILE *f, const struct ecg_report *r);

/* Writes metrics.json, report.txt, confusion.svg, curves.svg (when there
 * are epochs), reliability.svg (with a calibration) and report.html into the existing directory `dir`.  Fails
 * with ECG_ERR_IO naming the file and the system's reason ("DIR/metrics.json: cannot write: No space left on
 * device"); the files before it stay written. */
int ecg_report_write(const char *dir, const struct ecg_report *r, struct ecg_error *err);

/* Writes s with XML/HTML special characters escaped, as valid XML 1.0 text
 * content: tab and newline stay, carriage return becomes &#13;; other
 * control characters, U+FFFE/U+FFFF and bytes that are not well-formed
 * UTF-8 become U+FFFD (&#xFFFD;), one per byte. */
void ecg_xml_escape(FILE *f, const char *s);

#endif
