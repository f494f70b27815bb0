/* Signal checks: warnings a clinician can act on, from the samples, their rate and what the model expects. */
#ifndef ECG_SERVE_CHECKS_H
#define ECG_SERVE_CHECKS_H

#include <stdint.h>

/*
 * Each check is a pure function of the samples (mV as uploaded, before any
 * preprocessing), their rate and the model's expectations.  A finding has a
 * stable code (for programs), a severity and one English sentence (for
 * people) that says what was seen, with numbers, and what it means.
 * ECG_CHECK_ERROR findings mean the record cannot be classified.
 */

enum ecg_check_code {
    ECG_CHECK_RESAMPLED,      /* rate differs from the model's: resampled */
    ECG_CHECK_TOO_SHORT,      /* shorter than the model accepts: not classified */
    ECG_CHECK_SHORT,          /* under half a window: mostly padding */
    ECG_CHECK_TOO_LONG,       /* longer than any training recording */
    ECG_CHECK_NOT_FINITE,     /* NaN or infinite samples: not classified */
    ECG_CHECK_FLAT,           /* no signal at all: not classified */
    ECG_CHECK_FLAT_SEGMENT,   /* a long constant stretch (lead off) */
    ECG_CHECK_CLIPPING,       /* many samples pinned at the extremes */
    ECG_CHECK_AMPLITUDE_HIGH, /* too large for mV: raw ADC counts or microvolts? */
    ECG_CHECK_AMPLITUDE_LOW,  /* too small for mV: volts? */
    ECG_CHECK_INVERTED,       /* QRS complexes point down: reversed leads or polarity */
    ECG_CHECK_COUNT
};

enum ecg_check_severity { ECG_CHECK_WARNING, ECG_CHECK_ERROR };

#define ECG_CHECK_MESSAGE_MAX 256

struct ecg_check {
    enum ecg_check_code code;
    enum ecg_check_severity severity;
    char message[ECG_CHECK_MESSAGE_MAX];
};

/* What the model was trained on. */
struct ecg_check_model {
    double fs;        /* Hz */
    double window_s;  /* seconds per window: a shorter record is padded into one */
    double min_s;     /* the shortest record the model accepts */
    double max_s;     /* the longest training recording; 0 = no limit */
    const char *fill; /* what fills the rest of a short record's window ("the record repeated"); NULL: zeros */
    int beats;        /* 1: a beat model, whose windows are centred on beats and never padded */
};

/* Runs every check; writes at most `cap` findings (in enum order; each code at
 * most once, so ECG_CHECK_COUNT always suffices) and returns how many it wrote.  A record with non-finite
 * samples gets only that finding (the other statistics would be meaningless). */
int ecg_checks_run(const float *x, int64_t n, double fs, const struct ecg_check_model *m,
                   struct ecg_check *out, int cap);

/* The stable name of a code ("resampled", "too_short", ...). */
const char *ecg_check_name(enum ecg_check_code code);

/* 1 when any finding is an error. */
int ecg_checks_fatal(const struct ecg_check *c, int count);

#endif
