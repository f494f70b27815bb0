/* What EfficientNet's Keras weight files mean: architecture from the layer set, the input stem, the head. */
#ifndef ECG_LAYERS_EFFNET_KERAS_H
#define ECG_LAYERS_EFFNET_KERAS_H

#include <stdint.h>

#include "io/keras_model.h"

/*
 * The EfficientNet side of io/'s Keras loader (pass it as
 * ecg_keras_load_opts.model and to ecg_keras_probe):
 *  - describe: the architecture from the number of MBConv blocks
 *    (block<N><letter>_ prefixes) and the width of top_conv, the input
 *    channels of stem_conv/kernel, the classes of predictions/kernel;
 *  - store_arch: the same for a model's parameter store, so weights of
 *    another size are refused with one message;
 *  - adapts/adapt: a stem_conv/kernel (kh, kw, 3, F) loads into a model with
 *    C input channels: C == 1 sums the RGB kernels, other C repeat them
 *    cyclically scaled by 3/C (timm's adapt_input_conv).
 */
extern const struct ecg_keras_model ecg_effnet_keras;

/* The arch ("b0" .. "b7") with `blocks` MBConv blocks and a top_conv `top_channels` wide, "" when none. */
void ecg_effnet_arch_from_layout(int blocks, int64_t top_channels, char out[8]);

#endif
