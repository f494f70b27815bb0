/* Signal processing for ECG records: Butterworth band-pass with zero-phase filtering, resampling, z-score,
 * finiteness checks. */
#ifndef ECG_DATA_SIGNAL_H
#define ECG_DATA_SIGNAL_H

#include <stdint.h>

#include "core/error.h"

/*
 * All routines take float signals and compute internally in double (an IIR
 * band-pass with a 0.5 Hz edge has poles within 1e-2 of the unit circle;
 * float would not hold them).  They never allocate on the caller's behalf
 * except where said, and report user errors (too-short signals, bad
 * frequencies, non-finite values) through `err`.
 */

#define ECG_IIR_MAX_ORDER 16

/* The highest sampling rate the signal routines take: no ECG is recorded faster, and a rate above it in a
 * file's header is corruption.  Durations times rates then stay far inside 64-bit sample counts. */
#define ECG_FS_MAX 1e6

/* A digital filter b(z)/a(z) in transfer-function form, a[0] = 1. */
struct ecg_iir {
    int32_t n; /* number of coefficients in each of b and a (order + 1) */
    double b[2 * ECG_IIR_MAX_ORDER + 1];
    double a[2 * ECG_IIR_MAX_ORDER + 1];
};

/* Designs a Butterworth band-pass of `order` (the prototype order; the
 * filter has 2*order poles) with edges low_hz < high_hz < fs/2, the same
 * way as scipy.signal.butter(order, [low, high], 'band', fs=fs): analog
 * prototype, band transform at pre-warped edges, bilinear transform. */
int ecg_iir_butter_bandpass(struct ecg_iir *f, int order, double low_hz, double high_hz, double fs,
                            struct ecg_error *err);

/* Zero-phase filtering like scipy.signal.filtfilt(b, a, x) with its
 * defaults: odd extension of 3*n samples at both ends, initial state
 * lfilter_zi scaled by the first sample, forward then backward pass.
 * In place; `length` must exceed 3*n (ECG_ERR_VALUE otherwise). */
int ecg_iir_filtfilt(const struct ecg_iir *f, float *x, int64_t length, struct ecg_error *err);

/* Band-pass in one call: design + filtfilt (order 3 and 0.5-40 Hz match
 * CACHET-CADB's preprocessing). */
int ecg_signal_bandpass(float *x, int64_t length, double fs, int order, double low_hz, double high_hz,
                        struct ecg_error *err);

/* Rational resampling by up/down with a Kaiser-windowed sinc FIR, as
 * scipy.signal.resample_poly(x, up, down) with its defaults (window
 * ('kaiser', 5.0), 20*max(up,down)+1 taps after reducing up/down by their
 * gcd, cutoff 1/max(up,down) of Nyquist, zero padding outside the signal).
 * Output length ceil(length*up/down). */
int64_t ecg_resample_length(int64_t length, int64_t up, int64_t down);
/* `out` holds ecg_resample_length(length, up, down) floats. */
int ecg_resample_poly(const float *x, int64_t length, int64_t up, int64_t down, float *out,
                      struct ecg_error *err);
/* Resampling between two rates that are integers in Hz (e.g. 300 -> 1024);
 * *out is malloc'd (caller frees), *out_length its length. */
int ecg_resample_rate(const float *x, int64_t length, double fs_in, double fs_out, float **out,
                      int64_t *out_length, struct ecg_error *err);

/* Mean and population standard deviation, in double. */
void ecg_signal_stats(const float *x, int64_t length, double *mean, double *std);
/* In place (x - mean) / std.  A signal whose std is <= min_std is flat:
 * ECG_ERR_VALUE and x is left unchanged. */
int ecg_signal_zscore(float *x, int64_t length, double min_std, struct ecg_error *err);
/* Per-record normalisation; ecg_normalize_names[] gives the config names (data.normalize) in this order. */
enum ecg_normalize { ECG_NORMALIZE_NONE, ECG_NORMALIZE_ZSCORE, ECG_NORMALIZE_MINMAX };
extern const char *const ecg_normalize_names[];
/* In place: none; z-score (a std <= 1e-6 is flat); min-max scaling to [0, 1] (a range <= 1e-6 mV is flat).
 * A flat signal is ECG_ERR_VALUE and x is left unchanged. */
int ecg_signal_normalize(float *x, int64_t length, enum ecg_normalize mode, struct ecg_error *err);
/* ECG_ERR_VALUE naming the first NaN or infinite sample ("sample 12 is nan"). */
int ecg_signal_check_finite(const float *x, int64_t length, struct ecg_error *err);

#endif
