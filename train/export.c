/* ecg_export_model: checkpoint -> weights + configuration, classes, temperature, provenance and metrics. */
#include "train/export.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval/json.h"
#include "io/model_file.h"
#include "train/train.h"

/* The ids data.exclude lists (first word of each line, '#' comments), as a JSON array. */
static int json_exclude_ids(struct ecg_json *j, const char *path, struct ecg_error *err)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return ecg_error_set(err, ECG_ERR_IO, "data.exclude: cannot open %s: %s", path, strerror(errno));
    ecg_json_begin_array(j, false);
    char line[512], id[ECG_ID_MAX];
    while (fgets(line, sizeof line, f))
        if (line[0] != '#' && sscanf(line, "%63s", id) == 1)
            ecg_json_string(j, id);
    ecg_json_end_array(j);
    fclose(f);
    return ECG_OK;
}

/* The provenance JSON (malloc'd) of the data the config names. */
static int provenance_json(const struct ecg_config *c, bool read_data, char **out, struct ecg_error *err)
{
    size_t size = 0;
    FILE *f = open_memstream(out, &size);
    if (!f)
        return ecg_error_set(err, ECG_ERR_NOMEM, "out of memory");
    struct ecg_json j;
    ecg_json_init(&j, f, 0);
    ecg_json_begin_object(&j);
    ecg_json_key(&j, "format");
    ecg_json_string(&j, ecg_config_format_name(c));
    ecg_json_key(&j, "path");
    ecg_json_string(&j, c->data.path);
    int rc = ECG_OK;
    if (read_data) {
        struct ecg_dataset ds = {0};
        if (!(rc = ecg_prepare_dataset(c, &ds, err))) {
            const char *names[16];
            int k;
            ecg_class_names(ds.task, names, &k);
            int64_t counts[16] = {0};
            for (int64_t i = 0; i < ds.count; i++)
                if (ds.records[i].label >= 0 && ds.records[i].label < k)
                    counts[ds.records[i].label]++;
            ecg_json_key(&j, "records");
            ecg_json_int(&j, ds.count);
            ecg_json_key(&j, "skipped");
            ecg_json_int(&j, ds.skipped);
            ecg_json_key(&j, "class_counts");
            ecg_json_begin_object(&j);
            for (int i = 0; i < k; i++) {
                ecg_json_key(&j, names[i]);
                ecg_json_int(&j, counts[i]);
            }
            ecg_json_end_object(&j);
        }
        ecg_dataset_free(&ds);
    }
    ecg_json_key(&j, "exclude");
    if (c->data.exclude)
        ecg_json_string(&j, c->data.exclude);
    else
        ecg_json_null(&j);
    ecg_json_key(&j, "excluded_ids");
    if (!rc && c->data.exclude)
        rc = json_exclude_ids(&j, c->data.exclude, err);
    else
        ecg_json_null(&j);
    static const char *const split_keys[] = {"data.val_fraction", "data.test_fraction", "data.folds", "data.fold",
                                             "run.seed"};
    for (size_t i = 0; i < sizeof split_keys / sizeof *split_keys; i++) {
        char v[64];
        ecg_config_format_value(c, ecg_config_find(split_keys[i]), v, sizeof v);
        ecg_json_key(&j, split_keys[i]);
        ecg_json_number(&j, strtod(v, NULL));
    }
    ecg_json_end_object(&j);
    fclose(f);
    if (rc) {
        free(*out);
        *out = NULL;
    }
    return rc;
}

static int read_metrics(const char *path, char **out, struct ecg_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return ecg_error_set(err, ECG_ERR_IO, "--metrics: cannot open %s: %s", path, strerror(errno));
    size_t size = 0;
    FILE *m = open_memstream(out, &size);
    char buf[4096];
    size_t n;
    while (m && (n = fread(buf, 1, sizeof buf, f)) > 0)
        fwrite(buf, 1, n, m);
    fclose(f);
    if (!m)
        return ecg_error_set(err, ECG_ERR_NOMEM, "out of memory");
    fclose(m);
    const char *p = *out;
    while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
        p++;
    if (*p != '{') {
        int rc = ecg_error_set(err, ECG_ERR_FORMAT, "--metrics: %s: expected a JSON object, found '%.20s'", path, p);
        free(*out);
        *out = NULL;
        return rc;
    }
    return ECG_OK;
}

int ecg_export_network(const struct ecg_config *c, const struct ecg_effnet *net, double temperature,
                       const struct ecg_rr_fusion *fusion, const char *prov, const char *metrics, const char *out, struct ecg_error *err)
{
    /* The stored configuration starts from the weights as they are, not from the training's starting point, and
     * says nothing of the training machine: no paths of it, and the cores of the machine that runs the model.
     * (A shallow copy: it only reads the strings it shares with c.) */
    struct ecg_config stored = *c;
    stored.model.pretrained = stored.run.dir = stored.run.resume = NULL; /* the file is its own weights */
    stored.run.threads = 0;
    char *yaml = ecg_config_to_string(&stored, err);
    if (!yaml)
        return err->code ? err->code : ECG_ERR_NOMEM;
    const char *names[16];
    int k;
    int task = ecg_format_task(ecg_config_format_name(c));
    ecg_class_names(task < 0 ? ECG_TASK_RHYTHM : (enum ecg_task)task, names, &k);
    struct ecg_keras_info attrs;
    ecg_model_keras_info(net, &attrs);
    struct ecg_model_meta meta = {.config_yaml = yaml, .class_names = names, .n_classes = k,
                                  .temperature = temperature, .arch = attrs.arch, .provenance_json = prov,
                                  .metrics_json = metrics, .rr_fusion = fusion};
    int rc = ecg_model_file_save(out, net->params, &attrs, &meta, err);
    free(yaml);
    return rc;
}

int ecg_export_model(const char *ckpt, const char *out, const struct ecg_export_opts *o, struct ecg_error *err)
{
    struct ecg_config c = {0};
    struct ecg_effnet m = {0};
    char *prov = NULL, *metrics = NULL;
    double t = 1.0;
    struct ecg_rr_fusion fusion = {0};
    ECG_TRY(ecg_config_from_checkpoint(ckpt, 0, NULL, &c, err));
    int rc = ecg_model_file_temperature(ckpt, &t, err);
    if (!rc)
        rc = ecg_model_file_rr_fusion(ckpt, (int)c.model.num_classes, &fusion, err);
    if (!rc && o->metrics_path)
        rc = read_metrics(o->metrics_path, &metrics, err);
    if (!rc)
        rc = provenance_json(&c, o->provenance, &prov, err);
    if (!rc)
        rc = ecg_model_build(&c, 1, true, &m, NULL, err);
    if (!rc)
        rc = ecg_export_network(&c, &m, t, &fusion, prov, metrics, out, err);
    ecg_effnet_free(&m);
    ecg_config_free(&c);
    free(prov), free(metrics);
    return rc;
}
