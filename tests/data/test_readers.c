/* Tests of the dataset readers, the CACHET-CADB writer and segment conversion on committed format-exact
 * files. */
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "data/convert.h"
#include "data/readers.h"
#include "data/signal.h"
#include "tests/test_util.h"

/* ---- helpers ---- */

/* A path below this process's temp dir (ring of buffers). */
static const char *tmp(const char *fmt, const char *a)
{
    static char bufs[8][1024];
    static int next;
    char *b = bufs[next++ % 8], rel[512];
    snprintf(rel, sizeof rel, fmt, a);
    snprintf(b, sizeof bufs[0], "%s/%s", ecg_test_tmpdir(), rel);
    return b;
}

static void mkdirs(const char *path)
{
    char p[1024];
    snprintf(p, sizeof p, "%s", path);
    for (char *s = p + 1; *s; s++)
        if (*s == '/') {
            *s = '\0';
            mkdir(p, 0755);
            *s = '/';
        }
    mkdir(p, 0755);
}

static void write_bytes(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    CU_ASSERT_FATAL(f != NULL);
    CU_ASSERT_FATAL(fwrite(data, 1, n, f) == n);
    fclose(f);
}

static void write_text(const char *path, const char *text)
{
    write_bytes(path, text, strlen(text));
}

/* Copies src to dst, only the first `limit` bytes when limit >= 0. */
static void copy_file(const char *src, const char *dst, long limit)
{
    FILE *f = fopen(src, "rb");
    CU_ASSERT_FATAL(f != NULL);
    static char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    if (limit >= 0 && (size_t)limit < n)
        n = (size_t)limit;
    write_bytes(dst, buf, n);
}

/* Writes a MATLAB v4 file: header (type, rows, cols, 0, namlen), "val\0", data. */
static void write_mat(const char *path, int32_t type, int32_t rows, int32_t cols, const void *data,
                      size_t bytes)
{
    unsigned char buf[65536];
    int32_t h[5] = {type, rows, cols, 0, 4};
    memcpy(buf, h, 20);
    memcpy(buf + 20, "val", 4);
    CU_ASSERT_FATAL(24 + bytes <= sizeof buf);
    memcpy(buf + 24, data, bytes);
    write_bytes(path, buf, 24 + bytes);
}

/* A CinC-style directory with one record `name` (given int16 samples) and a label. */
static const char *cinc_dir(const char *dirname, const char *name, const int16_t *v, int n,
                            const char *hea_fs, const char *label)
{
    const char *dir = tmp("%s", dirname);
    mkdirs(dir);
    char p[1024], t[512];
    snprintf(p, sizeof p, "%s/%s.mat", dir, name);
    write_mat(p, 30, 1, n, v, (size_t)n * 2);
    snprintf(p, sizeof p, "%s/%s.hea", dir, name);
    snprintf(t, sizeof t, "%s 1 %s %d\n%s.mat 16+24 1000/mV 16 0 0 0 0 ECG\n", name, hea_fs, n, name);
    write_text(p, t);
    snprintf(p, sizeof p, "%s/REFERENCE.csv", dir);
    snprintf(t, sizeof t, "%s,%s\n", name, label);
    write_text(p, t);
    return dir;
}

static int16_t wave[3000];

static void make_wave(void)
{
    for (int i = 0; i < 3000; i++)
        wave[i] = (int16_t)(800.0 * sin(i * 0.05) + 50.0 * cos(i * 0.7));
}

static double *h5_read(const char *path, const char *name, int64_t *n)
{
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    CU_ASSERT_FATAL(f >= 0);
    hid_t d = H5Dopen2(f, name, H5P_DEFAULT), s = H5Dget_space(d);
    hsize_t dim;
    H5Sget_simple_extent_dims(s, &dim, NULL);
    double *v = malloc(dim * sizeof *v);
    CU_ASSERT_FATAL(H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0);
    H5Sclose(s);
    H5Dclose(d);
    H5Fclose(f);
    *n = (int64_t)dim;
    return v;
}

/* Writes an HDF5 file with up to two datasets (name NULL = absent); rank 2 when cols > 0. */
static void h5_write(const char *path, const char *n1, const double *v1, hsize_t len1, const char *n2,
                     const double *v2, hsize_t len2, hsize_t cols)
{
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    CU_ASSERT_FATAL(f >= 0);
    const char *names[2] = {n1, n2};
    const double *vals[2] = {v1, v2};
    hsize_t lens[2] = {len1, len2};
    for (int k = 0; k < 2; k++) {
        if (!names[k])
            continue;
        hsize_t dims[2] = {cols ? lens[k] / cols : lens[k], cols};
        hid_t s = H5Screate_simple(cols ? 2 : 1, dims, NULL);
        hid_t d = H5Dcreate2(f, names[k], H5T_IEEE_F64LE, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        CU_ASSERT_FATAL(H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, vals[k]) >= 0);
        H5Dclose(d);
        H5Sclose(s);
    }
    H5Fclose(f);
}

static struct ecg_read_options defaults(void)
{
    struct ecg_read_options o;
    ecg_read_options_default(&o);
    return o;
}

static struct ecg_read_options skipping(void)
{
    struct ecg_read_options o;
    ecg_read_options_default(&o);
    o.skip_bad = ECG_BAD_SKIP;
    return o;
}

/* ---- CinC 2017 ---- */

static void cinc2017_records_read_with_canonical_labels_and_millivolts(void)
{
    struct ecg_error err = {0};
    struct ecg_dataset ds = {0};
    struct ecg_read_options o = defaults();
    CU_ASSERT_EQUAL_FATAL(ecg_dataset_read("cinc2017", ecg_test_fixture("data/cinc2017"), &o, &ds, &err),
                          ECG_OK);
    CU_ASSERT_EQUAL_FATAL(ds.count, 4);
    CU_ASSERT_EQUAL(ds.task, ECG_TASK_RHYTHM);
    const char *ids[4] = {"A00592", "A00894", "A00984", "A05493"};
    const int labels[4] = {ECG_RHYTHM_AF, ECG_RHYTHM_OTHER, ECG_RHYTHM_NOISE, ECG_RHYTHM_NSR};
    const int64_t lengths[4] = {2996, 2868, 2808, 2714};
    for (int i = 0; i < 4; i++) {
        CU_ASSERT_STRING_EQUAL(ds.records[i].id, ids[i]);
        CU_ASSERT_EQUAL(ds.records[i].label, labels[i]);
        CU_ASSERT_EQUAL(ds.records[i].length, lengths[i]);
        CU_ASSERT_EQUAL(ds.records[i].fs, 300.0);
        CU_ASSERT_STRING_EQUAL(ds.records[i].subject, "");
    }
    /* Independent decode of the first record: int16 after the 24-byte header, 1000 units per mV. */
    FILE *f = fopen(ecg_test_fixture("data/cinc2017/A00592.mat"), "rb");
    CU_ASSERT_FATAL(f != NULL);
    int16_t raw[2996];
    CU_ASSERT_FATAL(fseek(f, 24, SEEK_SET) == 0 && fread(raw, 2, 2996, f) == 2996);
    fclose(f);
    float want[2996];
    for (int i = 0; i < 2996; i++)
        want[i] = (float)(raw[i] / 1000.0);
    ECG_CHECK_CLOSE("A00592 in mV", ds.records[0].signal, want, 2996, 0, 0);
    CU_ASSERT_STRING_EQUAL(ecg_task_class_name(ds.task, ds.records[0].label), "AF");
    ecg_dataset_free(&ds);
    ecg_dataset_free(&ds); /* freeing twice is a no-op */
}

static void cinc2017_label_file_option_chooses_records_and_labels(void)
{
    struct ecg_error err = {0};
    struct ecg_dataset ds = {0};
    struct ecg_read_options o = defaults();
    o.label_file = ecg_test_write_file("labels_v2.csv", "A05493,O\r\nA00984,N\r\n\r\n");
    CU_ASSERT_EQUAL_FATAL(ecg_cinc2017_read(ecg_test_fixture("data/cinc2017"), &o, &ds, &err), ECG_OK);
    CU_ASSERT_EQUAL_FATAL(ds.count, 2);
    CU_ASSERT_STRING_EQUAL(ds.records[0].id, "A05493");
    CU_ASSERT_EQUAL(ds.records[0].label, ECG_RHYTHM_OTHER);
    CU_ASSERT_EQUAL(ds.records[1].label, ECG_RHYTHM_NSR);
    ecg_dataset_free(&ds);
}

static void cinc2017_missing_record_is_an_error_or_a_counted_skip(void)
{
    struct ecg_error err = {0};
    struct ecg_dataset ds = {0};
    struct ecg_read_options o = defaults();
    o.label_file = ecg_test_write_file("labels_missing.csv", "A00592,A\nA09999,N\nA05493,N\n");
    ECG_CHECK_ERROR(ecg_cinc2017_read(ecg_test_fixture("data/cinc2017"), &o, &ds, &err), &err, ECG_ERR_IO,
                    "record A09999: ");
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "A09999.mat is missing"));
    ecg_dataset_free(&ds);
    o.skip_bad = ECG_BAD_SKIP;
    CU_ASSERT_EQUAL_FATAL(ecg_cinc2017_read(ecg_test_fixture("data/cinc2017"), &o, &ds, &err), ECG_OK);
    CU_ASSERT_EQUAL(ds.count, 2);
    CU_ASSERT_EQUAL(ds.skipped, 1);
    ecg_dataset_free(&ds);
}

static void cinc2017_labels_outside_the_known_set_are_reported(void)
{
    struct ecg_error err = {0};
    struct ecg_dataset ds = {0};
    struct ecg_read_options o = defaults();
    o.label_file = ecg_test_write_file("labels_bad.csv", "A00592,A\nA05493,X\n");
    ECG_CHECK_ERROR(ecg_cinc2017_read(ecg_test_fixture("data/cinc2017"), &o, &ds, &err), &err, ECG_ERR_VALUE,
                    "labels_bad.csv:2: record A05493: label 'X', expected N, A, O or ~");
    ecg_dataset_free(&ds);
    o = skipping();
    o.label_file = ecg_test_write_file("labels_bad.csv", "A00592,A\nA05493,X\n");
    CU_ASSERT_EQUAL(ecg_cinc2017_read(ecg_test_fixture("data/cinc2017"), &o, &ds, &err), ECG_OK);
    CU_ASSERT_EQUAL(ds.count, 1);
    CU_ASSERT_EQUAL(ds.skipped, 1);
    ecg_dataset_free(&ds);
    o.label_file = ecg_test_write_file("labels_malformed.csv", "A00592;A\n");
    ECG_CHECK_ERROR(ecg_cinc2017_read(ecg_test_fixture("data/cinc2017"), &o, &ds, &err), &err, ECG_ERR_FORMAT,
                    "labels_malformed.csv:1: expected 'record,label', found 'A00592;A'");
    ecg_dataset_free(&ds);
    o.label_file = ecg_test_write_file("labels_empty.csv", "\n");
    ECG_CHECK_ERROR(ecg_cinc2017_read(ecg_test_fixture("data/cinc2017"), &o, &ds, &err), &err, ECG_ERR_VALUE,
                    "no 'record,label' rows");
    ecg_dataset_free(&ds);
    o.label_file = tmp("%s", "no_such_labels.csv");
    ECG_CHECK_ERROR(ecg_cinc2017_read(ecg_test_fixture("data/cinc2017"), &o, &ds, &err), &err, ECG_ERR_IO,
                    "no_such_labels.csv: cannot open");
    ecg_dataset_free(&ds);
}

static void cinc2017_truncated_or_corrupt_mat_files_are_reported(void)
{
    struct ecg_error err = {0};
    struct ecg_dataset ds = {0};
    struct ecg_read_options o = defaults();
    const char *dir = cinc_dir("cinc_trunc", "A00001", wave, 3000, "300", "N");
    char p[1024];
    snprintf(p, sizeof p, "%s/A00001.mat", dir);
    copy_file(ecg_test_fixture("data/cinc2017/A05493.mat"), p, 1000);
    write_text(tmp("%s", "cinc_trunc/A00001.hea"),
               "A00001 1 300 2714\nA00001.mat 16+24 1000/mV 16 0 0 0 0 ECG\n");
    ECG_CHECK_ERROR(ecg_cinc2017_read(dir, &o, &ds, &err), &err, ECG_ERR_FORMAT,
                    "A00001.mat: truncated: 2714 values of 2 bytes need 5452 bytes, the file has 1000");
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "record A00001"));
    ecg_dataset_free(&ds);
    copy_file(ecg_test_fixture("data/cinc2017/A05493.mat"), p, 12);
    ECG_CHECK_ERROR(ecg_cinc2017_read(dir, &o, &ds, &err), &err, ECG_ERR_FORMAT,
                    "truncated: 12 bytes, a MATLAB v4 header needs 20");
    ecg_dataset_free(&ds);
    /* A big-endian (type 1030) and a 3 x 1000 matrix are refused. */
    write_mat(p, 1030, 1, 3000, wave, 6000);
    ECG_CHECK_ERROR(ecg_cinc2017_read(dir, &o, &ds, &err), &err, ECG_ERR_FORMAT, "MATLAB v4 type 1030");
    ecg_dataset_free(&ds);
    write_mat(p, 30, 3, 1000, wave, 6000);
    ECG_CHECK_ERROR(ecg_cinc2017_read(dir, &o, &ds, &err), &err, ECG_ERR_FORMAT,
                    "matrix of 3 x 1000, expected a 1 x N or N x 1 vector");
    ecg_dataset_free(&ds);
    /* The header's sample count must agree with the .mat. */
    write_mat(p, 30, 1, 2000, wave, 4000);
    ECG_CHECK_ERROR(ecg_cinc2017_read(dir, &o, &ds, &err), &err, ECG_ERR_FORMAT, "2000 samples, but");
    ecg_dataset_free(&ds);
}

static void cinc2017_wrong_sampling_rate_is_reported(void)
{
    struct ecg_error err = {0};
    struct ecg_dataset ds = {0};
    struct ecg_read_options o = defaults();
    const char *dir = cinc_dir("cinc_fs", "A00002", wave, 3000, "250", "A");
    ECG_CHECK_ERROR(ecg_cinc2017_read(dir, &o, &ds, &err), &err, ECG_ERR_VALUE,
                    "A00002.hea: sampling rate 250 Hz, expected 300 Hz");
    ecg_dataset_free(&ds);
    /* With skipping, the only record goes and the dispatcher reports an empty dataset. */
    o.skip_bad = ECG_BAD_SKIP;
    ECG_CHECK_ERROR(ecg_dataset_read("cinc2017", dir, &o, &ds, &err), &err, ECG_ERR_VALUE,
                    "no usable records in the cinc2017 dataset (1 skipped)");
    ecg_dataset_free(&ds);
}

static void cinc2017_flat_nan_and_short_records_are_bad_records(void)
{
    struct ecg_error err = {0};
    struct ecg_dataset ds = {0};
    struct ecg_read_options o = defaults();
    int16_t flat[3000];
    for (int i = 0; i < 3000; i++)
        flat[i] = 12;
    const char *dir = cinc_dir("cinc_flat", "A00003", flat, 3000, "300", "O");
    ECG_CHECK_ERROR(ecg_cinc2017_read(dir, &o, &ds, &err), &err, ECG_ERR_VALUE, "record A00003");
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "flat signal: standard deviation 0 mV"));
    ecg_dataset_free(&ds);

    dir = cinc_dir("cinc_short", "A00004", wave, 3000, "300", "N");
    o.min_seconds = 12.0;
    ECG_CHECK_ERROR(ecg_cinc2017_read(dir, &o, &ds, &err), &err, ECG_ERR_VALUE,
                    "10.000 s long (3000 samples), expected at least 12 s");
    ecg_dataset_free(&ds);
    o.skip_bad = ECG_BAD_SKIP;
    CU_ASSERT_EQUAL(ecg_cinc2017_read(dir, &o, &ds, &err), ECG_OK);
    CU_ASSERT_EQUAL(ds.count, 0);
    CU_ASSERT_EQUAL(ds.skipped, 1);
    ecg_dataset_free(&ds);

    /* A float64 .mat (type 0) with a NaN. */
    dir = cinc_dir("cinc_nan", "A00005", wave, 3000, "300", "N");
    double v[100];
    for (int i = 0; i < 100; i++)
        v[i] = i;
    v[42] = NAN;
    write_mat(tmp("%s", "cinc_nan/A00005.mat"), 0, 100, 1, v, sizeof v);
    write_text(tmp("%s", "cinc_nan/A00005.hea"),
               "A00005 1 300 100\nA00005.mat 16+24 1000/mV 16 0 0 0 0 ECG\n");
    o = defaults();
    ECG_CHECK_ERROR(ecg_cinc2017_read(dir, &o, &ds, &err), &err, ECG_ERR_VALUE, "sample 42 is nan");
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "record A00005"));
    ecg_dataset_free(&ds);
}

/* ---- CACHET-CADB short format ---- */

static void cachet_short_file_written_by_h5py_reads_as_segments(void)
{
    struct ecg_error err = {0};
    struct ecg_dataset ds = {0};
    struct ecg_read_options o = defaults();
    const char *path = ecg_test_fixture("data/cachet_short_small.h5");
    CU_ASSERT_EQUAL_FATAL(ecg_dataset_read("cachet_short", path, &o, &ds, &err), ECG_OK);
    CU_ASSERT_EQUAL_FATAL(ds.count, 2);
    CU_ASSERT_EQUAL(ds.records[0].label, ECG_RHYTHM_NSR);
    CU_ASSERT_EQUAL(ds.records[1].label, ECG_RHYTHM_AF);
    CU_ASSERT_STRING_EQUAL(ds.records[1].id, "seg0001");
    CU_ASSERT_EQUAL(ds.records[1].fs, 1024.0);
    CU_ASSERT_EQUAL(ds.records[1].length, 10240);
    int64_t n;
    double *sig = h5_read(path, "signal", &n);
    float want[10240];
    for (int i = 0; i < 10240; i++)
        want[i] = (float)sig[10240 + i];
    ECG_CHECK_CLOSE("second segment", ds.records[1].signal, want, 10240, 0, 0);
    free(sig);
    ecg_dataset_free(&ds);
}

static void cachet_writer_and_reader_round_trip_compressed_and_plain(void)
{
    struct ecg_error err = {0};
    struct ecg_record recs[4];
    for (int k = 0; k < 4; k++) {
        memset(&recs[k], 0, sizeof recs[k]);
        snprintf(recs[k].id, sizeof recs[k].id, "r%d", k);
        recs[k].label = 3 - k;
        recs[k].fs = 1024;
        recs[k].length = 10240;
        recs[k].signal = malloc(10240 * sizeof(float));
        for (int i = 0; i < 10240; i++)
            recs[k].signal[i] = (float)(sin(i * 0.01 * (k + 1)) * (k + 1));
    }
    for (int level = 0; level <= 6; level += 6) {
        const char *path = tmp(level ? "%s" : "plain_%s", "rt.h5");
        CU_ASSERT_EQUAL_FATAL(ecg_cachet_write_short(path, recs, 4, level, &err), ECG_OK);
        int64_t n;
        double *lab = h5_read(path, "labels", &n);
        CU_ASSERT_EQUAL(n, 40960);
        CU_ASSERT_EQUAL(lab[0], 4.0);             /* Other */
        CU_ASSERT_EQUAL(lab[10240 * 3 + 5], 1.0); /* AF */
        free(lab);
        struct ecg_dataset ds = {0};
        struct ecg_read_options o = defaults();
        CU_ASSERT_EQUAL_FATAL(ecg_cachet_read_short(path, &o, &ds, &err), ECG_OK);
        CU_ASSERT_EQUAL_FATAL(ds.count, 4);
        for (int k = 0; k < 4; k++) {
            CU_ASSERT_EQUAL(ds.records[k].label, recs[k].label);
            ECG_CHECK_CLOSE("round trip", ds.records[k].signal, recs[k].signal, 10240, 0, 0);
        }
        ecg_dataset_free(&ds);
    }
    recs[2].length = 100;
    ECG_CHECK_ERROR(ecg_cachet_write_short(tmp("%s", "bad.h5"), recs, 4, 0, &err), &err, ECG_ERR_SHAPE,
                    "segment 2 (r2) is 100 samples at 1024 Hz, expected 10240");
    recs[2].length = 10240;
    recs[1].label = 7;
    ECG_CHECK_ERROR(ecg_cachet_write_short(tmp("%s", "bad.h5"), recs, 4, 0, &err), &err, ECG_ERR_VALUE,
                    "rhythm label 7");
    ECG_CHECK_ERROR(ecg_cachet_write_short(tmp("%s", "bad.h5"), recs, 0, 0, &err), &err, ECG_ERR_VALUE,
                    "no segments to write");
    for (int k = 0; k < 4; k++)
        free(recs[k].signal);
}

static void cachet_short_malformed_files_get_messages_naming_the_problem(void)
{
    struct ecg_error err = {0};
    struct ecg_dataset ds = {0};
    struct ecg_read_options o = defaults();
    static double sig[30720], lab[30720];
    for (int i = 0; i < 30720; i++) {
        sig[i] = sin(i * 0.02);
        lab[i] = 1 + i / 10240;
    }
    const char *p = tmp("%s", "cs_nolabels.h5");
    h5_write(p, "signal", sig, 30720, NULL, NULL, 0, 0);
    ECG_CHECK_ERROR(ecg_cachet_read_short(p, &o, &ds, &err), &err, ECG_ERR_FORMAT,
                    "cs_nolabels.h5: no dataset 'labels' at the root");
    ecg_dataset_free(&ds);
    p = tmp("%s", "cs_rank2.h5");
    h5_write(p, "signal", sig, 30720, "labels", lab, 30720, 10240);
    ECG_CHECK_ERROR(ecg_cachet_read_short(p, &o, &ds, &err), &err, ECG_ERR_SHAPE,
                    "dataset 'signal' has rank 2, expected 1-D");
    ecg_dataset_free(&ds);
    p = tmp("%s", "cs_unequal.h5");
    h5_write(p, "signal", sig, 30720, "labels", lab, 20480, 0);
    ECG_CHECK_ERROR(ecg_cachet_read_short(p, &o, &ds, &err), &err, ECG_ERR_SHAPE,
                    "'signal' has 30720 samples and 'labels' 20480");
    ecg_dataset_free(&ds);
    p = tmp("%s", "cs_partial.h5");
    h5_write(p, "signal", sig, 30000, "labels", lab, 30000, 0);
    ECG_CHECK_ERROR(ecg_cachet_read_short(p, &o, &ds, &err), &err, ECG_ERR_SHAPE,
                    "30000 samples, expected a positive multiple of 10240");
    ecg_dataset_free(&ds);
    /* Segment 1 with a different code in its middle; segment 2 with code 7. */
    lab[15000] = 3;
    for (int i = 20480; i < 30720; i++)
        lab[i] = 7;
    p = tmp("%s", "cs_labels.h5");
    h5_write(p, "signal", sig, 30720, "labels", lab, 30720, 0);
    ECG_CHECK_ERROR(ecg_cachet_read_short(p, &o, &ds, &err), &err, ECG_ERR_VALUE,
                    "segment 1 (samples 10240..20479): mixed labels 2 and 3 at sample 15000");
    ecg_dataset_free(&ds);
    o.skip_bad = ECG_BAD_SKIP;
    CU_ASSERT_EQUAL(ecg_cachet_read_short(p, &o, &ds, &err), ECG_OK);
    CU_ASSERT_EQUAL(ds.count, 1);
    CU_ASSERT_EQUAL(ds.skipped, 2);
    ecg_dataset_free(&ds);
    o.skip_bad = ECG_BAD_ERROR;
    lab[15000] = 2;
    h5_write(p, "signal", sig, 30720, "labels", lab, 30720, 0);
    ECG_CHECK_ERROR(ecg_cachet_read_short(p, &o, &ds, &err), &err, ECG_ERR_VALUE,
                    "segment 2: label code 7, expected 1 (AF), 2 (NSR), 3 (Noise) or 4 (Other)");
    ecg_dataset_free(&ds);
    /* NaN in a segment. */
    lab[25000] = 4;
    for (int i = 20480; i < 30720; i++)
        lab[i] = 4;
    sig[100] = NAN;
    h5_write(p, "signal", sig, 30720, "labels", lab, 30720, 0);
    ECG_CHECK_ERROR(ecg_cachet_read_short(p, &o, &ds, &err), &err, ECG_ERR_VALUE,
                    "cs_labels.h5: segment 0: sample 100 is nan");
    ecg_dataset_free(&ds);
    sig[100] = 0;
    /* Not HDF5 at all, a truncated HDF5 file, and no file. */
    p = ecg_test_write_file("cs_text.h5", "signal,labels\n1,2\n");
    ECG_CHECK_ERROR(ecg_cachet_read_short(p, &o, &ds, &err), &err, ECG_ERR_FORMAT,
                    "cs_text.h5: not a readable HDF5 file");
    ecg_dataset_free(&ds);
    p = tmp("%s", "cs_truncated.h5");
    copy_file(ecg_test_fixture("data/cachet_short_small.h5"), p, 100000);
    int rc = ecg_cachet_read_short(p, &o, &ds, &err);
    CU_ASSERT_TRUE(rc == ECG_ERR_FORMAT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "cs_truncated.h5"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "corrupt or truncated"));
    ecg_dataset_free(&ds);
    ECG_CHECK_ERROR(ecg_cachet_read_short(tmp("%s", "none.h5"), &o, &ds, &err), &err, ECG_ERR_IO,
                    "none.h5: no such file");
    ecg_dataset_free(&ds);
}

static void bundled_sample_is_balanced_and_matches_its_record_list(void)
{
    const char *root = getenv("ECG_SOURCE_ROOT");
    char h5[1024], list[1024];
    snprintf(h5, sizeof h5, "%s/data/sample/cachet_sample.h5", root ? root : ".");
    snprintf(list, sizeof list, "%s/data/sample/records.txt", root ? root : ".");
    struct ecg_error err = {0};
    struct ecg_dataset ds = {0};
    struct ecg_read_options o = defaults();
    CU_ASSERT_EQUAL_FATAL(ecg_dataset_read("cachet_short", h5, &o, &ds, &err), ECG_OK);
    CU_ASSERT_EQUAL_FATAL(ds.count, 280);
    int64_t per[ECG_RHYTHM_COUNT] = {0};
    for (int64_t i = 0; i < ds.count; i++)
        per[ds.records[i].label]++;
    for (int c = 0; c < ECG_RHYTHM_COUNT; c++)
        CU_ASSERT_EQUAL(per[c], 70);
    /* records.txt: a comment line, then "id offset label" in file order. */
    FILE *f = fopen(list, "r");
    CU_ASSERT_FATAL(f != NULL);
    char line[256], id[64], lab[16];
    double off;
    int64_t n = 0;
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#')
            continue;
        CU_ASSERT_EQUAL_FATAL(sscanf(line, "%63s %lf %15s", id, &off, lab), 3);
        CU_ASSERT_TRUE_FATAL(n < ds.count);
        CU_ASSERT_STRING_EQUAL(lab, ecg_task_class_name(ECG_TASK_RHYTHM, ds.records[n].label));
        CU_ASSERT_EQUAL(off, 0.0);
        n++;
    }
    fclose(f);
    CU_ASSERT_EQUAL(n, 280);
    ecg_dataset_free(&ds);
}

/* ---- CACHET-CADB full (Unisens) ---- */

static void cachet_full_unisens_folders_give_segments_with_subjects(void)
{
    struct ecg_error err = {0};
    struct ecg_dataset ds = {0};
    struct ecg_read_options o = defaults();
    CU_ASSERT_EQUAL_FATAL(
        ecg_dataset_read("cachet_full", ecg_test_fixture("data/cachet_full"), &o, &ds, &err), ECG_OK);
    CU_ASSERT_EQUAL_FATAL(ds.count, 3);
    CU_ASSERT_STRING_EQUAL(ds.records[0].subject, "P7");
    CU_ASSERT_STRING_EQUAL(ds.records[1].subject, "P7");
    CU_ASSERT_STRING_EQUAL(ds.records[2].subject, "P12");
    CU_ASSERT_STRING_EQUAL(ds.records[1].id, "P7/m1/s1:12000");
    CU_ASSERT_STRING_EQUAL(ds.records[2].id, "P12/m3/s0:1024");
    CU_ASSERT_EQUAL(ds.records[0].label, ECG_RHYTHM_NSR);
    CU_ASSERT_EQUAL(ds.records[1].label, ECG_RHYTHM_AF);
    CU_ASSERT_EQUAL(ds.records[2].label, ECG_RHYTHM_OTHER);
    CU_ASSERT_EQUAL(ds.records[1].length, 10240);
    /* mV = (raw - 2048) * lsbValue, from the second row's Start. */
    FILE *f = fopen(ecg_test_fixture("data/cachet_full/P7/m1/s1/ecg.bin"), "rb");
    CU_ASSERT_FATAL(f != NULL);
    static int16_t raw[10240];
    CU_ASSERT_FATAL(fseek(f, 12000 * 2, SEEK_SET) == 0 && fread(raw, 2, 10240, f) == 10240);
    fclose(f);
    static float want[10240];
    for (int i = 0; i < 10240; i++)
        want[i] = (float)((raw[i] - 2048.0) * 0.0026858184230029595);
    ECG_CHECK_CLOSE("P7 segment at 12000", ds.records[1].signal, want, 10240, 0, 0);
    ecg_dataset_free(&ds);
}

/* A one-segment Unisens folder in the temp dir with the given unisens.xml text and annotation text. */
static const char *unisens_dir_xml(const char *name, const char *xml, const char *ann, int seconds)
{
    const char *dir = tmp("%s/P3/m1/s1", name);
    mkdirs(dir);
    char p[1200];
    snprintf(p, sizeof p, "%s/unisens.xml", dir);
    write_text(p, xml);
    static int16_t v[40960];
    for (int i = 0; i < seconds * 1024 && i < 40960; i++)
        v[i] = (int16_t)(2048 + 300 * sin(i * 0.03));
    snprintf(p, sizeof p, "%s/ecg.bin", dir);
    write_bytes(p, v, (size_t)seconds * 1024 * 2);
    if (ann) {
        snprintf(p, sizeof p, "%s/annotation.csv", dir);
        write_text(p, ann);
    }
    return tmp("%s", name);
}

/* The same with the given XML attributes of the ecg.bin entry. */
static const char *unisens_dir(const char *name, const char *attrs, const char *ann, int seconds)
{
    char xml[2048];
    snprintf(xml, sizeof xml,
             "<?xml version=\"1.0\"?>\n<unisens version=\"2.0\">\n"
             "  <signalEntry id=\"ecg.bin\" %s contentClass=\"ECG\">\n"
             "    <channel name=\"ECG I\"/>\n  </signalEntry>\n</unisens>\n",
             attrs);
    return unisens_dir_xml(name, xml, ann, seconds);
}

/* Reads a folder whose unisens.xml is `xml` and one annotated 10 s segment: one record, or a message. */
static int read_unisens_xml(const char *name, const char *xml, struct ecg_error *err)
{
    struct ecg_dataset ds = {0};
    struct ecg_read_options o = defaults();
    const char *root = unisens_dir_xml(name, xml, "Start,End,Class\n0,10239,3\n", 12);
    int rc = ecg_cachet_read_full(root, &o, &ds, err);
    if (!rc && ds.count != 1)
        rc = ecg_error_set(err, ECG_ERR_VALUE, "%lld records, expected 1", (long long)ds.count);
    if (!rc && ds.records[0].signal[0] != (float)((2048 - 2048) * 0.002))
        rc = ecg_error_set(err, ECG_ERR_VALUE, "first sample %g, expected 0", ds.records[0].signal[0]);
    if (rc)
        fprintf(stderr, "\n  %s: %s\n", name, err->msg);
    ecg_dataset_free(&ds);
    return rc;
}

#define UNISENS_HEAD "<?xml version=\"1.0\"?>\n<unisens xmlns=\"http://www.unisens.org/unisens2.0\" version=\"2.0\">\n"
#define ECG_ATTRS "sampleRate=\"1024\" dataType=\"int16\" lsbValue=\"0.002\" baseline=\"2048\""

static void unisens_xml_is_read_as_xml_means_it(void)
{
    struct ecg_error err = {0};
    /* a commented-out entry comes first */
    CU_ASSERT_EQUAL(read_unisens_xml("ux_comment", UNISENS_HEAD
        "  <!-- old: <signalEntry id=\"ecg.bin\" sampleRate=\"512\" dataType=\"int32\"/> -->\n"
        "  <signalEntry id=\"ecg.bin\" " ECG_ATTRS "><channel name=\"ECG\"/></signalEntry>\n</unisens>\n",
        &err), ECG_OK);
    /* entities and character references in attribute values */
    CU_ASSERT_EQUAL(read_unisens_xml("ux_entities", UNISENS_HEAD
        "  <signalEntry comment=\"A &amp; B &lt;raw&gt;\" id=\"ecg&#46;bin\" sampleRate=\"&#49;024\" "
        "dataType=\"int16\" lsbValue=\"0.002\" baseline=\"2048\"><channel name=\"ECG\"/></signalEntry>\n"
        "</unisens>\n", &err), ECG_OK);
    /* '>' inside an attribute value before the attributes that matter */
    CU_ASSERT_EQUAL(read_unisens_xml("ux_gt", UNISENS_HEAD
        "  <signalEntry comment=\"gain > 1\" id=\"ecg.bin\" " ECG_ATTRS ">\n"
        "    <channel name=\"ECG\"/>\n  </signalEntry>\n</unisens>\n", &err), ECG_OK);
    /* elements whose names begin with "channel" are not channels */
    CU_ASSERT_EQUAL(read_unisens_xml("ux_channelx", UNISENS_HEAD
        "  <signalEntry id=\"ecg.bin\" " ECG_ATTRS ">\n    <channelInfo count=\"9\"/>\n"
        "    <channel name=\"ECG\"/>\n    <channels/>\n  </signalEntry>\n</unisens>\n", &err), ECG_OK);
}

static void malformed_unisens_xml_fails_with_the_file_and_line(void)
{
    struct ecg_error err = {0};
    ECG_CHECK_ERROR(read_unisens_xml("ux_bad", UNISENS_HEAD
        "  <signalEntry id=\"ecg.bin\" " ECG_ATTRS ">\n    <channel name=\"ECG\">\n"
        "  </signalEntry>\n</unisens>\n", &err), &err, ECG_ERR_FORMAT,
        "P3/m1/s1/unisens.xml:5: malformed XML: mismatched tag");
    ECG_CHECK_ERROR(read_unisens_xml("ux_attr", UNISENS_HEAD
        "  <signalEntry id=\"ecg.bin\" sampleRate=\"1024 Hz\" dataType=\"int16\"/>\n</unisens>\n", &err),
        &err, ECG_ERR_FORMAT, "unisens.xml: ecg.bin: missing or bad sampleRate");
}

static void cachet_full_bad_headers_annotations_and_lengths_are_reported(void)
{
    struct ecg_error err = {0};
    struct ecg_dataset ds = {0};
    struct ecg_read_options o = defaults();
    const char *good = "sampleRate=\"1024\" dataType=\"int16\" lsbValue=\"0.002\" baseline=\"2048\"";
    const char *root = unisens_dir("uf_ok", good, "Start,End,Class\n0,10239,3\n", 12);
    CU_ASSERT_EQUAL(ecg_cachet_read_full(root, &o, &ds, &err), ECG_OK);
    CU_ASSERT_EQUAL(ds.count, 1);
    CU_ASSERT_STRING_EQUAL(ds.records[0].subject, "P3");
    CU_ASSERT_EQUAL(ds.records[0].label, ECG_RHYTHM_NOISE);
    ecg_dataset_free(&ds);

    root = unisens_dir("uf_fs", "sampleRate=\"512\" dataType=\"int16\" lsbValue=\"0.002\"",
                       "Start,End,Class\n0,10,1\n", 12);
    ECG_CHECK_ERROR(ecg_cachet_read_full(root, &o, &ds, &err), &err, ECG_ERR_VALUE,
                    "ecg.bin sampleRate 512 Hz, expected 1024 Hz");
    ecg_dataset_free(&ds);
    root = unisens_dir("uf_type", "sampleRate=\"1024\" dataType=\"int32\" lsbValue=\"0.002\"",
                       "Start,End,Class\n0,10,1\n", 12);
    ECG_CHECK_ERROR(ecg_cachet_read_full(root, &o, &ds, &err), &err, ECG_ERR_FORMAT,
                    "ecg.bin: dataType 'int32', expected int16");
    ecg_dataset_free(&ds);
    root = unisens_dir("uf_class", good, "Start,End,Class\n0,10239,9\n", 12);
    ECG_CHECK_ERROR(ecg_cachet_read_full(root, &o, &ds, &err), &err, ECG_ERR_VALUE,
                    "annotation.csv:2: class 9, expected 1 (AF)");
    ecg_dataset_free(&ds);
    root = unisens_dir("uf_end", good, "Start,End,Class\n0,10239,2\n4096,14335,2\n", 12);
    ECG_CHECK_ERROR(ecg_cachet_read_full(root, &o, &ds, &err), &err, ECG_ERR_VALUE,
                    "annotation.csv:3: segment at sample 4096 needs 10240 samples");
    ecg_dataset_free(&ds);
    o.skip_bad = ECG_BAD_SKIP;
    CU_ASSERT_EQUAL(ecg_cachet_read_full(root, &o, &ds, &err), ECG_OK);
    CU_ASSERT_EQUAL(ds.count, 1);
    CU_ASSERT_EQUAL(ds.skipped, 1);
    ecg_dataset_free(&ds);
    o.skip_bad = ECG_BAD_ERROR;
    root = unisens_dir("uf_header", good, "Begin,Stop,Label\n0,1,1\n", 12);
    ECG_CHECK_ERROR(ecg_cachet_read_full(root, &o, &ds, &err), &err, ECG_ERR_FORMAT,
                    "annotation.csv:1: expected a header with columns Start, End, Class");
    ecg_dataset_free(&ds);
    root = unisens_dir("uf_noann", good, NULL, 12);
    ECG_CHECK_ERROR(ecg_cachet_read_full(root, &o, &ds, &err), &err, ECG_ERR_IO,
                    "P3/m1/s1/annotation.csv: cannot open");
    ecg_dataset_free(&ds);
    root = tmp("%s", "uf_empty");
    mkdirs(root);
    ECG_CHECK_ERROR(ecg_cachet_read_full(root, &o, &ds, &err), &err, ECG_ERR_VALUE,
                    "no folder with unisens.xml found");
    ecg_dataset_free(&ds);
}

/* A dataset of `n` float64 values of which only the first `written` are stored (chunks of `chunk`, 0 for
 * contiguous). */
static void h5_write_partly(const char *path, const char *name, hsize_t n, hsize_t chunk, hsize_t written)
{
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hid_t s = H5Screate_simple(1, &n, NULL), dcpl = H5Pcreate(H5P_DATASET_CREATE);
    if (chunk)
        H5Pset_chunk(dcpl, 1, &chunk);
    hid_t d = H5Dcreate2(f, name, H5T_IEEE_F64LE, s, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    CU_ASSERT_FATAL(d >= 0);
    if (written) {
        static double v[10240];
        hsize_t start = 0;
        hid_t m = H5Screate_simple(1, &written, NULL);
        H5Sselect_hyperslab(s, H5S_SELECT_SET, &start, NULL, &written, NULL);
        CU_ASSERT_FATAL(H5Dwrite(d, H5T_NATIVE_DOUBLE, m, s, H5P_DEFAULT, v) >= 0);
        H5Sclose(m);
    }
    H5Dclose(d);
    H5Pclose(dcpl);
    H5Sclose(s);
    H5Fclose(f);
}

static void cachet_datasets_that_declare_more_values_than_the_file_stores_are_refused_unread(void)
{
    struct ecg_error err = {0};
    struct ecg_dataset ds = {0};
    const char *p = tmp("%s", "cs_declared.h5");
    h5_write_partly(p, "signal", 1000000000000ull, 0, 0); /* 8 TB declared in a 2 KB file */
    ECG_CHECK_ERROR(ecg_cachet_read_short(p, NULL, &ds, &err), &err, ECG_ERR_FORMAT,
                    "cs_declared.h5: dataset 'signal' declares 1000000000000 values, the file stores 0 of "
                    "1000000000000 values (corrupt or truncated file)");
    ecg_dataset_free(&ds);
    h5_write_partly(p, "signal", 20480, 10240, 10240);
    ECG_CHECK_ERROR(ecg_cachet_read_short(p, NULL, &ds, &err), &err, ECG_ERR_FORMAT,
                    "cs_declared.h5: dataset 'signal' declares 20480 values, the file stores 1 of 2 chunks");
    ecg_dataset_free(&ds);
}

static void cachet_datasets_behind_soft_or_external_links_are_refused(void)
{
    struct ecg_error err = {0};
    struct ecg_dataset ds = {0};
    /* The links point at a good file: following them would read it. */
    const char *good = ecg_test_fixture("data/cachet_short_small.h5"), *p = tmp("%s", "cs_links.h5");
    for (int external = 0; external < 2; external++) {
        hid_t f = H5Fcreate(p, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
        CU_ASSERT_FATAL(f >= 0);
        if (external)
            H5Lcreate_external(good, "/signal", f, "signal", H5P_DEFAULT, H5P_DEFAULT);
        else
            H5Lcreate_soft("/elsewhere/signal", f, "signal", H5P_DEFAULT, H5P_DEFAULT);
        H5Lcreate_external(good, "/labels", f, "labels", H5P_DEFAULT, H5P_DEFAULT);
        H5Fclose(f);
        ECG_CHECK_ERROR(ecg_cachet_read_short(p, NULL, &ds, &err), &err, ECG_ERR_FORMAT,
                        "cs_links.h5: 'signal' is a soft or external link, expected a dataset stored in the file");
        ecg_dataset_free(&ds);
    }
}

static void cachet_full_start_beyond_2_to_the_53_is_no_sample_index(void)
{
    struct ecg_error err = {0};
    struct ecg_dataset ds = {0};
    struct ecg_read_options o = defaults();
    const char *good = "sampleRate=\"1024\" dataType=\"int16\" lsbValue=\"0.002\" baseline=\"2048\"";
    const char *root = unisens_dir("uf_huge", good, "Start,End,Class\n1e300,1e301,2\n", 12);
    ECG_CHECK_ERROR(ecg_cachet_read_full(root, &o, &ds, &err), &err, ECG_ERR_FORMAT,
                    "annotation.csv:2: expected Start,End,Class as sample indices (Start <= End) and a code");
    ecg_dataset_free(&ds);
}

/* ---- WFDB / MIT-BIH ---- */

static void wfdb_header_of_record_100_is_parsed(void)
{
    struct ecg_error err = {0};
    struct ecg_wfdb_header h;
    CU_ASSERT_EQUAL_FATAL(ecg_wfdb_read_header(ecg_test_fixture("data/mitdb/100.hea"), &h, &err), ECG_OK);
    CU_ASSERT_STRING_EQUAL(h.record, "100");
    CU_ASSERT_EQUAL(h.nsig, 2);
    CU_ASSERT_EQUAL(h.fs, 360.0);
    CU_ASSERT_EQUAL(h.nsamples, 10800);
    CU_ASSERT_EQUAL(h.sig[0].format, 212);
    CU_ASSERT_EQUAL(h.sig[0].gain, 200.0);
    CU_ASSERT_EQUAL(h.sig[0].baseline, 1024);
    CU_ASSERT_STRING_EQUAL(h.sig[0].units, "mV");
    CU_ASSERT_STRING_EQUAL(h.sig[1].description, "V5");
    CU_ASSERT_EQUAL_FATAL(ecg_wfdb_read_header(ecg_test_fixture("data/cinc2017/A00592.hea"), &h, &err),
                          ECG_OK);
    CU_ASSERT_EQUAL(h.sig[0].format, 16);
    CU_ASSERT_EQUAL(h.sig[0].byte_offset, 24);
    CU_ASSERT_EQUAL(h.sig[0].gain, 1000.0);
}

static void formats_212_and_16_decode_to_the_same_millivolts(void)
{
    struct ecg_error err = {0};
    struct ecg_wfdb_header h2, h16;
    float *a[ECG_WFDB_MAX_SIGNALS], *b[ECG_WFDB_MAX_SIGNALS];
    int64_t na, nb;
    const char *p212 = ecg_test_fixture("data/mitdb/100.hea"),
               *p16 = ecg_test_fixture("data/mitdb16/100.hea");
    CU_ASSERT_EQUAL_FATAL(ecg_wfdb_read_header(p212, &h2, &err), ECG_OK);
    CU_ASSERT_EQUAL_FATAL(ecg_wfdb_read_header(p16, &h16, &err), ECG_OK);
    CU_ASSERT_EQUAL_FATAL(ecg_wfdb_read_signals(p212, &h2, a, &na, &err), ECG_OK);
    CU_ASSERT_EQUAL_FATAL(ecg_wfdb_read_signals(p16, &h16, b, &nb, &err), ECG_OK);
    CU_ASSERT_EQUAL(na, 10800);
    CU_ASSERT_EQUAL(nb, 10800);
    ECG_CHECK_CLOSE("MLII 212 vs 16", a[0], b[0], 10800, 0, 0);
    ECG_CHECK_CLOSE("V5 212 vs 16", a[1], b[1], 10800, 0, 0);
    /* The header's initial values: 995 and 1011 ADC units, baseline 1024, 200 per mV. */
    CU_ASSERT_DOUBLE_EQUAL(a[0][0], (995 - 1024) / 200.0, 1e-6);
    CU_ASSERT_DOUBLE_EQUAL(a[1][0], (1011 - 1024) / 200.0, 1e-6);
    for (int s = 0; s < 2; s++) {
        free(a[s]);
        free(b[s]);
    }
}

static void record_100_cut_gives_the_beats_python_counts(void)
{
    /* Counts printed by tests/fixtures/gen_data_fixtures.py for the 30 s cut:
     * N 35, S 1, and 1 beat closer than 0.25 s to the start. */
    struct ecg_error err = {0};
    struct ecg_wfdb_annotation *ann = NULL;
    int64_t n = 0;
    CU_ASSERT_EQUAL_FATAL(ecg_wfdb_read_annotations(ecg_test_fixture("data/mitdb/100.atr"), &ann, &n, &err),
                          ECG_OK);
    CU_ASSERT_EQUAL(n, 38); /* 37 beats + the rhythm annotation "(N" */
    CU_ASSERT_EQUAL(ann[0].code, 28);
    CU_ASSERT_EQUAL(ann[0].sample, 18);
    CU_ASSERT_EQUAL(ann[0].aami, -1);
    CU_ASSERT_EQUAL(ann[1].code, 1);
    CU_ASSERT_EQUAL(ann[1].sample, 77);
    free(ann);
    struct ecg_dataset ds = {0};
    struct ecg_read_options o = defaults();
    CU_ASSERT_EQUAL_FATAL(ecg_dataset_read("mitdb", ecg_test_fixture("data/mitdb"), &o, &ds, &err), ECG_OK);
    int64_t per[ECG_BEAT_COUNT] = {0};
    for (int64_t i = 0; i < ds.count; i++)
        per[ds.records[i].label]++;
    CU_ASSERT_EQUAL(per[ECG_BEAT_N], 35);
    CU_ASSERT_EQUAL(per[ECG_BEAT_S], 1);
    CU_ASSERT_EQUAL(per[ECG_BEAT_V] + per[ECG_BEAT_F] + per[ECG_BEAT_Q], 0);
    for (int64_t i = 0; i < ds.count; i++) /* each beat keeps its annotation: N (code 1) or A (code 8) */
        CU_ASSERT_EQUAL(ds.records[i].beat_code, ds.records[i].label == ECG_BEAT_S ? 8 : 1);
    CU_ASSERT_EQUAL(ds.skipped, 1);
    CU_ASSERT_EQUAL(ds.task, ECG_TASK_BEAT);
    CU_ASSERT_EQUAL(ds.records[0].length, 252); /* 90 before + 162 after at 360 Hz */
    CU_ASSERT_STRING_EQUAL(ds.records[0].subject, "100");
    CU_ASSERT_STRING_EQUAL(ds.records[0].id, "100:370");
    ecg_dataset_free(&ds);
    /* Wider windows skip more beats near the end. */
    o.beat_after_s = 2.0;
    CU_ASSERT_EQUAL_FATAL(ecg_mitdb_read(ecg_test_fixture("data/mitdb"), &o, &ds, &err), ECG_OK);
    CU_ASSERT_TRUE(ds.skipped > 1);
    CU_ASSERT_EQUAL(ds.count + ds.skipped, 37);
    ecg_dataset_free(&ds);
}

static void beats_come_from_the_mlii_lead_wherever_it_is_stored(void)
{
    /* Record 100 with its two signal lines described the other way round (as record 114 is). */
    struct ecg_error err = {0};
    const char *dir = tmp("%s", "wfdb_swapped");
    mkdirs(dir);
    char p[1200];
    snprintf(p, sizeof p, "%s/100.hea", dir);
    write_text(
        p, "100 2 360 10800\n100.dat 212 200 11 1024 995 0 0 V5\n100.dat 212 200 11 1024 1011 0 0 MLII\n");
    snprintf(p, sizeof p, "%s/100.dat", dir);
    copy_file(ecg_test_fixture("data/mitdb/100.dat"), p, -1);
    snprintf(p, sizeof p, "%s/100.atr", dir);
    copy_file(ecg_test_fixture("data/mitdb/100.atr"), p, -1);
    struct ecg_wfdb_header h;
    float *sig[ECG_WFDB_MAX_SIGNALS];
    int64_t n;
    snprintf(p, sizeof p, "%s/100.hea", dir);
    CU_ASSERT_EQUAL_FATAL(ecg_wfdb_read_header(p, &h, &err), ECG_OK);
    CU_ASSERT_EQUAL_FATAL(ecg_wfdb_read_signals(p, &h, sig, &n, &err), ECG_OK);
    struct ecg_dataset ds = {0};
    struct ecg_read_options o = defaults();
    CU_ASSERT_EQUAL_FATAL(ecg_mitdb_read(dir, &o, &ds, &err), ECG_OK);
    CU_ASSERT_STRING_EQUAL_FATAL(ds.records[0].id, "100:370");
    ECG_CHECK_CLOSE("first beat from the second signal", ds.records[0].signal, sig[1] + 370 - 90, 252, 0, 0);
    ecg_dataset_free(&ds);
    o.channel = 0;
    CU_ASSERT_EQUAL_FATAL(ecg_mitdb_read(dir, &o, &ds, &err), ECG_OK);
    ECG_CHECK_CLOSE("first beat from the first signal", ds.records[0].signal, sig[0] + 370 - 90, 252, 0, 0);
    ecg_dataset_free(&ds);
    free(sig[0]);
    free(sig[1]);
}

static void wfdb_leads_in_uv_and_v_are_read_in_millivolts_and_other_units_refused(void)
{
    struct ecg_error err = {0};
    const char *dir = tmp("%s", "wfdb_units");
    mkdirs(dir);
    char p[1200];
    snprintf(p, sizeof p, "%s/100.dat", dir);
    copy_file(ecg_test_fixture("data/mitdb/100.dat"), p, -1);
    struct ecg_wfdb_header h;
    float *mv, *x;
    int64_t n_mv, n;
    CU_ASSERT_EQUAL_FATAL(ecg_wfdb_read_channel(ecg_test_fixture("data/mitdb/100.hea"), -1, &h, &mv, &n_mv, &err),
                          ECG_OK);
    /* The same samples with a gain of 200 per uV and per V: physical values 1000 times smaller and larger. */
    const char *units[2] = {"uV", "V"};
    const double factor[2] = {1e-3, 1e3};
    snprintf(p, sizeof p, "%s/100.hea", dir);
    for (int u = 0; u < 2; u++) {
        char text[256];
        snprintf(text, sizeof text, "100 2 360 10800\n100.dat 212 200/%s 11 1024 995 0 0 MLII\n"
                 "100.dat 212 200/%s 11 1024 1011 0 0 V5\n", units[u], units[u]);
        write_text(p, text);
        CU_ASSERT_EQUAL_FATAL(ecg_wfdb_read_channel(p, -1, &h, &x, &n, &err), ECG_OK);
        CU_ASSERT_EQUAL_FATAL(n, n_mv);
        for (int64_t i = 0; i < n; i++)
            x[i] = (float)(x[i] / factor[u]); /* back to what the mV header gives */
        ECG_CHECK_CLOSE(units[u], x, mv, n, 1e-6, 1e-6);
        free(x);
    }
    write_text(p, "100 2 360 10800\n100.dat 212 200/mmHg 11 1024 995 0 0 MLII\n100.dat 212 200 11 1024 1011 0 0 V5\n");
    ECG_CHECK_ERROR(ecg_wfdb_read_channel(p, -1, &h, &x, &n, &err), &err, ECG_ERR_FORMAT,
                    "100.hea: signal 0 is in 'mmHg', expected mV, uV or V");
    CU_ASSERT_PTR_NULL(x);
    ECG_CHECK_ERROR(ecg_wfdb_read_channel(p, 2, &h, &x, &n, &err), &err, ECG_ERR_RANGE,
                    "100.hea: channel 2 requested, the record has 2 signals");
    free(mv);
}

static void full_record_100_has_the_published_beat_counts(void)
{
    const char *root = getenv("ECG_SOURCE_ROOT");
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/../shared/data/mitdb", root ? root : ".");
    char hea[1100];
    snprintf(hea, sizeof hea, "%s/100.hea", dir);
    FILE *f = fopen(hea, "r");
    if (!f) {
        printf("(skipped: %s not present) ", hea);
        return;
    }
    fclose(f);
    struct ecg_error err = {0};
    struct ecg_wfdb_annotation *ann = NULL;
    int64_t n = 0;
    char atr[1100];
    snprintf(atr, sizeof atr, "%s/100.atr", dir);
    CU_ASSERT_EQUAL_FATAL(ecg_wfdb_read_annotations(atr, &ann, &n, &err), ECG_OK);
    int64_t code1 = 0, code8 = 0, code5 = 0, other = 0;
    for (int64_t i = 0; i < n; i++) {
        code1 += ann[i].code == 1;
        code8 += ann[i].code == 8;
        code5 += ann[i].code == 5;
        other += ann[i].code != 1 && ann[i].code != 8 && ann[i].code != 5;
    }
    CU_ASSERT_EQUAL(code1, 2239);
    CU_ASSERT_EQUAL(code8, 33);
    CU_ASSERT_EQUAL(code5, 1);
    CU_ASSERT_EQUAL(other, 1);
    free(ann);
    struct ecg_dataset ds = {0};
    struct ecg_read_options o = defaults();
    o.records = "100";
    CU_ASSERT_EQUAL_FATAL(ecg_mitdb_read(dir, &o, &ds, &err), ECG_OK);
    int64_t per[ECG_BEAT_COUNT] = {0};
    for (int64_t i = 0; i < ds.count; i++)
        per[ds.records[i].label]++;
    /* Two N beats lie within 0.25 s of the start or 0.45 s of the end (gen_data_fixtures.py). */
    CU_ASSERT_EQUAL(per[ECG_BEAT_N], 2237);
    CU_ASSERT_EQUAL(per[ECG_BEAT_S], 33);
    CU_ASSERT_EQUAL(per[ECG_BEAT_V], 1);
    CU_ASSERT_EQUAL(ds.skipped, 2);
    ecg_dataset_free(&ds);
}

static void aami_mapping_and_the_inter_patient_split_follow_the_standard(void)
{
    const int n_codes[] = {1, 2, 3, 34, 11}, s_codes[] = {8, 4, 7, 9}, v_codes[] = {5, 10},
              q_codes[] = {12, 38, 13};
    for (int i = 0; i < 5; i++)
        CU_ASSERT_EQUAL(ecg_wfdb_aami_class(n_codes[i]), ECG_BEAT_N);
    for (int i = 0; i < 4; i++)
        CU_ASSERT_EQUAL(ecg_wfdb_aami_class(s_codes[i]), ECG_BEAT_S);
    for (int i = 0; i < 2; i++)
        CU_ASSERT_EQUAL(ecg_wfdb_aami_class(v_codes[i]), ECG_BEAT_V);
    CU_ASSERT_EQUAL(ecg_wfdb_aami_class(6), ECG_BEAT_F);
    for (int i = 0; i < 3; i++)
        CU_ASSERT_EQUAL(ecg_wfdb_aami_class(q_codes[i]), ECG_BEAT_Q);
    const int non_beats[] = {0, 14, 16, 18, 19, 22, 28, 37, 59, 63};
    for (int i = 0; i < 10; i++) {
        CU_ASSERT_EQUAL(ecg_wfdb_aami_class(non_beats[i]), -1);
        CU_ASSERT_PTR_NULL(ecg_wfdb_beat_symbol(non_beats[i]));
    }
    /* The symbols of the codes, as WFDB's ecgcodes.h names them. */
    const int codes[15] = {1, 2, 3, 34, 11, 8, 4, 7, 9, 5, 10, 6, 12, 38, 13};
    const char *symbols[15] = {"N", "L", "R", "e", "j", "A", "a", "J", "S", "V", "E", "F", "/", "f", "Q"};
    for (int i = 0; i < 15; i++)
        CU_ASSERT_STRING_EQUAL(ecg_wfdb_beat_symbol(codes[i]), symbols[i]);
    int c1, c2;
    const char *const *d1 = ecg_mitdb_split_records(1, &c1), *const *d2 = ecg_mitdb_split_records(2, &c2);
    CU_ASSERT_EQUAL(c1, 22);
    CU_ASSERT_EQUAL(c2, 22);
    for (int i = 0; i < 22; i++) {
        CU_ASSERT_EQUAL(ecg_mitdb_split_of(d1[i]), 1);
        CU_ASSERT_EQUAL(ecg_mitdb_split_of(d2[i]), 2);
    }
    CU_ASSERT_EQUAL(ecg_mitdb_split_of("100"), 2);
    CU_ASSERT_EQUAL(ecg_mitdb_split_of("101"), 1);
    const char *paced[4] = {"102", "104", "107", "217"};
    for (int i = 0; i < 4; i++)
        CU_ASSERT_EQUAL(ecg_mitdb_split_of(paced[i]), 0);
}

static void mitdb_split_selection_names_the_missing_record(void)
{
    struct ecg_error err = {0};
    struct ecg_dataset ds = {0};
    struct ecg_read_options o = defaults();
    o.records = "DS1";
    ECG_CHECK_ERROR(ecg_mitdb_read(ecg_test_fixture("data/mitdb"), &o, &ds, &err), &err, ECG_ERR_IO,
                    "MIT-BIH record 101: ");
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "101.hea: cannot open"));
    ecg_dataset_free(&ds);
    o.records = "DS2";
    o.skip_bad = ECG_BAD_SKIP;
    CU_ASSERT_EQUAL(ecg_mitdb_read(ecg_test_fixture("data/mitdb"), &o, &ds, &err), ECG_OK);
    CU_ASSERT_EQUAL(ds.count, 36); /* only 100 of DS2 is present */
    CU_ASSERT_EQUAL(ds.skipped, 21 + 1);
    ecg_dataset_free(&ds);
    o = defaults();
    o.channel = 2;
    ECG_CHECK_ERROR(ecg_mitdb_read(ecg_test_fixture("data/mitdb"), &o, &ds, &err), &err, ECG_ERR_RANGE,
                    "channel 2 requested, the record has 2 signals");
    ecg_dataset_free(&ds);
}

static void beat_windows_are_centred_on_the_r_peak_and_hold_the_neighbouring_beats(void)
{
    struct ecg_error err = {0};
    struct ecg_read_options o = defaults();
    o.beat_before_s = o.beat_after_s = 1.5; /* 540 samples each side at 360 Hz */
    struct ecg_dataset ds = {0};
    struct ecg_beat_read_counts c;
    const char *hea = ecg_test_fixture("data/mitdb/100.hea"), *atr = ecg_test_fixture("data/mitdb/100.atr");
    CU_ASSERT_EQUAL_FATAL(ecg_wfdb_read_beats(hea, atr, &o, &ds, &c, &err), ECG_OK);
    CU_ASSERT_EQUAL(c.beats, 37);
    CU_ASSERT_EQUAL(c.kept, ds.count);
    CU_ASSERT_EQUAL(ds.count + c.edge, 37);
    CU_ASSERT_TRUE(c.edge >= 2); /* the first beat (77) and the last ones lack 1.5 s on one side */
    struct ecg_wfdb_header h;
    float *x = NULL;
    int64_t len = 0;
    CU_ASSERT_EQUAL_FATAL(ecg_wfdb_read_channel(hea, -1, &h, &x, &len, &err), ECG_OK);
    CU_ASSERT_EQUAL(len, 10800);
    for (int64_t i = 0; i < ds.count; i++) {
        const struct ecg_record *r = &ds.records[i];
        int64_t at = ecg_beat_id_sample(r->id);
        CU_ASSERT_EQUAL(r->length, 1080);
        CU_ASSERT_TRUE(at >= 540 && at + 540 <= len);
        CU_ASSERT_EQUAL(r->signal[0], x[at - 540]);
        CU_ASSERT_EQUAL(r->signal[540], x[at]);
        CU_ASSERT_STRING_EQUAL(r->subject, "100");
    }
    CU_ASSERT_EQUAL(ecg_beat_id_sample("100"), -1);
    CU_ASSERT_EQUAL(ecg_beat_id_sample("100:"), -1);
    CU_ASSERT_EQUAL(ecg_beat_id_sample("100:12x"), -1);
    free(x);
    ecg_dataset_free(&ds);
}

static void detected_beats_take_the_class_of_the_annotated_beat_within_150_ms(void)
{
    struct ecg_error err = {0};
    struct ecg_read_options o = defaults();
    const char *hea = ecg_test_fixture("data/mitdb/100.hea"), *atr = ecg_test_fixture("data/mitdb/100.atr");
    struct ecg_dataset ref = {0}, det = {0};
    struct ecg_beat_read_counts rc, dc;
    CU_ASSERT_EQUAL_FATAL(ecg_wfdb_read_beats(hea, atr, &o, &ref, &rc, &err), ECG_OK);
    o.beats = ECG_BEATS_DETECTED;
    CU_ASSERT_EQUAL_FATAL(ecg_wfdb_read_beats(hea, atr, &o, &det, &dc, &err), ECG_OK);
    CU_ASSERT_EQUAL(dc.beats, 37);
    CU_ASSERT_EQUAL(dc.unmatched, 0);
    CU_ASSERT_EQUAL_FATAL(det.count, ref.count);
    for (int64_t i = 0; i < det.count; i++) {
        CU_ASSERT_EQUAL(det.records[i].label, ref.records[i].label);
        CU_ASSERT_EQUAL(det.records[i].beat_code, ref.records[i].beat_code);
        int64_t d = ecg_beat_id_sample(det.records[i].id), r = ecg_beat_id_sample(ref.records[i].id);
        CU_ASSERT_TRUE(llabs(d - r) <= 54); /* 150 ms */
    }
    ecg_dataset_free(&det);
    /* Without annotations: detections are unlabelled, kept only when asked. */
    CU_ASSERT_EQUAL_FATAL(ecg_wfdb_read_beats(hea, NULL, &o, &det, &dc, &err), ECG_OK);
    CU_ASSERT_EQUAL(det.count, 0);
    CU_ASSERT_EQUAL(dc.unmatched, 37 - dc.edge);
    o.keep_unlabelled = true;
    CU_ASSERT_EQUAL_FATAL(ecg_wfdb_read_beats(hea, NULL, &o, &det, &dc, &err), ECG_OK);
    CU_ASSERT_EQUAL(det.count, ref.count);
    for (int64_t i = 0; i < det.count; i++) {
        CU_ASSERT_EQUAL(det.records[i].label, -1);
        CU_ASSERT_EQUAL(det.records[i].beat_code, 0);
    }
    ecg_dataset_free(&det);
    o.beats = ECG_BEATS_REFERENCE;
    ECG_CHECK_ERROR(ecg_wfdb_read_beats(hea, NULL, &o, &det, NULL, &err), &err, ECG_ERR_USAGE,
                    "100.hea: reference beats need the record's annotations (.atr)");
    ecg_dataset_free(&det);
    ecg_dataset_free(&ref);
}

static void a_signal_without_files_gives_the_beats_of_its_record_read_without_annotations(void)
{
    struct ecg_error err = {0};
    struct ecg_read_options o = defaults();
    const char *hea = ecg_test_fixture("data/mitdb/100.hea");
    struct ecg_wfdb_header h;
    float *x;
    int64_t n;
    CU_ASSERT_EQUAL_FATAL(ecg_wfdb_read_channel(hea, -1, &h, &x, &n, &err), ECG_OK);
    struct ecg_dataset from_file = {0}, from_signal = {0};
    struct ecg_beat_read_counts fc, sc;
    o.beats = ECG_BEATS_DETECTED;
    o.keep_unlabelled = true;
    CU_ASSERT_EQUAL_FATAL(ecg_wfdb_read_beats(hea, NULL, &o, &from_file, &fc, &err), ECG_OK);
    o.beats = ECG_BEATS_REFERENCE; /* ecg_signal_beats detects whatever the options say */
    o.keep_unlabelled = false;
    CU_ASSERT_EQUAL_FATAL(ecg_signal_beats("100", x, n, h.fs, &o, &from_signal, &sc, &err), ECG_OK);
    CU_ASSERT_EQUAL(sc.beats, fc.beats);
    CU_ASSERT_EQUAL(sc.edge, fc.edge);
    CU_ASSERT_EQUAL_FATAL(from_signal.count, from_file.count);
    CU_ASSERT_EQUAL(from_signal.task, ECG_TASK_BEAT);
    for (int64_t i = 0; i < from_signal.count; i++) {
        const struct ecg_record *a = &from_signal.records[i], *b = &from_file.records[i];
        CU_ASSERT_STRING_EQUAL(a->id, b->id);
        CU_ASSERT_EQUAL(a->label, -1);
        CU_ASSERT_EQUAL(a->length, b->length);
        CU_ASSERT_EQUAL(memcmp(a->signal, b->signal, (size_t)a->length * sizeof(float)), 0);
        CU_ASSERT_EQUAL(memcmp(a->features, b->features, sizeof a->features), 0);
    }
    ecg_dataset_free(&from_signal);
    /* No rate, no samples, no signal: one error naming the record. */
    ECG_CHECK_ERROR(ecg_signal_beats("upload", x, n, 0, &o, &from_signal, NULL, &err), &err, ECG_ERR_VALUE,
                    "record 'upload': 10800 samples at 0 Hz, expected samples and a rate > 0");
    ECG_CHECK_ERROR(ecg_signal_beats("upload", x, 0, 360, &o, &from_signal, NULL, &err), &err, ECG_ERR_VALUE,
                    "record 'upload': 0 samples at 360 Hz, expected samples and a rate > 0");
    ECG_CHECK_ERROR(ecg_signal_beats("upload", NULL, n, 360, &o, &from_signal, NULL, &err), &err, ECG_ERR_VALUE,
                    "record 'upload': 10800 samples at 360 Hz, expected samples and a rate > 0");
    CU_ASSERT_EQUAL(from_signal.count, 0);
    ecg_dataset_free(&from_signal);
    ecg_dataset_free(&from_file);
    free(x);
}

/* An MIT annotation word: code in the top 6 bits, the interval since the previous annotation below. */
static void put_word(unsigned char *b, int *n, int code, int interval)
{
    unsigned w = (unsigned)(code << 10 | interval);
    b[(*n)++] = (unsigned char)(w & 0xFF);
    b[(*n)++] = (unsigned char)(w >> 8);
}

static void q_beats_are_left_out_and_counted_or_kept_as_class_q(void)
{
    /* Record 100's signal with three annotated beats: N at 700, Q (code 13) at 1000, V (code 5) at 1300. */
    const char *dir = tmp("%s", "wfdb_q");
    mkdirs(dir);
    char hea[1200], atr[1200], dat[1200];
    snprintf(hea, sizeof hea, "%s/100.hea", dir);
    snprintf(atr, sizeof atr, "%s/100.atr", dir);
    snprintf(dat, sizeof dat, "%s/100.dat", dir);
    copy_file(ecg_test_fixture("data/mitdb/100.hea"), hea, -1);
    copy_file(ecg_test_fixture("data/mitdb/100.dat"), dat, -1);
    unsigned char b[16];
    int n = 0;
    put_word(b, &n, 1, 700);
    put_word(b, &n, 13, 300);
    put_word(b, &n, 5, 300);
    put_word(b, &n, 0, 0);
    write_bytes(atr, b, (size_t)n);
    struct ecg_error err = {0};
    struct ecg_read_options o = defaults();
    o.beat_before_s = o.beat_after_s = 0.5;
    o.q_beats = ECG_Q_EXCLUDE;
    struct ecg_dataset ds = {0};
    struct ecg_beat_read_counts c;
    CU_ASSERT_EQUAL_FATAL(ecg_wfdb_read_beats(hea, atr, &o, &ds, &c, &err), ECG_OK);
    CU_ASSERT_EQUAL_FATAL(ds.count, 2);
    CU_ASSERT_EQUAL(c.q, 1);
    CU_ASSERT_EQUAL(ds.skipped, 1);
    CU_ASSERT_EQUAL(ds.records[0].label, ECG_BEAT_N);
    CU_ASSERT_EQUAL(ds.records[1].label, ECG_BEAT_V);
    CU_ASSERT_STRING_EQUAL(ds.records[1].id, "100:1300");
    ecg_dataset_free(&ds);
    o.q_beats = ECG_Q_KEEP;
    CU_ASSERT_EQUAL_FATAL(ecg_wfdb_read_beats(hea, atr, &o, &ds, &c, &err), ECG_OK);
    CU_ASSERT_EQUAL_FATAL(ds.count, 3);
    CU_ASSERT_EQUAL(c.q, 0);
    CU_ASSERT_EQUAL(ds.records[1].label, ECG_BEAT_Q);
    ecg_dataset_free(&ds);
}

static void corrupt_wfdb_files_are_reported(void)
{
    struct ecg_error err = {0};
    struct ecg_dataset ds = {0};
    struct ecg_read_options o = defaults();
    const char *dir = tmp("%s", "wfdb_bad");
    mkdirs(dir);
    char p[1200];
    /* Truncated .dat. */
    snprintf(p, sizeof p, "%s/100.hea", dir);
    copy_file(ecg_test_fixture("data/mitdb/100.hea"), p, -1);
    snprintf(p, sizeof p, "%s/100.atr", dir);
    copy_file(ecg_test_fixture("data/mitdb/100.atr"), p, -1);
    snprintf(p, sizeof p, "%s/100.dat", dir);
    copy_file(ecg_test_fixture("data/mitdb/100.dat"), p, 30000);
    ECG_CHECK_ERROR(
        ecg_mitdb_read(dir, &o, &ds, &err), &err, ECG_ERR_FORMAT,
        "100.dat: truncated: the header says 10800 samples x 2 signals in format 212 (32400 bytes");
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "MIT-BIH record 100"));
    ecg_dataset_free(&ds);
    o.skip_bad = ECG_BAD_SKIP;
    ECG_CHECK_ERROR(ecg_dataset_read("mitdb", dir, &o, &ds, &err), &err, ECG_ERR_VALUE, "no usable records");
    ecg_dataset_free(&ds);
    o.skip_bad = ECG_BAD_ERROR;
    copy_file(ecg_test_fixture("data/mitdb/100.dat"), p, -1);
    /* Truncated .atr: an AUX announcing more bytes than remain, and a missing end word. */
    snprintf(p, sizeof p, "%s/100.atr", dir);
    copy_file(ecg_test_fixture("data/mitdb/100.atr"), p, 5);
    ECG_CHECK_ERROR(ecg_mitdb_read(dir, &o, &ds, &err), &err, ECG_ERR_FORMAT,
                    "100.atr: truncated: AUX at byte 2 announces 3 bytes, 1 left");
    ecg_dataset_free(&ds);
    copy_file(ecg_test_fixture("data/mitdb/100.atr"), p, 40);
    ECG_CHECK_ERROR(ecg_mitdb_read(dir, &o, &ds, &err), &err, ECG_ERR_FORMAT, "no end-of-annotations word");
    ecg_dataset_free(&ds);
    copy_file(ecg_test_fixture("data/mitdb/100.atr"), p, -1);
    /* Unsupported storage format and a malformed gain. */
    snprintf(p, sizeof p, "%s/100.hea", dir);
    write_text(
        p, "100 2 360 10800\n100.dat 311 200 11 1024 995 0 0 MLII\n100.dat 311 200 11 1024 1011 0 0 V5\n");
    ECG_CHECK_ERROR(ecg_mitdb_read(dir, &o, &ds, &err), &err, ECG_ERR_FORMAT,
                    "100.hea:2: signal 0: storage format '311', expected 212 or 16");
    ecg_dataset_free(&ds);
    write_text(
        p, "100 2 360 10800\n100.dat 212 200x 11 1024 995 0 0 MLII\n100.dat 212 200 11 1024 1011 0 0 V5\n");
    ECG_CHECK_ERROR(ecg_mitdb_read(dir, &o, &ds, &err), &err, ECG_ERR_FORMAT,
                    "100.hea:2: signal 0: gain field '200x'");
    ecg_dataset_free(&ds);
    /* messages quote the whole line, not its first word */
    write_text(p, "100/2 2 360 10800\n100.dat 212 200 11 1024 995 0 0 MLII\n");
    ECG_CHECK_ERROR(ecg_mitdb_read(dir, &o, &ds, &err), &err, ECG_ERR_FORMAT,
                    "100.hea:1: expected a record line 'name nsig [fs [nsamples]]' of a single-segment record, "
                    "found '100/2 2 360 10800'");
    ecg_dataset_free(&ds);
    write_text(p, "100 2 360 10800\n100.dat\n100.dat 212 200 11 1024 1011 0 0 V5\n");
    ECG_CHECK_ERROR(ecg_mitdb_read(dir, &o, &ds, &err), &err, ECG_ERR_FORMAT,
                    "100.hea:2: signal 0: expected 'file format [gain ...]', found '100.dat'");
    ecg_dataset_free(&ds);
    write_text(p, "100 2 360 10800\n100.dat 212x4 200 11 1024 995 0 0 MLII\n100.dat 212 200 11 1024 1011 0 0 V5\n");
    ECG_CHECK_ERROR(ecg_mitdb_read(dir, &o, &ds, &err), &err, ECG_ERR_FORMAT,
                    "100.hea:2: signal 0: format field '212x4' uses multiple samples per frame or skew");
    ecg_dataset_free(&ds);
    write_text(p, "# only a comment\n100 3 360 10800\n100.dat 212 200 11 1024 995 0 0 MLII\n");
    ECG_CHECK_ERROR(ecg_mitdb_read(dir, &o, &ds, &err), &err, ECG_ERR_FORMAT,
                    "the record line announces 3 signals, found 1 signal lines");
    ecg_dataset_free(&ds);
    const char *empty = tmp("%s", "wfdb_empty");
    mkdirs(empty);
    ECG_CHECK_ERROR(ecg_mitdb_read(empty, &o, &ds, &err), &err, ECG_ERR_VALUE,
                    "no WFDB records (name.hea with name.atr) found");
    ecg_dataset_free(&ds);
}

static void wfdb_offsets_counts_and_rates_are_numbers_a_record_can_have(void)
{
    struct ecg_error err = {0};
    struct ecg_wfdb_header h;
    const char *bad[] = {"16+-8", "212+", "16++4", "16+x"};
    for (int i = 0; i < 4; i++) {
        const char *hea = ecg_test_write_file("offset.hea", ecg_test_fmt("r 1 360 10\nr.dat %s\n", bad[i]));
        ECG_CHECK_ERROR(ecg_wfdb_read_header(hea, &h, &err), &err, ECG_ERR_FORMAT,
                        ecg_test_fmt("offset.hea:2: signal 0: storage format '%s', expected 212 or 16 "
                                     "(optionally +offset)", bad[i]));
    }
    const char *hea = ecg_test_write_file("offset.hea", "r 1 360 10\nr.dat 16+24\n");
    CU_ASSERT_EQUAL(ecg_wfdb_read_header(hea, &h, &err), ECG_OK);
    CU_ASSERT_EQUAL(h.sig[0].byte_offset, 24);
    /* A sample count beyond int64_t, and one whose byte count is: both named as they are. */
    hea = ecg_test_write_file("offset.hea", "r 1 360 99999999999999999999\nr.dat 16\n");
    ECG_CHECK_ERROR(ecg_wfdb_read_header(hea, &h, &err), &err, ECG_ERR_FORMAT,
                    "offset.hea:1: number of samples '99999999999999999999', expected a non-negative integer");
    hea = ecg_test_write_file("offset.hea", "r 1 360 9000000000000000000\nr.dat 16\n");
    ecg_test_write_file("r.dat", "0123456789");
    CU_ASSERT_EQUAL_FATAL(ecg_wfdb_read_header(hea, &h, &err), ECG_OK);
    float *sig[1];
    int64_t len;
    ECG_CHECK_ERROR(ecg_wfdb_read_signals(hea, &h, sig, &len, &err), &err, ECG_ERR_FORMAT,
                    "r.dat: truncated: the header says 9000000000000000000 samples x 1 signals in format 16 "
                    "(18000000000000000000 bytes after offset 0), the file has 10");
    /* strtod takes "inf" too, which is no sampling frequency either; nor is a rate no ECG is recorded at, which
     * would make every window in samples (beats, QRS search) absurd */
    hea = ecg_test_write_file("offset.hea", "r 1 inf 10\nr.dat 16\n");
    ECG_CHECK_ERROR(ecg_wfdb_read_header(hea, &h, &err), &err, ECG_ERR_FORMAT,
                    "offset.hea:1: sampling frequency 'inf', expected a positive number up to 1e+06 Hz");
    hea = ecg_test_write_file("offset.hea", "r 1 00078545930709357252608 10\nr.dat 16\n");
    ECG_CHECK_ERROR(ecg_wfdb_read_header(hea, &h, &err), &err, ECG_ERR_FORMAT,
                    "offset.hea:1: sampling frequency '00078545930709357252608', expected a positive number up to "
                    "1e+06 Hz");
    hea = ecg_test_write_file("offset.hea", "r 1 1000000 10\nr.dat 16\n");
    CU_ASSERT_EQUAL(ecg_wfdb_read_header(hea, &h, &err), ECG_OK);
}

/* ---- Kaggle CSV ---- */

static void kaggle_csv_rows_become_beats_with_their_labels(void)
{
    struct ecg_error err = {0};
    struct ecg_dataset ds = {0};
    struct ecg_read_options o = defaults();
    CU_ASSERT_EQUAL_FATAL(
        ecg_dataset_read("kaggle_csv", ecg_test_fixture("data/kaggle/mitbih_small.csv"), &o, &ds, &err),
        ECG_OK);
    CU_ASSERT_EQUAL_FATAL(ds.count, 12);
    const int want[12] = {0, 0, 0, 0, 0, 0, 1, 0, 1, 2, 3, 4};
    for (int i = 0; i < 12; i++)
        CU_ASSERT_EQUAL(ds.records[i].label, want[i]);
    CU_ASSERT_EQUAL(ds.records[0].fs, 125.0);
    CU_ASSERT_EQUAL(ds.records[0].length, 187);
    CU_ASSERT_STRING_EQUAL(ds.records[3].id, "mitbih_small.csv:4");
    CU_ASSERT_DOUBLE_EQUAL(ds.records[0].signal[0], 2.234975843367972836e-01, 1e-7);
    CU_ASSERT_DOUBLE_EQUAL(ds.records[0].signal[1], 1.493592280463886257e-01, 1e-7);
    ecg_dataset_free(&ds);
}

static void kaggle_csv_errors_name_the_line_and_column(void)
{
    struct ecg_error err = {0};
    struct ecg_dataset ds = {0};
    struct ecg_read_options o = defaults();
    static char text[8192];
    char *p = text;
    for (int i = 0; i < 187; i++)
        p += sprintf(p, "%d.5e-01,", i % 10);
    p += sprintf(p, "2.000000000000000000e+00\n");
    size_t row = strlen(text);
    /* Line 2: 187 columns. */
    memcpy(text + row, text, row);
    char *cut = strrchr(text + row, ',');
    strcpy(cut, "\n");
    const char *path = ecg_test_write_file("k_cols.csv", text);
    ECG_CHECK_ERROR(ecg_kaggle_read(path, &o, &ds, &err), &err, ECG_ERR_FORMAT,
                    "k_cols.csv:2: 187 columns, expected 188");
    ecg_dataset_free(&ds);
    o.skip_bad = ECG_BAD_SKIP;
    CU_ASSERT_EQUAL(ecg_kaggle_read(path, &o, &ds, &err), ECG_OK);
    CU_ASSERT_EQUAL(ds.count, 1);
    CU_ASSERT_EQUAL(ds.skipped, 1);
    CU_ASSERT_EQUAL(ds.records[0].label, ECG_BEAT_V);
    ecg_dataset_free(&ds);
    o.skip_bad = ECG_BAD_ERROR;
    /* A word in column 5 of line 1. */
    text[row] = '\0';
    char bad[8192];
    strcpy(bad, text);
    char *c = bad;
    for (int k = 0; k < 4; k++)
        c = strchr(c, ',') + 1;
    memcpy(c, "abc", 3);
    path = ecg_test_write_file("k_word.csv", bad);
    ECG_CHECK_ERROR(ecg_kaggle_read(path, &o, &ds, &err), &err, ECG_ERR_FORMAT,
                    "k_word.csv:1: column 5: 'abc");
    ecg_dataset_free(&ds);
    /* Labels 5 and 1.5. */
    strcpy(bad, text);
    strcpy(strrchr(bad, ',') + 1, "5\n");
    path = ecg_test_write_file("k_label.csv", bad);
    ECG_CHECK_ERROR(ecg_kaggle_read(path, &o, &ds, &err), &err, ECG_ERR_VALUE,
                    "k_label.csv:1: column 188: label 5, expected 0..4");
    ecg_dataset_free(&ds);
    strcpy(strrchr(bad, ',') + 1, "1.5\n");
    path = ecg_test_write_file("k_label.csv", bad);
    ECG_CHECK_ERROR(ecg_kaggle_read(path, &o, &ds, &err), &err, ECG_ERR_VALUE, "label 1.5");
    ecg_dataset_free(&ds);
    path = ecg_test_write_file("k_empty.csv", "\n\n");
    ECG_CHECK_ERROR(ecg_kaggle_read(path, &o, &ds, &err), &err, ECG_ERR_VALUE, "k_empty.csv: no rows");
    ecg_dataset_free(&ds);
}

static void unknown_format_names_are_config_errors(void)
{
    struct ecg_error err = {0};
    struct ecg_dataset ds = {0};
    ECG_CHECK_ERROR(ecg_dataset_read("ptbxl", "x", NULL, &ds, &err), &err, ECG_ERR_CONFIG,
                    "dataset format 'ptbxl': expected one of cachet_short, cachet_full, cinc2017, mitbih_wfdb (or mitdb)");
    CU_ASSERT_EQUAL(ecg_format_task("mitdb"), ECG_TASK_BEAT);
    CU_ASSERT_EQUAL(ecg_format_task("mitbih_wfdb"), ECG_TASK_BEAT);
    CU_ASSERT_EQUAL(ecg_format_task("mitbih_csv"), ECG_TASK_BEAT);
    CU_ASSERT_EQUAL(ecg_format_task("cachet_short"), ECG_TASK_RHYTHM);
    CU_ASSERT_EQUAL(ecg_format_task("nope"), -1);
    CU_ASSERT_EQUAL(ecg_cachet_code_of(ECG_RHYTHM_NOISE), 3);
    CU_ASSERT_EQUAL(ecg_cachet_label_of(4), ECG_RHYTHM_OTHER);
    CU_ASSERT_EQUAL(ecg_cachet_label_of(0), -1);
}

/* ---- conversion ---- */

static void conversion_cuts_resampled_windows_and_balances_classes(void)
{
    struct ecg_error err = {0};
    struct ecg_dataset in = {0}, out = {0};
    in.task = ECG_TASK_RHYTHM;
    /* 6 records at 300 Hz: lengths 25 s, 9 s (too short), 31 s; labels AF, AF, NSR, NSR, Noise, Other. */
    const int secs[6] = {25, 9, 31, 25, 21, 12};
    const int labels[6] = {0, 0, 1, 1, 2, 3};
    for (int k = 0; k < 6; k++) {
        struct ecg_record r = {0};
        snprintf(r.id, sizeof r.id, "A%05d", k + 1);
        r.label = labels[k];
        r.fs = 300;
        r.length = secs[k] * 300;
        r.signal = malloc((size_t)r.length * sizeof(float));
        for (int64_t i = 0; i < r.length; i++)
            r.signal[i] = (float)(sin(i * 0.1 * (k + 1)) + 0.001 * k);
        CU_ASSERT_EQUAL_FATAL(ecg_dataset_push(&in, &r, &err), ECG_OK);
    }
    struct ecg_convert_options co;
    ecg_convert_options_default(&co);
    co.windows = 3;
    struct ecg_segment_source *src = NULL;
    CU_ASSERT_EQUAL_FATAL(ecg_convert_segments(&in, &co, &out, &src, &err), ECG_OK);
    /* Windows: 2 + 0 + 3 + 2 + 2 + 1. */
    CU_ASSERT_EQUAL_FATAL(out.count, 10);
    CU_ASSERT_EQUAL(out.skipped, 1);
    CU_ASSERT_STRING_EQUAL(src[2].id, "A00003");
    CU_ASSERT_DOUBLE_EQUAL(src[4].offset_s, 20.0, 1e-12);
    CU_ASSERT_EQUAL(out.records[4].length, 10240);
    CU_ASSERT_EQUAL(out.records[4].fs, 1024.0);
    /* The third window of A00003 equals samples 20480.. of the whole record resampled. */
    int64_t n = ecg_resample_length(in.records[2].length, 1024, 300);
    float *full = malloc((size_t)n * sizeof *full);
    CU_ASSERT_EQUAL_FATAL(
        ecg_resample_poly(in.records[2].signal, in.records[2].length, 1024, 300, full, &err), ECG_OK);
    ECG_CHECK_CLOSE("window 3 of A00003", out.records[4].signal, full + 20480, 10240, 0, 0);
    free(full);
    const char *list = tmp("%s", "segments.txt");
    CU_ASSERT_EQUAL(ecg_convert_write_list(list, out.task, src, out.count, &err), ECG_OK);
    FILE *f = fopen(list, "r");
    char line[256];
    CU_ASSERT_PTR_NOT_NULL(fgets(line, sizeof line, f));
    CU_ASSERT_STRING_EQUAL(line, "# record offset_s label\n");
    CU_ASSERT_PTR_NOT_NULL(fgets(line, sizeof line, f));
    CU_ASSERT_STRING_EQUAL(line, "A00001 0.000 AF\n");
    fclose(f);
    free(src);
    ecg_dataset_free(&out);

    /* Balanced: one segment per class, the same choice for the same seed. */
    co.per_class = 1;
    co.bandpass = 1;
    struct ecg_dataset again = {0};
    struct ecg_segment_source *src2 = NULL;
    CU_ASSERT_EQUAL_FATAL(ecg_convert_segments(&in, &co, &out, &src, &err), ECG_OK);
    CU_ASSERT_EQUAL_FATAL(ecg_convert_segments(&in, &co, &again, &src2, &err), ECG_OK);
    CU_ASSERT_EQUAL_FATAL(out.count, 4);
    for (int k = 0; k < 4; k++) {
        CU_ASSERT_EQUAL(out.records[k].label, k);
        CU_ASSERT_STRING_EQUAL(src[k].id, src2[k].id);
    }
    free(src);
    free(src2);
    ecg_dataset_free(&out);
    ecg_dataset_free(&again);
    co.windows = 0;
    ECG_CHECK_ERROR(ecg_convert_segments(&in, &co, &out, &src, &err), &err, ECG_ERR_RANGE, "0 windows");
    ecg_dataset_free(&out);
    ecg_dataset_free(&in);
}

static const struct ecg_test cinc_tests[] = {
    {"CinC 2017 records read with canonical labels and millivolts",
     cinc2017_records_read_with_canonical_labels_and_millivolts},
    {"CinC 2017 label file option chooses records and labels",
     cinc2017_label_file_option_chooses_records_and_labels},
    {"CinC 2017 missing record is an error or a counted skip",
     cinc2017_missing_record_is_an_error_or_a_counted_skip},
    {"CinC 2017 labels outside the known set are reported",
     cinc2017_labels_outside_the_known_set_are_reported},
    {"CinC 2017 truncated or corrupt mat files are reported",
     cinc2017_truncated_or_corrupt_mat_files_are_reported},
    {"CinC 2017 wrong sampling rate is reported", cinc2017_wrong_sampling_rate_is_reported},
    {"CinC 2017 flat, NaN and short records are bad records",
     cinc2017_flat_nan_and_short_records_are_bad_records},
    {NULL, NULL},
};

static const struct ecg_test cachet_tests[] = {
    {"CACHET short file written by h5py reads as segments",
     cachet_short_file_written_by_h5py_reads_as_segments},
    {"CACHET writer and reader round-trip compressed and plain",
     cachet_writer_and_reader_round_trip_compressed_and_plain},
    {"CACHET short malformed files get messages naming the problem",
     cachet_short_malformed_files_get_messages_naming_the_problem},
    {"bundled sample is balanced and matches its record list",
     bundled_sample_is_balanced_and_matches_its_record_list},
    {"CACHET full Unisens folders give segments with subjects",
     cachet_full_unisens_folders_give_segments_with_subjects},
    {"unisens.xml is read as XML means it: comments, entities, '>' in values, <channelX> elements",
     unisens_xml_is_read_as_xml_means_it},
    {"malformed unisens.xml fails with the file and line", malformed_unisens_xml_fails_with_the_file_and_line},
    {"CACHET full bad headers, annotations and lengths are reported",
     cachet_full_bad_headers_annotations_and_lengths_are_reported},
    {"CACHET datasets that declare more values than the file stores are refused unread",
     cachet_datasets_that_declare_more_values_than_the_file_stores_are_refused_unread},
    {"CACHET datasets behind soft or external links are refused",
     cachet_datasets_behind_soft_or_external_links_are_refused},
    {"CACHET full annotation Start beyond 2^53 is no sample index",
     cachet_full_start_beyond_2_to_the_53_is_no_sample_index},
    {NULL, NULL},
};

static const struct ecg_test wfdb_tests[] = {
    {"WFDB header of record 100 is parsed", wfdb_header_of_record_100_is_parsed},
    {"formats 212 and 16 decode to the same millivolts", formats_212_and_16_decode_to_the_same_millivolts},
    {"record 100 cut gives the beats Python counts", record_100_cut_gives_the_beats_python_counts},
    {"beats come from the MLII lead wherever it is stored",
     beats_come_from_the_mlii_lead_wherever_it_is_stored},
    {"WFDB leads in uV and V are read in millivolts and other units refused",
     wfdb_leads_in_uv_and_v_are_read_in_millivolts_and_other_units_refused},
    {"full record 100 has the published beat counts", full_record_100_has_the_published_beat_counts},
    {"AAMI mapping and the inter-patient split follow the standard",
     aami_mapping_and_the_inter_patient_split_follow_the_standard},
    {"MIT-BIH split selection names the missing record", mitdb_split_selection_names_the_missing_record},
    {"corrupt WFDB files are reported", corrupt_wfdb_files_are_reported},
    {"WFDB byte offsets are digits, never negative; sample counts fit and rates are finite",
     wfdb_offsets_counts_and_rates_are_numbers_a_record_can_have},
    {"beat windows are centred on the R peak and hold the neighbouring beats",
     beat_windows_are_centred_on_the_r_peak_and_hold_the_neighbouring_beats},
    {"detected beats take the class of the annotated beat within 150 ms",
     detected_beats_take_the_class_of_the_annotated_beat_within_150_ms},
    {"a signal without files gives the beats of its record read without annotations",
     a_signal_without_files_gives_the_beats_of_its_record_read_without_annotations},
    {"Q beats are left out and counted, or kept as class Q", q_beats_are_left_out_and_counted_or_kept_as_class_q},
    {NULL, NULL},
};

static const struct ecg_test other_tests[] = {
    {"Kaggle CSV rows become beats with their labels", kaggle_csv_rows_become_beats_with_their_labels},
    {"Kaggle CSV errors name the line and column", kaggle_csv_errors_name_the_line_and_column},
    {"unknown format names are config errors", unknown_format_names_are_config_errors},
    {"conversion cuts resampled windows and balances classes",
     conversion_cuts_resampled_windows_and_balances_classes},
    {NULL, NULL},
};

static const struct ecg_suite suites[] = {
    {"cinc2017", cinc_tests},
    {"cachet", cachet_tests},
    {"wfdb", wfdb_tests},
    {"kaggle-convert", other_tests},
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    make_wave();
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    return ecg_test_main(argc, argv, suites);
}
