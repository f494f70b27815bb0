/* Creating run directories and writing the resolved config into them. */
#include "train/run_dir.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

int ecg_mkdirs(const char *path, struct ecg_error *err)
{
    char buf[1024];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
        return ecg_error_set(err, ECG_ERR_RANGE, "directory name too long: %s", path);
    for (char *p = buf + 1;; p++) {
        char saved = *p;
        if (saved != '/' && saved != '\0')
            continue;
        *p = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST)
            return ecg_error_set(err, ECG_ERR_IO, "cannot create directory %s: %s", buf, strerror(errno));
        *p = saved;
        if (saved == '\0')
            break;
    }
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
        return ecg_error_set(err, ECG_ERR_IO, "%s exists and is not a directory", path);
    return ECG_OK;
}

int ecg_run_dir_prepare(const struct ecg_config *c, char *dir, size_t size, struct ecg_error *err)
{
    int n = c->run.dir ? snprintf(dir, size, "%s", c->run.dir) : snprintf(dir, size, "runs/%s", c->run.name);
    if (n < 0 || (size_t)n >= size)
        return ecg_error_set(err, ECG_ERR_RANGE, "run.dir: longer than %zu characters", size - 1);
    int rc = ecg_mkdirs(dir, err);
    return rc ? ecg_error_prefix(err, rc, "run.dir") : ECG_OK;
}

int ecg_run_dir_write_config(const char *dir, const char *yaml, struct ecg_error *err)
{
    char path[1100];
    snprintf(path, sizeof path, "%s/config.yaml", dir);
    FILE *f = fopen(path, "w");
    if (!f)
        return ecg_error_set(err, ECG_ERR_IO, "cannot write %s: %s", path, strerror(errno));
    fputs(yaml, f);
    if (fclose(f) != 0)
        return ecg_error_set(err, ECG_ERR_IO, "cannot write %s: %s", path, strerror(errno));
    return ECG_OK;
}
