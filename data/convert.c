/* Segment selection, resampling, optional band-pass and cutting for dataset conversion. */
#include "data/convert.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/rng.h"
#include "data/signal.h"

void ecg_convert_options_default(struct ecg_convert_options *opt)
{
    memset(opt, 0, sizeof *opt);
    opt->fs_out = 1024.0;
    opt->seconds = 10.0;
    opt->windows = 1;
    opt->bandpass = 0;
    opt->per_class = 0;
    opt->seed = 1;
    opt->flat_std_mv = 1e-4;
}

/* Whole windows a record of `length` samples at `fs` gives after resampling. */
static int64_t windows_of(const struct ecg_record *r, const struct ecg_convert_options *opt, int64_t seg)
{
    int64_t n = r->fs == opt->fs_out ? r->length
                                     : ecg_resample_length(r->length, (int64_t)opt->fs_out, (int64_t)r->fs);
    int64_t w = n / seg;
    return w < opt->windows ? w : opt->windows;
}

/* take[i]: the windows record i gives (0 for one shorter than a window, counted as skipped). */
static int count_windows(const struct ecg_dataset *in, const struct ecg_convert_options *opt, int64_t seg,
                         int64_t *take, struct ecg_dataset *out, struct ecg_error *err)
{
    int nclass = ecg_task_class_count(in->task);
    for (int64_t i = 0; i < in->count; i++) {
        const struct ecg_record *r = &in->records[i];
        if (r->fs != opt->fs_out && (r->fs != floor(r->fs) || !(r->fs >= 1)))
            return ecg_error_set(err, ECG_ERR_RANGE, "record %s: sampling rate %g Hz, expected a whole number of Hz",
                                 r->id, r->fs);
        if (r->label < 0 || r->label >= nclass)
            return ecg_error_set(err, ECG_ERR_VALUE, "record %s: label %d, expected 0..%d", r->id, r->label,
                                 nclass - 1);
        take[i] = windows_of(r, opt, seg);
        if (take[i] == 0)
            out->skipped++; /* shorter than one segment */
    }
    return ECG_OK;
}

/* Per class: records in a seeded random order, until the class has opt->per_class windows. */
static void limit_per_class(const struct ecg_dataset *in, const struct ecg_convert_options *opt, int64_t *take,
                            int64_t *order)
{
    for (int c = 0; c < ecg_task_class_count(in->task); c++) {
        int64_t m = 0, got = 0;
        for (int64_t i = 0; i < in->count; i++)
            if (in->records[i].label == c && take[i] > 0)
                order[m++] = i;
        struct ecg_rng rng = ecg_rng_init(opt->seed, (uint64_t)c);
        ecg_rng_shuffle(&rng, order, m);
        for (int64_t j = 0; j < m; j++) {
            int64_t i = order[j];
            if (got >= opt->per_class)
                take[i] = 0;
            else {
                if (take[i] > opt->per_class - got)
                    take[i] = opt->per_class - got;
                got += take[i];
            }
        }
        if (got < opt->per_class && m > 0)
            ecg_warn("class %s: %lld segments available, fewer than the %lld asked for",
                     ecg_task_class_name(in->task, c), (long long)got, (long long)opt->per_class);
    }
}

/* The record at opt->fs_out (a copy when it is already there), band-passed when asked; *res is malloc'd. */
static int resampled(const struct ecg_record *r, const struct ecg_convert_options *opt, float **res, int64_t *n,
                     struct ecg_error *err)
{
    int rc;
    if (r->fs == opt->fs_out) {
        *n = r->length;
        if (!(*res = malloc((size_t)*n * sizeof **res)))
            return ecg_error_set(err, ECG_ERR_NOMEM, "record %s: no memory", r->id);
        memcpy(*res, r->signal, (size_t)*n * sizeof **res);
    } else if ((rc = ecg_resample_rate(r->signal, r->length, r->fs, opt->fs_out, res, n, err))) {
        return ecg_error_prefix(err, rc, "record %s", r->id);
    }
    if (opt->bandpass && (rc = ecg_signal_bandpass(*res, *n, opt->fs_out, 3, 0.5, 40.0, err)))
        return ecg_error_prefix(err, rc, "record %s", r->id);
    return ECG_OK;
}

/* Pushes the first `take` windows of x (record r after resampling) to out, skipping flat ones;
 * src[out->count] says where each came from. */
static int cut_record(const struct ecg_record *r, const float *x, int64_t take, int64_t seg,
                      const struct ecg_convert_options *opt, struct ecg_dataset *out, struct ecg_segment_source *src,
                      struct ecg_error *err)
{
    for (int64_t k = 0; k < take; k++) {
        const float *w = x + k * seg;
        double mean, sd;
        ecg_signal_stats(w, seg, &mean, &sd);
        if (!(sd > opt->flat_std_mv)) {
            ecg_warn("record %s: segment at %g s is flat (std %g mV), skipped", r->id, (double)k * opt->seconds, sd);
            out->skipped++;
            continue;
        }
        struct ecg_record seg_rec = {0};
        if (snprintf(seg_rec.id, sizeof seg_rec.id, "%.50s@%lld", r->id, (long long)k) < 0)
            seg_rec.id[0] = '\0';
        memcpy(seg_rec.subject, r->subject, sizeof seg_rec.subject);
        seg_rec.label = r->label;
        seg_rec.fs = opt->fs_out;
        seg_rec.length = seg;
        seg_rec.signal = malloc((size_t)seg * sizeof(float));
        if (!seg_rec.signal)
            return ecg_error_set(err, ECG_ERR_NOMEM, "record %s: no memory", r->id);
        memcpy(seg_rec.signal, w, (size_t)seg * sizeof(float));
        struct ecg_segment_source *d = &src[out->count];
        memcpy(d->id, r->id, sizeof d->id);
        d->offset_s = (double)k * opt->seconds;
        d->label = r->label;
        ECG_TRY(ecg_dataset_push(out, &seg_rec, err));
    }
    return ECG_OK;
}

int ecg_convert_segments(const struct ecg_dataset *in, const struct ecg_convert_options *opt,
                         struct ecg_dataset *out, struct ecg_segment_source **src, struct ecg_error *err)
{
    *src = NULL;
    out->task = in->task;
    if (!(opt->fs_out >= 1) || opt->fs_out != floor(opt->fs_out) || !(opt->seconds > 0) || opt->windows < 1 ||
        opt->per_class < 0)
        return ecg_error_set(err, ECG_ERR_RANGE,
                             "conversion to %g Hz, %g s, %d windows, %lld per class: expected a whole rate, "
                             "a positive length, windows >= 1 and per-class >= 0",
                             opt->fs_out, opt->seconds, opt->windows, (long long)opt->per_class);
    int64_t seg = (int64_t)llround(opt->seconds * opt->fs_out);
    int64_t *take = calloc((size_t)(in->count ? in->count : 1), sizeof *take);
    int64_t *order = malloc((size_t)(in->count ? in->count : 1) * sizeof *order);
    struct ecg_segment_source *s = NULL;
    int rc = !take || !order ? ecg_error_set(err, ECG_ERR_NOMEM, "conversion: no memory")
                             : count_windows(in, opt, seg, take, out, err);
    if (rc == ECG_OK && opt->per_class > 0)
        limit_per_class(in, opt, take, order);
    int64_t total = 0;
    for (int64_t i = 0; rc == ECG_OK && i < in->count; i++)
        total += take[i];
    if (rc == ECG_OK && !(s = calloc((size_t)(total ? total : 1), sizeof *s)))
        rc = ecg_error_set(err, ECG_ERR_NOMEM, "conversion: no memory for %lld segments", (long long)total);
    for (int64_t i = 0; rc == ECG_OK && i < in->count; i++) {
        if (!take[i])
            continue;
        float *res = NULL;
        int64_t n = 0;
        rc = resampled(&in->records[i], opt, &res, &n, err);
        if (rc == ECG_OK)
            rc = cut_record(&in->records[i], res, take[i], seg, opt, out, s, err);
        free(res);
    }
    if (rc == ECG_OK) {
        *src = s;
        s = NULL;
    }
    free(s);
    free(take);
    free(order);
    return rc;
}

int ecg_convert_write_list(const char *path, enum ecg_task task, const struct ecg_segment_source *src,
                           int64_t count, struct ecg_error *err)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return ecg_error_set(err, ECG_ERR_IO, "%s: cannot create: %s", path, strerror(errno));
    fprintf(f, "# record offset_s label\n");
    for (int64_t i = 0; i < count; i++)
        fprintf(f, "%s %.3f %s\n", src[i].id, src[i].offset_s, ecg_task_class_name(task, src[i].label));
    if (fclose(f) != 0)
        return ecg_error_set(err, ECG_ERR_IO, "%s: write error (disk full?)", path);
    return ECG_OK;
}
