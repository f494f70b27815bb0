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

/* The input paths a config may give relative to the checkout; they are installed with it. */
static const char *const input_keys[] = {"data.path", "data.exclude", "model.pretrained"};

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

int ecg_path_resolve_config(struct ecg_config *c, struct ecg_error *err)
{
    for (size_t i = 0; i < sizeof input_keys / sizeof input_keys[0]; i++) {
        const struct ecg_config_key *k = ecg_config_find(input_keys[i]);
        ECG_ASSERT(k && k->type == ECG_CFG_PATH);
        char **field = (char **)((char *)c + k->offset);
        if (!*field || (*field)[0] == '/' || !missing(*field))
            continue;
        char *alt = in_datadir(*field);
        if (!alt)
            return ecg_error_set(err, ECG_ERR_NOMEM, "%s: out of memory", input_keys[i]);
        if (missing(alt)) {
            free(alt);
            continue;
        }
        ecg_info("%s: %s is not in the working directory; using %s", input_keys[i], *field, alt);
        free(*field);
        *field = alt;
    }
    return ECG_OK;
}
