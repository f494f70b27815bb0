/* ecgserve: serves a trained model over HTTP (the API, the upload page, metrics); docs/serve.md. */
#include <stdio.h>
#include <stdlib.h>

#include "core/blas.h"
#include "serve/serve.h"

#define DEFAULT_MODEL "weights/ecg_effb0_pretrained.h5"

/*
 * Loads the model and fills the backend the server calls.  This is the one
 * place that knows how a model is loaded: it becomes a thin adapter over the
 * inference library (infer/: a loaded model shared read-only, a context per
 * thread, record -> windows -> probabilities).  This build does not contain
 * that library yet, so loading fails with a message saying so.
 */
static int load_backend(const char *path, struct ecg_serve_backend *be, struct ecg_error *err)
{
    (void)be;
    return ecg_error_set(err, ECG_ERR_USAGE,
                         "%s: this build of ecgserve has no inference library (infer/) to load a model with",
                         path);
}

int main(int argc, char **argv)
{
    ecg_process_tune(argv);
    struct ecg_serve_options o;
    ecg_serve_options_default(&o);
    const char *model = NULL;
    char *token = NULL;
    int help = 0, version = 0;
    struct ecg_error err = {0};
    struct ecg_serve_backend be = {0};
    int rc = ecg_serve_parse_args(argc, argv, &o, &model, &token, &help, &version, &err);
    if (rc)
        fprintf(stderr, "ecgserve: %s\n%s", err.msg, ecg_serve_usage);
    else if (help)
        fputs(ecg_serve_usage, stdout);
    else if (version)
        printf("ecgserve %s\n", ECG_VERSION);
    else if ((rc = load_backend(model ? model : DEFAULT_MODEL, &be, &err)) ||
             (rc = ecg_serve_run(&o, &be, &err)))
        fprintf(stderr, "ecgserve: %s\n", err.msg);
    free(token);
    return ecg_status_exit_code(rc);
}
