/* Fuzz harness of the checkpoint loader (counters, config and metrics text, optimizer blobs, RNG states,
 * strict weights), the input opened as an HDF5 file image. */
#include <stdlib.h>

#include "io/checkpoint.h"
#include "tests/fuzz/fuzz.h"
#include "tests/fuzz/fuzz_h5.h"

/* Input: the checkpoint, loaded as a resumed run of the seeds' model would: one optimizer blob "m" of 4
 * values and one generator "data". */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_init();
    static struct ecg_params store;
    if (!store.values)
        fuzz_h5_store(&store, 3);
    hid_t file = fuzz_h5_open_image(data, size);
    if (file < 0)
        return 0;
    float m[4];
    struct ecg_rng rng;
    struct ecg_ckpt_blob blob = {"m", m, 4};
    struct ecg_ckpt_rng gen = {"data", &rng};
    struct ecg_checkpoint ck = {.blobs = &blob, .n_blobs = 1, .rngs = &gen, .n_rngs = 1};
    char *yaml = NULL, *json = NULL;
    struct ecg_keras_info info;
    struct ecg_error err = {0};
    int rc = ecg_checkpoint_load_open(file, "last.h5", &store, &ck, &yaml, &json, &info, &err);
    fuzz_check_status(rc, &err);
    free(yaml);
    free(json);
    fuzz_h5_close_checked(file);
    return 0;
}
