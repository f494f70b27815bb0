/* unisens.xml with expat: the attributes and channel count of the ecg.bin signal entry. */
#include "data/unisens.h"

#include <expat.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/reader_common.h"

/* What the element handlers gather. */
struct scan {
    int depth, entry_depth; /* entry_depth > 0 while inside the ecg.bin entry */
    bool found, done;
    int32_t channels;
    char fs[64], lsb[64], baseline[64], type[64];
    bool has_fs, has_lsb, has_baseline, has_type;
};

/* The local part of a name the namespace-aware parser gives as "uri|local". */
static const char *local_name(const char *name)
{
    const char *bar = strrchr(name, '|');
    return bar ? bar + 1 : name;
}

static void keep(char *dst, size_t cap, bool *has, const char *v)
{
    snprintf(dst, cap, "%s", v);
    *has = true;
}

static void XMLCALL on_start(void *data, const XML_Char *name, const XML_Char **attrs)
{
    struct scan *s = data;
    s->depth++;
    const char *local = local_name(name);
    if (s->entry_depth > 0) {
        if (s->depth == s->entry_depth + 1 && strcmp(local, "channel") == 0)
            s->channels++;
        return;
    }
    if (s->done || strcmp(local, "signalEntry") != 0)
        return;
    const char *id = NULL;
    for (int i = 0; attrs[i]; i += 2)
        if (strcmp(local_name(attrs[i]), "id") == 0)
            id = attrs[i + 1];
    if (!id || strcmp(id, "ecg.bin") != 0)
        return;
    s->found = true;
    s->entry_depth = s->depth;
    for (int i = 0; attrs[i]; i += 2) {
        const char *a = local_name(attrs[i]), *v = attrs[i + 1];
        if (strcmp(a, "sampleRate") == 0)
            keep(s->fs, sizeof s->fs, &s->has_fs, v);
        else if (strcmp(a, "lsbValue") == 0)
            keep(s->lsb, sizeof s->lsb, &s->has_lsb, v);
        else if (strcmp(a, "baseline") == 0)
            keep(s->baseline, sizeof s->baseline, &s->has_baseline, v);
        else if (strcmp(a, "dataType") == 0)
            keep(s->type, sizeof s->type, &s->has_type, v);
    }
}

static void XMLCALL on_end(void *data, const XML_Char *name)
{
    struct scan *s = data;
    (void)name;
    if (s->entry_depth == s->depth) { /* the first ecg.bin entry is the one read */
        s->entry_depth = 0;
        s->done = true;
    }
    s->depth--;
}

/* Parses the whole text; fails with the file and line of malformed XML. */
static int scan_xml(const char *path, const char *text, int64_t size, struct scan *s, struct ecg_error *err)
{
    XML_Parser p = XML_ParserCreateNS(NULL, '|');
    if (!p)
        return ecg_error_set(err, ECG_ERR_NOMEM, "%s: no memory for the XML parser", path);
    XML_SetUserData(p, s);
    XML_SetElementHandler(p, on_start, on_end);
    int rc = ECG_OK;
    if (size > 0x7fffffff)
        rc = ecg_error_set(err, ECG_ERR_FORMAT, "%s: %lld bytes, too large for a unisens.xml", path,
                           (long long)size);
    else if (XML_Parse(p, text, (int)size, 1) != XML_STATUS_OK)
        rc = ecg_error_set(err, ECG_ERR_FORMAT, "%s:%lu: malformed XML: %s", path,
                           (unsigned long)XML_GetCurrentLineNumber(p), XML_ErrorString(XML_GetErrorCode(p)));
    XML_ParserFree(p);
    return rc;
}

/* A whole-string number, or NAN. */
static double number(const char *v)
{
    char *end;
    double x = strtod(v, &end);
    return end != v && *end == '\0' ? x : NAN;
}

int ecg_unisens_read_ecg(const char *path, struct ecg_unisens_ecg *u, struct ecg_error *err)
{
    char *text = NULL;
    int64_t size = 0;
    ECG_TRY(ecg_read_file(path, &text, &size, err));
    struct scan s = {0};
    int rc = scan_xml(path, text, size, &s, err);
    free(text);
    if (rc)
        return rc;
    if (!s.found)
        return ecg_error_set(err, ECG_ERR_FORMAT, "%s: no <signalEntry id=\"ecg.bin\" ...> element", path);
    u->fs = s.has_fs ? number(s.fs) : NAN;
    if (!(u->fs > 0))
        return ecg_error_set(err, ECG_ERR_FORMAT, "%s: ecg.bin: missing or bad sampleRate", path);
    u->lsb = s.has_lsb ? number(s.lsb) : 1.0;
    u->baseline = s.has_baseline ? number(s.baseline) : 0.0;
    if (!(u->lsb > 0))
        return ecg_error_set(err, ECG_ERR_FORMAT, "%s: ecg.bin: lsbValue '%s', expected a positive number", path,
                             s.lsb);
    if (!isfinite(u->baseline))
        return ecg_error_set(err, ECG_ERR_FORMAT, "%s: ecg.bin: baseline '%s', expected a number", path,
                             s.baseline);
    if (!s.has_type || strcmp(s.type, "int16") != 0)
        return ecg_error_set(err, ECG_ERR_FORMAT, "%s: ecg.bin: dataType '%s', expected int16", path,
                             s.has_type ? s.type : "(missing)");
    u->channels = s.channels > 0 ? s.channels : 1;
    return ECG_OK;
}
