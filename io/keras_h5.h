/* Keras HDF5 weight files: read them into a parameter store by name, and write a store as one. */
#ifndef ECG_IO_KERAS_H5_H
#define ECG_IO_KERAS_H5_H

#include <hdf5.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"
#include "core/params.h"
#include "io/keras_model.h"

/*
 * File layout (what Keras' save_weights writes, and what we write):
 *   root attrs  layer_names  (or layer_names0, layer_names1, ... when Keras
 *                             split a long list), backend, keras_version
 *   /<layer>    attr weight_names, e.g. ["stem_conv/kernel:0"] (Keras 2)
 *               or ["stem_conv/kernel"] (Keras 3); weightless layers have
 *               an empty list
 *   /<layer>/<weight name>   the dataset; since the weight name contains a
 *               '/', the path is /stem_conv/stem_conv/kernel:0
 * A file saved from a whole model keeps the same structure under
 * /model_weights.  Layouts are Keras': conv HWIO, depthwise (kh, kw, C, 1),
 * dense (in, out); batch norm gamma, beta, moving_mean, moving_variance.
 *
 * Each file weight maps to the parameter "<layer>/<short name>": the part
 * of the weight name after its last '/', without the ":0" suffix; a Keras 3
 * depthwise weight ("kernel") maps to "<layer>/depthwise_kernel" when the
 * store has that parameter and no "<layer>/kernel".  io/ knows no model:
 * what the names mean (architecture, stem, head) comes from the caller's
 * struct ecg_keras_model (io/keras_model.h).
 *
 * Our own root attributes (written by tools/torch2h5.py and by ecgtrain):
 *   ecg_bn_epsilon (float), ecg_padding ("same" | "symmetric"),
 *   ecg_arch ("b0" .. "b7").
 */

struct ecg_keras_load_opts {
    /* Parameter-name prefixes (e.g. "predictions/") that may keep their
     * fresh initialisation: loaded when present with the same shape, kept
     * (and listed in the warning) when absent or shaped differently. */
    const char *const *allow_missing;
    int n_allow_missing;
    /* Parameter-name prefixes never loaded (a head re-initialised on purpose). */
    const char *const *skip;
    int n_skip;
    /* Checkpoints: no adaptation by the model, and weights in the file that the
     * model does not have are an error instead of a warning. */
    bool strict;
    /* No warnings on stderr. */
    bool quiet;
    /* The model the file is for: architecture check and weights that load after a
     * conversion (NULL: names and exact shapes only). */
    const struct ecg_keras_model *model;
};

/* Reads the attributes and layer set of a weight file without a store:
 * lets a caller choose arch, padding, epsilon, num_classes and in_channels
 * before building the model.  `model` (may be NULL) fills the model fields
 * of info (inferred_arch, stem_in_channels, num_classes). */
int ecg_keras_probe(const char *path, const struct ecg_keras_model *model, struct ecg_keras_info *info,
                    struct ecg_error *err);

/* True when path is a readable Keras-layout weight file (layer_names at its root or under /model_weights),
 * whatever else it holds; prints nothing. */
bool ecg_keras_file_probe(const char *path);

/*
 * Loads a weight file into a bound parameter store, matching by name.
 * opts may be NULL (nothing may be missing, not strict).  info (may be
 * NULL) receives what the file says about itself.
 *
 * Every parameter of the store must be found with its exact shape, except:
 *   - weights opts->model adapts (EfficientNet: a 3-channel stem_conv/kernel
 *     into another channel count, timm's adapt_input_conv);
 *   - the allow_missing and skip prefixes above.
 * Errors (one message naming the file and the layer): a file that is
 * missing, truncated or not HDF5; not a Keras weight file; a model
 * parameter missing from the file; a shape mismatch
 *   "w.h5: layer 'block2a_dwconv' weight 'depthwise_kernel': expected
 *    (3, 3, 96, 1), found (5, 5, 96, 1)";
 * weights of another architecture of opts->model ("w.h5: looks like
 * EfficientNet-B1 weights, the model is B0"); NaN or infinity in a weight;
 * a negative batch-norm moving_variance.
 * All or nothing: values are staged in a copy and the store changes only
 * when everything succeeded.  Warns once (ecg_warn) listing file weights
 * the model does not use and parameters that kept their initialisation.
 */
int ecg_keras_load(const char *path, struct ecg_params *params,
                   const struct ecg_keras_load_opts *opts, struct ecg_keras_info *info,
                   struct ecg_error *err);

/* The same from an open file (the root holds the Keras layout); `path` is
 * used in messages.  For io/checkpoint.c. */
int ecg_keras_load_open(hid_t file, const char *path, struct ecg_params *params,
                        const struct ecg_keras_load_opts *opts, struct ecg_keras_info *info,
                        struct ecg_error *err);

/*
 * Writes every parameter of the store (buffers included) as a Keras-2
 * weight file: one group per layer in store order, weight_names
 * "<layer>/<weight>:0", batch-norm weights in Keras order.  `attrs` (may
 * be NULL) adds ecg_bn_epsilon / ecg_padding / ecg_arch for the fields
 * whose has_* is set, and a `normalization` layer when has_normalization.
 * The file is written to a temporary name and renamed into place.
 */
int ecg_keras_save(const char *path, const struct ecg_params *params,
                   const struct ecg_keras_info *attrs, struct ecg_error *err);

/* The same into the root of an open file (for io/checkpoint.c). */
int ecg_keras_write_open(hid_t file, const struct ecg_params *params,
                         const struct ecg_keras_info *attrs, struct ecg_error *err);

#endif
