/* ecgserve's command line (getopt_long, tools/cli.h conventions), shared with the test server of tests/serve.
 */
#ifndef ECG_TOOLS_SERVE_CLI_H
#define ECG_TOOLS_SERVE_CLI_H

#include "core/error.h"
#include "serve/serve.h"

extern const char ecg_serve_usage[];

struct ecg_serve_cli {
    struct ecg_serve_options opt; /* o.token points into token */
    const char *model, *config;   /* --model, --config or NULL (point into argv) */
    char **overrides;             /* key=value operands (point into argv) */
    int noverrides;
    char *token; /* malloc'd: the first line of --token-file */
};

/*
 * Parses `prog`'s command line: ecgserve's options (docs/serve.md), --model
 * FILE, --config FILE and key=value operands, --help and --version (printed
 * here; then the return is -1).  ECG_OK, or ECG_ERR_USAGE naming the option
 * and the value found (an unreadable or empty --token-file too).  Free with
 * ecg_serve_cli_free, also after a failure.
 */
int ecg_serve_cli_parse(const char *prog, int argc, char **argv, struct ecg_serve_cli *a,
                        struct ecg_error *err);
void ecg_serve_cli_free(struct ecg_serve_cli *a);

#endif
