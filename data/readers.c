/* The reader dispatcher by format, the format and bad-record names, read options, and helpers shared by the readers. */
#include "data/readers.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/log.h"
#include "data/reader_common.h"
#include "data/signal.h"

void ecg_read_options_default(struct ecg_read_options *opt)
{
    memset(opt, 0, sizeof *opt);
    opt->skip_bad = ECG_BAD_ERROR;
    opt->label_file = NULL;
    opt->min_seconds = 0.0;
    opt->flat_std_mv = 1e-4;
    opt->records = NULL;
    opt->channel = -1;
    opt->beat_before_s = 0.25;
    opt->beat_after_s = 0.45;
    opt->beats = ECG_BEATS_REFERENCE;
    opt->q_beats = ECG_Q_KEEP;
    opt->keep_unlabelled = false;
}

typedef int (*reader_fn)(const char *, const struct ecg_read_options *, struct ecg_dataset *,
                         struct ecg_error *);

const char *const ecg_data_format_names[] = {
    [ECG_DATA_CACHET_SHORT] = "cachet_short", [ECG_DATA_CACHET_FULL] = "cachet_full",
    [ECG_DATA_CINC2017] = "cinc2017",         [ECG_DATA_MITBIH_WFDB] = "mitbih_wfdb",
    [ECG_DATA_MITBIH_CSV] = "mitbih_csv",     NULL,
};

const char *const ecg_bad_policy_names[] = {[ECG_BAD_ERROR] = "error", [ECG_BAD_SKIP] = "skip", NULL};

/* Per format, in enum order: its task and reader. */
static const struct {
    enum ecg_task task;
    reader_fn fn;
} formats[] = {
    [ECG_DATA_CACHET_SHORT] = {ECG_TASK_RHYTHM, ecg_cachet_read_short},
    [ECG_DATA_CACHET_FULL] = {ECG_TASK_RHYTHM, ecg_cachet_read_full},
    [ECG_DATA_CINC2017] = {ECG_TASK_RHYTHM, ecg_cinc2017_read},
    [ECG_DATA_MITBIH_WFDB] = {ECG_TASK_BEAT, ecg_mitdb_read},
    [ECG_DATA_MITBIH_CSV] = {ECG_TASK_BEAT, ecg_kaggle_read},
};
#define NFORMATS ((int)(sizeof formats / sizeof formats[0]))

/* Older names the programs' --format options accept for two of the formats. */
static const struct {
    const char *name;
    enum ecg_data_format format;
} aliases[] = {{"mitdb", ECG_DATA_MITBIH_WFDB}, {"kaggle_csv", ECG_DATA_MITBIH_CSV}};

int ecg_data_format_parse(const char *name, enum ecg_data_format *out, struct ecg_error *err)
{
    for (int i = 0; name && i < NFORMATS; i++)
        if (!strcmp(name, ecg_data_format_names[i])) {
            *out = (enum ecg_data_format)i;
            return ECG_OK;
        }
    for (size_t i = 0; name && i < sizeof aliases / sizeof aliases[0]; i++)
        if (!strcmp(name, aliases[i].name)) {
            *out = aliases[i].format;
            return ECG_OK;
        }
    return ecg_error_set(err, ECG_ERR_CONFIG,
                         "dataset format '%s': expected one of cachet_short, cachet_full, cinc2017, "
                         "mitbih_wfdb (or mitdb), mitbih_csv (or kaggle_csv)",
                         name ? name : "(none)");
}

enum ecg_task ecg_data_format_task(enum ecg_data_format format)
{
    ECG_ASSERT((int)format >= 0 && (int)format < NFORMATS);
    return formats[format].task;
}

int ecg_format_task(const char *format)
{
    enum ecg_data_format f;
    return ecg_data_format_parse(format, &f, NULL) == ECG_OK ? (int)ecg_data_format_task(f) : -1;
}

int ecg_dataset_read_format(enum ecg_data_format format, const char *path, const struct ecg_read_options *opt,
                            struct ecg_dataset *ds, struct ecg_error *err)
{
    ECG_ASSERT((int)format >= 0 && (int)format < NFORMATS);
    struct ecg_read_options def;
    if (!opt) {
        ecg_read_options_default(&def);
        opt = &def;
    }
    ds->task = formats[format].task;
    int rc = formats[format].fn(path, opt, ds, err);
    if (rc == ECG_OK && ds->count == 0)
        rc = ecg_error_set(err, ECG_ERR_VALUE, "%s: no usable records in the %s dataset (%lld skipped)", path,
                           ecg_data_format_names[format], (long long)ds->skipped);
    return rc;
}

int ecg_dataset_read(const char *format, const char *path, const struct ecg_read_options *opt,
                     struct ecg_dataset *ds, struct ecg_error *err)
{
    enum ecg_data_format f;
    ECG_TRY(ecg_data_format_parse(format, &f, err));
    return ecg_dataset_read_format(f, path, opt, ds, err);
}

int ecg_reader_bad(const struct ecg_read_options *opt, struct ecg_dataset *ds, int status,
                   struct ecg_error *err)
{
    if (status == ECG_OK || opt->skip_bad != ECG_BAD_SKIP || status == ECG_ERR_NOMEM)
        return status;
    ecg_warn("skipped: %s", err ? err->msg : "bad record");
    ds->skipped++;
    ecg_error_clear(err);
    return ECG_OK;
}

int ecg_reader_keep(const struct ecg_read_options *opt, struct ecg_dataset *ds, struct ecg_record *rec, int bad,
                    struct ecg_error *err)
{
    if (!bad)
        return ecg_dataset_push(ds, rec, err);
    free(rec->signal);
    rec->signal = NULL;
    return ecg_reader_bad(opt, ds, bad, err);
}

const struct ecg_read_options *ecg_read_options_or_default(const struct ecg_read_options *opt,
                                                           struct ecg_read_options *storage)
{
    if (opt)
        return opt;
    ecg_read_options_default(storage);
    return storage;
}

int ecg_reader_check(const struct ecg_read_options *opt, const struct ecg_record *rec, struct ecg_error *err)
{
    ECG_TRY(ecg_signal_check_finite(rec->signal, rec->length, err));
    double secs = rec->fs > 0 ? (double)rec->length / rec->fs : 0.0;
    if (rec->length < 1 || secs < opt->min_seconds)
        return ecg_error_set(err, ECG_ERR_VALUE, "%.3f s long (%lld samples), expected at least %g s", secs,
                             (long long)rec->length, opt->min_seconds);
    if (opt->flat_std_mv >= 0) {
        double m, s;
        ecg_signal_stats(rec->signal, rec->length, &m, &s);
        if (!(s > opt->flat_std_mv))
            return ecg_error_set(err, ECG_ERR_VALUE,
                                 "flat signal: standard deviation %g mV, expected more than %g mV", s,
                                 opt->flat_std_mv);
    }
    return ECG_OK;
}

int ecg_read_file(const char *path, char **buf, int64_t *size, struct ecg_error *err)
{
    *buf = NULL;
    *size = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return ecg_error_set(err, ECG_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    int rc = ECG_OK;
    char *b = NULL;
    if (fseek(f, 0, SEEK_END) != 0) {
        rc = ecg_error_set(err, ECG_ERR_IO, "%s: cannot seek: %s", path, strerror(errno));
        goto done;
    }
    long n = ftell(f);
    if (n < 0 || fseek(f, 0, SEEK_SET) != 0) {
        rc = ecg_error_set(err, ECG_ERR_IO, "%s: cannot determine the size", path);
        goto done;
    }
    b = malloc((size_t)n + 1);
    if (!b) {
        rc = ecg_error_set(err, ECG_ERR_NOMEM, "%s: no memory for %ld bytes", path, n);
        goto done;
    }
    if (n > 0 && fread(b, 1, (size_t)n, f) != (size_t)n) {
        rc = ecg_error_set(err, ECG_ERR_IO, "%s: read error", path);
        free(b);
        b = NULL;
        goto done;
    }
    b[n] = '\0';
    *buf = b;
    *size = n;
done:
    fclose(f);
    return rc;
}

int ecg_path_is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int ecg_path_is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

void ecg_strlcpy(char *dst, const char *src, size_t cap)
{
    size_t n = strlen(src);
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

int ecg_pathf(char *out, size_t cap, struct ecg_error *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out, cap, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= cap)
        return ecg_error_set(err, ECG_ERR_RANGE, "path '%.80s...' is longer than %zu bytes", out, cap - 1);
    return ECG_OK;
}
