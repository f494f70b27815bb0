/* Turning a rhythm dataset into fixed-length segments at a target rate (what ecgconvert writes as
 * CACHET-CADB). */
#ifndef ECG_DATA_CONVERT_H
#define ECG_DATA_CONVERT_H

#include <stdint.h>

#include "core/error.h"
#include "data/record.h"

struct ecg_convert_options {
    double fs_out;     /* target rate in Hz (1024 for CACHET-CADB) */
    double seconds;    /* segment length (10) */
    int32_t windows;   /* at most this many non-overlapping segments per record, from its start (>= 1) */
    int32_t bandpass;  /* 1: Butterworth order 3, 0.5-40 Hz, zero-phase, on the resampled record */
    int64_t per_class; /* > 0: at most this many segments per class, records drawn with `seed`; 0: all */
    uint64_t seed;
    double flat_std_mv; /* segments whose std is <= this are dropped and counted (flat) */
};

/* fs_out 1024, 10 s, 1 window, no band-pass, all records, seed 1, flat 1e-4 mV. */
void ecg_convert_options_default(struct ecg_convert_options *opt);

/* Where a segment came from. */
struct ecg_segment_source {
    char id[ECG_ID_MAX];
    double offset_s; /* start within the source record, seconds */
    int32_t label;
};

/*
 * Cuts `in` into segments of opt->seconds at opt->fs_out.  Window k of a
 * record starts at k * seconds (k < windows, only whole windows; a record
 * shorter than one segment gives none and counts in out->skipped).  With
 * per_class > 0, records of each class are drawn in a seeded random order
 * until the class has per_class segments (all of them when it has fewer; a
 * warning says so).  Output order is the input's record order, then window
 * order, so the result depends only on the input and the options.
 * `out` must be zeroed; *src (malloc'd, out->count entries) says where each
 * segment came from.
 */
int ecg_convert_segments(const struct ecg_dataset *in, const struct ecg_convert_options *opt,
                         struct ecg_dataset *out, struct ecg_segment_source **src, struct ecg_error *err);

/* Writes "# record offset_s label" then one "id offset label-name" line per segment. */
int ecg_convert_write_list(const char *path, enum ecg_task task, const struct ecg_segment_source *src,
                           int64_t count, struct ecg_error *err);

#endif
