/* ecgserve's default options (the command line itself is parsed in tools/serve_cli.c). */
#include <string.h>

#include "serve/serve.h"

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
    o->max_connections_per_ip = 64; /* a quarter: slow or abandoned connections from one address starve no one */
    o->timeout_s = 30;
    o->max_records = 64;
    o->max_samples = 10000000;
    o->drain_s = 30.0;
}
