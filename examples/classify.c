/* classify: the smallest embedding of libecgtrain: one record of an ECG file through a trained model. */
/*
 *   cc classify.c $(pkg-config --cflags --libs ecgtrain) -o classify
 *   ./classify runs/effb0/best.h5 data/sample/cachet_sample.h5 [INDEX]
 */
#include <stdio.h>
#include <stdlib.h>

#include "infer/infer.h"

/* Classifies the records of `file` (format chosen by its name) with the model at `path` and
 * prints record `index`'s class and probability. */
static int classify(const char *path, const char *file, int64_t index, struct ecg_error *err)
{
    struct ecg_infer_model *model = NULL;
    struct ecg_infer_context *ctx = NULL;
    struct ecg_infer_result *results = NULL;
    int64_t count = 0;
    int rc = ecg_infer_model_load(path, NULL, 0, NULL, &model, err);
    if (!rc)
        rc = ecg_infer_context_init(model, &ctx, err);
    if (!rc)
        rc = ecg_infer_classify_file(ctx, file, NULL, 0, &results, &count, err);
    if (!rc && (index < 0 || index >= count))
        rc = ecg_error_set(err, ECG_ERR_USAGE, "%s: no record %lld (it holds %lld)", file, (long long)index,
                           (long long)count);
    if (!rc) {
        const char *const *names;
        ecg_infer_model_classes(model, &names);
        const struct ecg_infer_result *r = &results[index];
        printf("%s: %s (p = %.3f)\n", r->record, names[r->best], r->probs[r->best]);
    }
    ecg_infer_results_free(results, count);
    ecg_infer_context_free(ctx);
    ecg_infer_model_free(model);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: classify MODEL FILE [INDEX]\n");
        return 2;
    }
    char *end = NULL;
    long long index = argc == 4 ? strtoll(argv[3], &end, 10) : 0;
    if (end && (end == argv[3] || *end)) {
        fprintf(stderr, "classify: INDEX: expected a record number, found '%s'\n", argv[3]);
        return 2;
    }
    struct ecg_error err = {0};
    int rc = classify(argv[1], argv[2], index, &err);
    if (rc)
        fprintf(stderr, "classify: %s\n", err.msg);
    return ecg_status_exit_code(rc);
}
