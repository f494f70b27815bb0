/* Tests of core/paths: relative paths are looked up in the working directory, then in the installed data directory. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "train/config.h"
#include "core/paths.h"
#include "tests/test_util.h"

static char work[512], share[512];

/* Creates the directories of a file path (every '/' but the last). */
static void make_parents(const char *path)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *s = strchr(buf + 1, '/'); s; s = strchr(s + 1, '/')) {
        *s = '\0';
        mkdir(buf, 0755);
        *s = '/';
    }
}

/* Writes `text` to dir/rel. */
static void put(const char *dir, const char *rel, const char *text)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    make_parents(path);
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs(text, f);
    fclose(f);
}

/* A working directory and a data directory (named by ECGTRAIN_DATADIR), both empty and fresh. */
static void fresh_dirs(const char *name)
{
    snprintf(work, sizeof work, "%s/%s/work", ecg_test_tmpdir(), name);
    snprintf(share, sizeof share, "%s/%s/share", ecg_test_tmpdir(), name);
    make_parents(work);
    mkdir(work, 0755);
    mkdir(share, 0755);
    CU_ASSERT_EQUAL_FATAL(chdir(work), 0);
    setenv(ECG_DATADIR_ENV, share, 1);
}

static void the_data_directory_is_the_environment_variable_or_the_configured_prefix(void)
{
    setenv(ECG_DATADIR_ENV, "/some/where", 1);
    CU_ASSERT_STRING_EQUAL(ecg_path_datadir(), "/some/where");
    setenv(ECG_DATADIR_ENV, "", 1);
    CU_ASSERT_STRING_EQUAL(ecg_path_datadir(), getenv("ECG_EXPECTED_DATADIR"));
    unsetenv(ECG_DATADIR_ENV);
    CU_ASSERT_STRING_EQUAL(ecg_path_datadir(), getenv("ECG_EXPECTED_DATADIR"));
}

static void a_file_in_the_working_directory_wins_over_the_installed_one(void)
{
    fresh_dirs("cwd_wins");
    put(work, "configs/a.yaml", "");
    put(share, "configs/a.yaml", "");
    struct ecg_error err = {0};
    char *found = NULL;
    CU_ASSERT_EQUAL(ecg_path_find_data("configs/a.yaml", &found, &err), ECG_OK);
    CU_ASSERT_STRING_EQUAL(found, "configs/a.yaml");
    free(found);
}

static void a_relative_path_missing_here_is_found_in_the_data_directory(void)
{
    fresh_dirs("installed");
    put(share, "configs/a.yaml", "");
    struct ecg_error err = {0};
    char *found = NULL;
    CU_ASSERT_EQUAL(ecg_path_find_data("configs/a.yaml", &found, &err), ECG_OK);
    char want[1024];
    snprintf(want, sizeof want, "%s/configs/a.yaml", share);
    CU_ASSERT_STRING_EQUAL(found, want);
    free(found);
}

static void absolute_paths_are_never_redirected(void)
{
    fresh_dirs("absolute");
    put(share, "no/such.yaml", "");
    struct ecg_error err = {0};
    char *found = NULL;
    CU_ASSERT_EQUAL(ecg_path_find_data("/no/such.yaml", &found, &err), ECG_OK);
    CU_ASSERT_STRING_EQUAL(found, "/no/such.yaml");
    free(found);
}

static void a_path_found_nowhere_names_both_places_it_looked(void)
{
    fresh_dirs("nowhere");
    struct ecg_error err = {0};
    char *found = (char *)"unchanged", want[1200];
    int rc = ecg_path_find_data("configs/b.yaml", &found, &err);
    snprintf(want, sizeof want,
             "configs/b.yaml: cannot open: No such file or directory (looked in the working directory and in %s)",
             share);
    ECG_CHECK_ERROR(rc, &err, ECG_ERR_IO, want);
    CU_ASSERT_PTR_NULL(found);
}

static void config_input_paths_missing_here_point_at_the_installed_files(void)
{
    fresh_dirs("config_keys");
    put(share, "data/sample/s.h5", "");
    put(share, "weights/w.h5", "");
    put(share, "runs/x/last.h5", "");
    put(work, "ids.txt", "");
    put(share, "ids.txt", "");
    struct ecg_config c;
    struct ecg_error err = {0};
    char *sets[] = {"data.path=data/sample/s.h5", "model.pretrained=weights/w.h5", "data.exclude=ids.txt",
                    "run.dir=runs/x", "run.resume=runs/x/last.h5", "data.cache_dir=data/sample"};
    CU_ASSERT_EQUAL_FATAL(ecg_config_resolve(&c, NULL, 6, sets, &err), ECG_OK);
    char want[1024];
    snprintf(want, sizeof want, "%s/data/sample/s.h5", share);
    CU_ASSERT_STRING_EQUAL(c.data.path, want);
    snprintf(want, sizeof want, "%s/weights/w.h5", share);
    CU_ASSERT_STRING_EQUAL(c.model.pretrained, want);
    CU_ASSERT_STRING_EQUAL(c.data.exclude, "ids.txt");         /* present here: kept */
    CU_ASSERT_STRING_EQUAL(c.run.dir, "runs/x");               /* outputs never move */
    CU_ASSERT_STRING_EQUAL(c.run.resume, "runs/x/last.h5");    /* a run is the user's, not installed */
    CU_ASSERT_STRING_EQUAL(c.data.cache_dir, "data/sample");
    ecg_config_free(&c);

    /* Missing everywhere: left as written for the reader's own message. */
    char *nowhere[] = {"data.path=nowhere.h5"};
    CU_ASSERT_EQUAL_FATAL(ecg_config_resolve(&c, NULL, 1, nowhere, &err), ECG_OK);
    CU_ASSERT_STRING_EQUAL(c.data.path, "nowhere.h5");
    ecg_config_free(&c);
}

static void an_installed_config_and_its_base_load_from_another_directory(void)
{
    fresh_dirs("config_file");
    put(share, "configs/base.yaml", "optim:\n  lr: 0.25\n");
    put(share, "configs/child.yaml", "base: base.yaml\ntrain:\n  epochs: 3\n");
    put(share, "data/sample/cachet_sample.h5", "");
    struct ecg_config c;
    struct ecg_error err = {0};
    char *overrides[] = {"train.batch_size=4"};
    CU_ASSERT_EQUAL_FATAL(ecg_config_resolve(&c, "configs/child.yaml", 1, overrides, &err), ECG_OK);
    CU_ASSERT_EQUAL(c.optim.lr, 0.25);
    CU_ASSERT_EQUAL(c.train.epochs, 3);
    CU_ASSERT_EQUAL(c.train.batch_size, 4);
    char want[1024];
    snprintf(want, sizeof want, "%s/data/sample/cachet_sample.h5", share);
    CU_ASSERT_STRING_EQUAL(c.data.path, want); /* the default, found installed */
    ecg_config_free(&c);

    int rc = ecg_config_resolve(&c, "configs/none.yaml", 0, NULL, &err);
    ECG_CHECK_ERROR(rc, &err, ECG_ERR_IO, "configs/none.yaml: cannot open: No such file or directory (looked in");
}

static const struct ecg_test path_tests[] = {
    {"the data directory is the environment variable or the configured prefix",
     the_data_directory_is_the_environment_variable_or_the_configured_prefix},
    {"a file in the working directory wins over the installed one",
     a_file_in_the_working_directory_wins_over_the_installed_one},
    {"a relative path missing here is found in the data directory",
     a_relative_path_missing_here_is_found_in_the_data_directory},
    {"absolute paths are never redirected", absolute_paths_are_never_redirected},
    {"a path found nowhere names both places it looked", a_path_found_nowhere_names_both_places_it_looked},
    {"config input paths missing here point at the installed files",
     config_input_paths_missing_here_point_at_the_installed_files},
    {"an installed config and its base load from another directory",
     an_installed_config_and_its_base_load_from_another_directory},
    {NULL, NULL},
};
static const struct ecg_suite suites[] = {
    {"paths", path_tests},
    {NULL, NULL},
};

int main(int argc, char **argv) { return ecg_test_main(argc, argv, suites); }
