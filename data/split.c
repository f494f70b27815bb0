/* Stratified greedy assignment of records or subject groups to train/validation/test parts and folds. */
#include "data/split.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"

void ecg_split_opts_default(struct ecg_split_opts *o)
{
    memset(o, 0, sizeof *o);
    o->val_fraction = 0.15;
    o->test_fraction = 0.15;
    o->group = ECG_GROUP_AUTO;
}

const char *const ecg_group_mode_names[] = {
    [ECG_GROUP_AUTO] = "auto", [ECG_GROUP_RECORD] = "record", [ECG_GROUP_SUBJECT] = "subject", NULL,
};

const char *const ecg_split_part_names[] = {
    [ECG_PART_TRAIN] = "train", [ECG_PART_VAL] = "val", [ECG_PART_TEST] = "test", [ECG_PART_ALL] = "all", NULL,
};

const char *ecg_split_part_name(enum ecg_split_part p)
{
    return (int)p >= 0 && (int)p <= ECG_PART_ALL ? ecg_split_part_names[p] : "?";
}

/* The share of all records the test set takes. */
static double test_share(const struct ecg_split_opts *o)
{
    return o->folds >= 2 ? 1.0 / (double)o->folds : o->test_fraction;
}

static int check_opts(const struct ecg_split_opts *o, struct ecg_error *err)
{
    if (o->folds < 0 || o->folds > 1000)
        return ecg_error_set(err, ECG_ERR_RANGE, "data.folds: expected 0 or 1 (no folds) or 2..1000, found %lld",
                             (long long)o->folds);
    if (o->folds >= 2 && (o->fold < 0 || o->fold >= o->folds))
        return ecg_error_set(err, ECG_ERR_RANGE, "data.fold: expected 0..%lld for %lld folds, found %lld",
                             (long long)(o->folds - 1), (long long)o->folds, (long long)o->fold);
    if (o->folds < 2 && !(o->test_fraction >= 0 && o->test_fraction < 1))
        return ecg_error_set(err, ECG_ERR_RANGE, "data.test_fraction: expected 0 <= test_fraction < 1, found %g",
                             o->test_fraction);
    if (!(o->val_fraction >= 0 && o->val_fraction + test_share(o) < 1)) {
        if (o->folds >= 2)
            return ecg_error_set(err, ECG_ERR_RANGE,
                                 "data.val_fraction and data.folds: expected val_fraction + 1/folds < 1, found %g + "
                                 "1/%lld",
                                 o->val_fraction, (long long)o->folds);
        return ecg_error_set(err, ECG_ERR_RANGE,
                             "data.val_fraction and data.test_fraction: expected val_fraction >= 0 and a sum below "
                             "1, found %g + %g",
                             o->val_fraction, o->test_fraction);
    }
    if (o->group < ECG_GROUP_AUTO || o->group > ECG_GROUP_SUBJECT)
        return ecg_error_set(err, ECG_ERR_RANGE, "split group mode: unknown value %d", (int)o->group);
    return ECG_OK;
}

struct keyed {
    int64_t key, pos;
};

static int cmp_keyed(const void *a, const void *b)
{
    const struct keyed *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return x->pos < y->pos ? -1 : x->pos > y->pos;
}

struct ranked {
    int64_t key, rank, item;
};

static int cmp_ranked(const void *a, const void *b)
{
    const struct ranked *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return x->rank < y->rank ? -1 : x->rank > y->rank;
}

/* The scratch of the greedy assignment of groups to P parts. */
struct greedy_scratch {
    struct ranked *order; /* one per group */
    double *cur;          /* P x nclass */
    double *total;        /* nclass */
    double *frac;         /* P: each part's share */
    int *tied;            /* P */
};

/*
 * Greedy stratified assignment of the groups sel[0..ng) to P parts with the fractions s->frac; writes the
 * part of group sel[j] to gpart[sel[j]].  gc: the groups' class counts (group x nclass).
 */
static void greedy(const int64_t *sel, int64_t ng, const int64_t *gc, int nclass, int P, struct ecg_rng *rng,
                   int32_t *gpart, struct greedy_scratch *s)
{
    struct ranked *order = s->order;
    double *cur = s->cur, *total = s->total;
    const double *frac = s->frac;
    /* A seeded shuffle gives each group a rank; then largest first, rank breaking ties. */
    for (int64_t j = 0; j < ng; j++)
        order[j].item = sel[j];
    for (int64_t j = ng - 1; j > 0; j--) {
        int64_t k = (int64_t)ecg_rng_below(rng, (uint64_t)j + 1);
        int64_t t = order[j].item;
        order[j].item = order[k].item;
        order[k].item = t;
    }
    for (int64_t j = 0; j < ng; j++) {
        int64_t size = 0;
        for (int c = 0; c < nclass; c++)
            size += gc[order[j].item * nclass + c];
        order[j].key = -size;
        order[j].rank = j;
    }
    qsort(order, (size_t)ng, sizeof *order, cmp_ranked);
    for (int c = 0; c < nclass; c++)
        total[c] = 0;
    for (int64_t j = 0; j < ng; j++)
        for (int c = 0; c < nclass; c++)
            total[c] += (double)gc[sel[j] * nclass + c];
    for (int i = 0; i < P * nclass; i++)
        cur[i] = 0;
    for (int64_t j = 0; j < ng; j++) {
        int64_t g = order[j].item;
        double best = -INFINITY;
        int nt = 0;
        for (int p = 0; p < P; p++) {
            if (frac[p] <= 0)
                continue;
            double score = 0;
            for (int c = 0; c < nclass; c++) {
                int64_t k = gc[g * nclass + c];
                if (k)
                    score += (double)k * (frac[p] * total[c] - cur[p * nclass + c]) / (total[c] > 0 ? total[c] : 1);
            }
            if (score > best + 1e-12) {
                best = score;
                nt = 0;
                s->tied[nt++] = p;
            } else if (fabs(score - best) <= 1e-12) {
                s->tied[nt++] = p;
            }
        }
        ECG_ASSERT(nt > 0);
        int p = s->tied[nt > 1 ? (int)ecg_rng_below(rng, (uint64_t)nt) : 0];
        gpart[g] = p;
        for (int c = 0; c < nclass; c++)
            cur[p * nclass + c] += (double)gc[g * nclass + c];
    }
}

/* Dense group ids 0..G-1 into gid (n), numbered in the order of the sorted keys; returns G.  Without
 * groups every item is its own group.  keys (n) is scratch. */
static int64_t dense_group_ids(const int64_t *groups, int64_t n, int64_t *gid, struct keyed *keys)
{
    if (!groups) {
        for (int64_t i = 0; i < n; i++)
            gid[i] = i;
        return n;
    }
    for (int64_t i = 0; i < n; i++)
        keys[i] = (struct keyed){groups[i], i};
    qsort(keys, (size_t)n, sizeof *keys, cmp_keyed);
    int64_t G = 0;
    for (int64_t i = 0; i < n; i++) {
        if (i > 0 && keys[i].key != keys[i - 1].key)
            G++;
        gid[keys[i].pos] = G;
    }
    return G + 1;
}

/* The part of each of the G groups into gpart: -1 test, 0 train, 1 validation.  P parts in stage 1 (the
 * folds, or the rest and the test fraction); sel (G) is scratch. */
static void assign_groups(const int64_t *gc, int64_t G, int nclass, int P, const struct ecg_split_opts *o,
                          int32_t *gpart, int64_t *sel, struct greedy_scratch *s)
{
    struct ecg_rng root = ecg_rng_init(o->seed, 0x5b1177);
    /* Stage 1: hold out the test set: a fraction, or one of P folds (the assignment ignores `fold`). */
    for (int64_t g = 0; g < G; g++) {
        sel[g] = g;
        gpart[g] = 0;
    }
    int test_part = o->folds >= 2 ? (int)o->fold : 1;
    if (o->folds >= 2 || o->test_fraction > 0) {
        struct ecg_rng r1 = ecg_rng_stream(&root, 1);
        for (int p = 0; p < P; p++)
            s->frac[p] = 1.0 / P;
        if (o->folds < 2) {
            s->frac[0] = 1 - o->test_fraction;
            s->frac[1] = o->test_fraction;
        }
        greedy(sel, G, gc, nclass, P, &r1, gpart, s);
    } else {
        test_part = -2; /* no group is test */
    }
    int64_t nrest = 0;
    for (int64_t g = 0; g < G; g++) {
        if (gpart[g] == test_part)
            gpart[g] = -1; /* test */
        else
            sel[nrest++] = g;
    }
    /* Stage 2: train/validation among the rest, val_fraction of the whole to validation. */
    struct ecg_rng r2 = ecg_rng_stream(&root, 2);
    s->frac[1] = o->val_fraction / (1 - test_share(o));
    s->frac[0] = 1 - s->frac[1];
    for (int64_t j = 0; j < nrest; j++)
        gpart[sel[j]] = 0;
    if (nrest > 0 && s->frac[1] > 0)
        greedy(sel, nrest, gc, nclass, 2, &r2, gpart, s);
}

int ecg_split_assign(const int32_t *labels, const int64_t *groups, int64_t n, int nclass,
                     const struct ecg_split_opts *o, int8_t *part, struct ecg_error *err)
{
    ECG_TRY(check_opts(o, err));
    if (n < 1)
        return ecg_error_set(err, ECG_ERR_VALUE, "split: the dataset is empty");
    for (int64_t i = 0; i < n; i++)
        if (labels[i] < 0 || labels[i] >= nclass)
            return ecg_error_set(err, ECG_ERR_VALUE, "split: item %lld has label %d, expected 0..%d", (long long)i,
                                 labels[i], nclass - 1);
    const int P = o->folds >= 2 ? (int)o->folds : 2;
    int rc = ECG_OK;
    int64_t *gid = malloc((size_t)n * sizeof *gid);
    struct keyed *keys = malloc((size_t)n * sizeof *keys);
    int64_t *gc = NULL, *sel = NULL;
    int32_t *gpart = NULL;
    struct greedy_scratch s = {
        .order = malloc((size_t)n * sizeof *s.order),
        .cur = malloc((size_t)P * (size_t)nclass * sizeof *s.cur),
        .total = malloc((size_t)nclass * sizeof *s.total),
        .frac = malloc((size_t)P * sizeof *s.frac),
        .tied = malloc((size_t)P * sizeof *s.tied),
    };
    if (!gid || !keys || !s.order || !s.cur || !s.total || !s.frac || !s.tied) {
        rc = ecg_error_set(err, ECG_ERR_NOMEM, "split: cannot allocate for %lld items", (long long)n);
        goto done;
    }
    const int64_t G = dense_group_ids(groups, n, gid, keys);
    gc = calloc((size_t)G * (size_t)nclass, sizeof *gc);
    sel = malloc((size_t)G * sizeof *sel);
    gpart = malloc((size_t)G * sizeof *gpart);
    if (!gc || !sel || !gpart) {
        rc = ecg_error_set(err, ECG_ERR_NOMEM, "split: cannot allocate for %lld groups", (long long)G);
        goto done;
    }
    for (int64_t i = 0; i < n; i++)
        gc[gid[i] * nclass + labels[i]]++;
    assign_groups(gc, G, nclass, P, o, gpart, sel, &s);
    for (int64_t i = 0; i < n; i++) {
        int32_t gp = gpart[gid[i]];
        part[i] = gp < 0 ? ECG_PART_TEST : gp == 1 ? ECG_PART_VAL : ECG_PART_TRAIN;
    }
done:
    free(gid);
    free(keys);
    free(gc);
    free(sel);
    free(gpart);
    free(s.order);
    free(s.cur);
    free(s.total);
    free(s.frac);
    free(s.tied);
    return rc;
}

/* A record's subject and index, sorted by subject then index. */
struct by_subject {
    const char *subject;
    int64_t idx;
};

static int cmp_subject(const void *a, const void *b)
{
    const struct by_subject *x = a, *y = b;
    int c = strcmp(x->subject, y->subject);
    return c ? c : (x->idx < y->idx ? -1 : x->idx > y->idx);
}

int ecg_split_dataset(const struct ecg_dataset *ds, const struct ecg_split_opts *o, struct ecg_splits *out,
                      struct ecg_error *err)
{
    memset(out, 0, sizeof *out);
    ECG_TRY(check_opts(o, err));
    const int64_t n = ds->count;
    const int nclass = ecg_task_class_count(ds->task);
    if (n < 1)
        return ecg_error_set(err, ECG_ERR_VALUE, "split: the dataset is empty");
    for (int64_t i = 0; i < n; i++)
        if (ds->records[i].label < 0 || ds->records[i].label >= nclass)
            return ecg_error_set(err, ECG_ERR_VALUE, "split: record '%s' has label %d, expected 0..%d",
                                 ds->records[i].id, ds->records[i].label, nclass - 1);
    int by_subject = 0;
    if (o->group == ECG_GROUP_SUBJECT)
        by_subject = 1;
    else if (o->group == ECG_GROUP_AUTO)
        for (int64_t i = 0; i < n && !by_subject; i++)
            by_subject = ds->records[i].subject[0] != '\0';
    int rc = ECG_OK;
    int32_t *labels = malloc((size_t)n * sizeof *labels);
    int64_t *groups = by_subject ? malloc((size_t)n * sizeof *groups) : NULL;
    struct by_subject *order = by_subject ? malloc((size_t)n * sizeof *order) : NULL;
    int8_t *part = malloc((size_t)n);
    if (!labels || !part || (by_subject && (!groups || !order))) {
        rc = ecg_error_set(err, ECG_ERR_NOMEM, "split: cannot allocate for %lld records", (long long)n);
        goto done;
    }
    for (int64_t i = 0; i < n; i++)
        labels[i] = ds->records[i].label;
    if (by_subject) {
        /* Equal non-empty subjects share an id; an empty subject is a group of its own. */
        for (int64_t i = 0; i < n; i++)
            order[i] = (struct by_subject){ds->records[i].subject, i};
        qsort(order, (size_t)n, sizeof *order, cmp_subject);
        int64_t g = 0;
        for (int64_t k = 0; k < n; k++) {
            const char *s = order[k].subject;
            if (k > 0 && (s[0] == '\0' || strcmp(s, order[k - 1].subject) != 0))
                g++;
            groups[order[k].idx] = g;
        }
    }
    rc = ecg_split_assign(labels, groups, n, nclass, o, part, err);
    if (rc)
        goto done;
    for (int p = 0; p < ECG_PART_COUNT; p++) {
        int64_t k = 0;
        for (int64_t i = 0; i < n; i++)
            k += part[i] == p;
        out->idx[p] = malloc((size_t)(k > 0 ? k : 1) * sizeof *out->idx[p]);
        if (!out->idx[p]) {
            rc = ecg_error_set(err, ECG_ERR_NOMEM, "split: cannot allocate index lists");
            goto done;
        }
        for (int64_t i = 0; i < n; i++)
            if (part[i] == p)
                out->idx[p][out->n[p]++] = i;
    }
    out->by_subject = by_subject;
done:
    if (rc)
        ecg_split_free(out);
    free(labels);
    free(groups);
    free(order);
    free(part);
    return rc;
}

void ecg_split_free(struct ecg_splits *s)
{
    if (!s)
        return;
    for (int p = 0; p < ECG_PART_COUNT; p++)
        free(s->idx[p]);
    memset(s, 0, sizeof *s);
}

void ecg_split_class_counts(const struct ecg_dataset *ds, const struct ecg_splits *s, int64_t *counts)
{
    const int nclass = ecg_task_class_count(ds->task);
    memset(counts, 0, (size_t)ECG_PART_COUNT * (size_t)nclass * sizeof *counts);
    for (int p = 0; p < ECG_PART_COUNT; p++)
        for (int64_t k = 0; k < s->n[p]; k++) {
            int32_t l = ds->records[s->idx[p][k]].label;
            if (l >= 0 && l < nclass)
                counts[p * nclass + l]++;
        }
}

void ecg_split_print(FILE *f, const struct ecg_dataset *ds, const struct ecg_splits *s)
{
    const int nclass = ecg_task_class_count(ds->task);
    int64_t counts[ECG_PART_COUNT * 8] = {0};
    ECG_ASSERT(nclass <= 8);
    ecg_split_class_counts(ds, s, counts);
    fprintf(f, "%-6s", "split");
    for (int c = 0; c < nclass; c++)
        fprintf(f, " %8s", ecg_task_class_name(ds->task, c));
    fprintf(f, " %8s\n", "total");
    for (int p = 0; p < ECG_PART_COUNT; p++) {
        fprintf(f, "%-6s", ecg_split_part_name((enum ecg_split_part)p));
        for (int c = 0; c < nclass; c++)
            fprintf(f, " %8lld", (long long)counts[p * nclass + c]);
        fprintf(f, " %8lld\n", (long long)s->n[p]);
    }
}
