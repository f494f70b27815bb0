/* The requests of the hostile load test: the valid upload, the health check, and each malformed or oversized kind. */
#ifndef ECG_TESTS_SERVE_HOSTILE_REQUESTS_H
#define ECG_TESTS_SERVE_HOSTILE_REQUESTS_H

#include <stddef.h>
#include <stdint.h>

enum ecg_hl_kind {
    ECG_HL_VALID,  /* a CinC record as .hea + .mat: 200 with its result */
    ECG_HL_HEALTH, /* GET /healthz: 200 */
    ECG_HL_TRUNCATED,
    ECG_HL_FIRST_HOSTILE = ECG_HL_TRUNCATED,
    ECG_HL_BAD_MAT,
    ECG_HL_BAD_JSON,
    ECG_HL_BAD_CSV,
    ECG_HL_WRONG_TYPE,
    ECG_HL_NO_TYPE,
    ECG_HL_NOT_HTTP,
    ECG_HL_BIG_HEADER,
    ECG_HL_BAD_LENGTH,
    ECG_HL_CUT_OFF,
    ECG_HL_OVER_LENGTH,
    ECG_HL_OVER_CHUNKED,
    ECG_HL_KINDS
};

/* expect: an HTTP status; 0 = no reply (the client hangs up first); this = a 4xx, or the server closes. */
#define ECG_HL_ANY_4XX_OR_NONE (-4)

struct ecg_hl_kind_info {
    const char *name;
    int expect;
    const char *expect_text;
};
extern const struct ecg_hl_kind_info ecg_hl_kinds[ECG_HL_KINDS];

/* The bytes sent, request line to body; hang_up: close after sending, without reading a reply. */
struct ecg_hl_request {
    char *data;
    size_t size;
    int hang_up;
};

struct ecg_hl_requests {
    struct ecg_hl_request fixed[ECG_HL_KINDS]; /* the kinds that are the same every time; data NULL for the others */
    char *hea, *mat;                           /* the record's files */
    size_t nhea, nmat;
};

/* Reads DIR/A00592.hea and .mat and builds the fixed requests (bodies beyond max_body bytes for the oversized
 * kinds); nonzero with a message in err on failure. */
int ecg_hl_requests_init(struct ecg_hl_requests *r, const char *dir, int64_t max_body, char *err, size_t errcap);
void ecg_hl_requests_free(struct ecg_hl_requests *r);

/* A xorshift step: the random bytes of the random kinds and the choice of kind. */
unsigned ecg_hl_rand(unsigned *seed);

/* The request of `kind`: the fixed one, or a new random one built in *scratch (its buffer reused); NULL when out
 * of memory. */
const struct ecg_hl_request *ecg_hl_request_make(const struct ecg_hl_requests *r, int kind, unsigned *seed,
                                                 struct ecg_hl_request *scratch);
void ecg_hl_request_free(struct ecg_hl_request *q);

#endif
