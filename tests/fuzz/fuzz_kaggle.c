/* Fuzz harness of the Kaggle MIT-BIH heartbeat CSV reader. */
#include "data/readers.h"
#include "tests/fuzz/fuzz.h"

/* Input: the CSV file, read once stopping at the first bad row and once skipping bad rows. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_init();
    const char *path = fuzz_file("beats.csv", data ? data : (const uint8_t *)"", size);
    for (int skip = 0; skip < 2; skip++) {
        struct ecg_read_options opt;
        ecg_read_options_default(&opt);
        opt.skip_bad = skip ? ECG_BAD_SKIP : ECG_BAD_ERROR;
        struct ecg_dataset ds = {0};
        struct ecg_error err = {0};
        int rc = ecg_kaggle_read(path, &opt, &ds, &err);
        fuzz_check_status(rc, &err);
        ecg_dataset_free(&ds);
    }
    return 0;
}
