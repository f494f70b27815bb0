/* Fuzz harness of the config loader: a YAML file with up to two `base:` files and key=value overrides, then
 * the printed config read back must give the same values. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/fuzz.h"
#include "train/config.h"

#define MAX_OVERRIDES 16

/* Input: config.yaml FUZZ_SEP base.yaml FUZZ_SEP sub/base.yaml FUZZ_SEP overrides (one per line); the
 * three files live in the scratch directory, so `base: base.yaml` and `base: ../base.yaml` find them. */

/* What ecgtrain prints (--print-config, a run's config.yaml) must load back to the identical values. */
static void check_round_trip(const struct ecg_config *c)
{
    struct ecg_error err = {0};
    char *text = ecg_config_to_string(c, &err);
    if (!text) {
        fuzz_check_status(err.code ? (int)err.code : ECG_ERR_NOMEM, &err);
        return;
    }
    struct ecg_config back;
    const char *first = NULL;
    int rc = ecg_config_defaults(&back, &err);
    if (!rc)
        rc = ecg_config_load_string(&back, text, "printed.yaml", &err);
    if (!rc)
        rc = ecg_config_check(&back, &err);
    if (rc || !ecg_config_equal(c, &back, &first)) {
        fprintf(stderr, "fuzz: the printed config does not load back (%s%s):\n%s\n",
                rc ? err.msg : "first differing key: ", rc ? "" : first, text);
        abort();
    }
    ecg_config_free(&back);
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_init();
    struct fuzz_part part[4];
    fuzz_split(data, size, part, 4);
    const char *path =
        fuzz_file("config.yaml", part[0].data ? part[0].data : (const uint8_t *)"", part[0].size);
    fuzz_file("base.yaml", part[1].data, part[1].size);
    fuzz_file("sub/base.yaml", part[2].data, part[2].size);
    char *lines = fuzz_text(part[3].data, part[3].size), *over[MAX_OVERRIDES], *save = NULL;
    int nover = 0;
    for (char *l = strtok_r(lines, "\n", &save); l && nover < MAX_OVERRIDES; l = strtok_r(NULL, "\n", &save))
        over[nover++] = l;
    struct ecg_config c;
    struct ecg_error err = {0};
    int rc = ecg_config_resolve(&c, path, nover, over, &err);
    fuzz_check_status(rc, &err);
    if (rc == ECG_OK) {
        check_round_trip(&c);
        ecg_config_free(&c);
    }
    free(lines);
    return 0;
}
