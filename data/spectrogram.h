/* Power spectrograms with FFTW3 (single precision) and their conversion to model input images. */
#ifndef ECG_DATA_SPECTROGRAM_H
#define ECG_DATA_SPECTROGRAM_H

#include <stdint.h>

#include "core/error.h"

/*
 * Pipeline, per signal x (mV) sampled at fs Hz:
 *
 *  1. STFT exactly like scipy.signal.spectrogram(x, fs, window, nperseg,
 *     noverlap = nperseg - hop, nfft = nperseg, detrend, return_onesided=True,
 *     scaling='density', mode='psd'): segments start at 0, hop, 2*hop, ...
 *     (no padding; a trailing partial segment is dropped), each segment is
 *     detrended, multiplied by a periodic ("fftbins") window and transformed;
 *     P = |X|^2 / (fs * sum(w^2)), doubled except at DC and (even nfft) Nyquist.
 *     Units mV^2/Hz.  nperseg = round(window_seconds * fs), hop = round(hop_seconds * fs), so
 *     one configuration works at 300 Hz and at 1024 Hz.
 *  2. Band limits: the bins with fmin <= f <= fmax are kept (f = k * fs / nfft).
 *  3. Log power in decibels: 10 * log10(max(P, floor)).  (log = 0 keeps P.)
 *  4. Bilinear resize of the (frequency x time) array to height x width, with
 *     half-pixel centres (PyTorch interpolate(align_corners=False), OpenCV):
 *     src = (dst + 0.5) * in / out - 0.5, clamped to [0, in - 1].
 *  5. Orientation: image row 0 is the HIGHEST kept frequency, the last row the
 *     lowest, so the image reads like a plotted spectrogram (low frequencies at
 *     the bottom); column 0 is the earliest time.
 *  6. Normalisation: none; per-image z-score ((v - mean) / std over the
 *     height x width values; a constant image becomes all zeros); or a fixed
 *     range: (v - norm_lo) / (norm_hi - norm_lo) clipped to [0, 1].
 *  7. The single plane is replicated into `channels` (1 or 3) channels.
 *
 * Output layout: one image is (height, width, channels) float32, row-major,
 * channels fastest (NHWC without the N).  A batch is just images end to end.
 */

/* STFT windows; ecg_spec_window_names[] (NULL-terminated) gives their config names in this order. */
enum ecg_spec_window { ECG_SPEC_HANN, ECG_SPEC_HAMMING, ECG_SPEC_BLACKMAN, ECG_SPEC_TUKEY, ECG_SPEC_BOXCAR };
extern const char *const ecg_spec_window_names[];
enum ecg_spec_detrend { ECG_SPEC_DETREND_NONE, ECG_SPEC_DETREND_CONSTANT };
enum ecg_spec_norm { ECG_SPEC_NORM_NONE, ECG_SPEC_NORM_ZSCORE, ECG_SPEC_NORM_RANGE };

/* The spectrogram options.  The fields that ecgtrain's config sets are filled straight from the keys
 * data.spectrogram.<field> (train/config_schema.c); the others keep ecg_spec_opts_default's values there. */
struct ecg_spec_opts {
    double window_seconds; /* window (segment) length in seconds */
    double hop_seconds;    /* hop between segment starts in seconds (0 < hop <= window) */
    enum ecg_spec_window window;
    double tukey_alpha; /* tukey taper fraction (scipy's default window is tukey 0.25) */
    enum ecg_spec_detrend detrend;
    int log;           /* 1: decibels 10*log10(max(P, floor)); 0: raw power */
    double log_floor;  /* power floor in mV^2/Hz (> 0 when log) */
    double fmin, fmax; /* band in Hz; fmax <= 0 means the Nyquist frequency */
    int64_t height, width, channels; /* image size; channels 1 or 3 */
    enum ecg_spec_norm norm;
    double norm_lo, norm_hi; /* ECG_SPEC_NORM_RANGE: values mapped to 0 and 1 */
};

/* Defaults: 0.5 s hann window, 0.05 s hop, constant detrend, dB with floor
 * 1e-10, 0..50 Hz, 128 x 128 x 3, per-image z-score. */
void ecg_spec_opts_default(struct ecg_spec_opts *o);

/* Checks every field for a signal at fs Hz (window of at least 2 samples,
 * band inside [0, fs/2] and containing a bin, ...); the message names the key
 * as the config does ("data.spectrogram.window_seconds: ...").  ECG_ERR_RANGE. */
int ecg_spec_opts_check(const struct ecg_spec_opts *o, double fs, struct ecg_error *err);

/* What a signal of n samples at fs becomes before the resize. */
struct ecg_spec_geom {
    int64_t nperseg, hop, nfft;
    int64_t nfreq;        /* nfft / 2 + 1 one-sided bins */
    int64_t nseg;         /* (n - nperseg) / hop + 1 */
    int64_t bin_lo, bin_hi; /* kept bins [bin_lo, bin_hi) */
};

/* Fills g.  ECG_ERR_RANGE when the options are invalid, ECG_ERR_VALUE when the
 * signal is shorter than one window. */
int ecg_spec_geometry(const struct ecg_spec_opts *o, double fs, int64_t n, struct ecg_spec_geom *g,
                      struct ecg_error *err);

/* Writes the periodic window of length n into w (scipy get_window(..., fftbins=True)). */
void ecg_spec_window_fill(enum ecg_spec_window type, double tukey_alpha, int64_t n, float *w);

/*
 * A spectrogram engine: options plus FFTW plans cached per FFT size.  Plans are
 * created on first use under a process-wide mutex (the FFTW planner is not
 * thread-safe) and then executed with fftwf_execute_dft_r2c on per-call
 * buffers, so one engine may be used from several threads at once.
 */
#define ECG_SPEC_MAX_PLANS 8

struct ecg_spec {
    struct ecg_spec_opts opts;
    void *plans[ECG_SPEC_MAX_PLANS]; /* fftwf_plan */
    int64_t plan_n[ECG_SPEC_MAX_PLANS];
    float *windows[ECG_SPEC_MAX_PLANS]; /* the window for that size */
    double win_ss[ECG_SPEC_MAX_PLANS];  /* sum(w^2) */
    int nplans;
    void *mutex; /* pthread_mutex_t, owned */
};

/* Copies the options (checked later, per sampling rate). */
int ecg_spec_init(struct ecg_spec *s, const struct ecg_spec_opts *o, struct ecg_error *err);
/* Destroys plans and the mutex; a zeroed struct is a no-op. */
void ecg_spec_free(struct ecg_spec *s);

/* Raw one-sided PSD of all bins (step 1 only): out is (g.nfreq, g.nseg)
 * row-major, frequency-major, caller-allocated.  Thread-safe. */
int ecg_spec_power(struct ecg_spec *s, const float *x, int64_t n, double fs, float *out,
                   struct ecg_error *err);

/* The whole pipeline: out is (height, width, channels), caller-allocated.
 * Thread-safe.  ECG_ERR_VALUE for NaN/inf samples or a too-short signal. */
int ecg_spec_image(struct ecg_spec *s, const float *x, int64_t n, double fs, float *out,
                   struct ecg_error *err);

/* Steps 4-7 alone on a (rows, cols) frequency-ascending array (used by the
 * pipeline and by tests): resize, flip, normalise, replicate into out. */
void ecg_spec_finish(const struct ecg_spec_opts *o, const float *in, int64_t rows, int64_t cols,
                     float *out);

/* Bilinear resize with half-pixel centres of a (rows, cols) array to (h, w). */
void ecg_resize_bilinear(const float *in, int64_t rows, int64_t cols, float *out, int64_t h,
                         int64_t w);

/* Names for config values and attributes: "hann", "hamming", "blackman", "tukey", "boxcar";
 * "none", "zscore", "range"; "none", "constant". */
const char *ecg_spec_window_name(enum ecg_spec_window w);
const char *ecg_spec_norm_name(enum ecg_spec_norm n);
const char *ecg_spec_detrend_name(enum ecg_spec_detrend d);
/* Parses a name; ECG_ERR_CONFIG naming `key` and listing the choices. */
int ecg_spec_window_parse(const char *key, const char *name, enum ecg_spec_window *out,
                          struct ecg_error *err);
int ecg_spec_norm_parse(const char *key, const char *name, enum ecg_spec_norm *out,
                        struct ecg_error *err);
int ecg_spec_detrend_parse(const char *key, const char *name, enum ecg_spec_detrend *out,
                           struct ecg_error *err);

#endif
