/* Reference beats from MIT annotations and the bxb-style beat-by-beat matcher. */
#include "eval/beat_match.h"

#include <math.h>
#include <stdlib.h>

/* MIT codes of the non-beat annotations that open and close a flutter/fibrillation episode. */
enum { CODE_VFON = 32, CODE_VFOFF = 33 };

int ecg_beat_code_is_qrs(int32_t code)
{
    switch (code) {
    case 1:  /* N normal */
    case 2:  /* L left bundle branch block */
    case 3:  /* R right bundle branch block */
    case 4:  /* a aberrated atrial premature */
    case 5:  /* V premature ventricular contraction */
    case 6:  /* F fusion of ventricular and normal */
    case 7:  /* J nodal premature */
    case 8:  /* A atrial premature */
    case 9:  /* S supraventricular premature */
    case 10: /* E ventricular escape */
    case 11: /* j nodal escape */
    case 12: /* / paced */
    case 13: /* Q unclassifiable */
    case 25: /* B bundle branch block, unspecified */
    case 30: /* ? beat not classified during learning */
    case 34: /* e atrial escape */
    case 35: /* n supraventricular escape */
    case 38: /* f fusion of paced and normal */
    case 41: /* r R-on-T premature ventricular contraction */
        return 1;
    default:
        return 0;
    }
}

int ecg_beat_reference(const struct ecg_wfdb_annotation *ann, int64_t n, int64_t record_end, int64_t **ref,
                       int64_t *nref, struct ecg_beat_span **spans, int64_t *nspans, struct ecg_error *err)
{
    *ref = NULL;
    *spans = NULL;
    *nref = *nspans = 0;
    int64_t nb = 0, ns = 0;
    for (int64_t i = 0; i < n; i++) {
        nb += ecg_beat_code_is_qrs(ann[i].code);
        ns += ann[i].code == CODE_VFON;
    }
    int64_t *r = malloc((size_t)(nb ? nb : 1) * sizeof *r);
    struct ecg_beat_span *s = malloc((size_t)(ns ? ns : 1) * sizeof *s);
    if (!r || !s) {
        free(r);
        free(s);
        return ecg_error_set(err, ECG_ERR_NOMEM, "no memory for %lld reference beats", (long long)nb);
    }
    int64_t kb = 0, ks = 0, prev = -1;
    int in_vf = 0;
    for (int64_t i = 0; i < n; i++) {
        if (ann[i].sample < prev) {
            free(r);
            free(s);
            return ecg_error_set(err, ECG_ERR_VALUE,
                                 "annotation %lld at sample %lld comes before the previous one (%lld): "
                                 "expected time order",
                                 (long long)i, (long long)ann[i].sample, (long long)prev);
        }
        prev = ann[i].sample;
        if (ann[i].code == CODE_VFON && !in_vf) {
            in_vf = 1;
            s[ks].start = ann[i].sample;
            s[ks].end = record_end;
        } else if (ann[i].code == CODE_VFOFF && in_vf) {
            in_vf = 0;
            s[ks++].end = ann[i].sample;
        } else if (!in_vf && ecg_beat_code_is_qrs(ann[i].code))
            r[kb++] = ann[i].sample;
    }
    ks += in_vf;
    if (kb == 0) {
        free(r);
        r = NULL;
    }
    if (ks == 0) {
        free(s);
        s = NULL;
    }
    *ref = r;
    *nref = kb;
    *spans = s;
    *nspans = ks;
    return ECG_OK;
}

static int check_ascending(const char *what, const int64_t *v, int64_t n, struct ecg_error *err)
{
    for (int64_t i = 1; i < n; i++)
        if (v[i] < v[i - 1])
            return ecg_error_set(err, ECG_ERR_VALUE,
                                 "beat matching: %s beat %lld at sample %lld follows one at %lld: expected "
                                 "ascending positions",
                                 what, (long long)i, (long long)v[i], (long long)v[i - 1]);
    return ECG_OK;
}

static int in_spans(int64_t t, const struct ecg_beat_span *s, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        if (s[i].start <= t && t <= s[i].end)
            return 1;
    return 0;
}

/* Far beyond any sample position, and still safe to subtract from. */
#define FAR (INT64_MAX / 4)

static int64_t at(const int64_t *v, int64_t n, int64_t i)
{
    return i < n ? v[i] : FAR;
}

int ecg_beat_match(const int64_t *ref, int64_t nref, const int64_t *test, int64_t ntest, int64_t window,
                   const struct ecg_beat_span *excluded, int64_t nexcluded, struct ecg_beat_counts *c,
                   struct ecg_error *err)
{
    if (window < 0)
        return ecg_error_set(err, ECG_ERR_RANGE, "beat matching: window of %lld samples, expected >= 0",
                             (long long)window);
    ECG_TRY(check_ascending("reference", ref, nref, err));
    ECG_TRY(check_ascending("detected", test, ntest, err));
    int64_t i = 0, j = 0;
    while (i < nref || j < ntest) {
        int64_t T = at(ref, nref, i), t = at(test, ntest, j);
        int64_t Tn = at(ref, nref, i + 1), tn = at(test, ntest, j + 1);
        if (t < T) {
            /* The detection comes first: it pairs with T unless the next detection is closer to T. */
            if (T - t <= window && T - t < llabs(T - tn)) {
                c->tp++;
                i++;
            } else if (!in_spans(t, excluded, nexcluded))
                c->fp++;
            j++;
        } else {
            /* The reference beat comes first: it pairs with t unless the next reference beat is closer. */
            if (t - T <= window && t - T < llabs(t - Tn)) {
                c->tp++;
                j++;
            } else if (!in_spans(T, excluded, nexcluded))
                c->fn++;
            i++;
        }
    }
    return ECG_OK;
}

double ecg_beat_sensitivity(const struct ecg_beat_counts *c)
{
    return c->tp + c->fn > 0 ? (double)c->tp / (double)(c->tp + c->fn) : NAN;
}

double ecg_beat_ppv(const struct ecg_beat_counts *c)
{
    return c->tp + c->fp > 0 ? (double)c->tp / (double)(c->tp + c->fp) : NAN;
}
