/* ecgserve with the deterministic test backend: the server the shell tests start (ecgserve's command line).
 */
#include <stdio.h>
#include <stdlib.h>

#include "serve/serve.h"
#include "tests/serve/test_backend.h"
#include "tools/cli.h"
#include "tools/serve_cli.h"

int main(int argc, char **argv)
{
    struct ecg_serve_cli a;
    struct ecg_error err = {0};
    int rc = ecg_serve_cli_parse("serve_testbin", argc, argv, &a, &err), status = 0;
    if (rc > 0) {
        status = ecg_cli_parse_failed("serve_testbin", ecg_serve_usage, rc, &err);
    } else if (rc == 0) {
        const char *delay = getenv("ECG_TEST_DELAY_MS");
        struct ecg_serve_backend be;
        ecg_test_backend_init(&be, delay ? atoi(delay) : 0);
        if ((rc = ecg_serve_run(&a.opt, &be, &err))) {
            fprintf(stderr, "serve_testbin: %s\n", err.msg);
            status = ecg_status_exit_code((enum ecg_status)rc);
        }
    }
    ecg_serve_cli_free(&a);
    return status;
}
