/* The per-epoch CSV log of a run: one header line, one line per epoch, numbers that read back exactly. */
#ifndef ECG_EVAL_EPOCH_LOG_H
#define ECG_EVAL_EPOCH_LOG_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

#include "core/error.h"

/*
 * Columns (the header line, in this order):
 *   epoch,train_loss,val_loss,train_acc,val_acc,train_macro_f1,val_macro_f1,lr,seconds,images_per_s
 * epoch counts from 1.  Values are the shortest decimals that read back to
 * the same double (see ecg_format_double); a value not measured (no
 * validation split, say) is NaN and written "nan".  Each row goes to disk
 * (one write, then fsync) before the call returns, so an interrupted run
 * keeps every finished epoch, and a checkpoint written after a row never
 * gets ahead of the log.  A full or failing disk is ECG_ERR_IO naming the
 * file and the reason (core/file.h).
 */

struct ecg_epoch_row {
    int64_t epoch;
    double train_loss, val_loss;
    double train_acc, val_acc;
    double train_macro_f1, val_macro_f1;
    double lr;           /* learning rate at the end of the epoch */
    double seconds;      /* wall time of the epoch (training + validation) */
    double images_per_s; /* training throughput */
};

extern const char ecg_epoch_log_header[];

struct ecg_epoch_log {
    bool open;
    int fd;
    char path[1024];
};

/* Replaces the log at `path` with the header and `n` rows (a resumed run's
 * earlier epochs; rows may be NULL with n 0) in one atomic write, then opens
 * it for appending. */
int ecg_epoch_log_open(struct ecg_epoch_log *log, const char *path, const struct ecg_epoch_row *rows, int64_t n,
                       struct ecg_error *err);
/* Appends one row. */
int ecg_epoch_log_write(struct ecg_epoch_log *log, const struct ecg_epoch_row *row,
                        struct ecg_error *err);
/* Closes.  A zeroed log is a no-op. */
int ecg_epoch_log_close(struct ecg_epoch_log *log, struct ecg_error *err);

/* Formats one row as a CSV line (no newline) into buf (>= 512 bytes). */
void ecg_epoch_row_format(char *buf, size_t size, const struct ecg_epoch_row *row);

/*
 * Reads a log back (e.g. to resume: keep rows up to the checkpoint's epoch,
 * then reopen and rewrite them).  *rows is malloc'ed (free() it), *n rows.
 * Fails with ECG_ERR_IO if unreadable, ECG_ERR_FORMAT naming the file and
 * line for a wrong header, a wrong number of fields or a bad number.
 */
int ecg_epoch_log_read(const char *path, struct ecg_epoch_row **rows, int64_t *n,
                       struct ecg_error *err);

#endif
