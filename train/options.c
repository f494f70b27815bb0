/* The config names of the train/ module's enums (train/options.h), in enum order. */
#include "train/options.h"

const char *const ecg_model_padding_names[] = {
    [ECG_MODEL_PAD_SAME] = "same", [ECG_MODEL_PAD_SYMMETRIC] = "symmetric", [ECG_MODEL_PAD_AUTO] = "auto", NULL,
};

const char *const ecg_input_norm_names[] = {
    [ECG_INPUT_NORM_NONE] = "none", [ECG_INPUT_NORM_IMAGENET] = "imagenet", NULL,
};

const char *const ecg_model_arch_names[] = {"b0", "b1", "b2", "b3", "b4", "b5", "b6", "b7", NULL};

const char *const ecg_class_weights_names[] = {
    [ECG_CLASS_WEIGHTS_NONE] = "none", [ECG_CLASS_WEIGHTS_INVERSE_FREQUENCY] = "inverse_frequency", NULL,
};

const char *const ecg_head_init_names[] = {[ECG_HEAD_INIT_KERAS] = "keras", [ECG_HEAD_INIT_FAN_IN] = "fan_in",
                                           [ECG_HEAD_INIT_ZERO] = "zero", NULL};

const char *const ecg_select_names[] = {[ECG_SELECT_VAL_MACRO_F1] = "val_macro_f1", [ECG_SELECT_LAST] = "last", NULL};
