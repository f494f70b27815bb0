/* Writing files that survive a full disk, an I/O error or a kill: whole-file atomic replacement and checked appends. */
#ifndef ECG_CORE_FILE_H
#define ECG_CORE_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "core/error.h"

/*
 * Every file a run writes goes through here, so a failing disk is reported
 * the same way everywhere: ECG_ERR_IO with one message that names the file
 * and the system's reason, e.g.
 *   "runs/x/last.h5: cannot write: No space left on device"
 * Writes use write(2) in a loop (short writes continue, EINTR retries) and
 * are never left to stdio, whose errors lose errno.
 */

/* Writes all `size` bytes to `fd`; returns 0 or the errno of the failure
 * (a write that stores nothing without an error counts as ENOSPC). */
int ecg_file_write_fd(int fd, const void *data, size_t size);

/*
 * Replaces `path` with `size` bytes, atomically and durably: the bytes go
 * to "<path>.tmp" (created or truncated), which is fsync'ed and renamed
 * over `path`, then the directory is fsync'ed.  A crash or a kill at any
 * moment leaves at `path` either the old file or the new one, never a part;
 * on failure the temporary file is removed and `path` is untouched.  One
 * writer per path: two processes replacing the same file at once share the
 * temporary name.
 */
int ecg_file_replace(const char *path, const void *data, size_t size, struct ecg_error *err);

/* "<path>.tmp", the name ecg_file_replace() writes first, into buf (false when it does not fit). */
bool ecg_file_tmp_name(const char *path, char *buf, size_t size);

/*
 * A file's contents built in memory with stdio (open_memstream), then
 * written with ecg_file_replace(): stdio's formatting with exact error
 * reports.  open: ECG_ERR_NOMEM only.  commit writes and frees; discard
 * frees.  Both are no-ops on a zeroed struct.
 */
struct ecg_file_buf {
    FILE *f;
    char *data;
    size_t size;
};
int ecg_file_buf_open(struct ecg_file_buf *b, const char *path, struct ecg_error *err);
int ecg_file_buf_commit(struct ecg_file_buf *b, const char *path, struct ecg_error *err);
void ecg_file_buf_discard(struct ecg_file_buf *b);

/* Writes `text` to `path` with ecg_file_replace(). */
int ecg_file_replace_text(const char *path, const char *text, struct ecg_error *err);

/* fsync of the directory that holds `path` (its parent; "." for a bare name); 0 or errno. */
int ecg_file_sync_parent(const char *path);

#endif
