/* The one helper of the backend interface: freeing a prepared record. */
#include "serve/backend.h"

#include <stdlib.h>
#include <string.h>

void ecg_serve_prepared_free(struct ecg_serve_prepared *p)
{
    free(p->inputs);
    free(p->window_start_s);
    free(p->signal);
    free(p->context);
    free(p->beat_sample);
    memset(p, 0, sizeof *p);
}
