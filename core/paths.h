/* Finding configs, weights and data files: the working directory first, then the installed data directory. */
#ifndef ECG_CORE_PATHS_H
#define ECG_CORE_PATHS_H

#include "core/config.h"
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
 * Points the config's relative input paths (data.path, data.exclude, model.pretrained) that are
 * missing from the working directory but present in the data directory at the installed file,
 * logging each change.  A path found in neither place is left for its reader to report.
 * Output paths (run.dir, data.cache_dir) and run.resume are never redirected.
 */
int ecg_path_resolve_config(struct ecg_config *c, struct ecg_error *err);

#endif
