/* Optional on-disk cache of evaluation-mode spectrogram images, keyed by the data and the options. */
#ifndef ECG_DATA_CACHE_H
#define ECG_DATA_CACHE_H

#include <stdint.h>

#include "core/error.h"
#include "data/spectrogram.h"
#include "data/window.h"

/*
 * Only deterministic images are cached: evaluation windows without
 * augmentation (training crops and augmentation change every epoch).
 *
 * Key: a 64-bit FNV-1a hash of a canonical text of the data identity (for a
 * file or directory: its path, size and modification time, from
 * ecg_cache_identity) and every spectrogram and window option.  Entries live in
 * DIR/<key as 16 hex digits>/<hash of record index, id and window>.bin, each a
 * small header (magic, element count, the entry's own hash) and the float32
 * image.  A different dataset or option gives a different folder, so stale
 * entries are never read; an entry whose header does not match is treated as
 * a miss and rewritten.  Writes go to a temporary name and are renamed into
 * place, so concurrent writers and interrupted runs never leave a torn entry.
 * Thread-safe (the counters are atomic).
 */

struct ecg_cache {
    char dir[3072]; /* DIR/<key> */
    uint64_t key;
    int64_t hits, misses, writes;
};

/* "path|size|mtime" of a file or directory into out; ECG_ERR_IO if it does not exist. */
int ecg_cache_identity(const char *path, char *out, int64_t outsize, struct ecg_error *err);

/* Creates DIR and DIR/<key> as needed.  ECG_ERR_IO naming the folder on failure. */
int ecg_cache_init(struct ecg_cache *c, const char *dir, const char *data_identity,
                   const struct ecg_spec_opts *spec, const struct ecg_window_opts *win, struct ecg_error *err);

/* 1 and the image in out (count floats) on a hit, 0 on a miss. */
int ecg_cache_load(struct ecg_cache *c, int64_t record, const char *record_id, int64_t window, float *out,
                   int64_t count);

/* Stores an image; ECG_ERR_IO naming the file on failure (callers may ignore it). */
int ecg_cache_store(struct ecg_cache *c, int64_t record, const char *record_id, int64_t window,
                    const float *img, int64_t count, struct ecg_error *err);

/* 64-bit FNV-1a of n bytes, continuing from h (start with ECG_FNV_OFFSET). */
#define ECG_FNV_OFFSET 0xcbf29ce484222325ULL
uint64_t ecg_fnv1a(uint64_t h, const void *data, int64_t n);

#endif
