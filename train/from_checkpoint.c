/* Rebuilding a run's configuration from its checkpoint, for evaluation and prediction. */
#include <stdlib.h>
#include <string.h>

#include "io/model_file.h"
#include "train/train.h"

int ecg_config_from_checkpoint(const char *ckpt, int noverrides, char *const *overrides, struct ecg_config *c,
                               struct ecg_error *err)
{
    char *yaml = NULL;
    int rc = ecg_model_file_config(ckpt, &yaml, err);
    if (rc)
        return rc;
    if ((rc = ecg_config_defaults(c, err)) == ECG_OK && (rc = ecg_config_load_string(c, yaml, ckpt, err)))
        ecg_error_prefix(err, rc, "the configuration stored in the checkpoint");
    free(yaml);
    for (int i = 0; i < noverrides && !rc; i++)
        rc = ecg_config_override(c, overrides[i], err);
    if (!rc)
        rc = ecg_config_check(c, err);
    if (!rc) {
        /* The weights come from the checkpoint itself, head included. */
        free(c->model.pretrained);
        c->model.pretrained = strdup(ckpt);
        free(c->model.freeze);
        c->model.freeze = strdup("none");
        if (!c->model.pretrained || !c->model.freeze)
            rc = ecg_error_set(err, ECG_ERR_NOMEM, "out of memory");
    }
    if (rc)
        ecg_config_free(c);
    return rc;
}
