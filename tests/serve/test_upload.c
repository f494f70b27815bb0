/* Tests of the parser sandbox (crash, hang, memory, output limits) and of grouping uploaded files into
 * records. */
#include <dirent.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data/reader_common.h"
#include "data/readers.h"
#include "serve/sandbox.h"
#include "serve/upload.h"
#include "tests/test_util.h"

static const struct ecg_sandbox_limits quick = {1.0, 5, 0, 1 << 20};

static int child_ok(void *arg, struct ecg_sandbox_out *out, struct ecg_error *err)
{
    return ecg_sandbox_write(out, arg, strlen(arg), err);
}

static int child_fails(void *arg, struct ecg_sandbox_out *out, struct ecg_error *err)
{
    return ecg_error_set(err, ECG_ERR_VALUE, "x.h5: label code 7, expected 1..4");
}

static int child_crashes(void *arg, struct ecg_sandbox_out *out, struct ecg_error *err)
{
    raise(SIGSEGV);
    return ECG_OK;
}

__attribute__((noreturn)) static int child_hangs(void *arg, struct ecg_sandbox_out *out,
                                                 struct ecg_error *err)
{
    for (;;)
        pause();
}

static int child_floods(void *arg, struct ecg_sandbox_out *out, struct ecg_error *err)
{
    static char block[1 << 16];
    for (int i = 0; i < 64; i++)
        ECG_TRY(ecg_sandbox_write(out, block, sizeof block, err));
    return ECG_OK;
}

static int child_hogs_memory(void *arg, struct ecg_sandbox_out *out, struct ecg_error *err)
{
    void *p = malloc((size_t)512 << 20);
    if (!p)
        return ecg_error_set(err, ECG_ERR_NOMEM, "no memory for 512 MiB");
    memset(p, 1, (size_t)512 << 20);
    free(p);
    return ECG_OK;
}

static void a_sandboxed_result_comes_back_byte_for_byte(void)
{
    unsigned char *out;
    size_t n;
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL_FATAL(ecg_sandbox_run(child_ok, "hello", &quick, "t.h5", &out, &n, &err), ECG_OK);
    CU_ASSERT_EQUAL(n, 5);
    CU_ASSERT_EQUAL(memcmp(out, "hello", 5), 0);
    free(out);
}

static void a_childs_error_message_and_status_come_back(void)
{
    unsigned char *out;
    size_t n;
    struct ecg_error err = {0};
    ECG_CHECK_ERROR(ecg_sandbox_run(child_fails, NULL, &quick, "x.h5", &out, &n, &err), &err, ECG_ERR_VALUE,
                    "x.h5: label code 7, expected 1..4");
}

static void a_crash_in_the_child_costs_one_error_not_the_process(void)
{
    unsigned char *out;
    size_t n;
    struct ecg_error err = {0};
    ECG_CHECK_ERROR(
        ecg_sandbox_run(child_crashes, NULL, &quick, "bad.h5", &out, &n, &err), &err, ECG_ERR_FORMAT,
        "bad.h5: the parser crashed on this file (signal 11, "); /* also under a sanitizer's handler */
}

static void a_hanging_child_is_stopped_at_the_time_limit(void)
{
    unsigned char *out;
    size_t n;
    struct ecg_error err = {0};
    struct ecg_sandbox_limits lim = quick;
    lim.wall_s = 0.3;
    ECG_CHECK_ERROR(ecg_sandbox_run(child_hangs, NULL, &lim, "slow.h5", &out, &n, &err), &err, ECG_ERR_FORMAT,
                    "slow.h5: the parser took longer than 0.3 s and was stopped");
}

static void a_result_over_the_output_limit_is_refused(void)
{
    unsigned char *out;
    size_t n;
    struct ecg_error err = {0};
    struct ecg_sandbox_limits lim = quick;
    lim.max_output = 100000;
    ECG_CHECK_ERROR(ecg_sandbox_run(child_floods, NULL, &lim, "big.h5", &out, &n, &err), &err, ECG_ERR_FORMAT,
                    "big.h5: the parsed result exceeds 100000 bytes");
}

static void the_memory_limit_holds_in_the_child(void)
{
#if defined(__SANITIZE_ADDRESS__)
    /* Address sanitizer maps terabytes of shadow memory: no RLIMIT_AS can be set
     * (ecg_serve_upload_limits_default sets none in such builds), so there is nothing to test here. */
    CU_PASS("no memory limit under the address sanitizer");
#else
    unsigned char *out;
    size_t n;
    struct ecg_error err = {0};
    struct ecg_sandbox_limits lim = quick;
    lim.memory_bytes = (int64_t)256 << 20;
    ECG_CHECK_ERROR(ecg_sandbox_run(child_hogs_memory, NULL, &lim, "m.h5", &out, &n, &err), &err,
                    ECG_ERR_NOMEM, "no memory for 512 MiB");
#endif
}

/* ---- uploads ---- */

static struct ecg_multipart_part parts[8];
static char *blobs[8];
static int nparts;

static void add_part(const char *field, const char *filename, const char *fixture)
{
    struct ecg_multipart_part *p = &parts[nparts];
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "%s", field);
    snprintf(p->filename, sizeof p->filename, "%s", filename);
    char *data = NULL;
    int64_t size = 0;
    if (fixture && fixture[0] == '=') { /* literal bytes */
        data = strdup(fixture + 1);
        size = (int64_t)strlen(data);
    } else if (fixture) {
        struct ecg_error err = {0};
        CU_ASSERT_EQUAL_FATAL(ecg_read_file(ecg_test_fixture(fixture), &data, &size, &err), ECG_OK);
    }
    blobs[nparts] = data;
    p->data = (const unsigned char *)data;
    p->size = (size_t)size;
    nparts++;
}

static void clear_parts(void)
{
    for (int i = 0; i < nparts; i++)
        free(blobs[i]);
    nparts = 0;
}

static int upload(struct ecg_serve_records *r, char *file, struct ecg_error *err)
{
    struct ecg_serve_upload_limits lim;
    ecg_serve_upload_limits_default(&lim);
    struct ecg_serve_params params = {0};
    memset(r, 0, sizeof *r);
    int rc = ecg_serve_records_from_parts(parts, nparts, &lim, &params, r, file, 128, err);
    clear_parts();
    return rc;
}

/* 1 when the private temporary directory was removed: TMPDIR holds nothing. */
static int tmpdir_is_empty(void)
{
    DIR *d = opendir(ecg_test_tmpdir());
    int empty = 1;
    for (struct dirent *e; d && (e = readdir(d));)
        if (strncmp(e->d_name, "ecgserve-", 9) == 0)
            empty = 0;
    if (d)
        closedir(d);
    return empty;
}

static void a_cinc_header_and_mat_make_one_record_equal_to_the_reader(void)
{
    add_part("file", "A00592.hea", "data/cinc2017/A00592.hea");
    add_part("file", "C:\\ecg\\A00592.mat", "data/cinc2017/A00592.mat");
    struct ecg_serve_records r;
    char file[128];
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL_FATAL(upload(&r, file, &err), ECG_OK);
    CU_ASSERT_EQUAL_FATAL(r.count, 1);
    CU_ASSERT_STRING_EQUAL(r.items[0].name, "A00592");
    CU_ASSERT_STRING_EQUAL(r.items[0].file, "A00592.mat");
    struct ecg_record want;
    CU_ASSERT_EQUAL_FATAL(ecg_cinc2017_read_record(ecg_test_fixture("data/cinc2017/A00592.mat"), &want, &err),
                          ECG_OK);
    CU_ASSERT_EQUAL_FATAL(r.items[0].length, want.length);
    CU_ASSERT_DOUBLE_EQUAL(r.items[0].fs, 300, 0);
    ECG_CHECK_CLOSE("uploaded record", r.items[0].signal, want.signal, want.length, 0, 0);
    free(want.signal);
    ecg_serve_records_free(&r);
    CU_ASSERT_TRUE(tmpdir_is_empty());
}

static void a_wfdb_header_and_dat_give_the_first_signal_in_mv(void)
{
    add_part("file", "100.dat", "data/mitdb16/100.dat");
    add_part("file", "100.hea", "data/mitdb16/100.hea");
    struct ecg_serve_records r;
    char file[128];
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL_FATAL(upload(&r, file, &err), ECG_OK);
    CU_ASSERT_EQUAL_FATAL(r.count, 1);
    CU_ASSERT_DOUBLE_EQUAL(r.items[0].fs, 360, 0);
    CU_ASSERT_EQUAL(r.items[0].length, 10800);
    /* Record 100's MLII: first sample 995 ADC units, baseline 1024, gain 200/mV. */
    CU_ASSERT_DOUBLE_EQUAL(r.items[0].signal[0], (995.0 - 1024.0) / 200.0, 1e-6);
    ecg_serve_records_free(&r);
    CU_ASSERT_TRUE(tmpdir_is_empty());
}

static void a_cachet_file_gives_one_record_per_segment(void)
{
    add_part("file", "small.h5", "data/cachet_short_small.h5");
    struct ecg_serve_records r;
    char file[128];
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL_FATAL(upload(&r, file, &err), ECG_OK);
    struct ecg_dataset want = {0};
    CU_ASSERT_EQUAL_FATAL(
        ecg_cachet_read_short(ecg_test_fixture("data/cachet_short_small.h5"), NULL, &want, &err), ECG_OK);
    CU_ASSERT_EQUAL_FATAL(r.count, want.count);
    CU_ASSERT_STRING_EQUAL(r.items[1].name, "small:seg0001");
    CU_ASSERT_DOUBLE_EQUAL(r.items[1].fs, 1024, 0);
    ECG_CHECK_CLOSE("segment 1", r.items[1].signal, want.records[1].signal, want.records[1].length, 0, 0);
    ecg_dataset_free(&want);
    ecg_serve_records_free(&r);
    CU_ASSERT_TRUE(tmpdir_is_empty());
}

static void a_corrupt_hdf5_upload_is_one_error_naming_the_file(void)
{
    add_part("file", "broken.h5", "=\x89HDF\r\n\x1a\nthis is not really an HDF5 file");
    struct ecg_serve_records r;
    char file[128];
    struct ecg_error err = {0};
    ECG_CHECK_ERROR(upload(&r, file, &err), &err, ECG_ERR_FORMAT, "broken.h5: not a readable HDF5 file");
    CU_ASSERT_STRING_EQUAL(file, "broken.h5");
    CU_ASSERT_PTR_NULL(strstr(err.msg, "ecgserve-"));
    ecg_serve_records_free(&r);
    CU_ASSERT_TRUE(tmpdir_is_empty());
}

static void a_csv_takes_its_rate_from_the_fs_field(void)
{
    add_part("file", "trace.csv", "=mV\n0.1\n0.2\n0.3\n");
    add_part("fs", "", "=250");
    struct ecg_serve_records r;
    char file[128];
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL_FATAL(upload(&r, file, &err), ECG_OK);
    CU_ASSERT_EQUAL_FATAL(r.count, 1);
    CU_ASSERT_DOUBLE_EQUAL(r.items[0].fs, 250, 0);
    CU_ASSERT_EQUAL(r.items[0].length, 3);
    ecg_serve_records_free(&r);
}

static void bad_uploads_name_the_file_and_the_problem(void)
{
    static const struct {
        const char *field, *name, *data, *file, *needle;
    } cases[] = {
        {"file", "A00592.hea", "data/cinc2017/A00592.hea", "A00592.hea", "a header without its signal file"},
        {"file", "100.dat", "data/mitdb16/100.dat", "100.dat", "needs its header 100.hea"},
        {"file", "scan.pdf", "=%PDF", "scan.pdf", "unsupported file type"},
        {"upload", "a.csv", "=1\n", "a.csv", "sent as form field 'upload', expected 'file'"},
        {"file", "a.csv", "=1\n2\n", "a.csv", "a.csv: no sampling rate"},
        {"file", "A.mat", "=MATLAB 5.0 MAT-file, Platform: x", "A.mat", "A.mat: MATLAB v4 type"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        add_part(cases[i].field, cases[i].name, cases[i].data);
        struct ecg_serve_records r;
        char file[128];
        struct ecg_error err = {0};
        int rc = upload(&r, file, &err);
        CU_ASSERT_NOT_EQUAL(rc, ECG_OK);
        ECG_CHECK_ERROR(rc, &err, (enum ecg_status)rc, cases[i].needle);
        CU_ASSERT_STRING_EQUAL(file, cases[i].file);
        CU_ASSERT_PTR_NULL(strstr(err.msg, "ecgserve-"));
        ecg_serve_records_free(&r);
    }
    add_part("file", "a.csv", "=1\n");
    add_part("file", "a.csv", "=1\n");
    struct ecg_serve_records r;
    char file[128];
    struct ecg_error err = {0};
    ECG_CHECK_ERROR(upload(&r, file, &err), &err, ECG_ERR_FORMAT, "a.csv: uploaded twice");
    add_part("fs", "", "=fast");
    ECG_CHECK_ERROR(upload(&r, file, &err), &err, ECG_ERR_VALUE, "parameter fs: 'fast'");
    add_part("fs", "", "=300");
    ECG_CHECK_ERROR(upload(&r, file, &err), &err, ECG_ERR_FORMAT, "no file parts");
    CU_ASSERT_TRUE(tmpdir_is_empty());
}

static void a_header_naming_another_data_file_is_refused(void)
{
    add_part("file", "101.dat", "data/mitdb16/100.dat");
    add_part("file", "101.hea", "=101 1 360 10\n100.dat 16 200 11 1024 995 0 0 MLII\n");
    struct ecg_serve_records r;
    char file[128];
    struct ecg_error err = {0};
    ECG_CHECK_ERROR(upload(&r, file, &err), &err, ECG_ERR_FORMAT,
                    "101.hea: signal 0 is stored in '100.dat', but the uploaded file is '101.dat'");
    ecg_serve_records_free(&r);
    CU_ASSERT_TRUE(tmpdir_is_empty());
}

static const struct ecg_test sandbox_tests[] = {
    {"a sandboxed result comes back byte for byte", a_sandboxed_result_comes_back_byte_for_byte},
    {"a child's error message and status come back", a_childs_error_message_and_status_come_back},
    {"a crash in the child costs one error, not the process",
     a_crash_in_the_child_costs_one_error_not_the_process},
    {"a hanging child is stopped at the time limit", a_hanging_child_is_stopped_at_the_time_limit},
    {"a result over the output limit is refused", a_result_over_the_output_limit_is_refused},
    {"the memory limit holds in the child", the_memory_limit_holds_in_the_child},
    {NULL, NULL},
};
static const struct ecg_test upload_tests[] = {
    {"a CinC .hea and .mat make one record equal to the reader's",
     a_cinc_header_and_mat_make_one_record_equal_to_the_reader},
    {"a WFDB .hea and .dat give the first signal in mV", a_wfdb_header_and_dat_give_the_first_signal_in_mv},
    {"a CACHET file gives one record per segment", a_cachet_file_gives_one_record_per_segment},
    {"a corrupt HDF5 upload is one error naming the file",
     a_corrupt_hdf5_upload_is_one_error_naming_the_file},
    {"a CSV takes its rate from the fs field", a_csv_takes_its_rate_from_the_fs_field},
    {"bad uploads name the file and the problem", bad_uploads_name_the_file_and_the_problem},
    {"a header naming another data file is refused", a_header_naming_another_data_file_is_refused},
    {NULL, NULL},
};
static const struct ecg_suite suites[] = {{"sandbox", sandbox_tests}, {"upload", upload_tests}, {NULL, NULL}};

int main(int argc, char **argv)
{
    setenv("TMPDIR", ecg_test_tmpdir(), 1);
    return ecg_test_main(argc, argv, suites);
}
