/* HDF5 file images for the fuzz harnesses: the core driver over the input bytes, and a check for leaked
 * handles. */
#include "tests/fuzz/fuzz_h5.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

hid_t fuzz_h5_open_image(const uint8_t *data, size_t size)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    /* Without an image the core driver would read a file of that name from disk. */
    if (size == 0)
        return H5I_INVALID_HID;
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS), file = H5I_INVALID_HID;
    if (fapl >= 0 && H5Pset_fapl_core(fapl, 64 * 1024, 0) >= 0 &&
        H5Pset_file_image(fapl, (void *)data, size) >= 0)
        file = H5Fopen("fuzz-image.h5", H5F_ACC_RDONLY, fapl);
    if (fapl >= 0)
        H5Pclose(fapl);
    H5Eclear2(H5E_DEFAULT);
    return file;
}

void fuzz_h5_close_checked(hid_t file)
{
    ssize_t open = H5Fget_obj_count(file, H5F_OBJ_ALL);
    if (open != 1) {
        fprintf(stderr, "fuzz: %zd HDF5 handles of the file left open by the code under test\n", open - 1);
        abort();
    }
    H5Fclose(file);
}

void fuzz_h5_store(struct ecg_params *p, int64_t stem_in)
{
    static const char *const bn[] = {"stem_bn/gamma", "stem_bn/beta", "stem_bn/moving_mean",
                                     "stem_bn/moving_variance"};
    const int64_t kernel[4] = {3, 3, stem_in, 4}, four = 4, head[2] = {4, 2}, two = 2;
    struct ecg_error err = {0};
    memset(p, 0, sizeof *p);
    int rc = ecg_params_add(p, "stem_conv/kernel", 4, kernel, 0, NULL, &err);
    for (int i = 0; i < 4 && !rc; i++)
        rc = ecg_params_add(p, bn[i], 1, &four, i < 2 ? ECG_PARAM_NO_DECAY : ECG_PARAM_BUFFER, NULL, &err);
    if (!rc)
        rc = ecg_params_add(p, "predictions/kernel", 2, head, 0, NULL, &err);
    if (!rc)
        rc = ecg_params_add(p, "predictions/bias", 1, &two, ECG_PARAM_NO_DECAY, NULL, &err);
    if (!rc)
        rc = ecg_params_bind(p, &err);
    if (rc) {
        fprintf(stderr, "fuzz: cannot build the parameter store: %s\n", err.msg);
        abort();
    }
}
