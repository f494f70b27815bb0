/* Private to train/config*.c: the cross-key checks the schema runs. */
#ifndef ECG_TRAIN_CONFIG_KEYS_H
#define ECG_TRAIN_CONFIG_KEYS_H

#include "train/config.h"

/* Constraints between keys of a struct ecg_config (the schema's check). */
int ecg_config_check_keys(const void *root, struct ecg_error *err);

#endif
