/* Tests of io/model_file: the /ecg_model group round trip, the temperature of checkpoints, probes and errors. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/checkpoint.h"
#include "io/model_file.h"
#include "tests/test_util.h"

/* A two-parameter store: a 3-feature, 2-class dense head. */
static void build(struct ecg_params *p)
{
    struct ecg_error err = {0};
    const int64_t k[2] = {3, 2}, b[1] = {2};
    memset(p, 0, sizeof *p);
    ECG_ASSERT(ecg_params_add(p, "predictions/kernel", 2, k, 0, NULL, &err) == ECG_OK);
    ECG_ASSERT(ecg_params_add(p, "predictions/bias", 1, b, 0, NULL, &err) == ECG_OK);
    ECG_ASSERT(ecg_params_bind(p, &err) == ECG_OK);
    for (int i = 0; i < 6; i++)
        ecg_params_value(p, 0)[i] = 0.5f * (float)i;
}

static const char *path_in_tmp(const char *name)
{
    static char buf[4][4200];
    static int at;
    char *p = buf[at++ % 4];
    snprintf(p, sizeof buf[0], "%s/%s", ecg_test_tmpdir(), name);
    return p;
}

static void a_model_file_holds_its_configuration_and_temperature(void)
{
    struct ecg_params p;
    build(&p);
    struct ecg_error err = {0};
    const char *names[2] = {"A", "B"};
    struct ecg_model_meta meta = {.config_yaml = "data:\n  window_seconds: 30\n", .class_names = names, .n_classes = 2,
                                  .temperature = 1.75, .arch = "b0", .metrics_json = "{\"x\": 1}"};
    const char *path = path_in_tmp("model.h5");
    CU_ASSERT_EQUAL_FATAL(ecg_model_file_save(path, &p, NULL, &meta, &err), ECG_OK);
    CU_ASSERT_TRUE(ecg_model_file_probe(path));
    char *yaml = NULL;
    CU_ASSERT_EQUAL(ecg_model_file_config(path, &yaml, &err), ECG_OK);
    CU_ASSERT_STRING_EQUAL(yaml, meta.config_yaml);
    free(yaml);
    double t = 0;
    CU_ASSERT_EQUAL(ecg_model_file_temperature(path, &t, &err), ECG_OK);
    CU_ASSERT_EQUAL(t, 1.75);
    /* Changing the temperature keeps the weights. */
    CU_ASSERT_EQUAL(ecg_model_file_set_temperature(path, 0.5, &err), ECG_OK);
    CU_ASSERT_EQUAL(ecg_model_file_temperature(path, &t, &err), ECG_OK);
    CU_ASSERT_EQUAL(t, 0.5);
    struct ecg_params q;
    build(&q);
    memset(q.values, 0, (size_t)q.total * sizeof(float));
    CU_ASSERT_EQUAL(ecg_keras_load(path, &q, NULL, NULL, &err), ECG_OK);
    CU_ASSERT_EQUAL(memcmp(p.values, q.values, (size_t)p.total * sizeof(float)), 0);
    ecg_params_free(&p);
    ecg_params_free(&q);
}

static void metrics_come_from_a_model_file_that_carries_them(void)
{
    struct ecg_params p;
    build(&p);
    struct ecg_error err = {0};
    const char *names[2] = {"A", "B"};
    struct ecg_model_meta meta = {.config_yaml = "", .class_names = names, .n_classes = 2, .temperature = 1,
                                  .metrics_json = "{\"macro_f1\": {\"mean\": 0.5}}"};
    const char *with = path_in_tmp("with.h5"), *without = path_in_tmp("without.h5"), *ckpt = path_in_tmp("c.h5");
    CU_ASSERT_EQUAL_FATAL(ecg_model_file_save(with, &p, NULL, &meta, &err), ECG_OK);
    meta.metrics_json = NULL; /* written as "{}" */
    CU_ASSERT_EQUAL_FATAL(ecg_model_file_save(without, &p, NULL, &meta, &err), ECG_OK);
    struct ecg_checkpoint ck = {.config_yaml = "run:\n  seed: 1\n", .metrics_json = "{\"epoch\": 1}"};
    CU_ASSERT_EQUAL_FATAL(ecg_checkpoint_save(ckpt, &p, NULL, &ck, &err), ECG_OK);
    char *json = NULL;
    CU_ASSERT_EQUAL(ecg_model_file_metrics(with, &json, &err), ECG_OK);
    CU_ASSERT_PTR_NOT_NULL_FATAL(json);
    CU_ASSERT_STRING_EQUAL(json, "{\"macro_f1\": {\"mean\": 0.5}}");
    free(json);
    /* None stored, a checkpoint's progress, a plain weight file: no metrics. */
    CU_ASSERT_EQUAL(ecg_model_file_metrics(without, &json, &err), ECG_OK);
    CU_ASSERT_PTR_NULL(json);
    CU_ASSERT_EQUAL(ecg_model_file_metrics(ckpt, &json, &err), ECG_OK);
    CU_ASSERT_PTR_NULL(json);
    const char *plain = path_in_tmp("plain_weights.h5");
    CU_ASSERT_EQUAL_FATAL(ecg_keras_save(plain, &p, NULL, &err), ECG_OK);
    CU_ASSERT_EQUAL(ecg_model_file_metrics(plain, &json, &err), ECG_OK);
    CU_ASSERT_PTR_NULL(json);
    ECG_CHECK_ERROR(ecg_model_file_metrics(path_in_tmp("absent.h5"), &json, &err), &err, ECG_ERR_IO, "absent.h5");
    CU_ASSERT_PTR_NULL(json);
    ecg_params_free(&p);
}

static void a_checkpoint_has_temperature_1_until_one_is_set(void)
{
    struct ecg_params p;
    build(&p);
    struct ecg_error err = {0};
    struct ecg_checkpoint ck = {.config_yaml = "run:\n  seed: 1\n"};
    const char *path = path_in_tmp("ckpt.h5");
    CU_ASSERT_EQUAL_FATAL(ecg_checkpoint_save(path, &p, NULL, &ck, &err), ECG_OK);
    double t = 0;
    CU_ASSERT_EQUAL(ecg_model_file_temperature(path, &t, &err), ECG_OK);
    CU_ASSERT_EQUAL(t, 1.0);
    CU_ASSERT_EQUAL(ecg_model_file_set_temperature(path, 2.5, &err), ECG_OK);
    CU_ASSERT_EQUAL(ecg_model_file_temperature(path, &t, &err), ECG_OK);
    CU_ASSERT_EQUAL(t, 2.5);
    /* Still a checkpoint that loads (nothing else changed). */
    char *yaml = NULL;
    CU_ASSERT_EQUAL(ecg_checkpoint_read_text(path, &yaml, NULL, &err), ECG_OK);
    CU_ASSERT_STRING_EQUAL(yaml, ck.config_yaml);
    free(yaml);
    /* The configuration is replaced the same way, and the temperature stays. */
    CU_ASSERT_EQUAL(ecg_model_file_set_config(path, "run:\n  seed: 2\n", &err), ECG_OK);
    CU_ASSERT_EQUAL(ecg_checkpoint_read_text(path, &yaml, NULL, &err), ECG_OK);
    CU_ASSERT_STRING_EQUAL(yaml, "run:\n  seed: 2\n");
    free(yaml);
    CU_ASSERT_EQUAL(ecg_model_file_temperature(path, &t, &err), ECG_OK);
    CU_ASSERT_EQUAL(t, 2.5);
    ecg_params_free(&p);
}

static void files_without_metadata_are_refused_with_their_name(void)
{
    struct ecg_params p;
    build(&p);
    struct ecg_error err = {0};
    const char *plain = path_in_tmp("plain.h5");
    CU_ASSERT_EQUAL_FATAL(ecg_keras_save(plain, &p, NULL, &err), ECG_OK);
    CU_ASSERT_FALSE(ecg_model_file_probe(plain));
    CU_ASSERT_FALSE(ecg_model_file_probe(path_in_tmp("missing.h5")));
    CU_ASSERT_FALSE(ecg_model_file_probe(ecg_test_write_file("text.csv", "1,2\n")));
    char *yaml = NULL;
    ECG_CHECK_ERROR(ecg_model_file_config(plain, &yaml, &err), &err, ECG_ERR_FORMAT,
                    "plain.h5: not an ecgtrain checkpoint or model file (no 'ecg_checkpoint' or 'ecg_model' group)");
    ECG_CHECK_ERROR(ecg_model_file_set_temperature(plain, 2.0, &err), &err, ECG_ERR_FORMAT,
                    "not an ecgtrain checkpoint or model file");
    ECG_CHECK_ERROR(ecg_model_file_set_config(plain, "run: {}\n", &err), &err, ECG_ERR_FORMAT,
                    "plain.h5: not an ecgtrain checkpoint or model file");
    ECG_CHECK_ERROR(ecg_model_file_set_temperature(plain, -1.0, &err), &err, ECG_ERR_RANGE,
                    "expected a positive temperature, found -1");
    const char *names[2] = {"A", "B"};
    struct ecg_model_meta meta = {.config_yaml = "", .class_names = names, .n_classes = 2, .temperature = 0};
    ECG_CHECK_ERROR(ecg_model_file_save(path_in_tmp("bad.h5"), &p, NULL, &meta, &err), &err, ECG_ERR_RANGE,
                    "bad.h5: expected a positive temperature, found 0");
    ecg_params_free(&p);
}

static const struct ecg_test tests[] = {
    {"a model file holds its configuration and temperature", a_model_file_holds_its_configuration_and_temperature},
    {"metrics come from a model file that carries them", metrics_come_from_a_model_file_that_carries_them},
    {"a checkpoint has temperature 1 until one is set", a_checkpoint_has_temperature_1_until_one_is_set},
    {"files without metadata are refused with their name", files_without_metadata_are_refused_with_their_name},
    {NULL, NULL},
};
static const struct ecg_suite suites[] = {{"model file", tests}, {NULL, NULL}};

int main(int argc, char **argv) { return ecg_test_main(argc, argv, suites); }
