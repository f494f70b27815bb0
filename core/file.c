/* Atomic, durable whole-file writes and checked write(2) loops, with the failing file and errno in the message. */
#include "core/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Large files go out in pieces: a failure is found (and a kill can land) between them. */
enum { WRITE_CHUNK = 1 << 20 };

int ecg_file_write_fd(int fd, const void *data, size_t size)
{
    const char *p = data;
    while (size > 0) {
        ssize_t w = write(fd, p, size < WRITE_CHUNK ? size : WRITE_CHUNK);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return errno;
        if (w == 0)
            return ENOSPC;
        p += w;
        size -= (size_t)w;
    }
    return 0;
}

bool ecg_file_tmp_name(const char *path, char *buf, size_t size)
{
    int n = snprintf(buf, size, "%s.tmp", path);
    return n > 0 && (size_t)n < size;
}

int ecg_file_sync_parent(const char *path)
{
    char dir[4096];
    if (snprintf(dir, sizeof dir, "%s", path) >= (int)sizeof dir)
        return ENAMETOOLONG;
    char *slash = strrchr(dir, '/');
    if (slash == dir)
        dir[1] = '\0';
    else if (slash)
        *slash = '\0';
    else
        snprintf(dir, sizeof dir, ".");
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return errno;
    int e = fsync(fd) == 0 ? 0 : errno;
    close(fd);
    /* Some file systems cannot sync a directory; the rename is as durable as they make it. */
    return e == EINVAL || e == ENOTSUP ? 0 : e;
}

/* Writes, syncs and closes the temporary file; returns 0 or errno, with *what the step that failed. */
static int write_tmp(const char *tmp, const void *data, size_t size, const char **what)
{
    *what = NULL; /* creating it: the message names the temporary file */
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0)
        return errno;
    *what = "cannot write";
    int e = ecg_file_write_fd(fd, data, size);
    if (!e && fsync(fd) != 0) {
        e = errno;
        *what = "cannot sync to disk";
    }
    if (close(fd) != 0 && !e) {
        e = errno;
        *what = "cannot write";
    }
    return e;
}

int ecg_file_replace(const char *path, const void *data, size_t size, struct ecg_error *err)
{
    char tmp[4200];
    if (!ecg_file_tmp_name(path, tmp, sizeof tmp))
        return ecg_error_set(err, ECG_ERR_RANGE, "%s: path too long", path);
    const char *what;
    int e = write_tmp(tmp, data, size, &what);
    if (!e && rename(tmp, path) != 0) {
        e = errno;
        what = "cannot rename its temporary file into place";
    }
    if (e && !what)
        return ecg_error_set(err, ECG_ERR_IO, "%s: cannot create %s: %s", path, tmp, strerror(e));
    if (e) {
        unlink(tmp);
        return ecg_error_set(err, ECG_ERR_IO, "%s: %s: %s", path, what, strerror(e));
    }
    if ((e = ecg_file_sync_parent(path)) != 0)
        return ecg_error_set(err, ECG_ERR_IO, "%s: cannot sync its directory: %s", path, strerror(e));
    return ECG_OK;
}

int ecg_file_replace_text(const char *path, const char *text, struct ecg_error *err)
{
    return ecg_file_replace(path, text, strlen(text), err);
}

int ecg_file_buf_open(struct ecg_file_buf *b, const char *path, struct ecg_error *err)
{
    memset(b, 0, sizeof *b);
    b->f = open_memstream(&b->data, &b->size);
    if (!b->f)
        return ecg_error_set(err, ECG_ERR_NOMEM, "%s: out of memory", path);
    return ECG_OK;
}

void ecg_file_buf_discard(struct ecg_file_buf *b)
{
    if (b->f)
        fclose(b->f);
    free(b->data);
    memset(b, 0, sizeof *b);
}

int ecg_file_buf_commit(struct ecg_file_buf *b, const char *path, struct ecg_error *err)
{
    /* A memory stream fails only when it cannot grow. */
    bool bad = ferror(b->f) != 0;
    int closed = fclose(b->f);
    b->f = NULL;
    int rc = bad || closed != 0 ? ecg_error_set(err, ECG_ERR_NOMEM, "%s: out of memory", path)
                                : ecg_file_replace(path, b->data, b->size, err);
    ecg_file_buf_discard(b);
    return rc;
}
