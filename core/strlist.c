/* A growable list of strings packed into a few large blocks. */
#include "core/strlist.h"

#include <stdlib.h>
#include <string.h>

struct ecg_strblock {
    struct ecg_strblock *next;
    size_t used, size;
    char text[];
};

#define STRBLOCK_BYTES 4096

int ecg_strlist_push_n(struct ecg_strlist *l, const char *s, size_t n, struct ecg_error *err)
{
    if (l->count == l->cap) {
        int cap = l->cap ? l->cap * 2 : 16;
        char **items = realloc(l->items, (size_t)cap * sizeof *items);
        if (!items)
            return ecg_error_set(err, ECG_ERR_NOMEM, "string list: out of memory growing to %d entries", cap);
        l->items = items;
        l->cap = cap;
    }
    struct ecg_strblock *b = l->blocks;
    if (!b || b->size - b->used < n + 1) {
        size_t size = n + 1 > STRBLOCK_BYTES ? n + 1 : STRBLOCK_BYTES;
        b = malloc(sizeof *b + size);
        if (!b)
            return ecg_error_set(err, ECG_ERR_NOMEM, "string list: out of memory for %zu bytes", n + 1);
        *b = (struct ecg_strblock){.next = l->blocks, .size = size};
        l->blocks = b;
    }
    char *copy = b->text + b->used;
    memcpy(copy, s, n);
    copy[n] = '\0';
    b->used += n + 1;
    l->items[l->count++] = copy;
    return ECG_OK;
}

int ecg_strlist_push(struct ecg_strlist *l, const char *s, struct ecg_error *err)
{
    return ecg_strlist_push_n(l, s, strlen(s), err);
}

int ecg_strlist_find(const struct ecg_strlist *l, const char *s)
{
    for (int i = 0; i < l->count; i++)
        if (strcmp(l->items[i], s) == 0)
            return i;
    return -1;
}

static void free_blocks(struct ecg_strblock *b)
{
    while (b) {
        struct ecg_strblock *next = b->next;
        free(b);
        b = next;
    }
}

void ecg_strlist_clear(struct ecg_strlist *l)
{
    l->count = 0;
    if (l->blocks) { /* the newest block stays, emptied */
        free_blocks(l->blocks->next);
        l->blocks->next = NULL;
        l->blocks->used = 0;
    }
}

void ecg_strlist_free(struct ecg_strlist *l)
{
    free_blocks(l->blocks);
    free(l->items);
    memset(l, 0, sizeof *l);
}
