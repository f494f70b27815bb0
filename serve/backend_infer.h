/* The backend ecgserve serves: serve/backend.h on top of the inference path (infer/). */
#ifndef ECG_SERVE_BACKEND_INFER_H
#define ECG_SERVE_BACKEND_INFER_H

#include "core/error.h"
#include "serve/backend.h"

/*
 * Loads a model with ecg_infer_model_load (weights, config_path, overrides:
 * the same meaning there) and fills *be: prepare is ecg_infer_prepare_samples
 * (the record's windows and spectrogram images, moved out of the result),
 * classify is ecg_infer_classify_images with Grad-CAM maps of the
 * spectrogram's size, one ecg_infer_context per server thread.  The model
 * info: name the weight file's base name without extension, the run's
 * classes, data.sample_rate, data.window_seconds, the shortest record
 * preprocessing accepts, the longest recording of the training data's
 * format, and a model card (model, preprocessing, training data, and the
 * metrics file NAME.metrics.json beside the weights when there is one).
 * Errors are ecg_infer_model_load's, or a metrics file that cannot be read.
 * *be is zeroed on failure.
 */
int ecg_serve_backend_infer_open(const char *weights, const char *config_path, int noverrides,
                                 char *const *overrides, struct ecg_serve_backend *be, struct ecg_error *err);

/* The loaded model of an open backend (borrowed): its configuration, classes, ... */
struct ecg_infer_model *ecg_serve_backend_infer_model(const struct ecg_serve_backend *be);

/* Frees what open made; a zeroed backend is a no-op.  No context may be in use. */
void ecg_serve_backend_infer_close(struct ecg_serve_backend *be);

#endif
