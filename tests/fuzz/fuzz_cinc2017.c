/* Fuzz harness of the CinC 2017 reader: a record's .hea and MATLAB v4 .mat, and a REFERENCE.csv naming it. */
#include <stdlib.h>

#include "data/readers.h"
#include "tests/fuzz/fuzz.h"

/* Input: r.hea FUZZ_SEP r.mat [FUZZ_SEP REFERENCE.csv].  A part that is absent is a file that is absent
 * (a .mat without its .hea is read with the CinC defaults); the label file, when present, is read as a
 * dataset of the scratch directory, with bad records skipped. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_init();
    struct fuzz_part part[3];
    int n = fuzz_split(data, size, part, 3);
    fuzz_file("r.hea", n >= 2 ? part[0].data : NULL, part[0].size);
    const struct fuzz_part *mat = n >= 2 ? &part[1] : &part[0];
    const char *mat_path = fuzz_file("r.mat", mat->data ? mat->data : (const uint8_t *)"", mat->size);
    const char *labels = fuzz_file("REFERENCE.csv", part[2].data, part[2].size);

    struct ecg_record rec;
    struct ecg_error err = {0};
    int rc = ecg_cinc2017_read_record(mat_path, &rec, &err);
    fuzz_check_status(rc, &err);
    free(rec.signal);

    if (part[2].data) {
        struct ecg_read_options opt;
        ecg_read_options_default(&opt);
        opt.skip_bad = ECG_BAD_SKIP;
        opt.label_file = labels;
        struct ecg_dataset ds = {0};
        rc = ecg_cinc2017_read(fuzz_dir(), &opt, &ds, &err);
        fuzz_check_status(rc, &err);
        ecg_dataset_free(&ds);
    }
    return 0;
}
