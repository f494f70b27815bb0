/* WFDB records (header, formats 212 and 16, MIT annotations) and the MIT-BIH beat reader with AAMI classes
 * and DS1/DS2. */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "data/reader_common.h"
#include "data/readers.h"
#include "data/signal.h"

/* Parses one "gain(baseline)/units" field; returns 0 on a malformed field. */
static int parse_gain(const char *tok, struct ecg_wfdb_signal *s, int *has_baseline)
{
    char *end;
    s->gain = strtod(tok, &end);
    if (end == tok)
        return 0;
    if (*end == '(') {
        long b = strtol(end + 1, &end, 10);
        if (*end != ')')
            return 0;
        s->baseline = (int32_t)b;
        *has_baseline = 1;
        end++;
    }
    if (*end == '/')
        ecg_strlcpy(s->units, end + 1, sizeof s->units);
    else if (*end != '\0')
        return 0;
    return 1;
}

/* Where a header line is, for messages. */
struct hea_line {
    const char *path;
    int lineno;
    const char *text; /* the whole line */
};

/* The record line: name nsig [fs [nsamples]] (a single-segment record). */
static int parse_record_line(const struct hea_line *L, char **tok, int nt, struct ecg_wfdb_header *hdr,
                             struct ecg_error *err)
{
    if (nt < 2 || strchr(tok[0], '/'))
        return ecg_error_set(err, ECG_ERR_FORMAT,
                             "%s:%d: expected a record line 'name nsig [fs [nsamples]]' of a single-segment "
                             "record, found '%s'", L->path, L->lineno, L->text);
    ecg_strlcpy(hdr->record, tok[0], sizeof hdr->record);
    char *end;
    long nsig = strtol(tok[1], &end, 10);
    if (*end || nsig < 1 || nsig > ECG_WFDB_MAX_SIGNALS)
        return ecg_error_set(err, ECG_ERR_FORMAT, "%s:%d: number of signals '%s', expected 1..%d", L->path,
                             L->lineno, tok[1], ECG_WFDB_MAX_SIGNALS);
    hdr->nsig = (int32_t)nsig;
    hdr->fs = 250.0; /* the WFDB default when the field is absent */
    hdr->nsamples = -1;
    if (nt >= 3) {
        hdr->fs = strtod(tok[2], &end);
        if (end == tok[2] || !(hdr->fs > 0 && hdr->fs <= ECG_FS_MAX) || (*end && *end != '/' && *end != '('))
            return ecg_error_set(err, ECG_ERR_FORMAT,
                                 "%s:%d: sampling frequency '%s', expected a positive number up to %g Hz", L->path,
                                 L->lineno, tok[2], ECG_FS_MAX);
    }
    if (nt >= 4) {
        errno = 0;
        long long ns = strtoll(tok[3], &end, 10);
        if (*end || ns < 0 || errno == ERANGE)
            return ecg_error_set(err, ECG_ERR_FORMAT,
                                 "%s:%d: number of samples '%s', expected a non-negative integer", L->path,
                                 L->lineno, tok[3]);
        hdr->nsamples = ns;
    }
    return ECG_OK;
}

/* The format field of signal i: 212 or 16, optionally +byte_offset; samples per frame and skew only 1/0. */
static int parse_format(const struct hea_line *L, int i, const char *field, struct ecg_wfdb_signal *s,
                        struct ecg_error *err)
{
    char *end;
    long fmt = strtol(field, &end, 10);
    s->byte_offset = 0;
    while (*end == 'x' || *end == ':') {
        long v = strtol(end + 1, &end, 10);
        if (v != 1 && v != 0)
            return ecg_error_set(err, ECG_ERR_FORMAT,
                                 "%s:%d: signal %d: format field '%s' uses multiple samples per frame or skew, "
                                 "which this reader does not support", L->path, L->lineno, i, field);
    }
    /* The byte offset is digits only: strtoll would also take "-8", an offset before the file's data. */
    bool bad_offset = false;
    if (*end == '+') {
        const char *digits = end + 1;
        bad_offset = *digits < '0' || *digits > '9';
        s->byte_offset = strtoll(digits, &end, 10);
    }
    if (bad_offset || *end || (fmt != 212 && fmt != 16))
        return ecg_error_set(err, ECG_ERR_FORMAT,
                             "%s:%d: signal %d: storage format '%s', expected 212 or 16 (optionally +offset)",
                             L->path, L->lineno, i, field);
    s->format = (int32_t)fmt;
    return ECG_OK;
}

/* Signal line i: file format [gain(baseline)/units [resolution [adc_zero [... description]]]]. */
static int parse_signal_line(const struct hea_line *L, int i, char **tok, int nt, struct ecg_wfdb_signal *s,
                             struct ecg_error *err)
{
    if (nt < 2)
        return ecg_error_set(err, ECG_ERR_FORMAT, "%s:%d: signal %d: expected 'file format [gain ...]', found '%s'",
                             L->path, L->lineno, i, L->text);
    ecg_strlcpy(s->file, tok[0], sizeof s->file);
    ECG_TRY(parse_format(L, i, tok[1], s, err));
    s->gain = 200.0;
    ecg_strlcpy(s->units, "mV", sizeof s->units);
    int has_baseline = 0;
    if (nt >= 3 && !parse_gain(tok[2], s, &has_baseline))
        return ecg_error_set(err, ECG_ERR_FORMAT,
                             "%s:%d: signal %d: gain field '%s', expected gain[(baseline)][/units]", L->path,
                             L->lineno, i, tok[2]);
    if (s->gain == 0)
        s->gain = 200.0;
    if (nt >= 5)
        s->adc_zero = (int32_t)strtol(tok[4], NULL, 10);
    if (!has_baseline)
        s->baseline = s->adc_zero;
    if (nt >= 9)
        ecg_strlcpy(s->description, tok[8], sizeof s->description);
    return ECG_OK;
}

int ecg_wfdb_read_header(const char *path, struct ecg_wfdb_header *hdr, struct ecg_error *err)
{
    memset(hdr, 0, sizeof *hdr);
    char *text = NULL;
    int64_t size;
    ECG_TRY(ecg_read_file(path, &text, &size, err));
    int rc = ECG_OK, have_record = 0, nsig_read = 0, lineno = 0;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line && rc == ECG_OK; line = strtok_r(NULL, "\n", &save)) {
        lineno++;
        size_t len = strlen(line);
        while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == ' ' || line[len - 1] == '\t'))
            line[--len] = '\0';
        char *p = line;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '\0' || *p == '#')
            continue;
        char whole[512];
        ecg_strlcpy(whole, p, sizeof whole); /* the tokens below cut p up */
        const struct hea_line L = {path, lineno, whole};
        char *tok[16];
        int nt = 0;
        char *s2 = NULL;
        for (char *t = strtok_r(p, " \t", &s2); t && nt < 16; t = strtok_r(NULL, " \t", &s2))
            tok[nt++] = t;
        if (!have_record) {
            rc = parse_record_line(&L, tok, nt, hdr, err);
            have_record = 1;
        } else if (nsig_read < hdr->nsig) { /* info lines after the signal lines are ignored */
            rc = parse_signal_line(&L, nsig_read, tok, nt, &hdr->sig[nsig_read], err);
            nsig_read++;
        }
    }
    if (rc == ECG_OK && !have_record)
        rc = ecg_error_set(err, ECG_ERR_FORMAT, "%s: no record line found", path);
    else if (rc == ECG_OK && nsig_read < hdr->nsig)
        rc = ecg_error_set(err, ECG_ERR_FORMAT, "%s: the record line announces %d signals, found %d signal lines",
                           path, hdr->nsig, nsig_read);
    free(text);
    return rc;
}

/* The directory part of a path ("." when none), into dir. */
static void dir_of(const char *path, char *dir, size_t cap)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        ecg_strlcpy(dir, ".", cap);
    else {
        size_t n = (size_t)(slash - path);
        if (n == 0)
            n = 1;
        if (n >= cap)
            n = cap - 1;
        memcpy(dir, path, n);
        dir[n] = '\0';
    }
}

int ecg_wfdb_read_signals(const char *hea_path, const struct ecg_wfdb_header *hdr, float **out,
                          int64_t *length, struct ecg_error *err)
{
    int nsig = hdr->nsig;
    for (int s = 0; s < nsig; s++)
        out[s] = NULL;
    *length = 0;
    for (int s = 1; s < nsig; s++)
        if (strcmp(hdr->sig[s].file, hdr->sig[0].file) || hdr->sig[s].format != hdr->sig[0].format ||
            hdr->sig[s].byte_offset != hdr->sig[0].byte_offset)
            return ecg_error_set(err, ECG_ERR_FORMAT,
                                 "%s: signals stored in different files or formats are not supported "
                                 "(signal 0: %s format %d, signal %d: %s format %d)",
                                 hea_path, hdr->sig[0].file, hdr->sig[0].format, s, hdr->sig[s].file,
                                 hdr->sig[s].format);
    char dir[1024], path[2048];
    dir_of(hea_path, dir, sizeof dir);
    ECG_TRY(ecg_pathf(path, sizeof path, err, "%s/%s", dir, hdr->sig[0].file));
    char *buf = NULL;
    int64_t size = 0;
    ECG_TRY(ecg_read_file(path, &buf, &size, err));
    int rc = ECG_OK;
    int fmt = hdr->sig[0].format;
    int64_t off = hdr->sig[0].byte_offset;
    int64_t avail = size > off ? size - off : 0;
    /* Bytes per frame: 212 packs two samples in three bytes, 16 uses two bytes. */
    int64_t total_avail = fmt == 16 ? avail / 2 : (avail / 3) * 2 + ((avail % 3) >= 2 ? 1 : 0);
    int64_t frames = total_avail / nsig;
    int64_t n = hdr->nsamples >= 0 ? hdr->nsamples : frames;
    if (hdr->nsamples >= 0 && frames < hdr->nsamples) {
        /* In floating point: a header's sample count may be near INT64_MAX. */
        double need = fmt == 16 ? 2.0 * (double)n * nsig : ((double)n * nsig * 3 + 1) / 2;
        rc = ecg_error_set(err, ECG_ERR_FORMAT,
                           "%s: truncated: the header says %lld samples x %d signals in format %d "
                           "(%.0f bytes after offset %lld), the file has %lld",
                           path, (long long)n, nsig, fmt, need, (long long)off, (long long)avail);
        goto done;
    }
    if (n < 1) {
        rc = ecg_error_set(err, ECG_ERR_FORMAT, "%s: no samples", path);
        goto done;
    }
    for (int s = 0; s < nsig; s++) {
        out[s] = malloc((size_t)n * sizeof(float));
        if (!out[s]) {
            rc = ecg_error_set(err, ECG_ERR_NOMEM, "%s: no memory for %lld samples", path, (long long)n);
            goto done;
        }
    }
    const unsigned char *b = (const unsigned char *)buf + off;
    for (int64_t k = 0; k < n * nsig; k++) {
        int32_t v;
        if (fmt == 16) {
            v = (int16_t)(uint16_t)(b[2 * k] | (b[2 * k + 1] << 8));
            if (v == -32768)
                v = INT32_MIN;
        } else {
            const unsigned char *q = b + (k / 2) * 3;
            v = (k % 2 == 0) ? (q[0] | ((q[1] & 0x0F) << 8)) : (q[2] | ((q[1] & 0xF0) << 4));
            if (v & 0x800)
                v -= 0x1000;
            if (v == -2048)
                v = INT32_MIN;
        }
        int s = (int)(k % nsig);
        const struct ecg_wfdb_signal *sg = &hdr->sig[s];
        /* The format's invalid-sample value becomes NaN so that checks see it. */
        out[s][k / nsig] = v == INT32_MIN ? NAN : (float)(((double)v - sg->baseline) / sg->gain);
    }
    *length = n;
done:
    if (rc)
        for (int s = 0; s < nsig; s++) {
            free(out[s]);
            out[s] = NULL;
        }
    free(buf);
    return rc;
}

/* MIT annotation codes with a meaning to the reader. */
enum { ANN_SKIP = 59, ANN_NUM = 60, ANN_SUB = 61, ANN_CHN = 62, ANN_AUX = 63 };

/* The MIT annotation codes of beats: their symbol and AAMI class (EC57's table). */
static const struct {
    int32_t code;
    char symbol[2];
    int aami;
} beat_codes[] = {
    {1, "N", ECG_BEAT_N},  /* normal */
    {2, "L", ECG_BEAT_N},  /* left bundle branch block */
    {3, "R", ECG_BEAT_N},  /* right bundle branch block */
    {34, "e", ECG_BEAT_N}, /* atrial escape */
    {11, "j", ECG_BEAT_N}, /* nodal (junctional) escape */
    {8, "A", ECG_BEAT_S},  /* atrial premature */
    {4, "a", ECG_BEAT_S},  /* aberrated atrial premature */
    {7, "J", ECG_BEAT_S},  /* nodal (junctional) premature */
    {9, "S", ECG_BEAT_S},  /* supraventricular premature */
    {5, "V", ECG_BEAT_V},  /* premature ventricular contraction */
    {10, "E", ECG_BEAT_V}, /* ventricular escape */
    {6, "F", ECG_BEAT_F},  /* fusion of ventricular and normal */
    {12, "/", ECG_BEAT_Q}, /* paced */
    {38, "f", ECG_BEAT_Q}, /* fusion of paced and normal */
    {13, "Q", ECG_BEAT_Q}, /* unclassifiable */
};

static int beat_code_index(int32_t code)
{
    for (int i = 0; i < (int)(sizeof beat_codes / sizeof beat_codes[0]); i++)
        if (beat_codes[i].code == code)
            return i;
    return -1;
}

int ecg_wfdb_aami_class(int32_t code)
{
    int i = beat_code_index(code);
    return i < 0 ? -1 : beat_codes[i].aami;
}

const char *ecg_wfdb_beat_symbol(int32_t code)
{
    int i = beat_code_index(code);
    return i < 0 ? NULL : beat_codes[i].symbol;
}

int ecg_wfdb_read_annotations(const char *path, struct ecg_wfdb_annotation **ann, int64_t *count,
                              struct ecg_error *err)
{
    *ann = NULL;
    *count = 0;
    char *buf = NULL;
    int64_t size = 0;
    ECG_TRY(ecg_read_file(path, &buf, &size, err));
    const unsigned char *b = (const unsigned char *)buf;
    int rc = ECG_OK;
    int64_t cap = size / 2 + 1, n = 0, t = 0, pos = 0;
    struct ecg_wfdb_annotation *a = malloc((size_t)cap * sizeof *a);
    if (!a) {
        rc = ecg_error_set(err, ECG_ERR_NOMEM, "%s: no memory for annotations", path);
        goto done;
    }
    int ended = 0;
    while (pos + 2 <= size) {
        unsigned w = (unsigned)(b[pos] | (b[pos + 1] << 8));
        int64_t at = pos;
        pos += 2;
        if (w == 0) {
            ended = 1;
            break;
        }
        int code = (int)(w >> 10), arg = (int)(w & 0x3FF);
        if (code == ANN_SKIP) {
            if (pos + 4 > size) {
                rc = ecg_error_set(err, ECG_ERR_FORMAT,
                                   "%s: truncated: SKIP at byte %lld needs 4 more bytes, %lld left", path,
                                   (long long)at, (long long)(size - pos));
                goto done;
            }
            /* A 32-bit interval stored as two 16-bit words, high word first. */
            uint32_t hi = (uint32_t)(b[pos] | (b[pos + 1] << 8)),
                     lo = (uint32_t)(b[pos + 2] | (b[pos + 3] << 8));
            t += (int32_t)((hi << 16) | lo);
            pos += 4;
        } else if (code == ANN_AUX) {
            int64_t skip = (arg + 1) & ~1;
            if (pos + skip > size) {
                rc = ecg_error_set(err, ECG_ERR_FORMAT,
                                   "%s: truncated: AUX at byte %lld announces %d bytes, %lld left", path,
                                   (long long)at, arg, (long long)(size - pos));
                goto done;
            }
            pos += skip;
        } else if (code == ANN_NUM || code == ANN_SUB || code == ANN_CHN) {
            /* Modifiers of the preceding annotation's fields: not needed for beat labels. */
        } else {
            t += arg;
            if (t < 0) {
                rc = ecg_error_set(err, ECG_ERR_FORMAT, "%s: annotation at byte %lld has negative time %lld",
                                   path, (long long)at, (long long)t);
                goto done;
            }
            a[n].sample = t;
            a[n].code = code;
            a[n].aami = ecg_wfdb_aami_class(code);
            n++;
        }
    }
    if (!ended) {
        rc = ecg_error_set(err, ECG_ERR_FORMAT,
                           "%s: truncated: no end-of-annotations word (0x0000) after %lld bytes", path,
                           (long long)size);
        goto done;
    }
    *ann = a;
    *count = n;
    a = NULL;
done:
    free(a);
    free(buf);
    return rc;
}

static const char *const ds1[22] = {"101", "106", "108", "109", "112", "114", "115", "116",
                                    "118", "119", "122", "124", "201", "203", "205", "207",
                                    "208", "209", "215", "220", "223", "230"};
static const char *const ds2[22] = {"100", "103", "105", "111", "113", "117", "121", "123",
                                    "200", "202", "210", "212", "213", "214", "219", "221",
                                    "222", "228", "231", "232", "233", "234"};
static const char *const paced[4] = {"102", "104", "107", "217"};

int ecg_mitdb_split_of(const char *record)
{
    for (int i = 0; i < 22; i++) {
        if (strcmp(record, ds1[i]) == 0)
            return 1;
        if (strcmp(record, ds2[i]) == 0)
            return 2;
    }
    return 0;
}

const char *const *ecg_mitdb_split_records(int split, int *count)
{
    *count = 22;
    return split == 1 ? ds1 : split == 2 ? ds2 : (*count = 0, NULL);
}

static int is_paced(const char *record)
{
    for (int i = 0; i < 4; i++)
        if (strcmp(record, paced[i]) == 0)
            return 1;
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Record names to read: from opt->records or every .hea with a .atr in dir. */
static int list_records(const char *dir, const char *sel, char ***names, int64_t *count,
                        struct ecg_error *err)
{
    *names = NULL;
    *count = 0;
    char **v = NULL;
    int64_t n = 0, cap = 0;
    if (sel && (strcmp(sel, "DS1") == 0 || strcmp(sel, "DS2") == 0)) {
        int c;
        const char *const *r = ecg_mitdb_split_records(sel[2] == '1' ? 1 : 2, &c);
        v = calloc((size_t)c, sizeof *v);
        if (!v)
            return ecg_error_set(err, ECG_ERR_NOMEM, "no memory for the record list");
        for (int i = 0; i < c; i++)
            v[n++] = strdup(r[i]);
    } else if (sel && strcmp(sel, "all") != 0) {
        char *copy = strdup(sel), *save = NULL;
        if (!copy)
            return ecg_error_set(err, ECG_ERR_NOMEM, "no memory for the record list");
        for (char *t = strtok_r(copy, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
            if (n == cap) {
                cap = cap ? 2 * cap : 16;
                char **nv = realloc(v, (size_t)cap * sizeof *nv);
                if (!nv) {
                    free(copy);
                    goto nomem;
                }
                v = nv;
            }
            v[n++] = strdup(t);
        }
        free(copy);
    } else {
        DIR *d = opendir(dir);
        if (!d)
            return ecg_error_set(err, ECG_ERR_IO, "%s: cannot open the MIT-BIH directory", dir);
        struct dirent *e;
        while ((e = readdir(d))) {
            size_t len = strlen(e->d_name);
            if (len < 5 || strcmp(e->d_name + len - 4, ".hea"))
                continue;
            char name[256], atr[2048];
            ecg_strlcpy(name, e->d_name, sizeof name);
            name[len - 4 < sizeof name ? len - 4 : sizeof name - 1] = '\0';
            if (ecg_pathf(atr, sizeof atr, NULL, "%s/%s.atr", dir, name))
                continue;
            if (is_paced(name) || !ecg_path_is_file(atr))
                continue;
            if (n == cap) {
                cap = cap ? 2 * cap : 64;
                char **nv = realloc(v, (size_t)cap * sizeof *nv);
                if (!nv) {
                    closedir(d);
                    goto nomem;
                }
                v = nv;
            }
            v[n++] = strdup(name);
        }
        closedir(d);
        if (n == 0) {
            free(v);
            return ecg_error_set(err, ECG_ERR_VALUE, "%s: no WFDB records (name.hea with name.atr) found",
                                 dir);
        }
        qsort(v, (size_t)n, sizeof *v, cmp_str);
    }
    for (int64_t i = 0; i < n; i++)
        if (!v[i])
            goto nomem;
    *names = v;
    *count = n;
    return ECG_OK;
nomem:
    for (int64_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
    return ecg_error_set(err, ECG_ERR_NOMEM, "no memory for the record list");
}

/* The beats of record `name` in dir into ds; adds the counts to *total. */
static int read_record_beats(const char *dir, const char *name, const struct ecg_read_options *opt,
                             struct ecg_dataset *ds, struct ecg_beat_read_counts *total, struct ecg_error *err)
{
    char hea[2048], atr[2048];
    ECG_TRY(ecg_pathf(hea, sizeof hea, err, "%s/%s.hea", dir, name));
    ECG_TRY(ecg_pathf(atr, sizeof atr, err, "%s/%s.atr", dir, name));
    struct ecg_beat_read_counts c;
    int rc = ecg_wfdb_read_beats(hea, atr, opt, ds, &c, err);
    total->beats += c.beats;
    total->kept += c.kept;
    total->edge += c.edge;
    total->q += c.q;
    total->unmatched += c.unmatched;
    return rc;
}

int ecg_mitdb_read(const char *dir, const struct ecg_read_options *opt, struct ecg_dataset *ds,
                   struct ecg_error *err)
{
    struct ecg_read_options defaults;
    opt = ecg_read_options_or_default(opt, &defaults);
    ds->task = ECG_TASK_BEAT;
    if (!ecg_path_is_dir(dir))
        return ecg_error_set(err, ECG_ERR_IO, "%s: not a directory of WFDB records", dir);
    char **names = NULL;
    int64_t n = 0;
    ECG_TRY(list_records(dir, opt->records, &names, &n, err));
    int rc = ECG_OK;
    struct ecg_beat_read_counts total = {0};
    for (int64_t i = 0; i < n && rc == ECG_OK; i++) {
        int64_t before = ds->count;
        rc = read_record_beats(dir, names[i], opt, ds, &total, err);
        if (rc && rc != ECG_ERR_NOMEM && rc != ECG_ERR_RANGE) {
            /* Drop what a failed record pushed, then apply the policy to the record as a whole. */
            while (ds->count > before)
                free(ds->records[--ds->count].signal);
            ecg_error_prefix(err, rc, "MIT-BIH record %s", names[i]);
            rc = ecg_reader_bad(opt, ds, rc, err);
        }
    }
    if (rc == ECG_OK)
        ecg_info("%s: %lld %s beats of %lld records: %lld kept, left out %lld at the record edges, %lld Q "
                 "(AAMI Q %s), %lld detections matching no annotated beat",
                 dir, (long long)total.beats, ecg_beat_source_names[opt->beats], (long long)n,
                 (long long)total.kept, (long long)total.edge, (long long)total.q,
                 opt->q_beats == ECG_Q_EXCLUDE ? "excluded" : "kept", (long long)total.unmatched);
    for (int64_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return rc;
}
