/* Inverse-frequency class weights. */
#include "optim/class_weights.h"

int ecg_class_weights_balanced(const int64_t *counts, int k, const char *const *names,
                               float *weights, struct ecg_error *err)
{
    if (k < 1)
        return ecg_error_set(err, ECG_ERR_VALUE, "class weights: %d classes, expected at least 1", k);
    int64_t n = 0;
    for (int c = 0; c < k; c++) {
        if (counts[c] <= 0) {
            if (names)
                return ecg_error_set(err, ECG_ERR_VALUE,
                                     "class weights: class '%s' has %lld training examples; "
                                     "inverse-frequency weights need at least 1 per class",
                                     names[c], (long long)counts[c]);
            return ecg_error_set(err, ECG_ERR_VALUE,
                                 "class weights: class %d has %lld training examples; "
                                 "inverse-frequency weights need at least 1 per class",
                                 c, (long long)counts[c]);
        }
        n += counts[c];
    }
    for (int c = 0; c < k; c++)
        weights[c] = (float)((double)n / ((double)k * (double)counts[c]));
    return ECG_OK;
}

int ecg_class_weights_capped(const int64_t *counts, int k, double cap, float *weights)
{
    int64_t n = 0;
    int present = 0;
    for (int c = 0; c < k; c++) {
        if (counts[c] < 0)
            return -1;
        n += counts[c];
        present += counts[c] > 0;
    }
    if (present == 0)
        return -1;
    for (int c = 0; c < k; c++) {
        double w = counts[c] > 0 ? (double)n / ((double)present * (double)counts[c]) : 0.0;
        weights[c] = (float)(cap > 0 && w > cap ? cap : w);
    }
    return k - present;
}
