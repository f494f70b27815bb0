/* ecgserve's command line: defaults, getopt_long, the token file. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serve/serve.h"

const char ecg_serve_usage[] =
    "usage: ecgserve [--model FILE] [--host ADDR] [--port N] [--threads N] [--max-body-mb N]\n"
    "                [--max-queue N] [--token-file FILE] [--batch-max N] [--batch-wait-ms N]\n"
    "                [--cors ORIGIN]\n"
    "       ecgserve --help | --version\n"
    "\n"
    "Serves an ECG classifier over HTTP: POST /v1/classify (multipart files, text/csv or JSON),\n"
    "the upload page at /, /v1/model, /healthz, /metrics and /openapi.json (docs/serve.md).\n"
    "\n"
    "  --model FILE        the model to serve (default: the shipped model)\n"
    "  --host ADDR         address to listen on (default 127.0.0.1; 0.0.0.0 for every interface)\n"
    "  --port N            TCP port (default 8080; 0 picks a free one, printed at start)\n"
    "  --threads N         HTTP worker threads (default: one per CPU)\n"
    "  --max-body-mb N     largest request body in MiB (default 32); larger ones get 413\n"
    "  --max-queue N       requests waiting for the model (default 64); more get 503\n"
    "  --token-file FILE   require 'Authorization: Bearer <first line of FILE>' on /v1/ and /metrics\n"
    "  --batch-max N       windows per forward pass (default 16)\n"
    "  --batch-wait-ms N   how long a window waits for others to share its pass (default 5)\n"
    "  --cors ORIGIN       allow browser pages from ORIGIN to call the API (default: no CORS)\n"
    "\n"
    "SIGINT or SIGTERM stops accepting, finishes the requests in flight and exits 0.\n"
    "Exit status: 0 success, 1 runtime failure, 2 usage error.\n";

void ecg_serve_options_default(struct ecg_serve_options *o)
{
    memset(o, 0, sizeof *o);
    o->host = "127.0.0.1";
    o->port = 8080;
    o->threads = 0;
    o->max_body_bytes = (int64_t)32 << 20;
    o->max_queue = 64;
    o->batch_max = 16;
    o->batch_wait_s = 0.005;
    o->max_connections = 256;
    o->timeout_s = 30;
    o->max_records = 64;
    o->max_samples = 10000000;
    o->drain_s = 30.0;
}

/* An integer option in [lo, hi]. */
static int int_arg(const char *opt, const char *v, long lo, long hi, long *out, struct ecg_error *err)
{
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (end == v || *end || errno || x < lo || x > hi)
        return ecg_error_set(err, ECG_ERR_USAGE, "--%s '%s': expected an integer from %ld to %ld", opt, v, lo,
                             hi);
    *out = x;
    return ECG_OK;
}

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
    if (!(*token = strdup(line)))
        return ecg_error_set(err, ECG_ERR_NOMEM, "out of memory");
    return ECG_OK;
}

int ecg_serve_parse_args(int argc, char **argv, struct ecg_serve_options *o, const char **model,
                         char **token_buf, int *help, int *version, struct ecg_error *err)
{
    static const struct option longopts[] = {{"model", required_argument, 0, 'm'},
                                             {"host", required_argument, 0, 'H'},
                                             {"port", required_argument, 0, 'p'},
                                             {"threads", required_argument, 0, 't'},
                                             {"max-body-mb", required_argument, 0, 'b'},
                                             {"max-queue", required_argument, 0, 'q'},
                                             {"token-file", required_argument, 0, 'k'},
                                             {"batch-max", required_argument, 0, 'B'},
                                             {"batch-wait-ms", required_argument, 0, 'w'},
                                             {"cors", required_argument, 0, 'c'},
                                             {"help", no_argument, 0, 'h'},
                                             {"version", no_argument, 0, 'V'},
                                             {0, 0, 0, 0}};
    *model = NULL;
    *token_buf = NULL;
    *help = *version = 0;
    optind = 1;
    opterr = 0;
    int c;
    long v = 0;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        const char *name = c == '?' || c == ':' ? NULL : longopts[0].name;
        for (const struct option *lo = longopts; lo->name; lo++)
            if (lo->val == c)
                name = lo->name;
        switch (c) {
        case 'm':
            *model = optarg;
            break;
        case 'H':
            o->host = optarg;
            break;
        case 'p':
            ECG_TRY(int_arg(name, optarg, 0, 65535, &v, err));
            o->port = (int32_t)v;
            break;
        case 't':
            ECG_TRY(int_arg(name, optarg, 1, 1024, &v, err));
            o->threads = (int32_t)v;
            break;
        case 'b':
            ECG_TRY(int_arg(name, optarg, 1, 4096, &v, err));
            o->max_body_bytes = (int64_t)v << 20;
            break;
        case 'q':
            ECG_TRY(int_arg(name, optarg, 1, 100000, &v, err));
            o->max_queue = (int32_t)v;
            break;
        case 'B':
            ECG_TRY(int_arg(name, optarg, 1, 1024, &v, err));
            o->batch_max = (int32_t)v;
            break;
        case 'w':
            ECG_TRY(int_arg(name, optarg, 0, 10000, &v, err));
            o->batch_wait_s = (double)v / 1000.0;
            break;
        case 'c':
            o->cors_origin = optarg;
            break;
        case 'k':
            free(*token_buf);
            *token_buf = NULL;
            ECG_TRY(read_token(optarg, token_buf, err));
            o->token = *token_buf;
            break;
        case 'h':
            *help = 1;
            break;
        case 'V':
            *version = 1;
            break;
        default:
            return ecg_error_set(err, ECG_ERR_USAGE,
                                 optopt ? "option '%s' needs a value" : "unknown option '%s'",
                                 argv[optind - 1]);
        }
    }
    if (optind < argc)
        return ecg_error_set(err, ECG_ERR_USAGE, "unexpected argument '%s'", argv[optind]);
    return ECG_OK;
}
