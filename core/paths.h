/* Finding configs, weights and data files: the working directory first, then the installed data directory. */
#ifndef ECG_CORE_PATHS_H
#define ECG_CORE_PATHS_H

#include "core/error.h"

/* The environment variable that overrides the compiled-in data directory (a staged install, a
 * relocated tree). */
#define ECG_DATADIR_ENV "ECGTRAIN_DATADIR"

/* The installed data directory: $ECGTRAIN_DATADIR when set and not empty, else
 * <prefix>/<datadir>/ecgtrain as configured at build time (meson's prefix and datadir). */
const char *ecg_path_datadir(void);

/*
 * Finds the file (or directory) a user named.  An absolute path, or a relative one that exists
 * from the working directory, is taken as it is; a relative path missing there is looked up in
 * the data directory.  *found receives a malloc'd path the caller frees.  When neither place
 * holds it: ECG_ERR_IO "PATH: cannot open: No such file or directory (looked in the working
 * directory and in DATADIR)", *found NULL.
 */
int ecg_path_find_data(const char *path, char **found, struct ecg_error *err);

/*
 * Points a relative input path (a heap string, `key` names it in the log line) that is missing
 * from the working directory but present in the data directory at the installed file, logging
 * the change.  A path found in neither place, absolute, or NULL is left for its reader to
 * report.  Fails only on allocation.
 */
int ecg_path_redirect(const char *key, char **path, struct ecg_error *err);

#endif
