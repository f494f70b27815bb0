/* classify: the smallest embedding of libecgtrain: one record of a CACHET-CADB file through a checkpoint. */
/*
 *   cc classify.c $(pkg-config --cflags --libs ecgtrain) -o classify
 *   ./classify runs/effb0/best.h5 data/sample/cachet_sample.h5 [INDEX]
 */
#include <stdio.h>
#include <stdlib.h>

#include "data/readers.h"
#include "train/train.h"

/* Classifies record `index` of a CACHET-CADB short-format file with a checkpoint; prints its
 * class and probability. */
static int classify(const char *ckpt, const char *file, int64_t index, struct ecg_error *err)
{
    struct ecg_config c = {0};
    struct ecg_dataset ds = {0};
    struct ecg_effnet m = {0};
    struct ecg_input_scaling norm;
    struct ecg_eval_result r = {0};
    int rc = ecg_config_from_checkpoint(ckpt, 0, NULL, &c, err);
    if (rc)
        return rc;
    if ((rc = ecg_cachet_read_short(file, NULL, &ds, err)))
        goto out;
    if (index < 0 || index >= ds.count) {
        rc = ecg_error_set(err, ECG_ERR_USAGE, "%s: no record %lld (it holds %lld)", file, (long long)index,
                           (long long)ds.count);
        goto out;
    }
    if ((rc = ecg_prepare_record(&c, &ds.records[index], err)) ||
        (rc = ecg_model_build(&c, 1, true, &m, &norm, err)) ||
        (rc = ecg_evaluate(&m, &norm, &c, &ds, &index, 1, &r, err)))
        goto out;
    if (r.n == 0) {
        rc = ecg_error_set(err, ECG_ERR_VALUE, "%s: record %s is too short to classify", file, ds.records[index].id);
        goto out;
    }
    const char *names[16];
    int k, best = 0;
    ecg_class_names(ds.task, names, &k);
    for (int j = 1; j < r.k; j++)
        if (r.probs[j] > r.probs[best])
            best = j;
    printf("%s: %s (p = %.3f)\n", ds.records[index].id, names[best], r.probs[best]);
out:
    ecg_eval_result_free(&r);
    ecg_effnet_free(&m);
    ecg_dataset_free(&ds);
    ecg_config_free(&c);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: classify CHECKPOINT FILE.h5 [INDEX]\n");
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
