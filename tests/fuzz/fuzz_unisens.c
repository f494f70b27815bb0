/* Fuzz harness of the CACHET-CADB full (Unisens) reader: unisens.xml, ecg.bin and annotation.csv of one
 * segment folder. */
#include "data/readers.h"
#include "data/unisens.h"
#include "tests/fuzz/fuzz.h"

/* Input: unisens.xml FUZZ_SEP ecg.bin FUZZ_SEP annotation.csv, written to P1/m1/s1/ of the scratch
 * directory, which is then read as a dataset with bad segments skipped. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_init();
    struct fuzz_part part[3];
    fuzz_split(data, size, part, 3);
    const char *xml =
        fuzz_file("P1/m1/s1/unisens.xml", part[0].data ? part[0].data : (const uint8_t *)"", part[0].size);
    fuzz_file("P1/m1/s1/ecg.bin", part[1].data, part[1].size);
    fuzz_file("P1/m1/s1/annotation.csv", part[2].data, part[2].size);
    struct ecg_error err = {0};

    struct ecg_unisens_ecg u;
    int rc = ecg_unisens_read_ecg(xml, &u, &err);
    fuzz_check_status(rc, &err);

    struct ecg_read_options opt;
    ecg_read_options_default(&opt);
    opt.skip_bad = ECG_BAD_SKIP;
    struct ecg_dataset ds = {0};
    rc = ecg_cachet_read_full(fuzz_dir(), &opt, &ds, &err);
    fuzz_check_status(rc, &err);
    ecg_dataset_free(&ds);
    return 0;
}
