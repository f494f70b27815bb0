/* Fuzz harness of the WFDB reader: a header, its signal file (formats 212 and 16) and MIT annotations, read
 * as the beats of a record, annotated and detected. */
#include <stdlib.h>

#include "data/readers.h"
#include "tests/fuzz/fuzz.h"

/* Input: r.hea FUZZ_SEP <the signal file> [FUZZ_SEP r.atr].  The signal file is written as r.dat, the name
 * the seeds' headers give it (a header naming another file finds none). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_init();
    struct fuzz_part part[3];
    fuzz_split(data, size, part, 3);
    const char *hea = fuzz_file("r.hea", part[0].data ? part[0].data : (const uint8_t *)"", part[0].size);
    fuzz_file("r.dat", part[1].data, part[1].size);
    const char *atr = part[2].data ? fuzz_file("r.atr", part[2].data, part[2].size) : NULL;
    struct ecg_error err = {0};
    int rc;

    if (atr) {
        struct ecg_wfdb_annotation *ann = NULL;
        int64_t count = 0;
        rc = ecg_wfdb_read_annotations(atr, &ann, &count, &err);
        fuzz_check_status(rc, &err);
        free(ann);
    }
    struct ecg_read_options opt;
    ecg_read_options_default(&opt);
    opt.skip_bad = ECG_BAD_SKIP;
    for (int detected = 0; detected < 2; detected++) {
        opt.beats = detected ? ECG_BEATS_DETECTED : ECG_BEATS_REFERENCE;
        opt.keep_unlabelled = detected;
        struct ecg_dataset ds = {0};
        struct ecg_beat_read_counts counts;
        rc = ecg_wfdb_read_beats(hea, atr, &opt, &ds, &counts, &err);
        fuzz_check_status(rc, &err);
        ecg_dataset_free(&ds);
    }
    return 0;
}
