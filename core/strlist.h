/* A growable list of strings packed into a few blocks (weight and layer names, record lists). */
#ifndef ECG_STRLIST_H
#define ECG_STRLIST_H

#include <stddef.h>

#include "core/error.h"

/* A growable list of NUL-terminated strings, owned by the list.  The strings are packed into a few
 * large blocks, so that the hundreds of layer and weight names of a weight file cost a handful of
 * allocations, not one each.  A zeroed struct is an empty list. */
struct ecg_strblock;
struct ecg_strlist {
    char **items;
    int count;
    int cap;
    struct ecg_strblock *blocks; /* the strings' storage, newest first */
};

int ecg_strlist_push(struct ecg_strlist *l, const char *s, struct ecg_error *err);
/* Appends the first n bytes of s (which need no terminating NUL) as one string. */
int ecg_strlist_push_n(struct ecg_strlist *l, const char *s, size_t n, struct ecg_error *err);
/* Index of s, or -1. */
int ecg_strlist_find(const struct ecg_strlist *l, const char *s);
/* Empties the list and keeps its memory for the next pushes. */
void ecg_strlist_clear(struct ecg_strlist *l);
void ecg_strlist_free(struct ecg_strlist *l);

#endif
