/* Kaggle MIT-BIH heartbeat CSV reader: 187 samples at 125 Hz and an AAMI label 0..4 per line. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/reader_common.h"
#include "data/readers.h"

#define KAGGLE_SAMPLES 187
#define KAGGLE_FS 125.0

/* Parses one row (NUL-terminated): 187 samples into rec->signal and the label 0..4 into rec->label.  A bad
 * row's error is returned for the skip policy. */
static int parse_row(const char *path, int64_t lineno, const char *row, struct ecg_record *rec,
                     struct ecg_error *err)
{
    int col = 0;
    double label = NAN;
    const char *q = row;
    for (;;) {
        col++;
        char *e;
        double v = strtod(q, &e);
        while (*e == ' ')
            e++;
        if (e == q || (*e != ',' && *e != '\0')) {
            size_t w = strcspn(q, ",");
            return ecg_error_set(err, ECG_ERR_FORMAT, "%s:%lld: column %d: '%.*s' is not a number", path,
                                 (long long)lineno, col, (int)(w > 40 ? 40 : w), q);
        }
        if (col <= KAGGLE_SAMPLES)
            rec->signal[col - 1] = (float)v;
        else if (col == KAGGLE_SAMPLES + 1)
            label = v;
        if (*e == '\0')
            break;
        q = e + 1;
    }
    if (col != KAGGLE_SAMPLES + 1)
        return ecg_error_set(err, ECG_ERR_FORMAT, "%s:%lld: %d columns, expected %d (187 samples and the label)",
                             path, (long long)lineno, col, KAGGLE_SAMPLES + 1);
    if (!(label == floor(label) && label >= 0 && label <= 4))
        return ecg_error_set(err, ECG_ERR_VALUE, "%s:%lld: column %d: label %g, expected 0..4 (N, S, V, F, Q)",
                             path, (long long)lineno, KAGGLE_SAMPLES + 1, label);
    rec->label = (int32_t)label;
    return ECG_OK;
}

int ecg_kaggle_read(const char *path, const struct ecg_read_options *opt, struct ecg_dataset *ds,
                    struct ecg_error *err)
{
    struct ecg_read_options defaults;
    opt = ecg_read_options_or_default(opt, &defaults);
    ds->task = ECG_TASK_BEAT;
    char *text = NULL;
    int64_t size = 0;
    ECG_TRY(ecg_read_file(path, &text, &size, err));
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    int rc = ECG_OK;
    int64_t lineno = 0, rows = 0;
    for (char *p = text, *next; *p && !rc; p = next) {
        char *nl = strchr(p, '\n');
        char *end = nl ? nl : p + strlen(p);
        next = nl ? nl + 1 : end;
        lineno++;
        if (end > p && end[-1] == '\r')
            end[-1] = '\0';
        *end = '\0';
        if (*p == '\0')
            continue;
        rows++;
        struct ecg_record rec = {0};
        snprintf(rec.id, sizeof rec.id, "%.40s:%lld", base, (long long)lineno);
        rec.fs = KAGGLE_FS;
        rec.length = KAGGLE_SAMPLES;
        rec.signal = malloc(KAGGLE_SAMPLES * sizeof(float));
        if (!rec.signal) {
            rc = ecg_error_set(err, ECG_ERR_NOMEM, "%s: no memory", path);
            break;
        }
        int bad = parse_row(path, lineno, p, &rec, err);
        if (!bad && (bad = ecg_reader_check(opt, &rec, err)))
            ecg_error_prefix(err, bad, "%s:%lld", path, (long long)lineno);
        rc = ecg_reader_keep(opt, ds, &rec, bad, err);
    }
    if (!rc && rows == 0)
        rc = ecg_error_set(err, ECG_ERR_VALUE, "%s: no rows, expected 188 comma-separated numbers per line",
                           path);
    free(text);
    return rc;
}
