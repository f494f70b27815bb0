/* Finding configs, weights and data files: the working directory first, then the installed data directory. */
#include "core/paths.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/log.h"

#ifndef ECG_DATADIR
#error "ECG_DATADIR (the installed data directory) is set by meson.build"
#endif

const char *ecg_path_datadir(void)
{
    const char *env = getenv(ECG_DATADIR_ENV);
    return env && env[0] ? env : ECG_DATADIR;
}

/* errno of stat(path), 0 when it exists. */
static int missing(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? 0 : errno;
}

/* DATADIR/path, malloc'd, or NULL when out of memory. */
static char *in_datadir(const char *path)
{
    const char *dir = ecg_path_datadir();
    size_t n = strlen(dir) + 1 + strlen(path) + 1;
    char *out = malloc(n);
    if (out)
        snprintf(out, n, "%s/%s", dir, path);
    return out;
}

int ecg_path_find_data(const char *path, char **found, struct ecg_error *err)
{
    int cwd_errno = path[0] == '/' ? 0 : missing(path);
    *found = NULL;
    if (cwd_errno == ENOENT || cwd_errno == ENOTDIR) {
        char *alt = in_datadir(path);
        if (!alt)
            return ecg_error_set(err, ECG_ERR_NOMEM, "%s: out of memory", path);
        if (!missing(alt)) {
            *found = alt;
            return ECG_OK;
        }
        free(alt);
        return ecg_error_set(err, ECG_ERR_IO, "%s: cannot open: %s (looked in the working directory and in %s)",
                             path, strerror(cwd_errno), ecg_path_datadir());
    }
    /* Present, or failing for another reason (permissions): the opener reports it as it is. */
    if (!(*found = strdup(path)))
        return ecg_error_set(err, ECG_ERR_NOMEM, "%s: out of memory", path);
    return ECG_OK;
}

int ecg_path_redirect(const char *key, char **path, struct ecg_error *err)
{
    if (!*path || (*path)[0] == '/' || !missing(*path))
        return ECG_OK;
    char *alt = in_datadir(*path);
    if (!alt)
        return ecg_error_set(err, ECG_ERR_NOMEM, "%s: out of memory", key);
    if (missing(alt)) {
        free(alt);
        return ECG_OK;
    }
    ecg_info("%s: %s is not in the working directory; using %s", key, *path, alt);
    free(*path);
    *path = alt;
    return ECG_OK;
}
