/* Tests of the ecgspec program: its HDF5 output equals the library pipeline; bad usage gives clear messages. */
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "data/readers.h"
#include "data/spectrogram.h"
#include "data/window.h"
#include "io/h5util.h"
#include "tests/test_util.h"

/* Runs ecgspec with `args` in the temp dir; returns the exit status and the output (stdout + stderr). */
static int run(const char *args, char *out, size_t cap)
{
    return ecg_test_run("ECGSPEC", ecg_test_tmpdir(), args, out, cap);
}

static void a_cinc_record_becomes_the_library_image_in_hdf5_and_a_png(void)
{
    char out[8192], args[2048];
    snprintf(args, sizeof args, "'%s' --trace --size 64x80 --channels 1 --seconds 5 --window 1",
             ecg_test_fixture("data/cinc2017/A00592.mat"));
    int st = run(args, out, sizeof out);
    CU_ASSERT_EQUAL(st, 0);
    if (st)
        fprintf(stderr, "%s\n", out);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "A00592.png"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "A00592_trace.png"));
    char path[2048];
    struct stat sb;
    snprintf(path, sizeof path, "%s/A00592.png", ecg_test_tmpdir());
    CU_ASSERT_TRUE(stat(path, &sb) == 0 && sb.st_size > 1000);
    snprintf(path, sizeof path, "%s/A00592_trace.png", ecg_test_tmpdir());
    CU_ASSERT_TRUE(stat(path, &sb) == 0 && sb.st_size > 1000);

    /* The same window through the library. */
    struct ecg_dataset ds = {0};
    struct ecg_error err = {0};
    struct ecg_read_options ro;
    ecg_read_options_default(&ro);
    CU_ASSERT_EQUAL_FATAL(ecg_cinc2017_read(ecg_test_fixture("data/cinc2017"), &ro, &ds, &err), ECG_OK);
    const struct ecg_record *rec = NULL;
    for (int64_t i = 0; i < ds.count; i++)
        if (!strcmp(ds.records[i].id, "A00592"))
            rec = &ds.records[i];
    CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
    struct ecg_window_opts wo;
    ecg_window_opts_default(&wo);
    wo.length_s = 5;
    struct ecg_spec_opts so;
    ecg_spec_opts_default(&so);
    so.height = 64;
    so.width = 80;
    so.channels = 1;
    float win[1500], want[64 * 80], got[64 * 80];
    ecg_window_extract(&wo, rec->signal, rec->length, ecg_window_eval_start(&wo, rec->length, 300.0, 1), 1500, win);
    struct ecg_spec sp;
    CU_ASSERT_EQUAL_FATAL(ecg_spec_init(&sp, &so, &err), ECG_OK);
    CU_ASSERT_EQUAL_FATAL(ecg_spec_image(&sp, win, 1500, 300.0, want, &err), ECG_OK);
    ecg_spec_free(&sp);

    snprintf(path, sizeof path, "%s/A00592.h5", ecg_test_tmpdir());
    hid_t f;
    CU_ASSERT_EQUAL_FATAL(ecg_h5_open_read(path, &f, &err), ECG_OK);
    int ndim = 0;
    int64_t shape[ECG_H5_MAX_DIMS];
    H5T_class_t cls;
    CU_ASSERT_EQUAL_FATAL(ecg_h5_dataset_shape(f, "spectrogram", &ndim, shape, &cls, &err), ECG_OK);
    CU_ASSERT_EQUAL(ndim, 3);
    CU_ASSERT_EQUAL(cls, H5T_FLOAT);
    CU_ASSERT_TRUE(shape[0] == 64 && shape[1] == 80 && shape[2] == 1);
    CU_ASSERT_EQUAL_FATAL(ecg_h5_read_floats(f, "spectrogram", got, 64 * 80, &err), ECG_OK);
    ECG_CHECK_CLOSE("ecgspec image", got, want, 64 * 80, 0, 0);
    hid_t d = H5Dopen2(f, "spectrogram", H5P_DEFAULT);
    char text[64];
    double fs = 0;
    CU_ASSERT_EQUAL(ecg_h5_attr_string(d, "record", text, sizeof text, &err), ECG_OK);
    CU_ASSERT_STRING_EQUAL(text, "A00592");
    CU_ASSERT_EQUAL(ecg_h5_attr_string(d, "label", text, sizeof text, &err), ECG_OK);
    CU_ASSERT_STRING_EQUAL(text, "AF");
    CU_ASSERT_EQUAL(ecg_h5_attr_string(d, "stft_window", text, sizeof text, &err), ECG_OK);
    CU_ASSERT_STRING_EQUAL(text, "hann");
    CU_ASSERT_EQUAL(ecg_h5_attr_double(d, "fs", &fs, &err), ECG_OK);
    CU_ASSERT_EQUAL(fs, 300.0);
    H5Dclose(d);
    ecg_h5_close(f);
    ecg_dataset_free(&ds);
}

static void a_record_is_picked_from_a_dataset_by_id(void)
{
    char out[8192], args[2048];
    snprintf(args, sizeof args, "--format cinc2017 '%s' --id A00894 --out picked --size 32x32 --quiet",
             ecg_test_fixture("data/cinc2017"));
    CU_ASSERT_EQUAL(run(args, out, sizeof out), 0);
    CU_ASSERT_STRING_EQUAL(out, "");
    char path[2048];
    struct stat sb;
    snprintf(path, sizeof path, "%s/picked.h5", ecg_test_tmpdir());
    CU_ASSERT_EQUAL(stat(path, &sb), 0);
}

static void bad_usage_and_bad_input_give_one_clear_message(void)
{
    char out[8192], args[2048];
    CU_ASSERT_EQUAL(run("--bogus x.mat", out, sizeof out), 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "ecgspec: unknown option '--bogus'"));
    CU_ASSERT_EQUAL(run("", out, sizeof out), 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "missing INPUT"));
    CU_ASSERT_EQUAL(run("x.mat --size 0x5", out, sizeof out), 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "--size '0x5': expected HEIGHTxWIDTH"));
    CU_ASSERT_EQUAL(run("x.mat --stft kaiser", out, sizeof out), 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "--stft: expected one of hann, hamming, blackman, tukey, boxcar, found 'kaiser'"));
    CU_ASSERT_EQUAL(run("x.mat data.window_seconds=5", out, sizeof out), 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "KEY=VALUE 'data.window_seconds=5' needs --config"));
    CU_ASSERT_EQUAL(run("/nonexistent/A00001.mat", out, sizeof out), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "/nonexistent/A00001.mat: cannot read the record"));
    CU_ASSERT_EQUAL(run("record.txt", out, sizeof out), 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "record.txt: not a .mat record; give the dataset format with --format"));
    snprintf(args, sizeof args, "'%s' --window 7", ecg_test_fixture("data/cinc2017/A00592.mat"));
    CU_ASSERT_EQUAL(run(args, out, sizeof out), 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "record 'A00592': --window 7: the record has 1 evaluation windows (0..0)"));
    snprintf(args, sizeof args, "--format cinc2017 '%s' --id A99999", ecg_test_fixture("data/cinc2017"));
    CU_ASSERT_EQUAL(run(args, out, sizeof out), 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "no record with id 'A99999' among 4 records"));
    snprintf(args, sizeof args, "'%s' --fmax 400", ecg_test_fixture("data/cinc2017/A00592.mat"));
    CU_ASSERT_EQUAL(run(args, out, sizeof out), 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "data.spectrogram.fmin and data.spectrogram.fmax: expected 0 <= fmin < fmax <= 150 Hz"));
    snprintf(args, sizeof args, "'%s' --config '%s' data.spectrogram.height=nope",
             ecg_test_fixture("data/cinc2017/A00592.mat"), ecg_test_fixture("config/variant.yaml"));
    CU_ASSERT_EQUAL(run(args, out, sizeof out), 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "data.spectrogram.height"));
}

static const struct ecg_test ecgspec_tests[] = {
    {"a CinC record becomes the library image in HDF5 and a PNG", a_cinc_record_becomes_the_library_image_in_hdf5_and_a_png},
    {"a record is picked from a dataset by id", a_record_is_picked_from_a_dataset_by_id},
    {"bad usage and bad input give one clear message", bad_usage_and_bad_input_give_one_clear_message},
    {NULL, NULL},
};
static const struct ecg_suite suites[] = {
    {"ecgspec", ecgspec_tests},
    {NULL, NULL},
};

int main(int argc, char **argv) { return ecg_test_main(argc, argv, suites); }
