/* The beats of a fixture record, shared by the tests of the features computed per beat. */
#ifndef ECG_TESTS_BEAT_FIXTURE_H
#define ECG_TESTS_BEAT_FIXTURE_H

#include "core/error.h"
#include "data/record.h"

/* The annotated beats of fixture record 100 (data/mitdb) with 1.5 s windows: the reader's status. */
int ecg_test_read_record_100_beats(struct ecg_dataset *ds, struct ecg_error *err);

#endif
