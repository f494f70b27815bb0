/* Fuzz harness of the Keras weight-file loader (layer_names, weight_names, datasets, our own attributes,
 * the normalization layer, EfficientNet's stem adaptation), the input opened as an HDF5 file image. */
#include "io/keras_h5.h"
#include "layers/effnet_keras.h"
#include "tests/fuzz/fuzz.h"
#include "tests/fuzz/fuzz_h5.h"

/* Input: the weight file, loaded into a one-channel model (three-channel stems adapt) whose head may stay
 * at its initialisation, as model.pretrained is loaded. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_init();
    static struct ecg_params store;
    if (!store.values)
        fuzz_h5_store(&store, 1);
    hid_t file = fuzz_h5_open_image(data, size);
    if (file < 0)
        return 0;
    static const char *const head[] = {"predictions/"};
    const struct ecg_keras_load_opts opts = {
        .allow_missing = head, .n_allow_missing = 1, .quiet = true, .model = &ecg_effnet_keras};
    struct ecg_keras_info info;
    struct ecg_error err = {0};
    int rc = ecg_keras_load_open(file, "weights.h5", &store, &opts, &info, &err);
    fuzz_check_status(rc, &err);
    fuzz_h5_close_checked(file);
    return 0;
}
