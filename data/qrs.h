/* QRS detection (Pan-Tompkins with zero-phase filters): R-peak sample positions of a single-lead ECG. */
#ifndef ECG_DATA_QRS_H
#define ECG_DATA_QRS_H

#include <stdint.h>

#include "core/error.h"

/*
 * The detector works at any sampling rate: every duration is in seconds and
 * every frequency in Hz, turned into samples with the record's rate.
 *
 * Stages (Pan and Tompkins, IEEE TBME 32(3), 1985, run offline so that the
 * filters can be zero-phase and the integration window centred):
 *   1. band-pass: Butterworth low_hz..high_hz of `order`, forward-backward;
 *   2. five-point derivative, squared;
 *   3. moving-window integration over window_s, centred;
 *   4. candidates: maxima of the integrated signal that are the largest
 *      within +- refractory_s;
 *   5. two adaptive thresholds (integrated and band-passed signals), each
 *      at `threshold` of the way from a running noise level to a running
 *      signal level; a candidate above both is a beat, unless it is within
 *      refractory_s of the last beat, or within twave_s and its steepest
 *      slope is below half that beat's (a T wave).  Search-back: when no
 *      beat has come for searchback x the RR average (the mean of the last
 *      8 regular intervals, those within 92-116 % of it, or of the last 8
 *      intervals when that is shorter), the largest candidate in between
 *      above half the thresholds is a beat; when there is none, the signal
 *      levels halve (down to the noise levels) so that the detector follows
 *      a signal that has shrunk;
 *   6. each beat's position is the largest |band-passed| sample within
 *      window_s / 2 of the candidate: the R peak (or the deepest S/QS wave
 *      when that is the main deflection).
 */
struct ecg_qrs_opts {
    double low_hz, high_hz; /* band-pass edges (default 5 and 15 Hz) */
    int32_t order;          /* Butterworth prototype order (default 2) */
    double window_s;        /* moving-window integration width (default 0.15 s) */
    double refractory_s;    /* no two beats closer than this (default 0.2 s) */
    double twave_s;         /* T-wave check below this RR (default 0.36 s) */
    double learn_s;         /* initial levels from the first learn_s seconds (default 2 s) */
    double searchback;      /* search back after this many RR averages (default 1.66) */
    double threshold;       /* thresholds at noise + threshold x (signal - noise) levels (default 0.1;
                             * Pan and Tompkins used 0.25) */
};

/* Fills the defaults above. */
void ecg_qrs_opts_default(struct ecg_qrs_opts *o);

/*
 * Working memory for one detection: sized once for signals up to
 * `capacity` samples, then reused; nothing is allocated while detecting.
 * A zeroed struct is a valid empty workspace; ecg_qrs_work_free of it is a no-op.
 */
struct ecg_qrs_work {
    int64_t capacity;   /* samples */
    float *band;        /* band-passed signal */
    float *slope;       /* derivative */
    float *energy;      /* integrated squared derivative */
    int64_t *candidate; /* candidate positions, capacity / 2 + 1 (one per two samples at most) */
};

int ecg_qrs_work_init(struct ecg_qrs_work *w, int64_t capacity, struct ecg_error *err);
void ecg_qrs_work_free(struct ecg_qrs_work *w);

/* The most beats a signal of `length` samples can give (one per refractory
 * period): the size of the `peaks` array for ecg_qrs_detect_into. */
int64_t ecg_qrs_max_beats(int64_t length, double fs, const struct ecg_qrs_opts *o);

/*
 * Detects the beats of x[0..length) sampled at fs Hz into peaks (room for
 * ecg_qrs_max_beats), ascending sample positions; *count gets their number
 * (0 for a flat signal).  `o` NULL means the defaults.  Errors (ECG_ERR_VALUE
 * or ECG_ERR_RANGE, x unchanged): an empty or too short signal (less than
 * learn_s, or too short for the band-pass), a NaN or infinite sample (named),
 * a rate that cannot hold the band (fs <= 2 high_hz), options out of range,
 * a workspace smaller than `length`.
 */
int ecg_qrs_detect_into(const float *x, int64_t length, double fs, const struct ecg_qrs_opts *o,
                        struct ecg_qrs_work *w, int64_t *peaks, int64_t *count, struct ecg_error *err);

/* The same in one call: allocates the workspace and *peaks (malloc'd, the
 * caller frees; NULL when no beat is found). */
int ecg_qrs_detect(const float *x, int64_t length, double fs, const struct ecg_qrs_opts *o, int64_t **peaks,
                   int64_t *count, struct ecg_error *err);

#endif
