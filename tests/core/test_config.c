/* Tests of the config system: schema, YAML files, every error message, overrides, inheritance, printing, ecgtrain. */
#include <dirent.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "train/config.h"
#include "core/config_internal.h"
#include "data/record.h"
#include "io/model_file.h"
#include "tests/test_util.h"

/* ---- helpers ---- */

/* Passes when rc == code and the message is exactly `want`; prints both otherwise. */
static bool msg_is(int rc, const struct ecg_error *err, enum ecg_status code, const char *want)
{
    if (rc == (int)code && err->code == code && !strcmp(err->msg, want))
        return true;
    fprintf(stderr, "\n  expected status %d, message:\n    %s\n  got status %d, message:\n    %s\n", (int)code,
            want, rc, err->msg);
    return false;
}
#define CHECK_MSG(rc, err, code, want) CU_ASSERT_TRUE(msg_is((rc), &(err), (code), (want)))

/* Writes `text` to a temp file and loads it over the defaults; *path gets the file's path. */
static int load_text(struct ecg_config *c, const char *text, const char **path, struct ecg_error *err)
{
    const char *p = ecg_test_write_file("case.yaml", text);
    if (path)
        *path = p;
    CU_ASSERT_EQUAL_FATAL(ecg_config_defaults(c, err), ECG_OK);
    return ecg_config_load(c, p, err);
}

/* Loads `text` and checks the message is "<path>:" + suffix exactly. */
static void check_file_error(const char *text, enum ecg_status code, const char *suffix)
{
    struct ecg_config c;
    struct ecg_error err = {0};
    const char *path;
    int rc = load_text(&c, text, &path, &err);
    CHECK_MSG(rc, err, code, ecg_test_fmt("%s:%s", path, suffix));
    ecg_config_free(&c);
}

/* Applies one override to the defaults and checks the exact message. */
static void check_override_error(const char *assignment, enum ecg_status code, const char *want)
{
    struct ecg_config c;
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL_FATAL(ecg_config_defaults(&c, &err), ECG_OK);
    int rc = ecg_config_override(&c, assignment, &err);
    CHECK_MSG(rc, err, code, want);
    ecg_config_free(&c);
}

/* Resolves defaults + overrides and checks the cross-key message exactly. */
static void check_cross_error(int n, char *const *overrides, enum ecg_status code, const char *want)
{
    struct ecg_config c;
    struct ecg_error err = {0};
    int rc = ecg_config_resolve(&c, NULL, n, overrides, &err);
    CHECK_MSG(rc, err, code, want);
    if (rc == ECG_OK)
        ecg_config_free(&c);
}

static const char *source_path(const char *relative)
{
    static char buf[4][1024];
    static int next;
    const char *root = getenv("ECG_SOURCE_ROOT");
    char *b = buf[next++ % 4];
    snprintf(b, sizeof buf[0], "%s/%s", root ? root : ".", relative);
    return b;
}

static char *read_all(const char *path) { return ecg_test_read_file(path); }

/* ---- the schema ---- */

static void every_row_is_consistent_with_its_field(void)
{
    int64_t n;
    const struct ecg_config_key *keys = ecg_config_keys(&n);
    CU_ASSERT_TRUE(n > 60);
    for (int64_t i = 0; i < n; i++) {
        const struct ecg_config_key *k = &keys[i];
        CU_ASSERT_EQUAL(k->ctype, (int)ecg_config_ctype_of(k->type));
        CU_ASSERT_PTR_NOT_NULL(k->def);
        CU_ASSERT_TRUE(k->help && strlen(k->help) > 5);
        CU_ASSERT_TRUE(k->offset < sizeof(struct ecg_config));
        CU_ASSERT_PTR_EQUAL(ecg_config_find(k->name), k);
        if (k->type == ECG_CFG_ENUM)
            CU_ASSERT_TRUE(k->names && k->names[0] && k->names[1]);
        if (k->type == ECG_CFG_INT || k->type == ECG_CFG_FLOAT || k->type == ECG_CFG_FLOATS)
            CU_ASSERT_TRUE(k->min < k->max);
        for (int64_t j = 0; j < i; j++) {
            CU_ASSERT_STRING_NOT_EQUAL(keys[j].name, k->name);
            CU_ASSERT_NOT_EQUAL(keys[j].offset, k->offset);
        }
    }
    CU_ASSERT_PTR_NULL(ecg_config_find("optim"));
    CU_ASSERT_PTR_NULL(ecg_config_find("optim.lrr"));
}

static void keys_of_a_section_are_contiguous(void)
{
    /* The printer opens each section once, so a section must not reappear after another. */
    int64_t n;
    const struct ecg_config_key *keys = ecg_config_keys(&n);
    for (int64_t i = 0; i < n; i++) {
        const char *dot = strrchr(keys[i].name, '.');
        size_t len = (size_t)(dot - keys[i].name);
        bool left = false;
        for (int64_t j = i + 1; j < n; j++) {
            bool same = !strncmp(keys[j].name, keys[i].name, len) && keys[j].name[len] == '.';
            if (!same)
                left = true;
            else if (left)
                CU_FAIL("a section's keys are split in the schema table");
        }
    }
}

static void defaults_follow_the_schema(void)
{
    struct ecg_config c;
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL_FATAL(ecg_config_defaults(&c, &err), ECG_OK);
    CU_ASSERT_STRING_EQUAL(c.run.name, "effb0");
    CU_ASSERT_PTR_NULL(c.run.dir);
    CU_ASSERT_EQUAL(c.run.seed, 42);
    CU_ASSERT_EQUAL(c.data.format, ECG_DATA_CACHET_SHORT);
    CU_ASSERT_STRING_EQUAL(c.data.path, "data/sample/cachet_sample.h5");
    CU_ASSERT_EQUAL(c.data.spectrogram.height, 64);
    CU_ASSERT_EQUAL(c.model.arch, 0);
    CU_ASSERT_STRING_EQUAL(c.model.pretrained, "weights/ecg_effb0_cinc2017.h5");
    CU_ASSERT_STRING_EQUAL(c.model.freeze, "none");
    CU_ASSERT_EQUAL(c.optim.rule.kind, ECG_OPTIM_ADAMW);
    CU_ASSERT_EQUAL(c.optim.lr, 0.001);
    CU_ASSERT_EQUAL(c.optim.rule.betas[0], 0.9);
    CU_ASSERT_EQUAL(c.optim.rule.betas[1], 0.999);
    CU_ASSERT_EQUAL(c.train.class_weights.n, 0);
    CU_ASSERT_EQUAL(c.train.class_weights.choice, ECG_CLASS_WEIGHTS_INVERSE_FREQUENCY);
    CU_ASSERT_EQUAL(c.train.schedule, ECG_SCHED_COSINE);
    CU_ASSERT_EQUAL(ecg_config_check(&c, &err), ECG_OK);
    ecg_config_free(&c);
    ecg_config_free(&c); /* freeing twice (a zeroed config) is a no-op */
}

/* The keys that shape what a model sees (preprocessing, windows, image) and what it is, other than the
 * weight conventions a weight file states itself (model.padding, model.bn_eps). */
static bool representation_key(const char *name)
{
    static const char *const prefixes[] = {"data.sample_rate",    "data.band_",        "data.normalize",
                                           "data.window_seconds", "data.pad",          "data.spectrogram.",
                                           "eval.hop_seconds",    "model.arch",        "model.in_channels",
                                           "model.num_classes",   "model.input_norm"};
    for (size_t i = 0; i < sizeof prefixes / sizeof *prefixes; i++)
        if (!strncmp(name, prefixes[i], strlen(prefixes[i])))
            return true;
    return false;
}

/* The configuration stored in the shipped model file. */
static bool shipped_model_config(struct ecg_config *c)
{
    struct ecg_error err = {0};
    char *yaml = NULL;
    int rc = ecg_model_file_config(source_path("weights/ecg_effb0_cinc2017.h5"), &yaml, &err);
    if (!rc && !(rc = ecg_config_defaults(c, &err)) && (rc = ecg_config_load_string(c, yaml, "shipped model", &err)))
        ecg_config_free(c);
    free(yaml);
    if (rc)
        fprintf(stderr, "\n  %s\n", err.msg);
    return rc == ECG_OK;
}

static void the_default_run_sees_records_as_the_shipped_model_was_trained_to(void)
{
    struct ecg_config run, shipped;
    struct ecg_error err = {0};
    CU_ASSERT_TRUE_FATAL(shipped_model_config(&shipped));
    CU_ASSERT_EQUAL_FATAL(ecg_config_resolve(&run, source_path("configs/effb0.yaml"), 0, NULL, &err), ECG_OK);
    CU_ASSERT_STRING_EQUAL(run.model.pretrained, "weights/ecg_effb0_cinc2017.h5");
    int64_t n, compared = 0;
    const struct ecg_config_key *keys = ecg_config_keys(&n);
    for (int64_t i = 0; i < n; i++) {
        char a[256], b[256];
        if (!representation_key(keys[i].name))
            continue;
        ecg_config_format_value(&run, &keys[i], a, sizeof a);
        ecg_config_format_value(&shipped, &keys[i], b, sizeof b);
        if (strcmp(a, b))
            fprintf(stderr, "\n  configs/effb0.yaml: %s is %s, the shipped model's is %s\n", keys[i].name, a, b);
        CU_ASSERT_STRING_EQUAL(a, b);
        compared++;
    }
    CU_ASSERT_TRUE(compared >= 20);
    ecg_config_free(&run);
    ecg_config_free(&shipped);
}

/* The shipped model's representation: the keys where configs/effb0.yaml departs from the built-in defaults. */
static const char *const shipped_representation[] = {"data.window_seconds",        "data.pad",
                                                     "data.spectrogram.height",    "data.spectrogram.width",
                                                     "data.spectrogram.hop_seconds", "eval.hop_seconds"};

static void the_default_config_is_the_schema_defaults_but_for_the_shipped_model_s_representation(void)
{
    struct ecg_config want, got, shipped;
    struct ecg_error err = {0};
    const char *first = NULL;
    CU_ASSERT_TRUE_FATAL(shipped_model_config(&shipped));
    CU_ASSERT_EQUAL_FATAL(ecg_config_defaults(&want, &err), ECG_OK);
    for (size_t i = 0; i < sizeof shipped_representation / sizeof *shipped_representation; i++) {
        char value[256];
        ecg_config_format_value(&shipped, ecg_config_find(shipped_representation[i]), value, sizeof value);
        CU_ASSERT_EQUAL(ecg_config_override(&want, ecg_test_fmt("%s=%s", shipped_representation[i], value), &err),
                        ECG_OK);
    }
    int rc = ecg_config_resolve(&got, source_path("configs/effb0.yaml"), 0, NULL, &err);
    if (rc)
        fprintf(stderr, "\n  %s\n", err.msg);
    CU_ASSERT_EQUAL_FATAL(rc, ECG_OK);
    CU_ASSERT_TRUE(ecg_config_equal(&want, &got, &first));
    if (first)
        fprintf(stderr, "\n  configs/effb0.yaml differs from the schema default at '%s'\n", first);
    ecg_config_free(&want);
    ecg_config_free(&got);
    ecg_config_free(&shipped);
}

static void every_shipped_config_resolves(void)
{
    DIR *dir = opendir(source_path("configs"));
    CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
    int count = 0;
    for (struct dirent *e; (e = readdir(dir));) {
        size_t len = strlen(e->d_name);
        if (len < 5 || strcmp(e->d_name + len - 5, ".yaml"))
            continue;
        struct ecg_config c;
        struct ecg_error err = {0};
        int rc = ecg_config_resolve(&c, source_path(ecg_test_fmt("configs/%s", e->d_name)), 0, NULL, &err);
        if (rc)
            fprintf(stderr, "\n  %s\n", err.msg);
        CU_ASSERT_EQUAL(rc, ECG_OK);
        if (!rc)
            ecg_config_free(&c);
        count++;
    }
    closedir(dir);
    CU_ASSERT_TRUE(count >= 2);
}

static void suggestions_pick_the_nearest_key_or_section(void)
{
    char a[ECG_SCHEMA_NAME_MAX], b[ECG_SCHEMA_NAME_MAX];
    CU_ASSERT_STRING_EQUAL(ecg_config_suggest("optim.lrr", a, sizeof a), "optim.lr");
    /* The caller's buffer holds the answer: a second suggestion does not overwrite the first. */
    CU_ASSERT_STRING_EQUAL(ecg_config_suggest("optm", b, sizeof b), "optim");
    CU_ASSERT_STRING_EQUAL(a, "optim.lr");
    CU_ASSERT_PTR_EQUAL(ecg_config_suggest("train.epoch", a, sizeof a), a);
    CU_ASSERT_STRING_EQUAL(a, "train.epochs");
    CU_ASSERT_STRING_EQUAL(ecg_config_suggest("data.spectogram.fmax", a, sizeof a), "data.spectrogram.fmax");
    CU_ASSERT_PTR_NULL(ecg_config_suggest("completely.different", a, sizeof a));
}

/* ---- good files ---- */

static void a_good_file_sets_typed_values(void)
{
    struct ecg_config c;
    struct ecg_error err = {0};
    int rc = load_text(&c,
                       "# comment\n"
                       "run:\n  name: exp-1.a\n  seed: 7\n  dir: runs/x\n"
                       "data:\n  format: cinc2017\n  spectrogram:\n    window: tukey\n    fmax: 40.5\n"
                       "  augment: {flip_prob: 0.25}\n"
                       "model:\n  freeze: block3b\n  freeze_bn: no\n  pretrained: none\n"
                       "optim.name: sgd\n"
                       "optim:\n  nesterov: True\n  betas: [0.8, 0.9]\n"
                       "train:\n  class_weights: [1, 2.5, 0.5, 1e3]\n  unfreeze_from: top\n"
                       "eval:\n",
                       NULL, &err);
    if (rc)
        fprintf(stderr, "\n  %s\n", err.msg);
    CU_ASSERT_EQUAL_FATAL(rc, ECG_OK);
    CU_ASSERT_STRING_EQUAL(c.run.name, "exp-1.a");
    CU_ASSERT_EQUAL(c.run.seed, 7);
    CU_ASSERT_STRING_EQUAL(c.run.dir, "runs/x");
    CU_ASSERT_EQUAL(c.data.format, ECG_DATA_CINC2017);
    CU_ASSERT_EQUAL(c.data.spectrogram.window, ECG_SPEC_TUKEY);
    CU_ASSERT_EQUAL(c.data.spectrogram.fmax, 40.5);
    CU_ASSERT_EQUAL(c.data.augment.flip_prob, 0.25);
    CU_ASSERT_STRING_EQUAL(c.model.freeze, "block3b");
    CU_ASSERT_FALSE(c.model.freeze_bn);
    CU_ASSERT_PTR_NULL(c.model.pretrained);
    CU_ASSERT_EQUAL(c.optim.rule.kind, ECG_OPTIM_SGD);
    CU_ASSERT_TRUE(c.optim.rule.nesterov);
    CU_ASSERT_EQUAL(c.optim.rule.betas[0], 0.8);
    CU_ASSERT_EQUAL(c.train.class_weights.n, 4);
    CU_ASSERT_EQUAL(c.train.class_weights.choice, -1);
    CU_ASSERT_EQUAL(c.train.class_weights.values[3], 1000.0);
    CU_ASSERT_STRING_EQUAL(c.train.unfreeze_from, "top");
    CU_ASSERT_EQUAL(c.optim.lr, 0.001); /* untouched keys keep their defaults */
    CU_ASSERT_EQUAL(ecg_config_check(&c, &err), ECG_OK);
    ecg_config_free(&c);
}

static void an_empty_file_means_all_defaults(void)
{
    const char *texts[] = {"", "# only a comment\n", "---\n", "~\n"};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        struct ecg_config c, d;
        struct ecg_error err = {0};
        CU_ASSERT_EQUAL(load_text(&c, texts[i], NULL, &err), ECG_OK);
        CU_ASSERT_EQUAL_FATAL(ecg_config_defaults(&d, &err), ECG_OK);
        CU_ASSERT_TRUE(ecg_config_equal(&c, &d, NULL));
        ecg_config_free(&c);
        ecg_config_free(&d);
    }
}

static void quoted_none_is_a_path_but_plain_none_is_no_path(void)
{
    struct ecg_config c;
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL_FATAL(load_text(&c, "model:\n  pretrained: \"none\"\ndata:\n  cache_dir: none\n", NULL, &err),
                          ECG_OK);
    CU_ASSERT_STRING_EQUAL(c.model.pretrained, "none");
    CU_ASSERT_PTR_NULL(c.data.cache_dir);
    ecg_config_free(&c);
}

static void loading_does_not_require_data_or_weight_files(void)
{
    struct ecg_config c;
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL(load_text(&c, "data: {path: /no/such/data.h5}\nmodel: {pretrained: /no/such/w.h5}\n", NULL, &err),
                    ECG_OK);
    CU_ASSERT_STRING_EQUAL(c.data.path, "/no/such/data.h5");
    ecg_config_free(&c);
}

/* ---- bad files: one exact message each ---- */

static void unknown_keys_name_the_place_and_suggest_a_key(void)
{
    struct ecg_config c;
    struct ecg_error err = {0};
    const char *path = ecg_test_fixture("config/bad_key.yaml");
    CU_ASSERT_EQUAL_FATAL(ecg_config_defaults(&c, &err), ECG_OK);
    int rc = ecg_config_load(&c, path, &err);
    CHECK_MSG(rc, err, ECG_ERR_CONFIG, ecg_test_fmt("%s:4:3: unknown key 'optim.lrr' (did you mean 'optim.lr'?)", path));
    ecg_config_free(&c);

    check_file_error("optm:\n  lr: 0.1\n", ECG_ERR_CONFIG, "1:1: unknown key 'optm' (did you mean 'optim'?)");
    check_file_error("train:\n  epoch: 3\n", ECG_ERR_CONFIG,
                     "2:3: unknown key 'train.epoch' (did you mean 'train.epochs'?)");
    check_file_error("wibble: 1\n", ECG_ERR_CONFIG,
                     "1:1: unknown key 'wibble' (see ecgtrain --help for every key)");
    check_file_error("optim:\n  base: x.yaml\n", ECG_ERR_CONFIG,
                     "2:3: unknown key 'optim.base' (did you mean 'optim.name'?)");
}

static void wrong_types_name_the_key_expected_and_found(void)
{
    check_file_error("train:\n  epochs: ten\n", ECG_ERR_CONFIG,
                     "2:11: key 'train.epochs': expected an integer, found 'ten'");
    check_file_error("train:\n  epochs: 1.5\n", ECG_ERR_CONFIG,
                     "2:11: key 'train.epochs': expected an integer, found '1.5'");
    check_file_error("train:\n  epochs:\n", ECG_ERR_CONFIG,
                     "2:10: key 'train.epochs': expected an integer, found nothing");
    check_file_error("optim:\n  lr: fast\n", ECG_ERR_CONFIG,
                     "2:7: key 'optim.lr': expected a number, found 'fast'");
    check_file_error("optim:\n  lr: 0.1# peak\n", ECG_ERR_CONFIG,
                     "2:7: key 'optim.lr': expected a number, found '0.1# peak' (a comment needs a space "
                     "before '#')");
    check_file_error("optim:\n  lr: [1]\n", ECG_ERR_CONFIG,
                     "2:7: key 'optim.lr': expected a number, found a list");
    check_file_error("optim:\n  nesterov: maybe\n", ECG_ERR_CONFIG,
                     "2:13: key 'optim.nesterov': expected true or false, found 'maybe'");
    check_file_error("run:\n  name: {a: 1}\n", ECG_ERR_CONFIG,
                     "2:9: key 'run.name': expected a string, found a mapping");
    check_file_error("run:\n  name: \"my run\"\n", ECG_ERR_CONFIG,
                     "2:9: key 'run.name': expected a name of letters, digits, '.', '_' and '-' (a directory "
                     "name), found 'my run'");
    check_file_error("data:\n  path: \"\"\n", ECG_ERR_CONFIG,
                     "2:9: key 'data.path': expected a path or none, found ''");
    check_file_error("model:\n  in_channels: 2\n", ECG_ERR_RANGE,
                     "2:16: key 'model.in_channels': expected 1 or 3, found 2");
}

static void out_of_range_values_give_the_range(void)
{
    check_file_error("train:\n  epochs: 0\n", ECG_ERR_RANGE,
                     "2:11: key 'train.epochs': expected a value in [1, 100000], found 0");
    check_file_error("train:\n  epochs: 99999999999999999999999\n", ECG_ERR_RANGE,
                     "2:11: key 'train.epochs': expected a value in [1, 100000], found 99999999999999999999999");
    check_file_error("optim:\n  lr: 0\n", ECG_ERR_RANGE,
                     "2:7: key 'optim.lr': expected a value in (0, 10], found 0");
    check_file_error("model:\n  dropout: 1\n", ECG_ERR_RANGE,
                     "2:12: key 'model.dropout': expected a value in [0, 1), found 1");
    check_file_error("run:\n  seed: -1\n", ECG_ERR_RANGE,
                     "2:9: key 'run.seed': expected a value in [0, 4294967295], found -1");
}

static void bad_enum_values_list_the_allowed_names(void)
{
    check_file_error("optim:\n  name: adam\n", ECG_ERR_CONFIG,
                     "2:9: key 'optim.name': expected one of sgd, adamw, rmsprop, found 'adam'");
    check_file_error("model:\n  arch: b8\n", ECG_ERR_CONFIG,
                     "2:9: key 'model.arch': expected one of b0, b1, b2, b3, b4, b5, b6, b7, found 'b8'");
    check_file_error("model:\n  freeze: block9a\n", ECG_ERR_CONFIG,
                     "2:11: key 'model.freeze': expected none, backbone or a block name (stem, block1a .. "
                     "block7d, top), found 'block9a'");
    check_file_error("train:\n  unfreeze_from: none\n", ECG_ERR_CONFIG,
                     "2:18: key 'train.unfreeze_from': expected a block name (stem, block1a .. block7d, top), "
                     "found 'none'");
}

static void nan_and_infinity_are_rejected(void)
{
    check_file_error("optim:\n  lr: .nan\n", ECG_ERR_CONFIG,
                     "2:7: key 'optim.lr': expected a finite number, found '.nan'");
    check_file_error("optim:\n  lr: -.inf\n", ECG_ERR_CONFIG,
                     "2:7: key 'optim.lr': expected a finite number, found '-.inf'");
    check_file_error("optim:\n  lr: NaN\n", ECG_ERR_CONFIG,
                     "2:7: key 'optim.lr': expected a finite number, found 'NaN'");
    check_file_error("optim:\n  lr: 1e999\n", ECG_ERR_CONFIG,
                     "2:7: key 'optim.lr': expected a finite number, found '1e999'");
    check_file_error("optim:\n  betas: [0.9, inf]\n", ECG_ERR_CONFIG,
                     "2:10: key 'optim.betas': element 2: expected a finite number, found 'inf'");
}

static void lists_check_length_elements_and_names(void)
{
    check_file_error("optim:\n  betas: [0.9]\n", ECG_ERR_RANGE,
                     "2:10: key 'optim.betas': expected a list of 2 numbers, found 1");
    check_file_error("optim:\n  betas: [0.9, 1.0]\n", ECG_ERR_RANGE,
                     "2:10: key 'optim.betas': element 2: expected a value in [0, 1), found 1.0");
    check_file_error("optim:\n  betas: [0.9, x]\n", ECG_ERR_CONFIG,
                     "2:10: key 'optim.betas': element 2: expected a number, found 'x'");
    check_file_error("optim:\n  betas: 0.9\n", ECG_ERR_CONFIG,
                     "2:10: key 'optim.betas': expected a list of 2 numbers, found '0.9'");
    check_file_error("train:\n  class_weights: inverse\n", ECG_ERR_CONFIG,
                     "2:18: key 'train.class_weights': expected a list of 2 to 100000 numbers or one of none, "
                     "inverse_frequency, found 'inverse'");
}

static void yaml_syntax_errors_carry_libyaml_line_and_column(void)
{
    struct ecg_config c;
    struct ecg_error err = {0};
    const char *path = ecg_test_fixture("config/bad_syntax.yaml");
    CU_ASSERT_EQUAL_FATAL(ecg_config_defaults(&c, &err), ECG_OK);
    int rc = ecg_config_load(&c, path, &err);
    CHECK_MSG(rc, err, ECG_ERR_CONFIG,
              ecg_test_fmt("%s:3:12: YAML syntax error: mapping values are not allowed in this context", path));
    ecg_config_free(&c);
    check_file_error("optim:\n  betas: [0.9, 0.99\n", ECG_ERR_CONFIG,
                     "3:1: YAML syntax error: did not find expected ',' or ']' (while parsing a flow sequence "
                     "at line 2, column 10)");
    check_file_error("optim: \"lr\n", ECG_ERR_CONFIG,
                     "2:1: YAML syntax error: found unexpected end of stream (while scanning a quoted scalar "
                     "at line 1, column 8)");
    check_file_error("a: 1\n\tb: 2\n", ECG_ERR_CONFIG,
                     "2:1: YAML syntax error: found a tab character that violates indentation (while "
                     "scanning a plain scalar at line 1, column 4)");
    struct ecg_config d;
    const char *p = ecg_test_write_file("binary.yaml", "optim:\n  lr: \xff\xfe\n");
    CU_ASSERT_EQUAL_FATAL(ecg_config_defaults(&d, &err), ECG_OK);
    rc = ecg_config_load(&d, p, &err);
    CHECK_MSG(rc, err, ECG_ERR_CONFIG, ecg_test_fmt("%s: YAML read error: invalid leading UTF-8 octet at byte 13", p));
    ecg_config_free(&d);
}

static void structure_errors_name_the_section(void)
{
    check_file_error("optim: 3\n", ECG_ERR_CONFIG,
                     "1:8: key 'optim' is a section: expected a mapping of its keys, found '3'");
    check_file_error("data:\n  spectrogram: [1, 2]\n", ECG_ERR_CONFIG,
                     "2:16: key 'data.spectrogram' is a section: expected a mapping of its keys, found a list");
    check_file_error("- run\n- data\n", ECG_ERR_CONFIG,
                     "1:1: expected a mapping of sections (run, data, model, optim, train, eval) at the top "
                     "level, found a list");
    check_file_error("just a string\n", ECG_ERR_CONFIG,
                     "1:1: expected a mapping of sections (run, data, model, optim, train, eval) at the top "
                     "level, found 'just a string'");
    check_file_error("? [a, b]\n: 1\n", ECG_ERR_CONFIG, "1:3: expected a key name, found a list");
    check_file_error("run: {seed: 1}\n---\nrun: {seed: 2}\n", ECG_ERR_CONFIG,
                     "3:1: expected one YAML document, found a second one");
}

static void duplicate_keys_are_errors(void)
{
    check_file_error("optim:\n  lr: 0.1\n  lr: 0.2\n", ECG_ERR_CONFIG,
                     "3:3: duplicate key 'optim.lr' (first at line 2)");
    check_file_error("optim:\n  lr: 0.1\ntrain: {}\noptim:\n  eps: 0.1\n", ECG_ERR_CONFIG,
                     "4:1: duplicate key 'optim' (first at line 1)");
    check_file_error("optim:\n  lr: 0.1\noptim.lr: 0.2\n", ECG_ERR_CONFIG,
                     "3:1: duplicate key 'optim.lr' (first at line 2)");
}

static void missing_and_unreadable_files_are_reported(void)
{
    struct ecg_config c;
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL_FATAL(ecg_config_defaults(&c, &err), ECG_OK);
    const char *missing = ecg_test_fmt("%s/no_such.yaml", ecg_test_tmpdir());
    int rc = ecg_config_load(&c, missing, &err);
    CHECK_MSG(rc, err, ECG_ERR_IO, ecg_test_fmt("%s: cannot open: No such file or directory", missing));
    rc = ecg_config_load(&c, ecg_test_tmpdir(), &err);
    CHECK_MSG(rc, err, ECG_ERR_IO, ecg_test_fmt("%s: is a directory, expected a YAML file", ecg_test_tmpdir()));
    ecg_config_free(&c);
}

/* ---- overrides ---- */

static void overrides_set_values_with_the_same_parser(void)
{
    struct ecg_config c;
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL_FATAL(ecg_config_defaults(&c, &err), ECG_OK);
    CU_ASSERT_EQUAL(ecg_config_override(&c, "optim.lr=0.25", &err), ECG_OK);
    CU_ASSERT_EQUAL(ecg_config_override(&c, "optim.name=rmsprop", &err), ECG_OK);
    CU_ASSERT_EQUAL(ecg_config_override(&c, "optim.betas=[0.5, 0.75]", &err), ECG_OK);
    CU_ASSERT_EQUAL(ecg_config_override(&c, "train.class_weights=[1,2,3,4]", &err), ECG_OK);
    CU_ASSERT_EQUAL(ecg_config_override(&c, "train.class_weights=none", &err), ECG_OK);
    CU_ASSERT_EQUAL(ecg_config_override(&c, "run.name=a=b", &err), ECG_ERR_CONFIG); /* '=' is not a name char */
    CU_ASSERT_EQUAL(ecg_config_override(&c, "data.path=/data/x=1.h5", &err), ECG_OK);
    CU_ASSERT_EQUAL(ecg_config_override(&c, "model.pretrained=none", &err), ECG_OK);
    CU_ASSERT_EQUAL(c.optim.lr, 0.25);
    CU_ASSERT_EQUAL(c.optim.rule.kind, ECG_OPTIM_RMSPROP);
    CU_ASSERT_EQUAL(c.optim.rule.betas[1], 0.75);
    CU_ASSERT_EQUAL(c.train.class_weights.n, 0);
    CU_ASSERT_EQUAL(c.train.class_weights.choice, ECG_CLASS_WEIGHTS_NONE);
    CU_ASSERT_STRING_EQUAL(c.data.path, "/data/x=1.h5");
    CU_ASSERT_PTR_NULL(c.model.pretrained);
    CU_ASSERT_STRING_EQUAL(c.run.name, "effb0"); /* a failed override changes nothing */
    ecg_config_free(&c);
}

static void bad_overrides_name_the_override(void)
{
    check_override_error("optim.lr=abc", ECG_ERR_CONFIG, "override 'optim.lr=abc': expected a number, found 'abc'");
    check_override_error("optim.lr=", ECG_ERR_CONFIG, "override 'optim.lr=': expected a number, found nothing");
    check_override_error("optim.lr=nan", ECG_ERR_CONFIG,
                         "override 'optim.lr=nan': expected a finite number, found 'nan'");
    check_override_error("train.epochs=0", ECG_ERR_RANGE,
                         "override 'train.epochs=0': expected a value in [1, 100000], found 0");
    check_override_error("optim.lrr=0.1", ECG_ERR_CONFIG,
                         "override 'optim.lrr=0.1': unknown key 'optim.lrr' (did you mean 'optim.lr'?)");
    check_override_error("zzz=1", ECG_ERR_CONFIG,
                         "override 'zzz=1': unknown key 'zzz' (see ecgtrain --help for every key)");
    check_override_error("optim=1", ECG_ERR_CONFIG,
                         "override 'optim=1': 'optim' is a section; override one of its keys, such as 'optim.name'");
    check_override_error("optim.lr", ECG_ERR_CONFIG,
                         "override 'optim.lr': expected key=value, such as optim.lr=0.01");
    check_override_error("=3", ECG_ERR_CONFIG, "override '=3': expected key=value, such as optim.lr=0.01");
    check_override_error("optim.name=adam", ECG_ERR_CONFIG,
                         "override 'optim.name=adam': expected one of sgd, adamw, rmsprop, found 'adam'");
    check_override_error("optim.betas=[0.9,", ECG_ERR_CONFIG,
                         "override 'optim.betas=[0.9,': YAML syntax error: did not find expected node content "
                         "(while parsing a flow node)");
    check_override_error("run.name=\"abc", ECG_ERR_CONFIG,
                         "override 'run.name=\"abc': YAML syntax error: found unexpected end of stream (while "
                         "scanning a quoted scalar)");
    check_override_error("optim.lr={a: 1}", ECG_ERR_CONFIG,
                         "override 'optim.lr={a: 1}': expected a number, found a mapping");
}

static void overrides_apply_after_the_file_and_its_bases(void)
{
    struct ecg_config c;
    struct ecg_error err = {0};
    char *ov[] = {"optim.lr=0.5", "train.epochs=3"};
    int rc = ecg_config_resolve(&c, ecg_test_fixture("config/chain/child.yaml"), 2, ov, &err);
    if (rc)
        fprintf(stderr, "\n  %s\n", err.msg);
    CU_ASSERT_EQUAL_FATAL(rc, ECG_OK);
    CU_ASSERT_EQUAL(c.optim.lr, 0.5);
    CU_ASSERT_EQUAL(c.train.epochs, 3);
    CU_ASSERT_STRING_EQUAL(c.run.name, "variant");
    ecg_config_free(&c);
    /* An override can repair a cross-key conflict of the file: checks run last. */
    const char *path = ecg_test_write_file("conflict.yaml", "data:\n  val_fraction: 0.6\n  test_fraction: 0.6\n");
    char *fix[] = {"data.test_fraction=0.1"};
    CU_ASSERT_EQUAL(ecg_config_resolve(&c, path, 1, fix, &err), ECG_OK);
    ecg_config_free(&c);
    char *bad[] = {"train.epochs=ten"};
    rc = ecg_config_resolve(&c, path, 1, bad, &err);
    CHECK_MSG(rc, err, ECG_ERR_CONFIG, "override 'train.epochs=ten': expected an integer, found 'ten'");
}

/* ---- inheritance ---- */

static void a_child_overrides_only_what_it_names(void)
{
    struct ecg_config base, child;
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL_FATAL(ecg_config_resolve(&base, source_path("configs/effb0.yaml"), 0, NULL, &err), ECG_OK);
    int rc = ecg_config_resolve(&child, ecg_test_fixture("config/chain/child.yaml"), 0, NULL, &err);
    if (rc)
        fprintf(stderr, "\n  %s\n", err.msg);
    CU_ASSERT_EQUAL_FATAL(rc, ECG_OK);
    CU_ASSERT_STRING_EQUAL(child.run.name, "variant");  /* from variant.yaml */
    CU_ASSERT_EQUAL(child.optim.lr, 0.0003);             /* from variant.yaml */
    CU_ASSERT_EQUAL(child.train.epochs, 5);              /* child beats its base */
    CU_ASSERT_PTR_NULL(child.model.pretrained);          /* from child.yaml */
    /* Everything else is effb0.yaml's. */
    free(child.run.name);
    child.run.name = strdup(base.run.name);
    child.optim.lr = base.optim.lr;
    child.train.epochs = base.train.epochs;
    child.model.pretrained = strdup(base.model.pretrained);
    const char *first = NULL;
    CU_ASSERT_TRUE(ecg_config_equal(&base, &child, &first));
    if (first)
        fprintf(stderr, "\n  unexpected difference at '%s'\n", first);
    ecg_config_free(&base);
    ecg_config_free(&child);
}

static void base_cycles_are_detected(void)
{
    struct ecg_config c;
    struct ecg_error err = {0};
    const char *a = ecg_test_fixture("config/cycle_a.yaml");
    const char *b = ecg_test_fixture("config/cycle_b.yaml");
    CU_ASSERT_EQUAL_FATAL(ecg_config_defaults(&c, &err), ECG_OK);
    int rc = ecg_config_load(&c, a, &err);
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", a);
    *strrchr(dir, '/') = '\0';
    CHECK_MSG(rc, err, ECG_ERR_CONFIG,
              ecg_test_fmt("%s:1:7: base 'cycle_a.yaml' makes a cycle: %s -> %s -> %s/cycle_a.yaml", b, a, b, dir));
    ecg_config_free(&c);
    check_file_error("base: case.yaml\n", ECG_ERR_CONFIG,
                     ecg_test_fmt("1:7: base 'case.yaml' makes a cycle: %s/case.yaml -> %s/case.yaml", ecg_test_tmpdir(),
                         ecg_test_tmpdir()));
}

static void a_missing_or_bad_base_is_reported_where_it_is_named(void)
{
    struct ecg_config c;
    struct ecg_error err = {0};
    const char *path = ecg_test_fixture("config/missing_base.yaml");
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", path);
    *strrchr(dir, '/') = '\0';
    CU_ASSERT_EQUAL_FATAL(ecg_config_defaults(&c, &err), ECG_OK);
    int rc = ecg_config_load(&c, path, &err);
    CHECK_MSG(rc, err, ECG_ERR_IO,
              ecg_test_fmt("%s:3:7: base 'no_such_base.yaml': cannot open '%s/no_such_base.yaml': No such file or "
                  "directory",
                  path, dir));
    ecg_config_free(&c);
    check_file_error("base: [a.yaml]\n", ECG_ERR_CONFIG, "1:7: key 'base': expected a file name, found a list");
    check_file_error("base:\n", ECG_ERR_CONFIG, "1:6: key 'base': expected a file name, found nothing");
    check_file_error("base: a.yaml\nbase: b.yaml\n", ECG_ERR_IO,
                     ecg_test_fmt("1:7: base 'a.yaml': cannot open '%s/a.yaml': No such file or directory",
                         ecg_test_tmpdir()));
}

static void an_error_inside_a_base_names_the_base_file(void)
{
    struct ecg_config c;
    struct ecg_error err = {0};
    const char *bad = ecg_test_write_file("bad_base.yaml", "optim:\n  lr: -1\n");
    const char *child = ecg_test_write_file("child_of_bad.yaml", "base: bad_base.yaml\n");
    CU_ASSERT_EQUAL_FATAL(ecg_config_defaults(&c, &err), ECG_OK);
    int rc = ecg_config_load(&c, child, &err);
    CHECK_MSG(rc, err, ECG_ERR_RANGE, ecg_test_fmt("%s:2:7: key 'optim.lr': expected a value in (0, 10], found -1", bad));
    ecg_config_free(&c);
}

/* ---- cross-key checks ---- */

/* The record features a model reads beside its images: how many, and where they start in a record's array. */
static void the_context_features_follow_the_model_keys(void)
{
    static const struct {
        const char *set[2];
        int count, first;
    } cases[] = {{{NULL}, 0, -1},
                 {{"model.rr_features=true"}, ECG_RR_FEATURES, 0},
                 {{"model.morphology_features=true"}, ECG_MORPHOLOGY_FEATURES, ECG_RR_FEATURES},
                 {{"model.rr_features=true", "model.morphology_features=true"}, ECG_BEAT_FEATURES, 0},
                 {{"model.rhythm_features=true"}, ECG_RHYTHM_FEATURES, 0}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct ecg_config c;
        struct ecg_error err = {0};
        CU_ASSERT_EQUAL_FATAL(ecg_config_defaults(&c, &err), ECG_OK);
        for (int j = 0; j < 2 && cases[i].set[j]; j++)
            CU_ASSERT_EQUAL(ecg_config_override(&c, cases[i].set[j], &err), ECG_OK);
        int first = -1;
        CU_ASSERT_EQUAL(ecg_config_context_features(&c, &first), cases[i].count);
        if (cases[i].count > 0)
            CU_ASSERT_EQUAL(first, cases[i].first);
        CU_ASSERT(cases[i].count <= ECG_RECORD_FEATURES);
        ecg_config_free(&c);
    }
}

static void constraints_between_keys_name_both_keys(void)
{
    char *a[] = {"data.val_fraction=0.5", "data.test_fraction=0.5"};
    check_cross_error(2, a, ECG_ERR_RANGE,
                      "keys 'data.val_fraction' and 'data.test_fraction': expected a sum below 1 (the rest is "
                      "the training split), found 0.5 + 0.5");
    char *b[] = {"data.spectrogram.fmin=60", "data.spectrogram.fmax=50"};
    check_cross_error(2, b, ECG_ERR_RANGE,
                      "keys 'data.spectrogram.fmin' and 'data.spectrogram.fmax': expected fmin < fmax, found 60 "
                      "and 50");
    char *c[] = {"data.spectrogram.fmax=200"};
    check_cross_error(1, c, ECG_ERR_RANGE,
                      "keys 'data.spectrogram.fmax' and 'data.sample_rate': expected at most the Nyquist "
                      "frequency 150 Hz, found 200");
    char *d[] = {"data.spectrogram.hop_seconds=0.5"};
    check_cross_error(1, d, ECG_ERR_RANGE,
                      "keys 'data.spectrogram.hop_seconds' and 'data.spectrogram.window_seconds': expected hop "
                      "<= window, found 0.5 and 0.25");
    char *e[] = {"data.spectrogram.window_seconds=12"};
    check_cross_error(1, e, ECG_ERR_RANGE,
                      "keys 'data.spectrogram.window_seconds' and 'data.window_seconds': expected an STFT window "
                      "no longer than the signal window, found 12 and 10");
    char *f[] = {"data.band_low_hz=45"};
    check_cross_error(1, f, ECG_ERR_RANGE,
                      "keys 'data.band_low_hz' and 'data.band_high_hz': expected low < high, found 45 and 40");
    char *g[] = {"data.sample_rate=60"};
    check_cross_error(1, g, ECG_ERR_RANGE,
                      "keys 'data.band_high_hz' and 'data.sample_rate': expected a band edge below the Nyquist "
                      "frequency 30 Hz, found 40");
    char *h[] = {"model.in_channels=3"};
    check_cross_error(1, h, ECG_ERR_CONFIG,
                      "keys 'data.spectrogram.channels' and 'model.in_channels': expected the same value, found 1 "
                      "and 3");
    char *i[] = {"train.class_weights=[1, 2, 3]"};
    check_cross_error(1, i, ECG_ERR_CONFIG,
                      "keys 'train.class_weights' and 'model.num_classes': expected one weight per class (4), "
                      "found 3");
    char *j[] = {"train.epochs=2", "train.warmup_epochs=3"};
    check_cross_error(2, j, ECG_ERR_RANGE,
                      "keys 'train.warmup_epochs' and 'train.epochs': expected warm-up <= epochs, found 3 and 2");
    char *k[] = {"train.epochs=1"};
    check_cross_error(1, k, ECG_ERR_RANGE,
                      "keys 'train.head_epochs' and 'train.epochs': expected head-only epochs <= epochs, found 2 "
                      "and 1");
    char *l[] = {"data.spectrogram.window_seconds=0.02", "data.spectrogram.hop_seconds=0.01"};
    check_cross_error(2, l, ECG_ERR_RANGE,
                      "keys 'data.spectrogram.window_seconds' and 'data.sample_rate': expected an STFT window of "
                      "at least 8 samples, found 0.02 s at 300 Hz");
    char *ra[] = {"model.rr_features=true"};
    check_cross_error(1, ra, ECG_ERR_CONFIG,
                      "keys 'model.rr_features' and 'data.format': RR features belong to heartbeats (data.format "
                      "mitbih_wfdb), found format cachet_short");
    char *rb[] = {"data.format=mitbih_wfdb", "model.rr_features=true", "train.mixup_alpha=0.2"};
    check_cross_error(3, rb, ECG_ERR_CONFIG,
                      "keys 'model.rr_features' and 'train.mixup_alpha': mixup blends images, not RR features; "
                      "expected mixup off (0) with RR features, found 0.2");
    char *ma[] = {"model.morphology_features=true"};
    check_cross_error(1, ma, ECG_ERR_CONFIG,
                      "keys 'model.morphology_features' and 'data.format': morphology features belong to heartbeats "
                      "(data.format mitbih_wfdb), found format cachet_short");
    char *mb[] = {"data.format=mitbih_wfdb", "model.morphology_features=true", "train.mixup_alpha=0.2"};
    check_cross_error(3, mb, ECG_ERR_CONFIG,
                      "keys 'model.morphology_features' and 'train.mixup_alpha': mixup blends images, not morphology "
                      "features; expected mixup off (0) with morphology features, found 0.2");
    char *ha[] = {"data.format=mitbih_wfdb", "model.rhythm_features=true"};
    check_cross_error(2, ha, ECG_ERR_CONFIG,
                      "keys 'model.rhythm_features' and 'data.format': rhythm features belong to rhythm records "
                      "(data.format cinc2017, cachet_short, ...), found format mitbih_wfdb");
    char *hb[] = {"model.rhythm_features=true", "train.mixup_alpha=0.2"};
    check_cross_error(2, hb, ECG_ERR_CONFIG,
                      "keys 'model.rhythm_features' and 'train.mixup_alpha': mixup blends images, not rhythm "
                      "features; expected mixup off (0) with rhythm features, found 0.2");
    char *sl[] = {"train.select=last"};
    check_cross_error(1, sl, ECG_ERR_CONFIG,
                      "keys 'train.select' and 'train.patience': early stopping watches the validation macro-F1 "
                      "that select last does not; expected patience 0 with it, found 10");
    char *fu[] = {"eval.rr_fusion=true"};
    check_cross_error(1, fu, ECG_ERR_CONFIG,
                      "keys 'eval.rr_fusion' and 'eval.calibrate': the fusion reads the calibrated probabilities; "
                      "expected eval.calibrate true with it, found false");
    char *fv[] = {"data.format=mitbih_wfdb", "eval.rr_fusion=true", "eval.calibrate=true"};
    check_cross_error(3, fv, ECG_ERR_CONFIG,
                      "keys 'eval.rr_fusion' and 'data.format': the RR fusion measures a whole record's rhythm; "
                      "expected rhythm records, found the beat format mitbih_wfdb");
    char *pa[] = {"run.replicas=2", "train.mixup_alpha=0.2"};
    check_cross_error(2, pa, ECG_ERR_CONFIG,
                      "keys 'run.replicas' and 'train.mixup_alpha': mixup pairs images across the whole batch, and "
                      "a replica holds only its part of it; expected mixup off (0) with 2 replicas, found 0.2");
    char *pb[] = {"run.replicas=9", "train.batch_size=8"};
    check_cross_error(2, pb, ECG_ERR_RANGE,
                      "keys 'run.replicas' and 'train.batch_size': every replica needs a sample of each batch; "
                      "expected replicas <= batch size, found 9 and 8");
    char *fa[] = {"data.folds=3", "data.fold=3"};
    check_cross_error(2, fa, ECG_ERR_RANGE,
                      "keys 'data.fold' and 'data.folds': expected a test fold in 0..2, found 3");
    char *fb[] = {"data.fold=1"};
    check_cross_error(1, fb, ECG_ERR_CONFIG,
                      "keys 'data.fold' and 'data.folds': a test fold (1) needs data.folds >= 2 (k-fold "
                      "cross-validation), found folds 0");
    char *fc[] = {"data.folds=2", "data.val_fraction=0.5"};
    check_cross_error(2, fc, ECG_ERR_RANGE,
                      "keys 'data.val_fraction' and 'data.folds': expected val_fraction + 1/folds below 1 (the "
                      "rest is the training split), found 0.5 + 1/2");
    /* test_fraction is ignored with folds. */
    char *fd[] = {"data.folds=5", "data.fold=4", "data.test_fraction=0.9"};
    struct ecg_config cfg;
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL(ecg_config_resolve(&cfg, NULL, 3, fd, &err), ECG_OK);
    ecg_config_free(&cfg);
    char *m[] = {"data.spectrogram.hop_seconds=0.001"};
    check_cross_error(1, m, ECG_ERR_RANGE,
                      "keys 'data.spectrogram.hop_seconds' and 'data.sample_rate': expected a hop of at least 1 "
                      "sample, found 0.001 s at 300 Hz");
}

/* ---- printing ---- */

static char *print_to_string(const struct ecg_config *c)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL(ecg_config_write_yaml(c, f, &err), ECG_OK);
    fclose(f);
    return buf;
}

static void printed_config_loads_back_identically(void)
{
    struct ecg_config c, back;
    struct ecg_error err = {0};
    char *ov[] = {
        "optim.lr=0.30000000000000004", "optim.eps=4.9e-324",     "data.sample_rate=1024",
        "run.name=r_1.x-y",             "data.path=\"a \\\"quoted\\\" path: #1\\n\\t\\u00e9\"",
        "data.cache_dir=\"none\"",      "model.pretrained=none",  "train.class_weights=[0.1, 0.2, 0.7, 1e-300]",
        "run.dir=-dash/dir",            "model.freeze=block2b",   "optim.nesterov=yes",
        "data.spectrogram.fmax=123.456789012345",
    };
    int rc = ecg_config_resolve(&c, source_path("configs/effb0.yaml"), (int)(sizeof ov / sizeof ov[0]), ov, &err);
    if (rc)
        fprintf(stderr, "\n  %s\n", err.msg);
    CU_ASSERT_EQUAL_FATAL(rc, ECG_OK);
    char *first_text = print_to_string(&c);
    const char *path = ecg_test_write_file("printed.yaml", first_text);
    rc = ecg_config_resolve(&back, path, 0, NULL, &err);
    if (rc)
        fprintf(stderr, "\n  %s\n%s", err.msg, first_text);
    CU_ASSERT_EQUAL_FATAL(rc, ECG_OK);
    const char *diff = NULL;
    CU_ASSERT_TRUE(ecg_config_equal(&c, &back, &diff));
    if (diff)
        fprintf(stderr, "\n  printed config differs at '%s'\n", diff);
    char *second_text = print_to_string(&back);
    CU_ASSERT_STRING_EQUAL(first_text, second_text);
    char *third_text = ecg_config_to_string(&back, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(third_text);
    CU_ASSERT_STRING_EQUAL(first_text, third_text);
    free(third_text);
    CU_ASSERT_PTR_NOT_NULL(strstr(first_text, "\n  lr: 0.30000000000000004\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(first_text, "\n  cache_dir: \"none\"\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(first_text, "\n  pretrained: none\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(first_text, "\n  spectrogram:\n    window: hann\n"));
    CU_ASSERT_EQUAL(back.data.path[strlen(back.data.path) - 1], (char)0xa9); /* UTF-8 e-acute, last byte */
    free(first_text);
    free(second_text);
    ecg_config_free(&c);
    ecg_config_free(&back);
}

/* Strings that YAML 1.1 (PyYAML) or YAML 1.2 would read as null, a boolean or a number when plain. */
static const char *const yaml_lookalikes[] = {
    "yes", "Yes", "on", "ON", "no", "off", "Off", "y", "N", "true", "False", "null", "NULL", "~", "none",
    "1e3", "0x10", "0o17", "1_000", "010", "12", "-1", "+1", ".inf", "-.inf", ".nan", ".5", "1.0", "12:30",
};

/* A run name must be a directory name: letters, digits, '.', '_', '-', not starting with '.'. */
static bool valid_run_name(const char *w)
{
    if (w[0] == '.')
        return false;
    for (const char *p = w; *p; p++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-", *p))
            return false;
    return true;
}

static void strings_that_yaml_reads_as_other_types_are_quoted_and_load_back(void)
{
    for (size_t i = 0; i < sizeof yaml_lookalikes / sizeof yaml_lookalikes[0]; i++) {
        const char *w = yaml_lookalikes[i];
        struct ecg_config c, back;
        struct ecg_error err = {0};
        char *ov[] = {ecg_test_fmt("data.path=\"%s\"", w), ecg_test_fmt("run.dir=\"%s\"", w), ecg_test_fmt("run.name=\"%s\"", w)};
        int n = valid_run_name(w) ? 3 : 2;
        CU_ASSERT_EQUAL_FATAL(ecg_config_resolve(&c, NULL, n, ov, &err), ECG_OK);
        CU_ASSERT_STRING_EQUAL(c.data.path, w);
        char *text = print_to_string(&c);
        CU_ASSERT_PTR_NOT_NULL(strstr(text, ecg_test_fmt("\n  path: \"%s\"\n", w)));
        CU_ASSERT_PTR_NOT_NULL(strstr(text, ecg_test_fmt("\n  dir: \"%s\"\n", w)));
        if (n == 3)
            CU_ASSERT_PTR_NOT_NULL(strstr(text, ecg_test_fmt("\n  name: \"%s\"\n", w)));
        CU_ASSERT_EQUAL_FATAL(ecg_config_resolve(&back, ecg_test_write_file("lookalike.yaml", text), 0, NULL, &err),
                              ECG_OK);
        const char *diff = NULL;
        CU_ASSERT_TRUE(ecg_config_equal(&c, &back, &diff));
        if (diff)
            fprintf(stderr, "\n  '%s' loads back different at '%s'\n", w, diff);
        CU_ASSERT_STRING_EQUAL(back.run.dir, w);
        free(text);
        ecg_config_free(&c);
        ecg_config_free(&back);
    }
    /* Plain names and paths stay plain, and floats always carry a dot (300.0, 1.0e-10) so that YAML 1.1
     * readers take them for floats too. */
    struct ecg_config c;
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL_FATAL(ecg_config_resolve(&c, NULL, 0, NULL, &err), ECG_OK);
    char *text = print_to_string(&c);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "\n  path: data/sample/cachet_sample.h5\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "\n  sample_rate: 300.0\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "\n    log_floor: 1.0e-10\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "\n  betas: [0.9, 0.999]\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "\n  eps: 1.0e-08\n"));
    free(text);
    ecg_config_free(&c);
}

static void copies_are_deep_and_equal(void)
{
    struct ecg_config a, b;
    struct ecg_error err = {0};
    char *ov[] = {"train.class_weights=[1, 2, 3, 4]"};
    CU_ASSERT_EQUAL_FATAL(ecg_config_resolve(&a, NULL, 1, ov, &err), ECG_OK);
    CU_ASSERT_EQUAL_FATAL(ecg_config_copy(&b, &a, &err), ECG_OK);
    CU_ASSERT_TRUE(ecg_config_equal(&a, &b, NULL));
    CU_ASSERT_PTR_NOT_EQUAL(a.run.name, b.run.name);
    CU_ASSERT_PTR_NOT_EQUAL(a.train.class_weights.values, b.train.class_weights.values);
    b.train.class_weights.values[2] = 5;
    const char *first = NULL;
    CU_ASSERT_FALSE(ecg_config_equal(&a, &b, &first));
    CU_ASSERT_STRING_EQUAL(first, "train.class_weights");
    char buf[64];
    ecg_config_format_value(&b, ecg_config_find("train.class_weights"), buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, "[1.0, 2.0, 5.0, 4.0]");
    ecg_config_free(&a);
    ecg_config_free(&b);
}

static void help_lists_every_key_with_type_default_and_names(void)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ecg_config_print_help(f);
    fclose(f);
    int64_t n;
    const struct ecg_config_key *keys = ecg_config_keys(&n);
    for (int64_t i = 0; i < n; i++) {
        char line[256];
        snprintf(line, sizeof line, "  %s ", keys[i].name);
        if (!strstr(buf, line) || !strstr(buf, keys[i].help))
            fprintf(stderr, "\n  --help lacks %s\n", keys[i].name);
        CU_ASSERT_PTR_NOT_NULL(strstr(buf, line));
        CU_ASSERT_PTR_NOT_NULL(strstr(buf, keys[i].help));
    }
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "optim.lr                           float in (0, 10]; default 0.001\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "optim.name                         one of sgd | adamw | rmsprop; default adamw\n"));
    free(buf);
}

static void the_docs_list_every_key(void)
{
    char *doc = read_all(source_path("docs/config.md"));
    CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
    int64_t n;
    const struct ecg_config_key *keys = ecg_config_keys(&n);
    for (int64_t i = 0; i < n; i++) {
        char needle[256];
        snprintf(needle, sizeof needle, "  %s ", keys[i].name);
        if (!strstr(doc, needle))
            fprintf(stderr, "\n  docs/config.md does not list %s (paste `ecgtrain --help` into it)\n", keys[i].name);
        CU_ASSERT_PTR_NOT_NULL(strstr(doc, needle));
    }
    free(doc);
}

/* ---- the ecgtrain program ---- */

/* Runs ecgtrain with `args`; returns its exit status and fills out/err files' text. */
static int run_ecgtrain(const char *args, char **out, char **errtext)
{
    const char *exe = getenv("ECGTRAIN");
    CU_ASSERT_PTR_NOT_NULL_FATAL(exe);
    char cmd[4096];
    const char *dir = ecg_test_tmpdir();
    snprintf(cmd, sizeof cmd, "cd '%s' && '%s' %s >'%s/out.txt' 2>'%s/err.txt'", getenv("ECG_SOURCE_ROOT"), exe,
             args, dir, dir);
    int st = system(cmd);
    *out = read_all(ecg_test_fmt("%s/out.txt", dir));
    *errtext = read_all(ecg_test_fmt("%s/err.txt", dir));
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void ecgtrain_exit_codes_and_outputs(void)
{
    char *out, *errt;
    const char *dir = ecg_test_tmpdir();
    CU_ASSERT_EQUAL(run_ecgtrain("--version", &out, &errt), 0);
    CU_ASSERT_STRING_EQUAL(out, "ecgtrain " ECG_VERSION "\n");
    free(out), free(errt);

    CU_ASSERT_EQUAL(run_ecgtrain("--help", &out, &errt), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "usage: ecgtrain"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "  train.class_weights "));
    free(out), free(errt);

    CU_ASSERT_EQUAL(run_ecgtrain(ecg_test_fmt("configs/effb0.yaml data.path=no/such.h5 run.dir=%s/run", dir), &out, &errt), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(errt, "ecgtrain: data.path: "));
    CU_ASSERT_PTR_NOT_NULL(strstr(errt, "no/such.h5"));
    free(out), free(errt);

    CU_ASSERT_EQUAL(run_ecgtrain("--print-config configs/effb0.yaml optim.lr=0.5 train.epochs=7", &out, &errt), 0);
    CU_ASSERT_STRING_EQUAL(errt, "");
    struct ecg_config c;
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL_FATAL(ecg_config_defaults(&c, &err), ECG_OK);
    CU_ASSERT_EQUAL_FATAL(ecg_config_load_string(&c, out, "printed", &err), ECG_OK);
    CU_ASSERT_EQUAL(c.optim.lr, 0.5);
    CU_ASSERT_EQUAL(c.train.epochs, 7);
    ecg_config_free(&c);
    free(out), free(errt);

    /* A runtime failure (stdout cannot be written) exits 1. */
    int st = system(ecg_test_fmt("cd '%s' && '%s' --print-config configs/effb0.yaml >/dev/full 2>/dev/null",
                        getenv("ECG_SOURCE_ROOT"), getenv("ECGTRAIN")));
    CU_ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 1);

    CU_ASSERT_EQUAL(run_ecgtrain("configs/effb0.yaml optim.lrr=1", &out, &errt), 2);
    CU_ASSERT_STRING_EQUAL(errt, "ecgtrain: override 'optim.lrr=1': unknown key 'optim.lrr' (did you mean 'optim.lr'?)\n");
    free(out), free(errt);

    CU_ASSERT_EQUAL(run_ecgtrain("configs/no_such.yaml", &out, &errt), 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(errt, "ecgtrain: configs/no_such.yaml: cannot open: No such file or directory (looked in the working directory and in "));
    free(out), free(errt);

    CU_ASSERT_EQUAL(run_ecgtrain("--frobnicate configs/effb0.yaml", &out, &errt), 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(errt, "ecgtrain: unknown option '--frobnicate'\nusage: ecgtrain"));
    free(out), free(errt);

    CU_ASSERT_EQUAL(run_ecgtrain("", &out, &errt), 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(errt, "ecgtrain: missing the CONFIG file\n"));
    free(out), free(errt);

    CU_ASSERT_EQUAL(run_ecgtrain("configs/effb0.yaml optim.lr", &out, &errt), 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(errt, "ecgtrain: expected key=value after the config file, found 'optim.lr'\n"));
    free(out), free(errt);
}

/* A schema of another program: core knows no key of ecgtrain's, it walks whatever table it is given. */
enum toy_shape { TOY_ROUND, TOY_SQUARE };
static const char *const toy_shape_names[] = {[TOY_ROUND] = "round", [TOY_SQUARE] = "square", NULL};
struct toy_config {
    struct {
        int64_t count;
        enum toy_shape shape;
        double weights[3];
    } part;
    char *label;
    int untouched; /* no key: the schema's init sets it */
};
static void toy_init(void *c) { ((struct toy_config *)c)->untouched = 7; }
static const struct ecg_config_key toy_keys[] = {
    {.name = "part.count", .type = ECG_CFG_INT, .offset = offsetof(struct toy_config, part.count),
     .ctype = ECG_CT_I64, .def = "2", .min = 1, .max = 9, .help = "how many"},
    {.name = "part.shape", .type = ECG_CFG_ENUM, .offset = offsetof(struct toy_config, part.shape),
     .ctype = ECG_CT_INT, .def = "round", .names = toy_shape_names, .help = "which shape"},
    {.name = "part.weights", .type = ECG_CFG_VECTOR, .offset = offsetof(struct toy_config, part.weights),
     .ctype = ECG_CT_VECTOR, .def = "[1, 2, 3]", .min = 0, .max = 10, .min_len = 3, .max_len = 3, .help = "three"},
    {.name = "label", .type = ECG_CFG_STRING, .offset = offsetof(struct toy_config, label), .ctype = ECG_CT_STR,
     .def = "x", .help = "a label"},
};
static const struct ecg_schema toy_schema = {
    .keys = toy_keys, .count = 4, .size = sizeof(struct toy_config), .program = "toy", .init = toy_init,
};

static void core_walks_any_schema_it_is_given(void)
{
    struct toy_config t, u;
    struct ecg_error err = {0};
    char *ov[] = {"part.shape=square", "part.weights=[0.5, 0, 10]", "label=\"on\""};
    CU_ASSERT_EQUAL_FATAL(ecg_schema_resolve(&toy_schema, &t, NULL, 3, ov, &err), ECG_OK);
    CU_ASSERT_EQUAL(t.part.count, 2);
    CU_ASSERT_EQUAL(t.part.shape, TOY_SQUARE);
    CU_ASSERT_EQUAL(t.part.weights[2], 10.0);
    CU_ASSERT_EQUAL(t.untouched, 7);
    char *text = ecg_schema_to_string(&toy_schema, &t, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    CU_ASSERT_STRING_EQUAL(text, "# toy configuration, fully resolved (every key; `toy --help` explains them)\n"
                                 "part:\n  count: 2\n  shape: square\n  weights: [0.5, 0.0, 10.0]\n"
                                 "label: \"on\"\n");
    CU_ASSERT_EQUAL_FATAL(ecg_schema_defaults(&toy_schema, &u, &err), ECG_OK);
    CU_ASSERT_EQUAL_FATAL(ecg_schema_load_string(&toy_schema, &u, text, "toy.yaml", &err), ECG_OK);
    CU_ASSERT_TRUE(ecg_schema_equal(&toy_schema, &t, &u, NULL));
    CHECK_MSG(ecg_schema_override(&toy_schema, &u, "part.weights=[1, 2]", &err), err, ECG_ERR_RANGE,
              "override 'part.weights=[1, 2]': expected a list of 3 numbers, found 2");
    CHECK_MSG(ecg_schema_override(&toy_schema, &u, "part.cont=3", &err), err, ECG_ERR_CONFIG,
              "override 'part.cont=3': unknown key 'part.cont' (did you mean 'part.count'?)");
    CHECK_MSG(ecg_schema_override(&toy_schema, &u, "optim.lr=3", &err), err, ECG_ERR_CONFIG,
              "override 'optim.lr=3': unknown key 'optim.lr' (see toy --help for every key)");
    free(text);
    ecg_schema_free(&toy_schema, &t);
    ecg_schema_free(&toy_schema, &u);
}

static const struct ecg_test schema_tests[] = {
    {"core walks any schema it is given", core_walks_any_schema_it_is_given},
    {"every schema row is consistent with its field", every_row_is_consistent_with_its_field},
    {"the keys of a section are contiguous in the table", keys_of_a_section_are_contiguous},
    {"defaults follow the schema and pass every check", defaults_follow_the_schema},
    {"configs/effb0.yaml is the schema defaults but for the shipped model's representation",
     the_default_config_is_the_schema_defaults_but_for_the_shipped_model_s_representation},
    {"the default run sees records as the shipped model was trained to",
     the_default_run_sees_records_as_the_shipped_model_was_trained_to},
    {"every shipped config resolves", every_shipped_config_resolves},
    {"suggestions pick the nearest key or section", suggestions_pick_the_nearest_key_or_section},
    {NULL, NULL},
};
static const struct ecg_test file_tests[] = {
    {"a good file sets typed values", a_good_file_sets_typed_values},
    {"an empty file means all defaults", an_empty_file_means_all_defaults},
    {"quoted none is a path but plain none is no path", quoted_none_is_a_path_but_plain_none_is_no_path},
    {"loading does not require data or weight files", loading_does_not_require_data_or_weight_files},
    {"unknown keys name the place and suggest a key", unknown_keys_name_the_place_and_suggest_a_key},
    {"wrong types name the key, the expected and the found", wrong_types_name_the_key_expected_and_found},
    {"out-of-range values give the range", out_of_range_values_give_the_range},
    {"bad enum values list the allowed names", bad_enum_values_list_the_allowed_names},
    {"NaN and infinity are rejected", nan_and_infinity_are_rejected},
    {"lists check their length, elements and names", lists_check_length_elements_and_names},
    {"YAML syntax errors carry libyaml's line and column", yaml_syntax_errors_carry_libyaml_line_and_column},
    {"structure errors name the section", structure_errors_name_the_section},
    {"duplicate keys are errors", duplicate_keys_are_errors},
    {"missing and unreadable files are reported", missing_and_unreadable_files_are_reported},
    {NULL, NULL},
};
static const struct ecg_test override_tests[] = {
    {"overrides set values with the same parser", overrides_set_values_with_the_same_parser},
    {"bad overrides name the override", bad_overrides_name_the_override},
    {"overrides apply after the file and its bases", overrides_apply_after_the_file_and_its_bases},
    {"a child config overrides only what it names", a_child_overrides_only_what_it_names},
    {"base cycles are detected", base_cycles_are_detected},
    {"a missing or bad base is reported where it is named", a_missing_or_bad_base_is_reported_where_it_is_named},
    {"an error inside a base names the base file", an_error_inside_a_base_names_the_base_file},
    {"constraints between keys name both keys", constraints_between_keys_name_both_keys},
    {"the context features follow the model keys", the_context_features_follow_the_model_keys},
    {NULL, NULL},
};
static const struct ecg_test print_tests[] = {
    {"a printed config loads back identically and prints the same", printed_config_loads_back_identically},
    {"strings that YAML reads as other types are quoted and load back",
     strings_that_yaml_reads_as_other_types_are_quoted_and_load_back},
    {"copies are deep and compare equal", copies_are_deep_and_equal},
    {"help lists every key with its type, default and names", help_lists_every_key_with_type_default_and_names},
    {"docs/config.md lists every key", the_docs_list_every_key},
    {"ecgtrain exits 0, 1 or 2 with plain messages", ecgtrain_exit_codes_and_outputs},
    {NULL, NULL},
};
static const struct ecg_suite suites[] = {
    {"config schema", schema_tests},
    {"config files", file_tests},
    {"config overrides and inheritance", override_tests},
    {"config printing and ecgtrain", print_tests},
    {NULL, NULL},
};

int main(int argc, char **argv) { return ecg_test_main(argc, argv, suites); }
