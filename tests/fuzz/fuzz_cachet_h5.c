/* Fuzz harness of the CACHET-CADB short reader (HDF5 `signal` and `labels`), the input opened as an HDF5
 * file image in memory. */
#include "data/cachet_h5.h"
#include "tests/fuzz/fuzz.h"
#include "tests/fuzz/fuzz_h5.h"

/* Input: the .h5 file, read with bad segments skipped. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_init();
    hid_t file = fuzz_h5_open_image(data, size);
    if (file < 0)
        return 0;
    struct ecg_read_options opt;
    ecg_read_options_default(&opt);
    opt.skip_bad = ECG_BAD_SKIP;
    struct ecg_dataset ds = {0};
    struct ecg_error err = {0};
    int rc = ecg_cachet_read_short_open(file, "upload.h5", &opt, &ds, &err);
    fuzz_check_status(rc, &err);
    ecg_dataset_free(&ds);
    fuzz_h5_close_checked(file);
    return 0;
}
