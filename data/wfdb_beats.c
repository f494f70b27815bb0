/* The beats of one WFDB record as dataset records: reference or detected beats, windows around them, AAMI labels. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/morphology.h"
#include "data/qrs.h"
#include "data/reader_common.h"
#include "data/readers.h"
#include "data/rr.h"

const char *const ecg_beat_source_names[] = {[ECG_BEATS_REFERENCE] = "reference", [ECG_BEATS_DETECTED] = "detected",
                                             NULL};
const char *const ecg_q_policy_names[] = {[ECG_Q_EXCLUDE] = "exclude", [ECG_Q_KEEP] = "keep", NULL};

/* A detection is labelled by a reference beat at most this far away (EC57's match window). */
#define LABEL_WINDOW_S 0.15

int64_t ecg_beat_id_sample(const char *id)
{
    const char *colon = strrchr(id, ':');
    if (!colon || !colon[1])
        return -1;
    char *end;
    long long v = strtoll(colon + 1, &end, 10);
    return *end || v < 0 ? -1 : (int64_t)v;
}

/* The beats of a record: positions, labels (AAMI class, -1 unknown) and MIT annotation codes (0 unknown). */
struct beat_list {
    int64_t *at;
    int32_t *label;
    int32_t *code;
    int64_t n;
};

static void beat_list_free(struct beat_list *b)
{
    free(b->at);
    free(b->label);
    free(b->code);
    memset(b, 0, sizeof *b);
}

static int beat_list_alloc(struct beat_list *b, int64_t n, struct ecg_error *err)
{
    b->n = 0;
    b->at = malloc((size_t)(n > 0 ? n : 1) * sizeof *b->at);
    b->label = malloc((size_t)(n > 0 ? n : 1) * sizeof *b->label);
    b->code = malloc((size_t)(n > 0 ? n : 1) * sizeof *b->code);
    if (!b->at || !b->label || !b->code) {
        beat_list_free(b);
        return ecg_error_set(err, ECG_ERR_NOMEM, "no memory for %lld beats", (long long)n);
    }
    return ECG_OK;
}

/* The annotated beats (non-beat annotations dropped). */
static int reference_beats(const struct ecg_wfdb_annotation *ann, int64_t nann, struct beat_list *ref,
                           struct ecg_error *err)
{
    ECG_TRY(beat_list_alloc(ref, nann, err));
    for (int64_t i = 0; i < nann; i++)
        if (ann[i].aami >= 0) {
            ref->at[ref->n] = ann[i].sample;
            ref->code[ref->n] = ann[i].code;
            ref->label[ref->n++] = ann[i].aami;
        }
    return ECG_OK;
}

/* Labels each detection with the nearest unused reference beat within `window` samples, else -1. */
static void label_detections(struct beat_list *det, const struct beat_list *ref, int64_t window, char *used)
{
    int64_t j = 0;
    for (int64_t i = 0; i < det->n; i++) {
        int64_t d = det->at[i];
        while (j < ref->n && ref->at[j] < d - window)
            j++;
        int64_t best = -1;
        for (int64_t r = j; r < ref->n && ref->at[r] <= d + window; r++)
            if (!used[r] && (best < 0 || llabs(ref->at[r] - d) < llabs(ref->at[best] - d)))
                best = r;
        det->label[i] = best >= 0 ? ref->label[best] : -1;
        det->code[i] = best >= 0 ? ref->code[best] : 0;
        if (best >= 0)
            used[best] = 1;
    }
}

/* The QRS detector's beats, labelled from ref when the record has annotations. */
static int detected_beats(const float *x, int64_t len, double fs, const struct beat_list *ref, bool annotated,
                          struct beat_list *det, struct ecg_error *err)
{
    int64_t *peaks = NULL, n = 0;
    ECG_TRY(ecg_qrs_detect(x, len, fs, NULL, &peaks, &n, err));
    det->at = peaks;
    det->n = n;
    det->label = malloc((size_t)(n > 0 ? n : 1) * sizeof *det->label);
    det->code = calloc((size_t)(n > 0 ? n : 1), sizeof *det->code);
    char *used = calloc((size_t)(ref->n > 0 ? ref->n : 1), 1);
    if (!det->label || !det->code || !used) {
        free(used);
        return ecg_error_set(err, ECG_ERR_NOMEM, "no memory for %lld beats", (long long)n);
    }
    if (annotated)
        label_detections(det, ref, (int64_t)llround(LABEL_WINDOW_S * fs), used);
    else
        for (int64_t i = 0; i < n; i++)
            det->label[i] = -1;
    free(used);
    return ECG_OK;
}

/* Pushes the window and features of every beat the options keep; rr (b->n x ECG_RR_FEATURES) and morph (b->n x
 * ECG_MORPHOLOGY_FEATURES) hold the features of all the beats, kept or not, so that a skipped beat still counts as
 * a neighbour and in the record's template. */
static int cut_beats(const char *hea, const char *name, const float *x, int64_t len, double fs,
                     const struct beat_list *b, const float *rr, const float *morph, const struct ecg_read_options *opt,
                     struct ecg_dataset *ds, struct ecg_beat_read_counts *c, struct ecg_error *err)
{
    int64_t before = (int64_t)llround(opt->beat_before_s * fs), after = (int64_t)llround(opt->beat_after_s * fs);
    if (before < 0 || after < 1)
        return ecg_error_set(err, ECG_ERR_RANGE, "beat window %g s before / %g s after: expected >= 0 and > 0",
                             opt->beat_before_s, opt->beat_after_s);
    struct ecg_read_options bopt = *opt;
    bopt.min_seconds = 0;
    for (int64_t i = 0; i < b->n; i++) {
        int64_t s = b->at[i];
        int64_t *reason = s - before < 0 || s + after > len                        ? &c->edge
                          : b->label[i] == ECG_BEAT_Q && opt->q_beats == ECG_Q_EXCLUDE ? &c->q
                          : b->label[i] < 0 && !opt->keep_unlabelled                  ? &c->unmatched
                                                                                      : NULL;
        if (reason) {
            (*reason)++;
            ds->skipped++; /* a documented skip rule, always counted */
            continue;
        }
        struct ecg_record rec = {.label = b->label[i], .beat_code = b->code[i], .fs = fs, .length = before + after};
        memcpy(rec.features, rr + i * ECG_RR_FEATURES, ECG_RR_FEATURES * sizeof(float));
        memcpy(rec.features + ECG_RR_FEATURES, morph + i * ECG_MORPHOLOGY_FEATURES,
               ECG_MORPHOLOGY_FEATURES * sizeof(float));
        snprintf(rec.id, sizeof rec.id, "%.40s:%lld", name, (long long)s); /* WFDB names have at most 40 characters */
        ecg_strlcpy(rec.subject, name, sizeof rec.subject);
        if (!(rec.signal = malloc((size_t)rec.length * sizeof(float))))
            return ecg_error_set(err, ECG_ERR_NOMEM, "%s: no memory for a beat", hea);
        memcpy(rec.signal, x + s - before, (size_t)rec.length * sizeof(float));
        int bad = ecg_reader_check(&bopt, &rec, err);
        if (bad)
            ecg_error_prefix(err, bad, "%s: beat at sample %lld", hea, (long long)s);
        int64_t had = ds->count;
        ECG_TRY(ecg_reader_keep(opt, ds, &rec, bad, err));
        c->kept += ds->count - had;
    }
    return ECG_OK;
}

/* The beats of one channel x (len samples at fs Hz) of record `name`: beats chosen as opt->beats says,
 * labelled from ref when annotated, their RR and morphology features, and the windows the options keep.  `where`
 * names the source in messages. */
static int beats_of_channel(const char *where, const char *name, const float *x, int64_t len, double fs,
                            const struct beat_list *ref, bool annotated, const struct ecg_read_options *opt,
                            struct ecg_dataset *ds, struct ecg_beat_read_counts *c, struct ecg_error *err)
{
    struct beat_list det = {0};
    float *rr = NULL, *morph = NULL;
    const struct beat_list *beats = ref;
    int rc = ECG_OK;
    if (opt->beats == ECG_BEATS_DETECTED) {
        if ((rc = detected_beats(x, len, fs, ref, annotated, &det, err))) {
            ecg_error_prefix(err, rc, "%s", where);
            goto done;
        }
        beats = &det;
    }
    c->beats = beats->n;
    const size_t rows = (size_t)(beats->n > 0 ? beats->n : 1);
    rr = malloc(rows * ECG_RR_FEATURES * sizeof *rr);
    morph = malloc(rows * ECG_MORPHOLOGY_FEATURES * sizeof *morph);
    if (!rr || !morph) {
        rc = ecg_error_set(err, ECG_ERR_NOMEM, "%s: no memory for the features of %lld beats", where,
                           (long long)beats->n);
        goto done;
    }
    if ((rc = ecg_rr_features(beats->at, beats->n, rr, err)) ||
        (rc = ecg_morphology_features(x, len, fs, beats->at, beats->n, morph, err))) {
        ecg_error_prefix(err, rc, "%s", where);
        goto done;
    }
    rc = cut_beats(where, name, x, len, fs, beats, rr, morph, opt, ds, c, err);
done:
    free(rr);
    free(morph);
    beat_list_free(&det);
    return rc;
}

int ecg_wfdb_read_beats(const char *hea, const char *atr, const struct ecg_read_options *opt, struct ecg_dataset *ds,
                        struct ecg_beat_read_counts *counts, struct ecg_error *err)
{
    struct ecg_read_options defaults;
    opt = ecg_read_options_or_default(opt, &defaults);
    ds->task = ECG_TASK_BEAT;
    struct ecg_beat_read_counts c = {0};
    struct ecg_wfdb_header hdr;
    struct ecg_wfdb_annotation *ann = NULL;
    struct beat_list ref = {0};
    float *x = NULL;
    int64_t len = 0, nann = 0;
    int rc;
    if (!atr && opt->beats == ECG_BEATS_REFERENCE)
        return ecg_error_set(err, ECG_ERR_USAGE, "%s: reference beats need the record's annotations (.atr)", hea);
    if (!(rc = ecg_wfdb_read_channel(hea, opt->channel, &hdr, &x, &len, err)) &&
        !(atr && (rc = ecg_wfdb_read_annotations(atr, &ann, &nann, err))) &&
        !(rc = reference_beats(ann, nann, &ref, err)))
        rc = beats_of_channel(hea, hdr.record, x, len, hdr.fs, &ref, atr != NULL, opt, ds, &c, err);
    if (counts)
        *counts = c;
    beat_list_free(&ref);
    free(ann);
    free(x);
    return rc;
}

int ecg_signal_beats(const char *name, const float *x, int64_t len, double fs, const struct ecg_read_options *opt,
                     struct ecg_dataset *ds, struct ecg_beat_read_counts *counts, struct ecg_error *err)
{
    struct ecg_read_options o;
    if (opt)
        o = *opt;
    else
        ecg_read_options_default(&o);
    o.beats = ECG_BEATS_DETECTED;
    o.keep_unlabelled = true;
    ds->task = ECG_TASK_BEAT;
    struct ecg_beat_read_counts c = {0};
    struct beat_list none = {0};
    int rc = ECG_OK;
    if (!(fs > 0) || len < 1 || !x)
        rc = ecg_error_set(err, ECG_ERR_VALUE, "record '%s': %lld samples at %g Hz, expected samples and a rate > 0",
                           name, (long long)len, fs);
    else
        rc = beats_of_channel(name, name, x, len, fs, &none, false, &o, ds, &c, err);
    if (counts)
        *counts = c;
    return rc;
}
