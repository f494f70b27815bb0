/* ecgserve's command line: its options, the token file, the model and its configuration. */
#include "tools/serve_cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "infer/infer.h"
#include "tools/cli.h"

const char ecg_serve_usage[] =
    "usage: ecgserve [options] [key=value ...]\n"
    "       ecgserve --help | --version\n"
    "\n"
    "Serves an ECG classifier over HTTP: POST /v1/classify (multipart files, text/csv or JSON),\n"
    "the upload page at /, /v1/model, /healthz, /metrics and /openapi.json (docs/serve.md).\n"
    "Without --model it serves the shipped model, " ECG_INFER_DEFAULT_MODEL ".  key=value\n"
    "overrides keys of the model's configuration.\n"
    "\n"
    "  --model FILE        the model: a checkpoint written by ecgtrain or a model file written by\n"
    "                      ecgexport (both carry their configuration), or with --config\n"
    "                      Keras-layout weights without one (default: the shipped model)\n"
    "  --config FILE       the run configuration of a --model that is weights without one;\n"
    "                      their classifier must fit it\n"
    "  --host ADDR         address to listen on (default 127.0.0.1; 0.0.0.0 for every interface)\n"
    "  --port N            TCP port (default 8080; 0 picks a free one, printed at start)\n"
    "  --threads N         HTTP worker threads (default: one per CPU)\n"
    "  --max-body-mb N     largest request body in MiB (default 32); larger ones get 413\n"
    "  --max-queue N       requests waiting for the model (default 64); more get 503\n"
    "  --max-connections N connections open at once (default 256); more are closed at once\n"
    "  --max-connections-per-ip N\n"
    "                      connections open at once from one address (default 64; 0 = no limit\n"
    "                      of its own, for a reverse proxy whose address every request has)\n"
    "  --idle-timeout-s N  close a connection that sends nothing for N seconds (default 30)\n"
    "  --token-file FILE   require 'Authorization: Bearer <first line of FILE>' on /v1/ and /metrics\n"
    "  --batch-max N       windows per forward pass (default 16)\n"
    "  --batch-wait-ms N   how long a window waits for others to share its pass (default 5)\n"
    "  --cors ORIGIN       allow browser pages from ORIGIN to call the API (default: no CORS)\n"
    "  -h, --help          print this text\n"
    "  -V, --version       print the version\n"
    "\n"
    "SIGINT or SIGTERM stops accepting, finishes the requests in flight and exits 0.\n"
    "Exit status: 0 success, 1 runtime failure, 2 usage or configuration error.\n";

/* The token: the file's first line without trailing whitespace. */
static int read_token(const char *path, char **token, struct ecg_error *err)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return ecg_error_set(err, ECG_ERR_USAGE, "--token-file %s: cannot open: %s", path, strerror(errno));
    char line[1024];
    int got = fgets(line, sizeof line, f) != NULL;
    fclose(f);
    size_t n = got ? strlen(line) : 0;
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' ' || line[n - 1] == '\t'))
        line[--n] = '\0';
    if (n == 0)
        return ecg_error_set(err, ECG_ERR_USAGE,
                             "--token-file %s: the first line is empty, expected the token", path);
    free(*token);
    if (!(*token = strdup(line)))
        return ecg_error_set(err, ECG_ERR_NOMEM, "out of memory");
    return ECG_OK;
}

/* An integer option in [lo, hi] into *out. */
static int int_option(const char *opt, long long lo, long long hi, int64_t *out, struct ecg_error *err)
{
    long long v;
    ECG_TRY(ecg_cli_parse_int(opt, optarg, lo, hi, &v, err));
    *out = v;
    return ECG_OK;
}

/* One server option (getopt_long's value c); ECG_ERR_USAGE for a bad value. */
static int server_option(int c, struct ecg_serve_cli *a, struct ecg_error *err)
{
    struct ecg_serve_options *o = &a->opt;
    int64_t v = 0;
    switch (c) {
    case 'H':
        o->host = optarg;
        return ECG_OK;
    case 'c':
        o->cors_origin = optarg;
        return ECG_OK;
    case 'k':
        ECG_TRY(read_token(optarg, &a->token, err));
        o->token = a->token;
        return ECG_OK;
    case 'p':
        ECG_TRY(int_option("--port", 0, 65535, &v, err));
        o->port = (int32_t)v;
        return ECG_OK;
    case 't':
        ECG_TRY(int_option("--threads", 1, 1024, &v, err));
        o->threads = (int32_t)v;
        return ECG_OK;
    case 'b':
        ECG_TRY(int_option("--max-body-mb", 1, 4096, &v, err));
        o->max_body_bytes = v << 20;
        return ECG_OK;
    case 'q':
        ECG_TRY(int_option("--max-queue", 1, 100000, &v, err));
        o->max_queue = (int32_t)v;
        return ECG_OK;
    case 'n':
        ECG_TRY(int_option("--max-connections", 1, 65536, &v, err));
        o->max_connections = (int32_t)v;
        return ECG_OK;
    case 'i':
        ECG_TRY(int_option("--max-connections-per-ip", 0, 65536, &v, err));
        o->max_connections_per_ip = (int32_t)v;
        return ECG_OK;
    case 'T':
        ECG_TRY(int_option("--idle-timeout-s", 1, 3600, &v, err));
        o->timeout_s = (int32_t)v;
        return ECG_OK;
    case 'B':
        ECG_TRY(int_option("--batch-max", 1, 1024, &v, err));
        o->batch_max = (int32_t)v;
        return ECG_OK;
    case 'w':
        ECG_TRY(int_option("--batch-wait-ms", 0, 10000, &v, err));
        o->batch_wait_s = (double)v / 1000.0;
        return ECG_OK;
    default:
        return -1;
    }
}

int ecg_serve_cli_parse(const char *prog, int argc, char **argv, struct ecg_serve_cli *a,
                        struct ecg_error *err)
{
    static const struct option options[] = {ECG_CLI_COMMON,
                                            {"model", required_argument, NULL, 'm'},
                                            {"config", required_argument, NULL, 'C'},
                                            {"host", required_argument, NULL, 'H'},
                                            {"port", required_argument, NULL, 'p'},
                                            {"threads", required_argument, NULL, 't'},
                                            {"max-body-mb", required_argument, NULL, 'b'},
                                            {"max-queue", required_argument, NULL, 'q'},
                                            {"max-connections", required_argument, NULL, 'n'},
                                            {"max-connections-per-ip", required_argument, NULL, 'i'},
                                            {"idle-timeout-s", required_argument, NULL, 'T'},
                                            {"token-file", required_argument, NULL, 'k'},
                                            {"batch-max", required_argument, NULL, 'B'},
                                            {"batch-wait-ms", required_argument, NULL, 'w'},
                                            {"cors", required_argument, NULL, 'c'},
                                            {NULL, 0, NULL, 0}};
    memset(a, 0, sizeof *a);
    ecg_serve_options_default(&a->opt);
    if (!(a->overrides = calloc((size_t)argc, sizeof *a->overrides)))
        return ecg_error_set(err, ECG_ERR_NOMEM, "out of memory");
    int c;
    while ((c = getopt_long(argc, argv, ECG_CLI_SHORT, options, NULL)) != -1) {
        int rc;
        if (c == 'h') {
            fputs(ecg_serve_usage, stdout);
            return -1;
        } else if (c == 'V') {
            ecg_cli_print_version(prog);
            return -1;
        } else if (c == 'm') {
            a->model = optarg;
        } else if (c == 'C') {
            a->config = optarg;
        } else if ((rc = server_option(c, a, err)) != ECG_OK) {
            return rc < 0 ? ecg_cli_option_error(c, argv, err) : rc;
        }
    }
    for (int i = optind; i < argc; i++) {
        if (!ecg_cli_is_override(argv[i]))
            return ecg_error_set(err, ECG_ERR_USAGE,
                                 "unexpected argument '%s': expected key=value overrides only", argv[i]);
        a->overrides[a->noverrides++] = argv[i];
    }
    return ECG_OK;
}

void ecg_serve_cli_free(struct ecg_serve_cli *a)
{
    free(a->overrides);
    free(a->token);
    memset(a, 0, sizeof *a);
}
