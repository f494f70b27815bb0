/* ecgserve with the deterministic test backend: the server the shell tests start (same options as ecgserve).
 */
#include <stdio.h>
#include <stdlib.h>

#include "serve/serve.h"
#include "tests/serve/test_backend.h"

int main(int argc, char **argv)
{
    struct ecg_serve_options o;
    ecg_serve_options_default(&o);
    const char *model;
    char *token = NULL;
    int help, version;
    struct ecg_error err = {0};
    int rc = ecg_serve_parse_args(argc, argv, &o, &model, &token, &help, &version, &err);
    if (!rc && help)
        fputs(ecg_serve_usage, stdout);
    else if (!rc && version)
        printf("serve_testbin %s\n", ECG_VERSION);
    else if (!rc) {
        const char *delay = getenv("ECG_TEST_DELAY_MS");
        struct ecg_serve_backend be;
        ecg_test_backend_init(&be, delay ? atoi(delay) : 0);
        rc = ecg_serve_run(&o, &be, &err);
    }
    if (rc)
        fprintf(stderr, "serve_testbin: %s\n", err.msg);
    free(token);
    return ecg_status_exit_code(rc);
}
