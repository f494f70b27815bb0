/* Stratified train/validation/test splits, k-fold cross-validation and patient-wise (group) splits. */
#ifndef ECG_DATA_SPLIT_H
#define ECG_DATA_SPLIT_H

#include <stdint.h>
#include <stdio.h>

#include "core/error.h"
#include "data/record.h"

/*
 * Splits are made at the level of records (or of subjects), never of windows,
 * so all windows and segments of one record - and, in subject mode, all records
 * of one subject - fall into one split.
 *
 * Algorithm (one routine for records and for subjects): items (records, or
 * groups of records sharing a subject id) are shuffled with the seed, ordered
 * largest first (stable), and each goes to the part whose per-class deficit
 * (target count - current count, targets = fraction x class total) weighted by
 * the item's class counts is largest; ties go to a seeded random choice among
 * the tied parts.  For single records this gives every class's count in every
 * part within one of its target (stratified up to rounding); for subjects it is
 * as balanced as whole subjects allow.
 *
 * Two stages.  First the test set is held out of everything: test_fraction of
 * the records, or, with folds = k >= 2, fold `fold` of k folds of equal share
 * (stratified k-fold cross-validation; test_fraction is then ignored).  The
 * fold assignment depends only on the seed and k, so the test sets of folds
 * 0..k-1 are disjoint and together hold every record.  Then the rest is cut
 * into train and validation, val_fraction of the whole going to validation
 * (so with folds it must stay below (k - 1) / k).
 *
 * Group mode: RECORD splits records; SUBJECT groups records by their `subject`
 * field (records with an empty subject form their own group); AUTO uses
 * SUBJECT when any record has a subject id.
 */

/* Parts of a split.  ECG_PART_ALL is not a part but the choice "every record" where a part is named
 * (eval.split); ecg_split_part_names[] gives the config names in this order. */
enum ecg_split_part { ECG_PART_TRAIN, ECG_PART_VAL, ECG_PART_TEST, ECG_PART_COUNT, ECG_PART_ALL = ECG_PART_COUNT };
extern const char *const ecg_split_part_names[];
/* data.group; ecg_group_mode_names[] gives the config names in this order. */
enum ecg_group_mode { ECG_GROUP_AUTO, ECG_GROUP_RECORD, ECG_GROUP_SUBJECT };
extern const char *const ecg_group_mode_names[];

/* The split options.  ecgtrain's config fills them from data.<field> (train/config_schema.c; group is
 * data.group); seed is run.seed. */
struct ecg_split_opts {
    double val_fraction;  /* share of all records for validation */
    double test_fraction; /* share of all records held out for test (ignored with folds) */
    int64_t folds;        /* 0 or 1: fractions; k >= 2: stratified k-fold cross-validation */
    int64_t fold;         /* the test fold, 0..folds-1 */
    uint64_t seed;
    enum ecg_group_mode group;
};

/* Defaults: 0.15 validation, 0.15 test, no folds, seed 0, AUTO groups.  Checks name the config keys. */
void ecg_split_opts_default(struct ecg_split_opts *o);

struct ecg_splits {
    int64_t *idx[ECG_PART_COUNT]; /* record indices, ascending; owned */
    int64_t n[ECG_PART_COUNT];
    int by_subject; /* 1 when records were grouped by subject */
};

/*
 * Low-level assignment of n labelled items to parts (ECG_PART_TRAIN/VAL/TEST
 * in part[i]).  groups may be NULL (every item alone) or give a group id per
 * item (any int64 values; items with equal ids stay together).  labels must be
 * in [0, nclass).  ECG_ERR_RANGE for bad options, ECG_ERR_VALUE for a bad label.
 */
int ecg_split_assign(const int32_t *labels, const int64_t *groups, int64_t n, int nclass,
                     const struct ecg_split_opts *o, int8_t *part, struct ecg_error *err);

/* Splits a dataset; errors name the record with an unknown label.  Free with ecg_split_free. */
int ecg_split_dataset(const struct ecg_dataset *ds, const struct ecg_split_opts *o, struct ecg_splits *out,
                      struct ecg_error *err);
void ecg_split_free(struct ecg_splits *s);

/* Class counts per part: counts[part * nclass + label]; nclass = ecg_task_class_count(ds->task). */
void ecg_split_class_counts(const struct ecg_dataset *ds, const struct ecg_splits *s, int64_t *counts);

/* Prints a table of class counts per part (and totals) to f. */
void ecg_split_print(FILE *f, const struct ecg_dataset *ds, const struct ecg_splits *s);

const char *ecg_split_part_name(enum ecg_split_part p);

#endif
