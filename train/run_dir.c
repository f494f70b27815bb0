/* Choosing and creating run directories (never an earlier run's), and writing the resolved config into them. */
#include "train/run_dir.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/file.h"
#include "core/log.h"
#include "train/run_log.h"

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

/* The files a run writes: a directory holding one of them holds a run. */
static const char *const run_files[] = {"config.yaml", "log.csv", "last.h5", "best.h5", "metrics.json", "train.log"};

bool ecg_run_dir_holds_run(const char *dir)
{
    char path[1100];
    for (size_t i = 0; i < sizeof run_files / sizeof run_files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, run_files[i]);
        if (access(path, F_OK) == 0)
            return true;
    }
    return false;
}

/* What a killed run may have left: the temporary files of ecg_file_replace() (core/file.h).  The resumed run
 * writes each file again, but a best.h5.tmp (tens of megabytes) would stay when no epoch improves. */
static void remove_temporaries(const char *dir)
{
    static const char *const reports[] = {"report.txt", "report.html", "confusion.svg", "curves.svg", "reliability.svg"};
    char path[1200];
    for (size_t i = 0; i < sizeof run_files / sizeof run_files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s.tmp", dir, run_files[i]);
        unlink(path);
    }
    for (size_t i = 0; i < sizeof reports / sizeof reports[0]; i++) {
        snprintf(path, sizeof path, "%s/%s.tmp", dir, reports[i]);
        unlink(path);
    }
}

/* Writes the directory of the checkpoint `resume` into dir. */
static int resume_dir(const char *resume, char *dir, size_t size, struct ecg_error *err)
{
    const char *slash = strrchr(resume, '/');
    size_t n = slash ? (size_t)(slash - resume) : 1;
    if (n >= size)
        return ecg_error_set(err, ECG_ERR_RANGE, "run.resume: directory longer than %zu characters", size - 1);
    memcpy(dir, slash ? resume : ".", n);
    dir[n] = '\0';
    if (n == 0) /* "/last.h5" */
        snprintf(dir, size, "/");
    return ECG_OK;
}

/* Creates `base` or, when it holds a run, the first of base-2, base-3, ... that holds none. */
static int fresh_dir(const char *base, char *dir, size_t size, struct ecg_error *err)
{
    for (int v = 1; v <= 9999; v++) {
        int n = v == 1 ? snprintf(dir, size, "%s", base) : snprintf(dir, size, "%s-%d", base, v);
        if (n < 0 || (size_t)n >= size)
            return ecg_error_set(err, ECG_ERR_RANGE, "run.dir: %s is longer than %zu characters", base, size - 1);
        /* mkdir of the last part decides races between runs started at once: only one creates it */
        ECG_TRY(ecg_mkdirs(dir, err));
        if (!ecg_run_dir_holds_run(dir))
            return ECG_OK;
    }
    return ecg_error_set(err, ECG_ERR_RANGE, "run.dir: %s to %s-9999 all hold runs", base, base);
}

int ecg_run_dir_prepare(const struct ecg_config *c, const char *resume, char *dir, size_t size,
                        struct ecg_error *err)
{
    char base[1024];
    int rc;
    if (resume) {
        if (access(resume, R_OK) != 0)
            return ecg_error_set(err, ECG_ERR_IO, "run.resume: %s: cannot read the checkpoint: %s", resume,
                                 strerror(errno));
        if ((rc = resume_dir(resume, dir, size, err)))
            return rc;
        remove_temporaries(dir);
    } else {
        int n = c->run.dir ? snprintf(base, sizeof base, "%s", c->run.dir)
                           : snprintf(base, sizeof base, "runs/%s", c->run.name);
        if (n < 0 || (size_t)n >= sizeof base)
            return ecg_error_set(err, ECG_ERR_RANGE, "run.dir: longer than %zu characters", sizeof base - 1);
        if ((rc = fresh_dir(base, dir, size, err)))
            return ecg_error_prefix(err, rc, "run.dir");
    }
    char log[1100];
    snprintf(log, sizeof log, "%s/train.log", dir);
    if ((rc = ecg_run_log_start(log, resume != NULL, err)))
        return rc;
    /* printed once the log copies it, so train.log says where it is too */
    if (resume)
        ecg_info("run directory: %s (continuing %s)", dir, resume);
    else if (strcmp(dir, base) != 0)
        ecg_warn("run directory: %s (%s holds an earlier run, which is kept)", dir, base);
    else
        ecg_info("run directory: %s", dir);
    return ECG_OK;
}

int ecg_run_dir_write_config(const char *dir, const char *yaml, struct ecg_error *err)
{
    char path[1100];
    snprintf(path, sizeof path, "%s/config.yaml", dir);
    return ecg_file_replace_text(path, yaml, err);
}
