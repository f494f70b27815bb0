/* The beats of a fixture record, shared by the tests of the features computed per beat. */
#include "tests/data/beat_fixture.h"

#include <stdio.h>
#include <string.h>

#include "data/readers.h"
#include "tests/test_util.h"

int ecg_test_read_record_100_beats(struct ecg_dataset *ds, struct ecg_error *err)
{
    const char *hea = ecg_test_fixture("data/mitdb/100.hea");
    char atr[4096];
    snprintf(atr, sizeof atr, "%.*s.atr", (int)(strlen(hea) - 4), hea);
    struct ecg_read_options o;
    ecg_read_options_default(&o);
    o.beat_before_s = o.beat_after_s = 1.5;
    return ecg_wfdb_read_beats(hea, atr, &o, ds, NULL, err);
}
