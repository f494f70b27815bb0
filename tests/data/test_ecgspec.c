/* Tests of the ecgspec program: its HDF5 output is the inference path's model input; bad usage gives clear messages. */
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "data/readers.h"
#include "data/spectrogram.h"
#include "data/window.h"
#include "infer/infer.h"
#include "io/h5util.h"
#include "tests/test_util.h"

/* Runs ecgspec with `args` in the temp dir; returns the exit status and the output (stdout + stderr). */
static int run(const char *args, char *out, size_t cap)
{
    return ecg_test_run("ECGSPEC", ecg_test_tmpdir(), args, out, cap);
}

/* The shipped model with its own configuration, but two 5 s windows per record (A00592 is 10 s) instead of its
 * whole-record tiling. */
static struct ecg_infer_model *shipped_model(void)
{
    const char *root = getenv("ECG_SOURCE_ROOT");
    char weights[1024];
    snprintf(weights, sizeof weights, "%s/weights/ecg_effb0_cinc2017.h5", root ? root : ".");
    char *overrides[] = {"data.window_seconds=5", "eval.windows=2", "eval.hop_seconds=0"};
    struct ecg_infer_model *m = NULL;
    struct ecg_error err = {0};
    if (ecg_infer_model_load(weights, NULL, 3, overrides, &m, &err))
        fprintf(stderr, "\n  %s\n", err.msg);
    return m;
}

static void ecgspec_writes_the_model_s_input_for_the_same_record_and_config(void)
{
    char out[8192], args[4096];
    const char *root = getenv("ECG_SOURCE_ROOT");
    snprintf(args, sizeof args,
             "--model='%s/weights/ecg_effb0_cinc2017.h5' --seconds=5 eval.windows=2 eval.hop_seconds=0 --trace "
             "--window 1 -- '%s'",
             root, ecg_test_fixture("data/cinc2017/A00592.mat"));
    int st = run(args, out, sizeof out);
    CU_ASSERT_EQUAL(st, 0);
    if (st)
        fprintf(stderr, "%s\n", out);
    const char *files[] = {"A00592.png", "A00592.svg", "A00592.h5", "A00592_trace.svg"};
    char path[2048];
    struct stat sb;
    for (int i = 0; i < 4; i++) {
        CU_ASSERT_PTR_NOT_NULL(strstr(out, files[i]));
        snprintf(path, sizeof path, "%s/%s", ecg_test_tmpdir(), files[i]);
        CU_ASSERT_TRUE(stat(path, &sb) == 0 && sb.st_size > 1000);
    }
    /* The SVG is text with real units and carries the spectrogram PNG inside. */
    snprintf(path, sizeof path, "%s/A00592.svg", ecg_test_tmpdir());
    char *svg = ecg_test_read_file(path);
    CU_ASSERT_PTR_NOT_NULL_FATAL(svg);
    CU_ASSERT_PTR_NOT_NULL(strstr(svg, ">frequency (Hz)</text>"));
    CU_ASSERT_PTR_NOT_NULL(strstr(svg, ">time (s)</text>"));
    CU_ASSERT_PTR_NOT_NULL(strstr(svg, "href=\"data:image/png;base64,iVBORw0KGgo"));
    CU_ASSERT_PTR_NOT_NULL(strstr(svg, "A00592 AF, 300 Hz, window 2 of 2 (32 x 1024 x 1); model: "));
    free(svg);

    /* The same record through the inference path in this process: the bits the network is given. */
    struct ecg_infer_model *m = shipped_model();
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    struct ecg_infer_context *ctx = NULL;
    struct ecg_infer_result *r = NULL;
    int64_t n = 0;
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL_FATAL(ecg_infer_context_init(m, &ctx, &err), ECG_OK);
    CU_ASSERT_EQUAL_FATAL(ecg_infer_classify_file(ctx, ecg_test_fixture("data/cinc2017/A00592.mat"), NULL, 0, &r, &n,
                                                  &err), ECG_OK);
    CU_ASSERT_EQUAL_FATAL(r->windows, 2);
    enum { H = 32, W = 1024 }; /* the shipped model's images */
    static float got[H * W];
    float probs[4], signal[1500];
    snprintf(path, sizeof path, "%s/A00592.h5", ecg_test_tmpdir());
    hid_t f;
    CU_ASSERT_EQUAL_FATAL(ecg_h5_open_read(path, &f, &err), ECG_OK);
    int ndim = 0;
    int64_t shape[ECG_H5_MAX_DIMS];
    H5T_class_t cls;
    CU_ASSERT_EQUAL_FATAL(ecg_h5_dataset_shape(f, "spectrogram", &ndim, shape, &cls, &err), ECG_OK);
    CU_ASSERT_TRUE(ndim == 3 && shape[0] == H && shape[1] == W && shape[2] == 1);
    CU_ASSERT_EQUAL_FATAL(ecg_h5_read_floats(f, "spectrogram", got, H * W, &err), ECG_OK);
    CU_ASSERT_EQUAL(memcmp(got, r->images + H * W, sizeof got), 0);
    ECG_CHECK_CLOSE("ecgspec image", got, r->images + H * W, H * W, 0, 0);
    CU_ASSERT_EQUAL_FATAL(ecg_h5_read_floats(f, "probabilities", probs, 4, &err), ECG_OK);
    CU_ASSERT_EQUAL(memcmp(probs, r->probs, sizeof probs), 0);
    CU_ASSERT_EQUAL_FATAL(ecg_h5_read_floats(f, "signal", signal, 1500, &err), ECG_OK);
    CU_ASSERT_EQUAL(memcmp(signal, r->signal + r->starts[1], sizeof signal), 0);
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
    ecg_infer_results_free(r, n);
    ecg_infer_context_free(ctx);
    ecg_infer_model_free(m);
}

/* Without preprocessing the image is the spectrogram library's of the raw window. */
static void with_preprocessing_off_the_image_is_the_library_s_of_the_raw_window(void)
{
    char out[8192], args[2048];
    snprintf(args, sizeof args, "'%s' --quiet --out raw --size 64x80 --channels=1 --seconds 5 --windows 3 --window 1 "
             "data.normalize=none data.band_low_hz=0", ecg_test_fixture("data/cinc2017/A00592.mat"));
    CU_ASSERT_EQUAL(run(args, out, sizeof out), 0);
    CU_ASSERT_STRING_EQUAL(out, "");
    struct ecg_dataset ds = {0};
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL_FATAL(ecg_cinc2017_read(ecg_test_fixture("data/cinc2017"), NULL, &ds, &err), ECG_OK);
    const struct ecg_record *rec = &ds.records[0];
    CU_ASSERT_STRING_EQUAL_FATAL(rec->id, "A00592");
    struct ecg_window_opts wo;
    ecg_window_opts_default(&wo);
    wo.length_s = 5;
    wo.eval_windows = 3;
    struct ecg_spec_opts so;
    ecg_spec_opts_default(&so);
    so.height = 64, so.width = 80, so.channels = 1, so.window_seconds = 0.25, so.hop_seconds = 0.04;
    float win[1500], want[64 * 80], got[64 * 80];
    ecg_window_extract(&wo, rec->signal, rec->length, ecg_window_eval_start(&wo, rec->length, 300.0, 1), 1500, win);
    struct ecg_spec sp;
    CU_ASSERT_EQUAL_FATAL(ecg_spec_init(&sp, &so, &err), ECG_OK);
    CU_ASSERT_EQUAL_FATAL(ecg_spec_image(&sp, win, 1500, 300.0, want, &err), ECG_OK);
    ecg_spec_free(&sp);
    char path[2048];
    snprintf(path, sizeof path, "%s/raw.h5", ecg_test_tmpdir());
    hid_t f;
    CU_ASSERT_EQUAL_FATAL(ecg_h5_open_read(path, &f, &err), ECG_OK);
    CU_ASSERT_EQUAL_FATAL(ecg_h5_read_floats(f, "spectrogram", got, 64 * 80, &err), ECG_OK);
    ECG_CHECK_CLOSE("ecgspec image", got, want, 64 * 80, 0, 0);
    ecg_h5_close(f);
    ecg_dataset_free(&ds);
}

static void samples_come_from_standard_input(void)
{
    char out[8192], args[2048], text[64];
    const char *csv = ecg_test_write_file("samples.csv", "");
    FILE *f = fopen(csv, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    for (int i = 0; i < 3000; i++)
        fprintf(f, "%.5f\n", sin(6.283185307 * 1.1 * i / 250.0) + 0.3 * sin(6.283185307 * 13.0 * i / 250.0));
    fclose(f);
    snprintf(args, sizeof args, "--fs 250 --out=piped - < '%s'", csv);
    CU_ASSERT_EQUAL(run(args, out, sizeof out), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "piped.h5"));
    char path[2048];
    snprintf(path, sizeof path, "%s/piped.h5", ecg_test_tmpdir());
    hid_t h;
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL_FATAL(ecg_h5_open_read(path, &h, &err), ECG_OK);
    hid_t d = H5Dopen2(h, "spectrogram", H5P_DEFAULT);
    CU_ASSERT_EQUAL(ecg_h5_attr_string(d, "record", text, sizeof text, &err), ECG_OK);
    CU_ASSERT_STRING_EQUAL(text, "stdin");
    H5Dclose(d);
    ecg_h5_close(h);
    CU_ASSERT_EQUAL(run("- < /dev/null", out, sizeof out), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "ecgspec: standard input: expected samples, one per line, found 0"));
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

/* A beat of a WFDB record is cut as the beat config's training cuts it: data.window_seconds centred on the R
 * peak, filled with the record's own samples (the readers' default 0.7 s beat, zero-padded to the window,
 * showed the model's input wrongly). */
static void a_beat_window_is_the_config_s_window_of_the_record(void)
{
    char out[8192], args[4096];
    const char *root = getenv("ECG_SOURCE_ROOT");
    snprintf(args, sizeof args, "--config '%s/configs/mitbih_beats.yaml' --format mitdb '%s' --index 10 --out beat --quiet",
             root ? root : ".", ecg_test_fixture("data/mitdb"));
    int st = run(args, out, sizeof out);
    CU_ASSERT_EQUAL(st, 0);
    if (st)
        fprintf(stderr, "%s\n", out);
    char path[2048];
    snprintf(path, sizeof path, "%s/beat.h5", ecg_test_tmpdir());
    hid_t f;
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL_FATAL(ecg_h5_open_read(path, &f, &err), ECG_OK);
    int ndim = 0;
    int64_t shape[ECG_H5_MAX_DIMS];
    H5T_class_t cls;
    CU_ASSERT_EQUAL_FATAL(ecg_h5_dataset_shape(f, "signal", &ndim, shape, &cls, &err), ECG_OK);
    CU_ASSERT_TRUE_FATAL(ndim == 1 && shape[0] == 1080); /* 3 s at 360 Hz */
    static float signal[1080];
    CU_ASSERT_EQUAL_FATAL(ecg_h5_read_floats(f, "signal", signal, 1080, &err), ECG_OK);
    ecg_h5_close(f);
    /* Samples in the first and last tenth of a second: the neighbouring record, not padding. */
    int head = 0, tail = 0;
    for (int i = 0; i < 36; i++) {
        head += signal[i] != 0.0f;
        tail += signal[1079 - i] != 0.0f;
    }
    CU_ASSERT_TRUE(head > 30 && tail > 30);
}

static void bad_usage_and_bad_input_give_one_clear_message(void)
{
    char out[8192], args[2048];
    CU_ASSERT_EQUAL(run("--version", out, sizeof out), 0);
    CU_ASSERT_STRING_EQUAL(out, "ecgspec " ECG_VERSION "\n");
    CU_ASSERT_EQUAL(run("--bogus x.mat", out, sizeof out), 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "ecgspec: unknown option '--bogus'\nusage: ecgspec"));
    CU_ASSERT_EQUAL(run("x.mat --quiet=yes", out, sizeof out), 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "ecgspec: --quiet takes no value, found '--quiet=yes'"));
    CU_ASSERT_EQUAL(run("x.mat --out", out, sizeof out), 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "ecgspec: --out needs a value"));
    CU_ASSERT_EQUAL(run("", out, sizeof out), 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "missing INPUT"));
    CU_ASSERT_EQUAL(run("x.mat --size 0x5", out, sizeof out), 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "--size '0x5': expected HEIGHTxWIDTH"));
    CU_ASSERT_EQUAL(run("x.mat --stft kaiser", out, sizeof out), 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "data.spectrogram.window=kaiser': expected one of hann, hamming, blackman, tukey, boxcar, found 'kaiser'"));
    CU_ASSERT_EQUAL(run("/nonexistent/A00001.mat", out, sizeof out), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "ecgspec: /nonexistent/A00001.mat"));
    /* A path starting with '-' is an INPUT after "--". */
    CU_ASSERT_EQUAL(run("-- -A00001.mat", out, sizeof out), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "-A00001.mat is missing"));
    CU_ASSERT_EQUAL(run("record.edf", out, sizeof out), 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "record.edf: expected a CinC 2017 record (.mat), a CACHET-CADB file (.h5) or samples"));
    snprintf(args, sizeof args, "'%s' --window 7", ecg_test_fixture("data/cinc2017/A00592.mat"));
    CU_ASSERT_EQUAL(run(args, out, sizeof out), 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "record 'A00592': --window 7: the record has 1 evaluation windows (0..0)"));
    snprintf(args, sizeof args, "--format cinc2017 '%s' --id A99999", ecg_test_fixture("data/cinc2017"));
    CU_ASSERT_EQUAL(run(args, out, sizeof out), 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "no record with id 'A99999' among 4 records"));
    snprintf(args, sizeof args, "'%s' --fmax 400", ecg_test_fixture("data/cinc2017/A00592.mat"));
    CU_ASSERT_EQUAL(run(args, out, sizeof out), 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "'data.spectrogram.fmax' and 'data.sample_rate': expected at most the Nyquist frequency 150 Hz, found 400"));
    snprintf(args, sizeof args, "'%s' --config '%s' data.spectrogram.height=nope",
             ecg_test_fixture("data/cinc2017/A00592.mat"), ecg_test_fixture("config/variant.yaml"));
    CU_ASSERT_EQUAL(run(args, out, sizeof out), 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "data.spectrogram.height"));
}

static const struct ecg_test ecgspec_tests[] = {
    {"ecgspec writes the model's input for the same record and config",
     ecgspec_writes_the_model_s_input_for_the_same_record_and_config},
    {"with preprocessing off the image is the library's of the raw window",
     with_preprocessing_off_the_image_is_the_library_s_of_the_raw_window},
    {"samples come from standard input", samples_come_from_standard_input},
    {"a record is picked from a dataset by id", a_record_is_picked_from_a_dataset_by_id},
    {"a beat window is the config's window of the record", a_beat_window_is_the_config_s_window_of_the_record},
    {"bad usage and bad input give one clear message", bad_usage_and_bad_input_give_one_clear_message},
    {NULL, NULL},
};
static const struct ecg_suite suites[] = {
    {"ecgspec", ecgspec_tests},
    {NULL, NULL},
};

int main(int argc, char **argv) { return ecg_test_main(argc, argv, suites); }
