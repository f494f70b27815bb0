/* Fuzz harness of ecgserve's request handling: the query string, then the body by its Content-Type
 * (multipart uploads of every file kind, a JSON signal, CSV samples), then the signal checks. */
#include <stdlib.h>
#include <string.h>

#include "serve/checks.h"
#include "serve/upload.h"
#include "tests/fuzz/fuzz.h"

/* Input: the Content-Type line, the query-string line, then the body (what POST /v1/classify receives
 * from libmicrohttpd after the route, method and size checks). */

/* The next line of [*p, end) as a malloc'd string; *p moves past its newline. */
static char *take_line(const uint8_t **p, const uint8_t *end)
{
    const uint8_t *nl = *p < end ? memchr(*p, '\n', (size_t)(end - *p)) : NULL;
    const uint8_t *stop = nl ? nl : end;
    char *s = fuzz_text(*p, (size_t)(stop - *p));
    *p = nl ? nl + 1 : end;
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_init();
    setenv("TMPDIR", fuzz_dir(), 1); /* the uploads' private copies */
    const uint8_t *p = data, *end = data + size;
    char *ct = take_line(&p, end), *query = take_line(&p, end);
    struct ecg_serve_upload_limits lim;
    ecg_serve_upload_limits_default(&lim);
    /* The parser child must give up well before libFuzzer's 10 s per input, also on a loaded machine; a
     * sanitizer's shadow memory takes no address-space limit. */
    lim.hdf5.wall_s = 2;
    lim.hdf5.cpu_s = 2;
    lim.hdf5.memory_bytes = 0;
    struct ecg_serve_params params = {0};
    struct ecg_serve_records recs = {0};
    struct ecg_error err = {0};
    char file[ECG_MULTIPART_NAME_MAX];
    int rc = ecg_serve_query_parse(query, &params, &err);
    if (rc == ECG_OK)
        rc = ecg_serve_body_records(ct[0] ? ct : NULL, p, (size_t)(end - p), &lim, 1 << 20, &params, &recs,
                                    file, sizeof file, &err);
    fuzz_check_status(rc, &err);
    const struct ecg_check_model model = {300.0, 30.0, 2.0, 61.0, "the record repeated", 0}; /* the shipped model's */
    for (int32_t i = 0; i < recs.count && rc == ECG_OK; i++) {
        struct ecg_check found[ECG_CHECK_COUNT];
        const struct ecg_serve_record *r = &recs.items[i];
        ecg_checks_run(r->signal, r->length, r->fs, &model, found, ECG_CHECK_COUNT);
    }
    ecg_serve_records_free(&recs);
    free(ct);
    free(query);
    return 0;
}
