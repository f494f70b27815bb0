/* Classifying records of a dataset already read and preprocessed by ecg_prepare_dataset (ecgeval). */
#ifndef ECG_INFER_DATASET_H
#define ECG_INFER_DATASET_H

#include "data/record.h"
#include "infer/infer.h"
#include "train/train.h"

/*
 * Runs the inference path's windows and network on ds->records[indices[0..n)]
 * (records prepared with the model's configuration) and fills `out` as
 * ecg_evaluate does: per-record window-averaged probabilities, truth, loss.
 * Each record gives exactly the probabilities ecg_infer_classify_file gives
 * for it.  The caller frees `out` with ecg_eval_result_free.
 */
int ecg_infer_classify_dataset(struct ecg_infer_context *ctx, const struct ecg_dataset *ds, const int64_t *indices,
                               int64_t n, struct ecg_eval_result *out, struct ecg_error *err);

#endif
