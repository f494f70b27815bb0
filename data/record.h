/* One ECG record in memory, and a dataset of them: what every reader produces. */
#ifndef ECG_DATA_RECORD_H
#define ECG_DATA_RECORD_H

#include <stdint.h>

#include "core/error.h"
#include "data/record_features.h"

/*
 * The canonical label sets.  Rhythm datasets (CACHET-CADB, CinC 2017) share
 * one set so that a model trained on one can be evaluated on another:
 * CinC's N, A, O, ~ map to NSR, AF, OTHER, NOISE; CACHET-CADB's codes
 * 1..4 to AF, NSR, NOISE, OTHER.  Heartbeat datasets (MIT-BIH, Kaggle CSV)
 * use the five AAMI classes.
 */
enum ecg_task { ECG_TASK_RHYTHM, ECG_TASK_BEAT };

enum ecg_rhythm_class { ECG_RHYTHM_AF, ECG_RHYTHM_NSR, ECG_RHYTHM_NOISE, ECG_RHYTHM_OTHER, ECG_RHYTHM_COUNT };
enum ecg_beat_class { ECG_BEAT_N, ECG_BEAT_S, ECG_BEAT_V, ECG_BEAT_F, ECG_BEAT_Q, ECG_BEAT_COUNT };

#define ECG_ID_MAX 64

struct ecg_record {
    char id[ECG_ID_MAX];      /* record name ("A00001", "seg0042", "100:1234") */
    char subject[ECG_ID_MAX]; /* patient/subject id, "" when the format has none */
    int32_t label;            /* class index in the dataset's task, -1 unknown */
    double fs;                /* sampling rate in Hz */
    int64_t length;           /* samples */
    float *signal;            /* mV, owned by the dataset */
    float features[ECG_RECORD_FEATURES]; /* a beat's RR features (data/rr.h), then its morphology features
                                            (data/morphology.h); a rhythm record's RR-interval features
                                            (data/rhythm_features.h, standardised) once prepared for a model that reads
                                            them (model.rhythm_features), else 0 */
    int32_t beat_code;        /* a WFDB beat's MIT annotation code (its reference beat's), 0 when it has none */
};

struct ecg_dataset {
    enum ecg_task task;
    struct ecg_record *records;
    int64_t count;
    int64_t cap;
    int64_t skipped; /* records dropped by a documented, counted skip rule */
};

/* Class names of a task ("AF", "NSR", "Noise", "Other" / "N", "S", "V", "F", "Q"). */
int ecg_task_class_count(enum ecg_task task);
const char *ecg_task_class_name(enum ecg_task task, int label);

/* Appends a record; the dataset takes ownership of `signal` (malloc'd) even on failure. */
int ecg_dataset_push(struct ecg_dataset *ds, const struct ecg_record *rec, struct ecg_error *err);
/* Frees every signal and the array; a zeroed dataset is a no-op. */
void ecg_dataset_free(struct ecg_dataset *ds);

#endif
