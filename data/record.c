/* Canonical class names and the growable record array every reader fills. */
#include "data/record.h"

#include <stdlib.h>
#include <string.h>

static const char *const rhythm_names[ECG_RHYTHM_COUNT] = {"AF", "NSR", "Noise", "Other"};
static const char *const beat_names[ECG_BEAT_COUNT] = {"N", "S", "V", "F", "Q"};

int ecg_task_class_count(enum ecg_task task)
{
    return task == ECG_TASK_BEAT ? ECG_BEAT_COUNT : ECG_RHYTHM_COUNT;
}

const char *ecg_task_class_name(enum ecg_task task, int label)
{
    if (label < 0 || label >= ecg_task_class_count(task))
        return "?";
    return task == ECG_TASK_BEAT ? beat_names[label] : rhythm_names[label];
}

int ecg_dataset_push(struct ecg_dataset *ds, const struct ecg_record *rec, struct ecg_error *err)
{
    if (ds->count == ds->cap) {
        int64_t cap = ds->cap ? 2 * ds->cap : 64;
        struct ecg_record *r = realloc(ds->records, (size_t)cap * sizeof *r);
        if (!r) {
            free(rec->signal);
            return ecg_error_set(err, ECG_ERR_NOMEM, "record %s: out of memory growing the dataset to %lld records",
                                 rec->id, (long long)cap);
        }
        ds->records = r;
        ds->cap = cap;
    }
    ds->records[ds->count++] = *rec;
    return ECG_OK;
}

void ecg_dataset_free(struct ecg_dataset *ds)
{
    if (!ds)
        return;
    for (int64_t i = 0; i < ds->count; i++)
        free(ds->records[i].signal);
    free(ds->records);
    ds->records = NULL;
    ds->count = ds->cap = ds->skipped = 0;
}
