/* Spectrogram cache files: hashed keys, atomic writes, validated reads. */
#include "data/cache.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char cache_magic[8] = {'E', 'C', 'G', 'S', 'P', 'C', '0', '1'};

uint64_t ecg_fnv1a(uint64_t h, const void *data, int64_t n)
{
    const unsigned char *p = data;
    for (int64_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

int ecg_cache_identity(const char *path, char *out, int64_t outsize, struct ecg_error *err)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return ecg_error_set(err, ECG_ERR_IO, "cache: cannot stat data '%s': %s", path, strerror(errno));
    snprintf(out, (size_t)outsize, "%s|%lld|%lld.%09ld", path, (long long)st.st_size, (long long)st.st_mtim.tv_sec,
             (long)st.st_mtim.tv_nsec);
    return ECG_OK;
}

static int make_dir(const char *path, struct ecg_error *err)
{
    if (mkdir(path, 0777) != 0 && errno != EEXIST)
        return ecg_error_set(err, ECG_ERR_IO, "cache: cannot create folder '%s': %s", path, strerror(errno));
    return ECG_OK;
}

int ecg_cache_init(struct ecg_cache *c, const char *dir, const char *data_identity,
                   const struct ecg_spec_opts *s, const struct ecg_window_opts *w, struct ecg_error *err)
{
    memset(c, 0, sizeof *c);
    char text[4096];
    int len = snprintf(text, sizeof text,
                       "data=%s\nwin_s=%.17g hop_s=%.17g window=%s alpha=%.17g detrend=%s log=%d floor=%.17g "
                       "fmin=%.17g fmax=%.17g h=%lld w=%lld c=%lld norm=%s lo=%.17g hi=%.17g\n"
                       "length_s=%.17g eval_windows=%lld eval_hop_s=%.17g pad=%s short=%d\n",
                       data_identity, s->window_seconds, s->hop_seconds, ecg_spec_window_name(s->window), s->tukey_alpha,
                       ecg_spec_detrend_name(s->detrend), s->log, s->log_floor, s->fmin, s->fmax, (long long)s->height,
                       (long long)s->width, (long long)s->channels, ecg_spec_norm_name(s->norm), s->norm_lo,
                       s->norm_hi, w->length_s, (long long)w->eval_windows, w->eval_hop_s, ecg_pad_mode_name(w->pad),
                       (int)w->short_policy);
    if (len < 0 || len >= (int)sizeof text)
        return ecg_error_set(err, ECG_ERR_RANGE, "cache: data identity too long (%zu characters)",
                             strlen(data_identity));
    c->key = ecg_fnv1a(ECG_FNV_OFFSET, text, len);
    if (strlen(dir) + 20 >= sizeof c->dir)
        return ecg_error_set(err, ECG_ERR_RANGE, "cache: folder name too long: '%s'", dir);
    ECG_TRY(make_dir(dir, err));
    snprintf(c->dir, sizeof c->dir, "%s/%016llx", dir, (unsigned long long)c->key);
    ECG_TRY(make_dir(c->dir, err));
    return ECG_OK;
}

static uint64_t entry_hash(int64_t record, const char *record_id, int64_t window)
{
    uint64_t h = ecg_fnv1a(ECG_FNV_OFFSET, &record, sizeof record);
    h = ecg_fnv1a(h, record_id, (int64_t)strlen(record_id));
    return ecg_fnv1a(h, &window, sizeof window);
}

static void entry_path(const struct ecg_cache *c, uint64_t h, char *out, size_t n)
{
    snprintf(out, n, "%s/%016llx.bin", c->dir, (unsigned long long)h);
}

int ecg_cache_load(struct ecg_cache *c, int64_t record, const char *record_id, int64_t window, float *out,
                   int64_t count)
{
    uint64_t h = entry_hash(record, record_id, window);
    char path[3200];
    entry_path(c, h, path, sizeof path);
    FILE *f = fopen(path, "rb");
    int hit = 0;
    if (f) {
        char magic[8];
        int64_t n = 0;
        uint64_t hh = 0;
        hit = fread(magic, 1, 8, f) == 8 && memcmp(magic, cache_magic, 8) == 0 && fread(&n, sizeof n, 1, f) == 1 &&
              n == count && fread(&hh, sizeof hh, 1, f) == 1 && hh == h &&
              fread(out, sizeof *out, (size_t)count, f) == (size_t)count && fgetc(f) == EOF;
        fclose(f);
    }
    __atomic_add_fetch(hit ? &c->hits : &c->misses, 1, __ATOMIC_RELAXED);
    return hit;
}

int ecg_cache_store(struct ecg_cache *c, int64_t record, const char *record_id, int64_t window,
                    const float *img, int64_t count, struct ecg_error *err)
{
    uint64_t h = entry_hash(record, record_id, window);
    char path[3200], tmp[3300];
    entry_path(c, h, path, sizeof path);
    snprintf(tmp, sizeof tmp, "%s.%ld.%llx.tmp", path, (long)getpid(),
             (unsigned long long)__atomic_add_fetch(&c->writes, 1, __ATOMIC_RELAXED));
    FILE *f = fopen(tmp, "wb");
    if (!f)
        return ecg_error_set(err, ECG_ERR_IO, "cache: cannot write '%s': %s", tmp, strerror(errno));
    int ok = fwrite(cache_magic, 1, 8, f) == 8 && fwrite(&count, sizeof count, 1, f) == 1 &&
             fwrite(&h, sizeof h, 1, f) == 1 && fwrite(img, sizeof *img, (size_t)count, f) == (size_t)count;
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, path) != 0) {
        remove(tmp);
        return ecg_error_set(err, ECG_ERR_IO, "cache: cannot write '%s'", path);
    }
    return ECG_OK;
}
