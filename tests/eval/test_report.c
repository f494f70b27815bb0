/* Tests of eval/ outputs: JSON (parsed back), the epoch CSV log, the text report, SVG and HTML well-formedness. */
#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/rng.h"
#include "eval/epoch_log.h"
#include "eval/json.h"
#include "eval/metrics.h"
#include "eval/report.h"
#include "eval/utf8.h"
#include "tests/test_util.h"

/* ---- capture a writer's output in memory ---- */

struct capture {
    char *text;
    size_t len;
    FILE *f;
};

static FILE *capture_begin(struct capture *c)
{
    c->text = NULL;
    c->len = 0;
    c->f = open_memstream(&c->text, &c->len);
    ECG_ASSERT(c->f);
    return c->f;
}

static char *capture_end(struct capture *c)
{
    fclose(c->f);
    return c->text;
}

/* ---- a tiny JSON parser: enough to read our own output back ---- */

enum jtype { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ };

struct jval {
    enum jtype type;
    double num;
    char *str;
    int n;
    char **keys;         /* objects */
    struct jval **items; /* arrays and objects */
};

static void jfree(struct jval *v)
{
    if (!v)
        return;
    for (int i = 0; i < v->n; i++) {
        jfree(v->items[i]);
        if (v->keys)
            free(v->keys[i]);
    }
    free(v->items);
    free(v->keys);
    free(v->str);
    free(v);
}

static void skip_ws(const char **p)
{
    while (**p == ' ' || **p == '\n' || **p == '\t' || **p == '\r')
        (*p)++;
}

static char *jparse_string(const char **p)
{
    if (**p != '"')
        return NULL;
    (*p)++;
    size_t cap = 16, n = 0;
    char *s = malloc(cap);
    while (**p != '"') {
        if (**p == '\0' || (unsigned char)**p < 0x20) {
            free(s);
            return NULL;
        }
        char c = **p;
        if (c == '\\') {
            (*p)++;
            switch (**p) {
            case '"': c = '"'; break;
            case '\\': c = '\\'; break;
            case '/': c = '/'; break;
            case 'n': c = '\n'; break;
            case 't': c = '\t'; break;
            case 'r': c = '\r'; break;
            case 'b': c = '\b'; break;
            case 'f': c = '\f'; break;
            case 'u': {
                unsigned code = 0;
                for (int i = 1; i <= 4; i++) {
                    if (!isxdigit((unsigned char)(*p)[i])) {
                        free(s);
                        return NULL;
                    }
                    char h = (*p)[i];
                    code = code * 16 + (unsigned)(isdigit((unsigned char)h) ? h - '0' : tolower(h) - 'a' + 10);
                }
                *p += 4;
                if (code > 0x7f) { /* our writer escapes controls and U+FFFD: a BMP character in UTF-8 */
                    if (n + 4 > cap) {
                        char *grown = realloc(s, cap *= 2);
                        ECG_ASSERT(grown);
                        s = grown;
                    }
                    if (code > 0x7ff) {
                        s[n++] = (char)(0xE0 | (code >> 12));
                        s[n++] = (char)(0x80 | ((code >> 6) & 0x3F));
                    } else {
                        s[n++] = (char)(0xC0 | (code >> 6));
                    }
                    code = 0x80 | (code & 0x3F);
                }
                c = (char)code;
                break;
            }
            default:
                free(s);
                return NULL;
            }
        }
        if (n + 2 > cap) {
            char *grown = realloc(s, cap *= 2);
            ECG_ASSERT(grown);
            s = grown;
        }
        s[n++] = c;
        (*p)++;
    }
    (*p)++;
    s[n] = '\0';
    return s;
}

static struct jval *jparse_value(const char **p);

static struct jval *jparse_container(const char **p, bool object)
{
    struct jval *v = calloc(1, sizeof *v);
    v->type = object ? J_OBJ : J_ARR;
    (*p)++;
    skip_ws(p);
    char close = object ? '}' : ']';
    if (**p == close) {
        (*p)++;
        return v;
    }
    for (;;) {
        char *key = NULL;
        if (object) {
            skip_ws(p);
            key = jparse_string(p);
            skip_ws(p);
            if (!key || **p != ':') {
                free(key);
                jfree(v);
                return NULL;
            }
            (*p)++;
        }
        struct jval *item = jparse_value(p);
        if (!item) {
            free(key);
            jfree(v);
            return NULL;
        }
        v->items = realloc(v->items, (size_t)(v->n + 1) * sizeof *v->items);
        if (object)
            v->keys = realloc(v->keys, (size_t)(v->n + 1) * sizeof *v->keys);
        v->items[v->n] = item;
        if (object)
            v->keys[v->n] = key;
        v->n++;
        skip_ws(p);
        if (**p == ',') {
            (*p)++;
            continue;
        }
        if (**p == close) {
            (*p)++;
            return v;
        }
        jfree(v);
        return NULL;
    }
}

static struct jval *jparse_value(const char **p)
{
    skip_ws(p);
    if (**p == '{' || **p == '[')
        return jparse_container(p, **p == '{');
    struct jval *v = calloc(1, sizeof *v);
    if (**p == '"') {
        v->type = J_STR;
        v->str = jparse_string(p);
        if (!v->str) {
            free(v);
            return NULL;
        }
    } else if (strncmp(*p, "null", 4) == 0) {
        v->type = J_NULL;
        *p += 4;
    } else if (strncmp(*p, "true", 4) == 0 || strncmp(*p, "false", 5) == 0) {
        v->type = J_BOOL;
        v->num = **p == 't';
        *p += **p == 't' ? 4 : 5;
    } else {
        /* JSON number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
        const char *s = *p;
        if (*s == '-')
            s++;
        if (!isdigit((unsigned char)*s) || (*s == '0' && isdigit((unsigned char)s[1]))) {
            free(v);
            return NULL;
        }
        while (isdigit((unsigned char)*s))
            s++;
        if (*s == '.') {
            s++;
            if (!isdigit((unsigned char)*s)) {
                free(v);
                return NULL;
            }
            while (isdigit((unsigned char)*s))
                s++;
        }
        if (*s == 'e' || *s == 'E') {
            s++;
            if (*s == '+' || *s == '-')
                s++;
            if (!isdigit((unsigned char)*s)) {
                free(v);
                return NULL;
            }
            while (isdigit((unsigned char)*s))
                s++;
        }
        v->type = J_NUM;
        v->num = strtod(*p, NULL);
        *p = s;
    }
    return v;
}

/* Parses a whole document; NULL if it is not valid JSON. */
static struct jval *jparse(const char *text)
{
    const char *p = text;
    struct jval *v = jparse_value(&p);
    skip_ws(&p);
    if (v && *p != '\0') {
        jfree(v);
        return NULL;
    }
    return v;
}

/* Member lookup by dotted path ("per_class.N.auc"); array members by index ("cm.1.0"). */
static const struct jval *jget(const struct jval *v, const char *path)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *part = strtok(buf, "."); part && v; part = strtok(NULL, ".")) {
        const struct jval *next = NULL;
        if (v->type == J_OBJ) {
            for (int i = 0; i < v->n; i++)
                if (strcmp(v->keys[i], part) == 0)
                    next = v->items[i];
        } else if (v->type == J_ARR) {
            int i = atoi(part);
            if (i >= 0 && i < v->n)
                next = v->items[i];
        }
        v = next;
    }
    return v;
}

/* ---- fixed inputs ---- */

static const char *const names[3] = {"N", "A", "O"};

static void small_metrics(struct ecg_metrics *m)
{
    /* 8 examples; class A never in truth, so its AUC is undefined */
    const int truth[8] = {0, 0, 0, 2, 2, 0, 2, 0};
    const float probs[24] = {0.7f, 0.2f, 0.1f, 0.6f, 0.3f, 0.1f, 0.2f, 0.5f, 0.3f, 0.1f, 0.1f, 0.8f,
                             0.5f, 0.1f, 0.4f, 0.9f, 0.05f, 0.05f, 0.3f, 0.3f, 0.4f, 0.4f, 0.1f, 0.5f};
    struct ecg_error err = {0};
    ECG_ASSERT(ecg_metrics_compute(m, 3, names, truth, NULL, probs, 8, &err) == ECG_OK);
}

/* ---- JSON ---- */

static void metrics_json_parses_back_with_exact_numbers(void)
{
    struct ecg_metrics m;
    small_metrics(&m);
    struct capture c;
    ecg_metrics_write_json(capture_begin(&c), &m);
    char *text = capture_end(&c);
    struct jval *root = jparse(text);
    CU_ASSERT_PTR_NOT_NULL_FATAL(root);
    const struct jval *v = jget(root, "accuracy");
    CU_ASSERT_TRUE(v && v->type == J_NUM && v->num == m.accuracy);
    v = jget(root, "macro_f1");
    CU_ASSERT_TRUE(v && v->type == J_NUM && v->num == m.macro_f1);
    v = jget(root, "cinc_f1");
    CU_ASSERT_TRUE(v && v->type == J_NUM && v->num == m.cinc_f1);
    v = jget(root, "roc_auc_macro");
    CU_ASSERT_TRUE(v && v->type == J_NUM && v->num == m.roc_auc_macro);
    v = jget(root, "per_class.A.auc");
    CU_ASSERT_TRUE(v && v->type == J_NULL); /* NaN is written as null */
    v = jget(root, "per_class.O.f1");
    CU_ASSERT_TRUE(v && v->type == J_NUM && v->num == m.per_class[2].f1);
    v = jget(root, "per_class.N.support");
    CU_ASSERT_TRUE(v && v->type == J_NUM && v->num == 5);
    v = jget(root, "confusion_matrix");
    CU_ASSERT_TRUE_FATAL(v && v->type == J_ARR && v->n == 3);
    for (int t = 0; t < 3; t++)
        for (int p = 0; p < 3; p++) {
            char path[64];
            snprintf(path, sizeof path, "confusion_matrix.%d.%d", t, p);
            v = jget(root, path);
            CU_ASSERT_TRUE(v && v->type == J_NUM && v->num == (double)m.cm[t * 3 + p]);
            snprintf(path, sizeof path, "confusion_matrix_normalized.%d.%d", t, p);
            v = jget(root, path);
            CU_ASSERT_TRUE(v && v->type == J_NUM && v->num == m.cm_norm[t * 3 + p]);
        }
    v = jget(root, "classes.2");
    CU_ASSERT_TRUE(v && v->type == J_STR && strcmp(v->str, "O") == 0);
    jfree(root);
    free(text);
    ecg_metrics_free(&m);

    /* classes that are not N, A, O: no cinc_f1 key */
    const int64_t cm[4] = {3, 1, 0, 2};
    const char *other[2] = {"healthy", "sick"};
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL_FATAL(ecg_metrics_from_confusion(&m, 2, other, cm, &err), ECG_OK);
    ecg_metrics_write_json(capture_begin(&c), &m);
    text = capture_end(&c);
    root = jparse(text);
    CU_ASSERT_PTR_NOT_NULL_FATAL(root);
    CU_ASSERT_PTR_NULL(jget(root, "cinc_f1"));
    v = jget(root, "roc_auc_macro");
    CU_ASSERT_TRUE(v && v->type == J_NULL);
    jfree(root);
    free(text);
    ecg_metrics_free(&m);
}

static void json_writer_escapes_strings_and_prints_compact_golden_output(void)
{
    struct capture c;
    struct ecg_json j;
    ecg_json_init(&j, capture_begin(&c), 0);
    ecg_json_begin_object(&j);
    ecg_json_key(&j, "q\"b\\s/");
    ecg_json_string(&j, "line\nnext\ttab\x01 caf\xc3\xa9");
    ecg_json_key(&j, "nums");
    ecg_json_begin_array(&j, false);
    ecg_json_number(&j, 0.1);
    ecg_json_number(&j, 100);
    ecg_json_number(&j, -2.5e-300);
    ecg_json_number(&j, NAN);
    ecg_json_number(&j, -INFINITY);
    ecg_json_int(&j, -42);
    ecg_json_bool(&j, true);
    ecg_json_null(&j);
    ecg_json_end_array(&j);
    ecg_json_key(&j, "empty");
    ecg_json_begin_object(&j);
    ecg_json_end_object(&j);
    ecg_json_end_object(&j);
    char *text = capture_end(&c);
    CU_ASSERT_STRING_EQUAL(text, "{\"q\\\"b\\\\s/\":\"line\\nnext\\ttab\\u0001 caf\xc3\xa9\","
                                 "\"nums\":[0.1,100,-2.5e-300,null,null,-42,true,null],\"empty\":{}}");
    struct jval *root = jparse(text);
    CU_ASSERT_PTR_NOT_NULL_FATAL(root);
    const struct jval *s = jget(root, "q\"b\\s/");
    CU_ASSERT_TRUE(s && s->type == J_STR && strcmp(s->str, "line\nnext\ttab\x01 caf\xc3\xa9") == 0);
    jfree(root);
    free(text);
}

static void numbers_are_printed_shortest_and_round_trip_exactly(void)
{
    char buf[32];
    CU_ASSERT_STRING_EQUAL(ecg_format_double(buf, sizeof buf, 0.1), "0.1");
    CU_ASSERT_STRING_EQUAL(ecg_format_double(buf, sizeof buf, 1.0 / 3.0), "0.3333333333333333");
    CU_ASSERT_STRING_EQUAL(ecg_format_double(buf, sizeof buf, 3e-4), "0.0003");
    CU_ASSERT_STRING_EQUAL(ecg_format_double(buf, sizeof buf, 12), "12");
    CU_ASSERT_STRING_EQUAL(ecg_format_double(buf, sizeof buf, 1e20), "1e+20");
    CU_ASSERT_STRING_EQUAL(ecg_format_double(buf, sizeof buf, NAN), "nan");
    struct ecg_rng r = ecg_rng_init(11, 0);
    int bad = 0;
    for (int i = 0; i < 20000; i++) {
        uint64_t bits = ecg_rng_u64(&r);
        double v;
        memcpy(&v, &bits, sizeof v);
        if (!isfinite(v))
            continue;
        ecg_format_double(buf, sizeof buf, v);
        if (strtod(buf, NULL) != v && bad++ < 3)
            fprintf(stderr, "\n  %.17g printed as %s\n", v, buf);
    }
    CU_ASSERT_EQUAL(bad, 0);
}

/* ---- epoch log ---- */

static void epoch_log_rows_read_back_exactly(void)
{
    const char *path = ecg_test_write_file("epochs.csv", "");
    struct ecg_epoch_log log;
    struct ecg_error err = {0};
    struct ecg_epoch_row rows[3] = {
        {1, 1.0 / 3.0, 0.9876543210123, 0.25, 0.5, 0.1, 0.2, 3e-4, 12.345678, 101.5},
        {2, 0.5, NAN, 0.75, NAN, 0.6, NAN, 0.1 + 0.2, 1e-7, 1e6 / 7},
        {3, 1e-300, 123456789.125, 1, 1, 1, 1, 0, 0.001, 0},
    };
    /* The first row as a resumed run's earlier epoch, the others appended. */
    CU_ASSERT_EQUAL_FATAL(ecg_epoch_log_open(&log, path, rows, 1, &err), ECG_OK);
    for (int i = 1; i < 3; i++)
        CU_ASSERT_EQUAL(ecg_epoch_log_write(&log, &rows[i], &err), ECG_OK);
    CU_ASSERT_EQUAL(ecg_epoch_log_close(&log, &err), ECG_OK);
    CU_ASSERT_EQUAL(ecg_epoch_log_close(&log, &err), ECG_OK); /* zeroed: no-op */
    struct ecg_epoch_row *back = NULL;
    int64_t n = 0;
    CU_ASSERT_EQUAL_FATAL(ecg_epoch_log_read(path, &back, &n, &err), ECG_OK);
    CU_ASSERT_EQUAL_FATAL(n, 3);
    for (int i = 0; i < 3; i++) {
        const double a[9] = {rows[i].train_loss, rows[i].val_loss, rows[i].train_acc, rows[i].val_acc,
                             rows[i].train_macro_f1, rows[i].val_macro_f1, rows[i].lr,
                             rows[i].seconds, rows[i].images_per_s};
        const double b[9] = {back[i].train_loss, back[i].val_loss, back[i].train_acc, back[i].val_acc,
                             back[i].train_macro_f1, back[i].val_macro_f1, back[i].lr,
                             back[i].seconds, back[i].images_per_s};
        CU_ASSERT_EQUAL(back[i].epoch, rows[i].epoch);
        for (int k = 0; k < 9; k++)
            CU_ASSERT_TRUE((isnan(a[k]) && isnan(b[k])) || a[k] == b[k]);
    }
    free(back);
    FILE *f = fopen(path, "r");
    char line[256];
    CU_ASSERT_PTR_NOT_NULL_FATAL(fgets(line, sizeof line, f));
    CU_ASSERT_STRING_EQUAL(line, "epoch,train_loss,val_loss,train_acc,val_acc,train_macro_f1,"
                                 "val_macro_f1,lr,seconds,images_per_s\n");
    CU_ASSERT_PTR_NOT_NULL(fgets(line, sizeof line, f));
    CU_ASSERT_PTR_NOT_NULL(fgets(line, sizeof line, f));
    if (strcmp(line, "2,0.5,nan,0.75,nan,0.6,nan,0.30000000000000004,1e-07,142857.14285714287\n"))
        fprintf(stderr, "\n  got %s", line);
    CU_ASSERT_STRING_EQUAL(line, "2,0.5,nan,0.75,nan,0.6,nan,0.30000000000000004,1e-07,142857.14285714287\n");
    fclose(f);
}

static void a_bad_epoch_log_is_rejected_with_file_and_line(void)
{
    struct ecg_epoch_row *rows = NULL;
    int64_t n = 0;
    struct ecg_error err = {0};
    const char *p = ecg_test_write_file("bad_header.csv", "epoch,loss\n1,2\n");
    ECG_CHECK_ERROR(ecg_epoch_log_read(p, &rows, &n, &err), &err, ECG_ERR_FORMAT,
                    "bad_header.csv:1: expected the header 'epoch,train_loss,");
    char text[512];
    snprintf(text, sizeof text, "%s\n1,1,1,1,1,1,1,1,1,1\n2,1,1,abc,1,1,1,1,1,1\n", ecg_epoch_log_header);
    p = ecg_test_write_file("bad_number.csv", text);
    ECG_CHECK_ERROR(ecg_epoch_log_read(p, &rows, &n, &err), &err, ECG_ERR_FORMAT,
                    "bad_number.csv:3: field train_acc: expected a number, found 'abc'");
    CU_ASSERT_PTR_NULL(rows);
    snprintf(text, sizeof text, "%s\n1,1,1\n", ecg_epoch_log_header);
    p = ecg_test_write_file("short.csv", text);
    ECG_CHECK_ERROR(ecg_epoch_log_read(p, &rows, &n, &err), &err, ECG_ERR_FORMAT,
                    "short.csv:2: expected 10 comma-separated fields, found fewer");
    p = ecg_test_write_file("empty.csv", "");
    ECG_CHECK_ERROR(ecg_epoch_log_read(p, &rows, &n, &err), &err, ECG_ERR_FORMAT, "empty file");
    char missing[600];
    snprintf(missing, sizeof missing, "%s/no/such/epochs.csv", ecg_test_tmpdir());
    ECG_CHECK_ERROR(ecg_epoch_log_read(missing, &rows, &n, &err), &err, ECG_ERR_IO,
                    "no/such/epochs.csv: cannot open the epoch log");
    struct ecg_epoch_log log;
    ECG_CHECK_ERROR(ecg_epoch_log_open(&log, missing, NULL, 0, &err), &err, ECG_ERR_IO,
                    ecg_test_fmt("%s: cannot create %s.tmp: No such file or directory", missing, missing));
}

/* ---- text report ---- */

static void text_report_lays_out_like_sklearn(void)
{
    struct ecg_metrics m;
    small_metrics(&m);
    struct capture c;
    ecg_report_write_text(capture_begin(&c), &m);
    char *text = capture_end(&c);
    /* truth N N N O O N O N, argmax N N A O N N O O: N has tp 3 of 5 true and 4 predicted */
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "             precision    recall  f1-score   support       auc\n\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "\n           N    0.7500    0.6000    0.6667         5    0.8000\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "\n           A    0.0000    0.0000    0.0000         0       n/a\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "\n           O    0.6667    0.6667    0.6667         3    0.8667\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "\n    accuracy                        0.6250         8\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "\n   macro avg    0.4722    0.4222    0.4444         8    0.8333\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "CinC 2017 score (mean F1 of N, A, O): 0.4444\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "ROC-AUC macro (one-vs-rest, 2 of 3 classes): 0.8333\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "confusion matrix (rows: true, columns: predicted)\n"
                                        "                  N      A      O\n"
                                        "           N      3      1      1\n"
                                        "           A      0      0      0\n"
                                        "           O      1      0      2\n"));
    if (!strstr(text, "0.7500    0.6000    0.6667"))
        fprintf(stderr, "\n%s\n", text);
    free(text);
    ecg_metrics_free(&m);
}

/* ---- SVG and HTML ---- */

/*
 * A small XML well-formedness check: balanced, properly nested tags; quoted
 * attributes; '&' only in entities; no stray '<' or '>' in text.  With html,
 * void elements (meta, br) and a leading <!DOCTYPE> are allowed.  Returns
 * the number of elements, or -1 (after printing where) when malformed.
 */
static int xml_check(const char *s, bool html)
{
    char stack[64][32];
    int depth = 0, elements = 0;
    const char *p = s;
    while (*p) {
        if (*p == '&') {
            const char *semi = strchr(p, ';');
            if (!semi || semi - p > 8 || (strncmp(p, "&amp;", 5) && strncmp(p, "&lt;", 4) &&
                                          strncmp(p, "&gt;", 4) && strncmp(p, "&quot;", 6) &&
                                          strncmp(p, "&#", 2)))
                goto bad;
            p = semi + 1;
            continue;
        }
        if (*p == '>')
            goto bad;
        if (*p != '<') {
            p++;
            continue;
        }
        if (html && strncmp(p, "<!DOCTYPE html>", 15) == 0) {
            p += 15;
            continue;
        }
        bool closing = p[1] == '/';
        const char *q = p + 1 + closing;
        char name[32];
        int n = 0;
        while (isalnum((unsigned char)*q) && n < 31)
            name[n++] = *q++;
        name[n] = '\0';
        if (n == 0)
            goto bad;
        if (closing) {
            if (*q != '>' || depth == 0 || strcmp(stack[depth - 1], name) != 0)
                goto bad;
            depth--;
            p = q + 1;
            continue;
        }
        /* attributes: name="value" ... */
        for (;;) {
            while (*q == ' ' || *q == '\n')
                q++;
            if (*q == '>' || (q[0] == '/' && q[1] == '>'))
                break;
            while (isalnum((unsigned char)*q) || *q == '-' || *q == ':')
                q++;
            if (q[0] != '=' || q[1] != '"')
                goto bad;
            q += 2;
            while (*q && *q != '"') {
                if (*q == '<' || *q == '>')
                    goto bad;
                q++;
            }
            if (!*q)
                goto bad;
            q++;
        }
        elements++;
        bool self_closed = *q == '/';
        bool is_void = html && (strcmp(name, "meta") == 0 || strcmp(name, "br") == 0);
        if (!self_closed && !is_void) {
            if (depth == 64)
                goto bad;
            strcpy(stack[depth++], name);
        }
        p = q + (self_closed ? 2 : 1);
        /* style contents are CSS: skip to the closing tag */
        if (!self_closed && strcmp(name, "style") == 0) {
            const char *end = strstr(p, "</style>");
            if (!end)
                goto bad;
            p = end;
        }
    }
    if (depth != 0) {
        fprintf(stderr, "\n  unclosed <%s>\n", stack[depth - 1]);
        return -1;
    }
    return elements;
bad:
    fprintf(stderr, "\n  malformed markup at offset %ld: %.60s\n", (long)(p - s), p);
    return -1;
}

static int count_of(const char *s, const char *needle)
{
    int n = 0;
    for (const char *p = strstr(s, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

static void confusion_svg_is_well_formed_with_a_cell_per_pair(void)
{
    const char *odd[3] = {"N", "A&B <x>", "\"O\""};
    const int64_t cm[9] = {12, 3, 0, 1, 7, 2, 0, 4, 9};
    struct ecg_metrics m;
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL_FATAL(ecg_metrics_from_confusion(&m, 3, odd, cm, &err), ECG_OK);
    struct capture c;
    ecg_svg_confusion(capture_begin(&c), &m);
    char *svg = capture_end(&c);
    CU_ASSERT_TRUE(xml_check(svg, false) > 0);
    CU_ASSERT_EQUAL(strncmp(svg, "<svg xmlns=\"http://www.w3.org/2000/svg\"", 39), 0);
    CU_ASSERT_EQUAL(count_of(svg, "stroke=\"#fff\"/>"), 9); /* one rect per cell */
    CU_ASSERT_EQUAL(count_of(svg, "A&amp;B &lt;x&gt;"), 2); /* both axes */
    CU_ASSERT_EQUAL(count_of(svg, "&quot;O&quot;"), 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(svg, ">12</text>"));
    CU_ASSERT_PTR_NOT_NULL(strstr(svg, ">80.0%</text>")); /* 12 of 15 */
    free(svg);
    ecg_metrics_free(&m);
}

static void learning_curves_svg_is_well_formed_and_skips_missing_values(void)
{
    struct ecg_epoch_row rows[6];
    for (int i = 0; i < 6; i++) {
        rows[i] = (struct ecg_epoch_row){.epoch = i + 1, .train_loss = 1.2 / (i + 1), .val_loss = 1.3 / (i + 1),
                                         .train_macro_f1 = 0.3 + 0.1 * i, .val_macro_f1 = 0.25 + 0.09 * i};
    }
    rows[3].val_loss = NAN; /* a missed validation splits the line */
    struct capture c;
    ecg_svg_curves(capture_begin(&c), rows, 6);
    char *svg = capture_end(&c);
    CU_ASSERT_TRUE(xml_check(svg, false) > 0);
    CU_ASSERT_EQUAL(count_of(svg, "<polyline"), 5); /* loss: train 1 + val 2; F1: 2 */
    CU_ASSERT_EQUAL(count_of(svg, "<circle"), 23);
    CU_ASSERT_EQUAL(count_of(svg, ">train</text>"), 2);
    CU_ASSERT_EQUAL(count_of(svg, ">validation</text>"), 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(svg, ">Macro-F1</text>"));
    CU_ASSERT_EQUAL(count_of(svg, "nan"), 0);
    free(svg);
    ecg_svg_curves(capture_begin(&c), NULL, 0);
    svg = capture_end(&c);
    CU_ASSERT_TRUE(xml_check(svg, false) > 0);
    CU_ASSERT_EQUAL(count_of(svg, ">no data</text>"), 2);
    free(svg);
    /* one epoch only */
    ecg_svg_curves(capture_begin(&c), rows, 1);
    svg = capture_end(&c);
    CU_ASSERT_TRUE(xml_check(svg, false) > 0);
    CU_ASSERT_EQUAL(count_of(svg, "nan"), 0);
    CU_ASSERT_EQUAL(count_of(svg, "inf"), 0);
    free(svg);
}

static void html_report_is_self_contained_and_escapes_the_config(void)
{
    struct ecg_metrics m;
    small_metrics(&m);
    struct ecg_epoch_row rows[2] = {{.epoch = 1, .train_loss = 1, .val_loss = 1.1, .train_macro_f1 = 0.4, .val_macro_f1 = 0.35},
                                    {.epoch = 2, .train_loss = 0.8, .val_loss = 0.9, .train_macro_f1 = 0.5, .val_macro_f1 = 0.45}};
    struct ecg_report r = {.title = "run <1>", .split = "test", .metrics = &m, .epochs = rows, .n_epochs = 2,
                           .config_text = "model:\n  arch: effb0 # a < b & c\n"};
    struct capture c;
    ecg_report_write_html(capture_begin(&c), &r);
    char *html = capture_end(&c);
    CU_ASSERT_TRUE(xml_check(html, true) > 0);
    CU_ASSERT_EQUAL(count_of(html, "<svg"), 2);
    CU_ASSERT_EQUAL(count_of(html, "src="), 0);  /* nothing external */
    CU_ASSERT_EQUAL(count_of(html, "href="), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(html, "<pre>model:\n  arch: effb0 # a &lt; b &amp; c\n</pre>"));
    CU_ASSERT_PTR_NOT_NULL(strstr(html, "<title>ecgtrain report: run &lt;1&gt;</title>"));
    CU_ASSERT_PTR_NOT_NULL(strstr(html, "<tr><td>N</td><td>0.7500</td><td>0.6000</td><td>0.6667</td><td>5</td><td>0.8000</td></tr>"));
    CU_ASSERT_PTR_NOT_NULL(strstr(html, "CinC 2017 score"));
    free(html);
    ecg_metrics_free(&m);
}

static void a_report_directory_gets_every_file(void)
{
    struct ecg_metrics m;
    small_metrics(&m);
    struct ecg_epoch_row rows[1] = {{.epoch = 1, .train_loss = 1, .val_loss = 1.1}};
    struct ecg_report r = {.title = "t", .metrics = &m, .epochs = rows, .n_epochs = 1};
    char dir[600];
    snprintf(dir, sizeof dir, "%s/report", ecg_test_tmpdir());
    mkdir(dir, 0755);
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL_FATAL(ecg_report_write(dir, &r, &err), ECG_OK);
    static const char *const files[] = {"metrics.json", "report.txt", "confusion.svg", "curves.svg", "report.html"};
    for (int i = 0; i < 5; i++) {
        char path[700];
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        struct stat st;
        CU_ASSERT_TRUE(stat(path, &st) == 0 && st.st_size > 100);
    }
    char missing[700];
    snprintf(missing, sizeof missing, "%s/not_there", ecg_test_tmpdir());
    ECG_CHECK_ERROR(ecg_report_write(missing, &r, &err), &err, ECG_ERR_IO,
                    ecg_test_fmt("%s/metrics.json: cannot create %s/metrics.json.tmp: No such file or directory", missing,
                                 missing));
    ecg_metrics_free(&m);
}

/* ---- hostile strings: control bytes and bytes that are not UTF-8 ---- */

static char *json_of(const char *s)
{
    struct capture c;
    ecg_json_write_string(capture_begin(&c), s);
    return capture_end(&c);
}

static char *xml_of(const char *s)
{
    struct capture c;
    ecg_xml_escape(capture_begin(&c), s);
    return capture_end(&c);
}

static void utf8_decoding_rejects_overlongs_surrogates_and_truncations(void)
{
    uint32_t cp = 0;
    CU_ASSERT_EQUAL(ecg_utf8_decode((const unsigned char *)"\xc3\xa9", &cp), 2);
    CU_ASSERT_EQUAL(cp, 0xE9u);
    CU_ASSERT_EQUAL(ecg_utf8_decode((const unsigned char *)"\xf0\x9f\x98\x80", &cp), 4);
    CU_ASSERT_EQUAL(cp, 0x1F600u);
    CU_ASSERT_EQUAL(ecg_utf8_decode((const unsigned char *)"\xef\xbf\xbd", &cp), 3);
    CU_ASSERT_EQUAL(cp, ECG_UTF8_REPLACEMENT);
    static const char *const bad[] = {"\x80", "\xc0\xaf", "\xe0\x80\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80",
                                      "\xc3", "\xe2\x82", "\xff", "\xf8\x88\x80\x80\x80"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CU_ASSERT_EQUAL(ecg_utf8_decode((const unsigned char *)bad[i], &cp), 0);
}

static void json_strings_escape_controls_and_replace_bytes_that_are_not_utf8(void)
{
    char *t = json_of("\x1b[31mred\x7f \xff\xfe caf\xc3 \xed\xa0\x80 ok \xe2\x82\xac \xf0\x9f\x98\x80");
    CU_ASSERT_STRING_EQUAL(t, "\"\\u001b[31mred\\u007f \\ufffd\\ufffd caf\\ufffd \\ufffd\\ufffd\\ufffd ok "
                              "\xe2\x82\xac \xf0\x9f\x98\x80\"");
    struct jval *v = jparse(t);
    CU_ASSERT_TRUE(v && v->type == J_STR && strcmp(v->str, "\x1b[31mred\x7f \xef\xbf\xbd\xef\xbf\xbd caf\xef\xbf\xbd "
                                                        "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd ok \xe2\x82\xac "
                                                        "\xf0\x9f\x98\x80") == 0);
    if (v)
        jfree(v);
    free(t);
    t = json_of("a\xc3");
    CU_ASSERT_STRING_EQUAL(t, "\"a\\ufffd\""); /* a sequence cut by the end of the string */
    free(t);
}

static void xml_text_is_valid_xml_10_for_any_bytes(void)
{
    char *t = xml_of("a\x01" "b\x1b[0m\t\n\r<&>\"' \xff \xef\xbf\xbe \xc3\xa9 \xf0\x9f\x98\x80 \xc0\xaf");
    CU_ASSERT_STRING_EQUAL(t, "a&#xFFFD;b&#xFFFD;[0m\t\n&#13;&lt;&amp;&gt;&quot;&#39; &#xFFFD; &#xFFFD; "
                              "\xc3\xa9 \xf0\x9f\x98\x80 &#xFFFD;&#xFFFD;");
    free(t);
}

static const struct ecg_test json_tests[] = {
    {"metrics.json parses back with exact numbers and null for NaN", metrics_json_parses_back_with_exact_numbers},
    {"the JSON writer escapes strings and prints compact golden output", json_writer_escapes_strings_and_prints_compact_golden_output},
    {"numbers are printed shortest and round-trip exactly", numbers_are_printed_shortest_and_round_trip_exactly},
    {"UTF-8 decoding rejects overlongs, surrogates and truncations",
     utf8_decoding_rejects_overlongs_surrogates_and_truncations},
    {"JSON strings escape control characters and replace bytes that are not UTF-8",
     json_strings_escape_controls_and_replace_bytes_that_are_not_utf8},
    {"XML text is valid XML 1.0 for any bytes", xml_text_is_valid_xml_10_for_any_bytes},
    {NULL, NULL},
};
static const struct ecg_test log_tests[] = {
    {"epoch log rows read back exactly", epoch_log_rows_read_back_exactly},
    {"a bad epoch log is rejected with file and line", a_bad_epoch_log_is_rejected_with_file_and_line},
    {NULL, NULL},
};
static const struct ecg_test report_tests[] = {
    {"the text report lays out like sklearn's classification_report", text_report_lays_out_like_sklearn},
    {"the confusion SVG is well-formed with a cell per pair and escaped names", confusion_svg_is_well_formed_with_a_cell_per_pair},
    {"the learning-curve SVG is well-formed and skips missing values", learning_curves_svg_is_well_formed_and_skips_missing_values},
    {"the HTML report is self-contained and escapes the config", html_report_is_self_contained_and_escapes_the_config},
    {"a report directory gets every file", a_report_directory_gets_every_file},
    {NULL, NULL},
};
static const struct ecg_suite suites[] = {
    {"json", json_tests},
    {"epoch_log", log_tests},
    {"report", report_tests},
    {NULL, NULL},
};

int main(int argc, char **argv) { return ecg_test_main(argc, argv, suites); }
