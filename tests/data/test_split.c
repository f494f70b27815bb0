/* Tests of data/split: stratification, k-fold coverage, patient-wise splits without leakage, class counts. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/record.h"
#include "data/split.h"
#include "tests/test_util.h"

/* A rhythm dataset with `per_class[c]` records of class c; subject "P<k>" for
 * groups of `per_subject` consecutive records of the same class when > 0. */
static void make_dataset(struct ecg_dataset *ds, const int *per_class, int per_subject)
{
    struct ecg_error err = {0};
    memset(ds, 0, sizeof *ds);
    ds->task = ECG_TASK_RHYTHM;
    int64_t k = 0;
    for (int c = 0; c < ECG_RHYTHM_COUNT; c++)
        for (int i = 0; i < per_class[c]; i++, k++) {
            struct ecg_record r = {0};
            snprintf(r.id, sizeof r.id, "R%05lld", (long long)k);
            if (per_subject > 0)
                snprintf(r.subject, sizeof r.subject, "P%d_%d", c, i / per_subject);
            r.label = c;
            r.fs = 300;
            r.length = 1;
            r.signal = calloc(1, sizeof(float));
            CU_ASSERT_EQUAL_FATAL(ecg_dataset_push(ds, &r, &err), ECG_OK);
        }
}

static void check_partition(const struct ecg_splits *s, int64_t n)
{
    char *seen = calloc((size_t)n, 1);
    int64_t total = 0;
    for (int p = 0; p < ECG_PART_COUNT; p++)
        for (int64_t k = 0; k < s->n[p]; k++) {
            int64_t i = s->idx[p][k];
            CU_ASSERT_TRUE_FATAL(i >= 0 && i < n);
            CU_ASSERT_EQUAL(seen[i], 0);
            seen[i] = 1;
            total++;
            if (k > 0)
                CU_ASSERT_TRUE(s->idx[p][k - 1] < i);
        }
    CU_ASSERT_EQUAL(total, n);
    free(seen);
}

static void record_splits_are_stratified_within_rounding(void)
{
    const int per_class[4] = {514, 3627, 193, 1666}; /* the CinC 2017 class sizes of ../shared/data */
    struct ecg_dataset ds;
    make_dataset(&ds, per_class, 0);
    struct ecg_split_opts o;
    ecg_split_opts_default(&o);
    o.val_fraction = 0.1;
    o.test_fraction = 0.2;
    o.seed = 17;
    struct ecg_splits s;
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL_FATAL(ecg_split_dataset(&ds, &o, &s, &err), ECG_OK);
    CU_ASSERT_EQUAL(s.by_subject, 0);
    check_partition(&s, ds.count);
    int64_t counts[ECG_PART_COUNT * 4];
    ecg_split_class_counts(&ds, &s, counts);
    const double frac[3] = {0.7, 0.1, 0.2};
    for (int c = 0; c < 4; c++) {
        /* Test: within one of its target; val and train within one of theirs in the rest. */
        double test_t = 0.2 * per_class[c];
        CU_ASSERT_TRUE(fabs(counts[ECG_PART_TEST * 4 + c] - test_t) < 1.0);
        double rest = per_class[c] - counts[ECG_PART_TEST * 4 + c];
        CU_ASSERT_TRUE(fabs(counts[ECG_PART_VAL * 4 + c] - rest * 0.1 / 0.8) < 1.0);
        for (int p = 0; p < 3; p++)
            CU_ASSERT_TRUE(fabs(counts[p * 4 + c] - frac[p] * per_class[c]) < 2.0);
    }
    /* A different seed gives different members with the same counts. */
    struct ecg_splits s2;
    o.seed = 18;
    CU_ASSERT_EQUAL_FATAL(ecg_split_dataset(&ds, &o, &s2, &err), ECG_OK);
    int64_t counts2[ECG_PART_COUNT * 4];
    ecg_split_class_counts(&ds, &s2, counts2);
    CU_ASSERT_TRUE(llabs(s2.n[ECG_PART_TEST] - s.n[ECG_PART_TEST]) <= 4);
    CU_ASSERT_NOT_EQUAL(memcmp(s.idx[ECG_PART_TEST], s2.idx[ECG_PART_TEST], 8 * sizeof(int64_t)), 0);
    /* The same seed gives the same split. */
    struct ecg_splits s3;
    o.seed = 17;
    CU_ASSERT_EQUAL_FATAL(ecg_split_dataset(&ds, &o, &s3, &err), ECG_OK);
    for (int p = 0; p < 3; p++) {
        CU_ASSERT_EQUAL_FATAL(s3.n[p], s.n[p]);
        CU_ASSERT_EQUAL(memcmp(s3.idx[p], s.idx[p], (size_t)s.n[p] * sizeof(int64_t)), 0);
    }
    ecg_split_free(&s);
    ecg_split_free(&s2);
    ecg_split_free(&s3);
    ecg_split_free(&s3); /* a zeroed split frees as a no-op */
    ecg_dataset_free(&ds);
}

/* No two records of one subject in different parts of s. */
static void check_subjects_apart(const struct ecg_dataset *ds, const struct ecg_splits *s)
{
    for (int p = 0; p < 3; p++)
        for (int q = p + 1; q < 3; q++)
            for (int64_t a = 0; a < s->n[p]; a++)
                for (int64_t b = 0; b < s->n[q]; b++)
                    CU_ASSERT_FATAL(strcmp(ds->records[s->idx[p][a]].subject, ds->records[s->idx[q][b]].subject) != 0);
}

/* Runs folds 0..k-1 and checks that their test sets are disjoint and together hold every record once,
 * and that validation takes val_fraction of the whole from the other folds. */
static void check_folds(const struct ecg_dataset *ds, const int *per_class, struct ecg_split_opts o, double tol)
{
    struct ecg_error err = {0};
    int *test_times = calloc((size_t)ds->count, sizeof *test_times);
    for (int64_t f = 0; f < o.folds; f++) {
        struct ecg_splits s;
        o.fold = f;
        CU_ASSERT_EQUAL_FATAL(ecg_split_dataset(ds, &o, &s, &err), ECG_OK);
        check_partition(&s, ds->count);
        if (s.by_subject)
            check_subjects_apart(ds, &s);
        for (int64_t k = 0; k < s.n[ECG_PART_TEST]; k++)
            test_times[s.idx[ECG_PART_TEST][k]]++;
        int64_t counts[ECG_PART_COUNT * 4];
        ecg_split_class_counts(ds, &s, counts);
        for (int c = 0; c < 4; c++) {
            CU_ASSERT_TRUE(fabs(counts[ECG_PART_TEST * 4 + c] - per_class[c] / (double)o.folds) <= tol);
            CU_ASSERT_TRUE(fabs(counts[ECG_PART_VAL * 4 + c] - per_class[c] * o.val_fraction) <= tol);
        }
        ecg_split_free(&s);
    }
    for (int64_t i = 0; i < ds->count; i++)
        CU_ASSERT_EQUAL(test_times[i], 1);
    free(test_times);
}

static void k_fold_test_sets_are_disjoint_stratified_and_cover_every_record(void)
{
    const int per_class[4] = {31, 47, 11, 23};
    struct ecg_dataset ds;
    make_dataset(&ds, per_class, 0);
    struct ecg_split_opts o;
    ecg_split_opts_default(&o);
    o.folds = 5;
    o.val_fraction = 0.15;
    o.test_fraction = 0.5; /* ignored with folds */
    o.seed = 3;
    check_folds(&ds, per_class, o, 1.0);
    ecg_dataset_free(&ds);
}

static void k_folds_keep_each_patient_on_one_side(void)
{
    const int per_class[4] = {120, 200, 40, 90};
    struct ecg_dataset ds;
    make_dataset(&ds, per_class, 10); /* 45 subjects of 10 records */
    struct ecg_split_opts o;
    ecg_split_opts_default(&o);
    o.folds = 4;
    o.val_fraction = 0.2;
    o.seed = 9;
    check_folds(&ds, per_class, o, 20.0);
    ecg_dataset_free(&ds);
}

static void subject_splits_never_share_a_subject(void)
{
    const int per_class[4] = {120, 200, 40, 90};
    struct ecg_dataset ds;
    make_dataset(&ds, per_class, 10); /* 45 subjects of 10 records */
    /* Make subjects of mixed sizes: merge pairs of NSR subjects into one. */
    for (int64_t i = 0; i < ds.count; i++) {
        struct ecg_record *r = &ds.records[i];
        if (r->label == ECG_RHYTHM_NSR && (i / 10) % 2 == 1)
            snprintf(r->subject, sizeof r->subject, "P1_merged%lld", (long long)(i / 20));
    }
    struct ecg_split_opts o;
    ecg_split_opts_default(&o);
    o.seed = 5;
    o.val_fraction = 0.2;
    o.test_fraction = 0.2;
    struct ecg_splits s;
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL_FATAL(ecg_split_dataset(&ds, &o, &s, &err), ECG_OK);
    CU_ASSERT_EQUAL(s.by_subject, 1);
    check_partition(&s, ds.count);
    check_subjects_apart(&ds, &s);
    /* Every class reaches every split, near its share (subjects are 10 or 20 records). */
    int64_t counts[ECG_PART_COUNT * 4];
    ecg_split_class_counts(&ds, &s, counts);
    const double frac[3] = {0.6, 0.2, 0.2};
    for (int c = 0; c < 4; c++)
        for (int p = 0; p < 3; p++) {
            CU_ASSERT_TRUE(counts[p * 4 + c] > 0);
            CU_ASSERT_TRUE(fabs(counts[p * 4 + c] - frac[p] * per_class[c]) <= 20.0);
        }
    /* Forcing record mode on the same data does mix subjects (the grouping is what prevents it). */
    o.group = ECG_GROUP_RECORD;
    struct ecg_splits r;
    CU_ASSERT_EQUAL_FATAL(ecg_split_dataset(&ds, &o, &r, &err), ECG_OK);
    CU_ASSERT_EQUAL(r.by_subject, 0);
    int shared = 0;
    for (int64_t a = 0; a < r.n[ECG_PART_TRAIN]; a++)
        for (int64_t b = 0; b < r.n[ECG_PART_TEST]; b++)
            shared += strcmp(ds.records[r.idx[ECG_PART_TRAIN][a]].subject, ds.records[r.idx[ECG_PART_TEST][b]].subject) == 0;
    CU_ASSERT_TRUE(shared > 0);
    ecg_split_free(&r);
    ecg_split_free(&s);
    ecg_dataset_free(&ds);
}

static void class_counts_print_as_a_table(void)
{
    const int per_class[4] = {10, 20, 5, 5};
    struct ecg_dataset ds;
    make_dataset(&ds, per_class, 0);
    struct ecg_split_opts o;
    ecg_split_opts_default(&o);
    o.val_fraction = 0.2;
    o.test_fraction = 0.2;
    struct ecg_splits s;
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL_FATAL(ecg_split_dataset(&ds, &o, &s, &err), ECG_OK);
    char path[512];
    snprintf(path, sizeof path, "%s/counts.txt", ecg_test_tmpdir());
    FILE *f = fopen(path, "w+");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    ecg_split_print(f, &ds, &s);
    rewind(f);
    char text[1024] = {0};
    CU_ASSERT_TRUE(fread(text, 1, sizeof text - 1, f) > 0);
    fclose(f);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "AF"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "NSR"));
    /* 40 records at 0.6/0.2/0.2: train 6 AF, 12 NSR, 3, 3 = 24. */
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "train         6       12        3        3       24"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "test          2        4        1        1        8"));
    ecg_split_free(&s);
    ecg_dataset_free(&ds);
}

static void bad_split_requests_fail_with_messages(void)
{
    const int per_class[4] = {3, 3, 3, 3};
    struct ecg_dataset ds;
    make_dataset(&ds, per_class, 0);
    struct ecg_split_opts o;
    struct ecg_splits s;
    struct ecg_error err = {0};
    ecg_split_opts_default(&o);
    o.val_fraction = 0.6;
    o.test_fraction = 0.5;
    ECG_CHECK_ERROR(ecg_split_dataset(&ds, &o, &s, &err), &err, ECG_ERR_RANGE,
                    "data.val_fraction and data.test_fraction: expected val_fraction >= 0 and a sum below 1, found "
                    "0.6 + 0.5");
    ecg_split_opts_default(&o);
    o.folds = 5;
    o.fold = 5;
    ECG_CHECK_ERROR(ecg_split_dataset(&ds, &o, &s, &err), &err, ECG_ERR_RANGE,
                    "data.fold: expected 0..4 for 5 folds, found 5");
    ecg_split_opts_default(&o);
    o.folds = 2;
    o.val_fraction = 0.5;
    ECG_CHECK_ERROR(ecg_split_dataset(&ds, &o, &s, &err), &err, ECG_ERR_RANGE,
                    "data.val_fraction and data.folds: expected val_fraction + 1/folds < 1, found 0.5 + 1/2");
    ecg_split_opts_default(&o);
    ds.records[7].label = -1;
    ECG_CHECK_ERROR(ecg_split_dataset(&ds, &o, &s, &err), &err, ECG_ERR_VALUE,
                    "split: record 'R00007' has label -1, expected 0..3");
    ecg_dataset_free(&ds);
    struct ecg_dataset empty = {0};
    ECG_CHECK_ERROR(ecg_split_dataset(&empty, &o, &s, &err), &err, ECG_ERR_VALUE, "the dataset is empty");
    int32_t labels[2] = {0, 9};
    int8_t part[2];
    ECG_CHECK_ERROR(ecg_split_assign(labels, NULL, 2, 4, &o, part, &err), &err, ECG_ERR_VALUE,
                    "item 1 has label 9");
}

static const struct ecg_test split_tests[] = {
    {"record splits are stratified within rounding", record_splits_are_stratified_within_rounding},
    {"k-fold test sets are disjoint, stratified and cover every record",
     k_fold_test_sets_are_disjoint_stratified_and_cover_every_record},
    {"k folds keep each patient on one side", k_folds_keep_each_patient_on_one_side},
    {"subject splits never share a subject", subject_splits_never_share_a_subject},
    {"class counts print as a table", class_counts_print_as_a_table},
    {"bad split requests fail with messages", bad_split_requests_fail_with_messages},
    {NULL, NULL},
};
static const struct ecg_suite suites[] = {
    {"split", split_tests},
    {NULL, NULL},
};

int main(int argc, char **argv) { return ecg_test_main(argc, argv, suites); }
