/* The requests of the hostile load test, built once (fixed kinds) or anew with random bytes (random kinds). */
#include "tests/serve/hostile_requests.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BOUNDARY "hostile-load-7f3a"

const struct ecg_hl_kind_info ecg_hl_kinds[ECG_HL_KINDS] = {
    [ECG_HL_VALID] = {"valid upload (CinC .hea + .mat)", 200, "200 with the record's result"},
    [ECG_HL_HEALTH] = {"GET /healthz", 200, "200"},
    [ECG_HL_TRUNCATED] = {"multipart cut short", 400, "400"},
    [ECG_HL_BAD_MAT] = {"random bytes as the .mat", 400, "400"},
    [ECG_HL_BAD_JSON] = {"JSON cut short", 400, "400"},
    [ECG_HL_BAD_CSV] = {"random bytes as text/csv", 400, "400"},
    [ECG_HL_WRONG_TYPE] = {"Content-Type image/png", 415, "415"},
    [ECG_HL_NO_TYPE] = {"no Content-Type", 415, "415"},
    [ECG_HL_NOT_HTTP] = {"random bytes, not HTTP", ECG_HL_ANY_4XX_OR_NONE, "a 4xx or a close"},
    [ECG_HL_BIG_HEADER] = {"a 64 KiB header", 431, "431"},
    [ECG_HL_BAD_LENGTH] = {"Content-Length not a number", 400, "400"},
    [ECG_HL_CUT_OFF] = {"body cut off (the client hangs up)", 0, "no reply"},
    [ECG_HL_OVER_LENGTH] = {"Content-Length over --max-body-mb", 413, "413"},
    [ECG_HL_OVER_CHUNKED] = {"chunked body over --max-body-mb", 413, "413"},
};

unsigned ecg_hl_rand(unsigned *seed)
{
    unsigned x = *seed ? *seed : 0x9e3779b9u;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *seed = x;
}

static int read_file(const char *dir, const char *name, char **data, size_t *size, char *err, size_t errcap)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    *data = NULL;
    if (f && fseek(f, 0, SEEK_END) == 0) {
        long n = ftell(f);
        rewind(f);
        if (n > 0 && (*data = malloc((size_t)n)) && fread(*data, 1, (size_t)n, f) == (size_t)n)
            *size = (size_t)n;
        else {
            free(*data);
            *data = NULL;
        }
    }
    if (f)
        fclose(f);
    if (!*data)
        snprintf(err, errcap, "%s: cannot read it", path);
    return *data ? 0 : 1;
}

/* A request with a body (type NULL: no Content-Type; length < 0: none, else that Content-Length; extra: more
 * header lines, each ending in \r\n); 0 or -1 when out of memory. */
static int http(struct ecg_hl_request *q, const char *method, const char *target, const char *type, long long length,
                const char *extra, const char *body, size_t n)
{
    free(q->data);
    q->data = NULL;
    FILE *f = open_memstream(&q->data, &q->size);
    if (!f)
        return -1;
    fprintf(f, "%s %s HTTP/1.1\r\nHost: ecgserve\r\nConnection: close\r\n", method, target);
    if (type)
        fprintf(f, "Content-Type: %s\r\n", type);
    if (length >= 0)
        fprintf(f, "Content-Length: %lld\r\n", length);
    fprintf(f, "%s\r\n", extra);
    fwrite(body, 1, n, f);
    return fclose(f) == 0 ? 0 : -1;
}

/* The multipart body with the record's .hea and, as its .mat, `mat`. */
static int multipart(const struct ecg_hl_requests *r, const char *mat, size_t nmat, char **body, size_t *size)
{
    FILE *f = open_memstream(body, size);
    if (!f)
        return -1;
    fputs("--" BOUNDARY "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"A00592.hea\"\r\n\r\n", f);
    fwrite(r->hea, 1, r->nhea, f);
    fputs("\r\n--" BOUNDARY "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"A00592.mat\"\r\n"
          "Content-Type: application/octet-stream\r\n\r\n",
          f);
    fwrite(mat, 1, nmat, f);
    fputs("\r\n--" BOUNDARY "--\r\n", f);
    return fclose(f) == 0 ? 0 : -1;
}

static const char mp_type[] = "multipart/form-data; boundary=" BOUNDARY;

/* A chunked body of more than max_body bytes of "1\n" lines, in 64 KiB chunks. */
static int over_chunked(struct ecg_hl_request *q, int64_t max_body)
{
    enum { CHUNK = 65536 };
    char *chunk = malloc(CHUNK);
    if (!chunk)
        return -1;
    for (int i = 0; i < CHUNK; i++)
        chunk[i] = i % 2 ? '\n' : '1';
    FILE *f = open_memstream(&q->data, &q->size);
    if (!f) {
        free(chunk);
        return -1;
    }
    fputs("POST /v1/classify?fs=300 HTTP/1.1\r\nHost: ecgserve\r\nConnection: close\r\nContent-Type: text/csv\r\n"
          "Transfer-Encoding: chunked\r\n\r\n",
          f);
    for (int64_t sent = 0; sent <= max_body + 4 * CHUNK; sent += CHUNK) {
        fprintf(f, "%x\r\n", CHUNK);
        fwrite(chunk, 1, CHUNK, f);
        fputs("\r\n", f);
    }
    fputs("0\r\n\r\n", f);
    free(chunk);
    return fclose(f) == 0 ? 0 : -1;
}

static int build_fixed(struct ecg_hl_requests *r, int64_t max_body)
{
    struct ecg_hl_request *q = r->fixed;
    char *body = NULL, big[65536 + 64];
    size_t n = 0;
    if (multipart(r, r->mat, r->nmat, &body, &n))
        return -1;
    static const char json[] = "{\"fs\": 300, \"record\": \"cut\", \"signal\": [0.125, -0.25, 0.";
    static const char png[] = "\x89PNG\r\n\x1a\n not an ECG";
    memset(big, 'a', sizeof big);
    memcpy(big, "X-Big: ", 7);
    memcpy(big + sizeof big - 3, "\r\n", 3);
    int rc = http(&q[ECG_HL_VALID], "POST", "/v1/classify", mp_type, (long long)n, "", body, n) ||
             http(&q[ECG_HL_TRUNCATED], "POST", "/v1/classify", mp_type, (long long)(n * 6 / 10), "", body,
                  n * 6 / 10) ||
             http(&q[ECG_HL_HEALTH], "GET", "/healthz", NULL, -1, "", "", 0) ||
             http(&q[ECG_HL_BAD_JSON], "POST", "/v1/classify", "application/json", (long long)sizeof json - 1, "",
                  json, sizeof json - 1) ||
             http(&q[ECG_HL_WRONG_TYPE], "POST", "/v1/classify", "image/png", (long long)sizeof png - 1, "", png,
                  sizeof png - 1) ||
             http(&q[ECG_HL_NO_TYPE], "POST", "/v1/classify?fs=300", NULL, 4, "", "1\n2\n", 4) ||
             http(&q[ECG_HL_BIG_HEADER], "GET", "/healthz", NULL, -1, big, "", 0) ||
             http(&q[ECG_HL_BAD_LENGTH], "POST", "/v1/classify?fs=300", "text/csv", -1, "Content-Length: abc\r\n",
                  "1\n", 2) ||
             http(&q[ECG_HL_CUT_OFF], "POST", "/v1/classify?fs=300", "text/csv", 100000, "", "1\n2\n3\n4\n", 8) ||
             http(&q[ECG_HL_OVER_LENGTH], "POST", "/v1/classify?fs=300", "text/csv", (long long)(max_body + (1 << 20)),
                  "", "", 0) ||
             over_chunked(&q[ECG_HL_OVER_CHUNKED], max_body);
    q[ECG_HL_CUT_OFF].hang_up = 1;
    free(body);
    return rc ? -1 : 0;
}

int ecg_hl_requests_init(struct ecg_hl_requests *r, const char *dir, int64_t max_body, char *err, size_t errcap)
{
    memset(r, 0, sizeof *r);
    if (read_file(dir, "A00592.hea", &r->hea, &r->nhea, err, errcap) ||
        read_file(dir, "A00592.mat", &r->mat, &r->nmat, err, errcap))
        goto fail;
    if (build_fixed(r, max_body) == 0)
        return 0;
    snprintf(err, errcap, "out of memory for the requests");
fail:
    ecg_hl_requests_free(r);
    return 1;
}

void ecg_hl_requests_free(struct ecg_hl_requests *r)
{
    for (int k = 0; k < ECG_HL_KINDS; k++)
        ecg_hl_request_free(&r->fixed[k]);
    free(r->hea);
    free(r->mat);
    memset(r, 0, sizeof *r);
}

void ecg_hl_request_free(struct ecg_hl_request *q)
{
    free(q->data);
    memset(q, 0, sizeof *q);
}

/* n random bytes into buf, each in [lo, lo + span). */
static void random_bytes(unsigned *seed, char *buf, size_t n, unsigned lo, unsigned span)
{
    for (size_t i = 0; i < n; i++)
        buf[i] = (char)(lo + ecg_hl_rand(seed) % span);
}

const struct ecg_hl_request *ecg_hl_request_make(const struct ecg_hl_requests *r, int kind, unsigned *seed,
                                                 struct ecg_hl_request *scratch)
{
    if (r->fixed[kind].data)
        return &r->fixed[kind];
    char junk[6000];
    int rc = -1;
    if (kind == ECG_HL_BAD_MAT) { /* a MAT v4 type word no reader accepts, then noise */
        random_bytes(seed, junk, r->nmat < sizeof junk ? r->nmat : sizeof junk, 0, 256);
        memset(junk, 0xff, 4);
        char *body = NULL;
        size_t n = 0;
        if (multipart(r, junk, r->nmat < sizeof junk ? r->nmat : sizeof junk, &body, &n) == 0)
            rc = http(scratch, "POST", "/v1/classify", mp_type, (long long)n, "", body, n);
        free(body);
    } else if (kind == ECG_HL_BAD_CSV) { /* bytes with the high bit set: never a number, a comma or a newline */
        random_bytes(seed, junk, 2000, 0x80, 0x80);
        rc = http(scratch, "POST", "/v1/classify?fs=300", "text/csv", 2000, "", junk, 2000);
    } else if (kind == ECG_HL_NOT_HTTP) { /* any bytes, then the blank line that ends a request's headers */
        random_bytes(seed, junk, 300, 0, 256);
        memcpy(junk + 296, "\r\n\r\n", 4);
        free(scratch->data);
        if ((scratch->data = malloc(300))) {
            memcpy(scratch->data, junk, 300);
            scratch->size = 300;
            rc = 0;
        }
    }
    scratch->hang_up = 0;
    return rc == 0 ? scratch : NULL;
}
