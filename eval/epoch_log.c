/* Per-epoch CSV log: writer and reader. */
#include "eval/epoch_log.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/file.h"
#include "eval/json.h"

const char ecg_epoch_log_header[] = "epoch,train_loss,val_loss,train_acc,val_acc,train_macro_f1,"
                                    "val_macro_f1,lr,seconds,images_per_s";

enum { NFIELDS = 10 };

void ecg_epoch_row_format(char *buf, size_t size, const struct ecg_epoch_row *r)
{
    const double v[NFIELDS - 1] = {r->train_loss,     r->val_loss,     r->train_acc,
                                   r->val_acc,        r->train_macro_f1, r->val_macro_f1,
                                   r->lr,             r->seconds,      r->images_per_s};
    size_t used = (size_t)snprintf(buf, size, "%" PRId64, r->epoch);
    for (int i = 0; i < NFIELDS - 1 && used < size; i++) {
        char num[32];
        used += (size_t)snprintf(buf + used, size - used, ",%s", ecg_format_double(num, sizeof num, v[i]));
    }
}

/* The header and rows as the file's text, malloc'd; NULL when out of memory. */
static char *log_text(const struct ecg_epoch_row *rows, int64_t n)
{
    enum { LINE = 512 };
    size_t cap = sizeof ecg_epoch_log_header + 1 + (size_t)n * LINE, used;
    char *text = malloc(cap);
    if (!text)
        return NULL;
    used = (size_t)snprintf(text, cap, "%s\n", ecg_epoch_log_header);
    for (int64_t i = 0; i < n; i++) {
        ecg_epoch_row_format(text + used, LINE - 1, &rows[i]); /* room for the newline */
        used += strlen(text + used);
        text[used++] = '\n';
        text[used] = '\0';
    }
    return text;
}

int ecg_epoch_log_open(struct ecg_epoch_log *log, const char *path, const struct ecg_epoch_row *rows, int64_t n,
                       struct ecg_error *err)
{
    memset(log, 0, sizeof *log);
    snprintf(log->path, sizeof log->path, "%s", path);
    char *text = log_text(rows, n);
    if (!text)
        return ecg_error_set(err, ECG_ERR_NOMEM, "%s: out of memory for %" PRId64 " rows", path, n);
    int rc = ecg_file_replace_text(path, text, err);
    free(text);
    if (rc)
        return rc;
    log->fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
    if (log->fd < 0)
        return ecg_error_set(err, ECG_ERR_IO, "%s: cannot open the epoch log: %s", path, strerror(errno));
    log->open = true;
    return ECG_OK;
}

int ecg_epoch_log_write(struct ecg_epoch_log *log, const struct ecg_epoch_row *row,
                        struct ecg_error *err)
{
    ECG_ASSERT(log->open);
    char line[512];
    ecg_epoch_row_format(line, sizeof line - 1, row);
    size_t len = strlen(line);
    line[len++] = '\n';
    int e = ecg_file_write_fd(log->fd, line, len);
    if (!e && fsync(log->fd) != 0)
        e = errno;
    if (e)
        return ecg_error_set(err, ECG_ERR_IO, "%s: cannot write epoch %" PRId64 " to the log: %s", log->path,
                             row->epoch, strerror(e));
    return ECG_OK;
}

int ecg_epoch_log_close(struct ecg_epoch_log *log, struct ecg_error *err)
{
    int rc = ECG_OK;
    if (log->open && close(log->fd) != 0)
        rc = ecg_error_set(err, ECG_ERR_IO, "%s: cannot close the epoch log: %s", log->path, strerror(errno));
    memset(log, 0, sizeof *log);
    return rc;
}

static int parse_row(const char *path, int64_t lineno, char *line, struct ecg_epoch_row *r,
                     struct ecg_error *err)
{
    static const char *const names[NFIELDS] = {"epoch",   "train_loss",     "val_loss",
                                               "train_acc", "val_acc",      "train_macro_f1",
                                               "val_macro_f1", "lr",         "seconds",
                                               "images_per_s"};
    double *dst[NFIELDS] = {NULL,         &r->train_loss,     &r->val_loss,
                            &r->train_acc, &r->val_acc,       &r->train_macro_f1,
                            &r->val_macro_f1, &r->lr,          &r->seconds,
                            &r->images_per_s};
    char *p = line;
    for (int i = 0; i < NFIELDS; i++) {
        char *end = strchr(p, ',');
        if ((end == NULL) != (i == NFIELDS - 1))
            return ecg_error_set(err, ECG_ERR_FORMAT, "%s:%" PRId64 ": expected %d comma-separated "
                                 "fields, found %s",
                                 path, lineno, NFIELDS, end ? "more" : "fewer");
        if (end)
            *end = '\0';
        char *stop = NULL;
        errno = 0;
        if (i == 0) {
            long long e = strtoll(p, &stop, 10);
            r->epoch = e;
        } else {
            *dst[i] = strtod(p, &stop);
        }
        if (stop == p || *stop != '\0')
            return ecg_error_set(err, ECG_ERR_FORMAT, "%s:%" PRId64 ": field %s: expected a number, "
                                 "found '%s'",
                                 path, lineno, names[i], p);
        if (end)
            p = end + 1;
    }
    return ECG_OK;
}

int ecg_epoch_log_read(const char *path, struct ecg_epoch_row **rows, int64_t *n,
                       struct ecg_error *err)
{
    *rows = NULL;
    *n = 0;
    FILE *f = fopen(path, "r");
    if (!f)
        return ecg_error_set(err, ECG_ERR_IO, "%s: cannot open the epoch log: %s", path,
                             strerror(errno));
    int rc = ECG_OK;
    char line[1024];
    int64_t lineno = 0, cap = 0;
    struct ecg_epoch_row *out = NULL;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        size_t len = strlen(line);
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        if (lineno == 1) {
            if (strcmp(line, ecg_epoch_log_header) != 0) {
                rc = ecg_error_set(err, ECG_ERR_FORMAT, "%s:1: expected the header '%s', found '%.100s'",
                                   path, ecg_epoch_log_header, line);
                goto done;
            }
            continue;
        }
        if (len == 0)
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 64;
            struct ecg_epoch_row *grown = realloc(out, (size_t)cap * sizeof *out);
            if (!grown) {
                rc = ecg_error_set(err, ECG_ERR_NOMEM, "%s: out of memory for %" PRId64 " rows", path, cap);
                goto done;
            }
            out = grown;
        }
        rc = parse_row(path, lineno, line, &out[*n], err);
        if (rc)
            goto done;
        (*n)++;
    }
    if (lineno == 0)
        rc = ecg_error_set(err, ECG_ERR_FORMAT, "%s: empty file, expected the header '%s'", path,
                           ecg_epoch_log_header);
    else if (ferror(f))
        rc = ecg_error_set(err, ECG_ERR_IO, "%s: read error: %s", path, strerror(errno));
done:
    fclose(f);
    if (rc) {
        free(out);
        *n = 0;
        out = NULL;
    }
    *rows = out;
    return rc;
}
