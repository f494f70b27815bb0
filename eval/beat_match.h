/* Beat-by-beat comparison of detected beats with reference annotations (ANSI/AAMI EC57, as WFDB's bxb). */
#ifndef ECG_EVAL_BEAT_MATCH_H
#define ECG_EVAL_BEAT_MATCH_H

#include <stdint.h>

#include "core/error.h"
#include "data/readers.h"

/*
 * Reference beats are the annotations whose MIT code is a beat label in the
 * sense of EC57 and WFDB's isqrs(): N L R B A a J S V r F e j n E / f Q ?.
 * Every other annotation is not a beat: rhythm and signal-quality changes
 * (+ ~), isolated QRS-like artefacts (|), non-conducted P waves (x), comments
 * ("), waveform marks, and the ventricular flutter waves (!).  A ventricular
 * flutter/fibrillation episode, '[' to ']', is excluded as a whole, as bxb
 * does: annotations inside it are no reference beats, and a detection inside
 * it that matches no reference beat is not a false positive.  An episode
 * still open at the end of the annotations runs to the end of the record.
 */

/* A span of samples [start, end], both included. */
struct ecg_beat_span {
    int64_t start, end;
};

struct ecg_beat_counts {
    int64_t tp; /* reference beats matched by a detection */
    int64_t fn; /* reference beats left unmatched */
    int64_t fp; /* detections left unmatched (outside excluded spans) */
};

/* 1 when the MIT annotation code is a beat label (list above), else 0. */
int ecg_beat_code_is_qrs(int32_t code);

/* The reference beats (ascending positions) and the excluded flutter episodes of an annotation
 * list in time order.  *ref and *spans are malloc'd (caller frees; NULL when there are none);
 * `record_end` closes an episode that the annotations leave open. */
int ecg_beat_reference(const struct ecg_wfdb_annotation *ann, int64_t n, int64_t record_end, int64_t **ref,
                       int64_t *nref, struct ecg_beat_span **spans, int64_t *nspans, struct ecg_error *err);

/*
 * Matches detections `test` against reference beats `ref` (both ascending)
 * the way bxb does: walking both lists in time order, the earlier of the two
 * current beats pairs with the other list's current beat when they lie
 * within `window` samples of each other and no closer beat follows in that
 * list; otherwise it is unmatched (a false negative or false positive).
 * Each beat is used at most once.  Unmatched detections (and unmatched
 * reference beats) inside `excluded` spans are not counted.  Adds to *c.
 * Errors: a negative window; a list that is not ascending (naming it and the index).
 */
int ecg_beat_match(const int64_t *ref, int64_t nref, const int64_t *test, int64_t ntest, int64_t window,
                   const struct ecg_beat_span *excluded, int64_t nexcluded, struct ecg_beat_counts *c,
                   struct ecg_error *err);

/* Se = TP / (TP + FN) and +P = TP / (TP + FP), NaN when the denominator is 0. */
double ecg_beat_sensitivity(const struct ecg_beat_counts *c);
double ecg_beat_ppv(const struct ecg_beat_counts *c);

#endif
