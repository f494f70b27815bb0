/* ecgserve: serves a trained model over HTTP (the API, the upload page, metrics); docs/serve.md. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/blas.h"
#include "infer/infer.h"
#include "serve/backend_infer.h"
#include "tools/cli.h"
#include "tools/serve_cli.h"
#include "train/config.h"

/* The compute threads, once for the process: run.threads of the model's configuration, or every core. */
static void set_threads(const struct ecg_serve_backend *be)
{
    const struct ecg_config *c = ecg_infer_model_config(ecg_serve_backend_infer_model(be));
    ecg_threads_set(c->run.threads > 0 ? (int)c->run.threads : (int)sysconf(_SC_NPROCESSORS_ONLN));
}

static int serve(const struct ecg_serve_cli *a, struct ecg_error *err)
{
    /* Without --model, the shipped model (a model file: it carries its configuration, so --config is optional). */
    const char *weights = a->model ? a->model : ecg_infer_default_model();
    struct ecg_serve_backend be;
    ECG_TRY(ecg_serve_backend_infer_open(weights, a->config, a->noverrides, a->overrides, &be, err));
    set_threads(&be);
    int rc = ecg_serve_run(&a->opt, &be, err);
    ecg_serve_backend_infer_close(&be);
    return rc;
}

int main(int argc, char **argv)
{
    ecg_process_tune(argv);
    struct ecg_serve_cli a;
    struct ecg_error err = {0};
    int rc = ecg_serve_cli_parse("ecgserve", argc, argv, &a, &err), status = 0;
    if (rc > 0) {
        status = ecg_cli_parse_failed("ecgserve", ecg_serve_usage, rc, &err);
    } else if (rc == 0 && (rc = serve(&a, &err))) {
        fprintf(stderr, "ecgserve: %s\n", err.msg);
        status = ecg_status_exit_code((enum ecg_status)rc);
    }
    ecg_serve_cli_free(&a);
    return status;
}
