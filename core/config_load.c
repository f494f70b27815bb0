/* Loading config files with libyaml (base chains, duplicate and unknown keys), key=value overrides, resolve. */
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>

#include "core/config_internal.h"
#include "core/paths.h"

#define MAX_BASE_DEPTH 16

struct loader {
    const struct ecg_schema *s;
    void *c;
    int depth;
    char *chain[MAX_BASE_DEPTH + 1]; /* files being loaded, outermost first, as opened */
    dev_t dev[MAX_BASE_DEPTH + 1];   /* their device and inode, for cycle detection */
    ino_t ino[MAX_BASE_DEPTH + 1];   /* (0, 0) for text that is not a file */
};

/* One file being applied. */
struct source {
    const char *name;  /* as shown in messages */
    int64_t *set_line; /* per key: line where this file set it, 0 when not set */
};

static int at(struct ecg_error *err, enum ecg_status code, const struct source *src, yaml_mark_t mark,
              const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static int at(struct ecg_error *err, enum ecg_status code, const struct source *src, yaml_mark_t mark,
              const char *fmt, ...)
{
    char body[ECG_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(body, sizeof body, fmt, ap);
    va_end(ap);
    return ecg_error_set(err, code, "%s:%zu:%zu: %s", src->name, mark.line + 1, mark.column + 1, body);
}

static int syntax_error(const yaml_parser_t *p, const char *name, struct ecg_error *err)
{
    if (p->error == YAML_MEMORY_ERROR)
        return ecg_error_set(err, ECG_ERR_NOMEM, "%s: out of memory while parsing", name);
    if (p->error == YAML_READER_ERROR)
        return ecg_error_set(err, ECG_ERR_CONFIG, "%s: YAML read error: %s at byte %zu", name,
                             p->problem ? p->problem : "unreadable input", p->problem_offset);
    if (p->context)
        return ecg_error_set(err, ECG_ERR_CONFIG, "%s:%zu:%zu: YAML syntax error: %s (%s at line %zu, column %zu)",
                             name, p->problem_mark.line + 1, p->problem_mark.column + 1,
                             p->problem ? p->problem : "invalid YAML", p->context,
                             p->context_mark.line + 1, p->context_mark.column + 1);
    return ecg_error_set(err, ECG_ERR_CONFIG, "%s:%zu:%zu: YAML syntax error: %s", name,
                         p->problem_mark.line + 1, p->problem_mark.column + 1,
                         p->problem ? p->problem : "invalid YAML");
}

static const char *node_text(const yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static void describe_kind(const yaml_node_t *n, char *buf, size_t len)
{
    if (n->type == YAML_SEQUENCE_NODE)
        snprintf(buf, len, "a list");
    else if (n->type == YAML_MAPPING_NODE)
        snprintf(buf, len, "a mapping");
    else
        snprintf(buf, len, "'%.60s'", node_text(n) ? node_text(n) : "");
}

static bool null_scalar(const yaml_node_t *n)
{
    const char *s = node_text(n);
    return s && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
           (!s[0] || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") || !strcmp(s, "NULL"));
}

static int unknown_key(const struct ecg_schema *s, struct ecg_error *err, const struct source *src,
                       yaml_mark_t mark, const char *full)
{
    char hint[ECG_SCHEMA_NAME_MAX];
    if (ecg_schema_suggest(s, full, hint, sizeof hint))
        return at(err, ECG_ERR_CONFIG, src, mark, "unknown key '%s' (did you mean '%s'?)", full, hint);
    return at(err, ECG_ERR_CONFIG, src, mark, "unknown key '%s' (see %s --help for every key)", full, s->program);
}

/* Applies the pairs of one mapping whose keys are under `prefix` ("" at the top). */
static int apply_mapping(struct loader *L, const struct source *src, yaml_document_t *doc,
                         yaml_node_t *map, const char *prefix, struct ecg_error *err)
{
    const struct ecg_config_key *keys = L->s->keys;
    yaml_node_pair_t *pairs = map->data.mapping.pairs.start;
    int64_t npairs = map->data.mapping.pairs.top - pairs;
    for (int64_t i = 0; i < npairs; i++) {
        yaml_node_t *kn = yaml_document_get_node(doc, pairs[i].key);
        yaml_node_t *vn = yaml_document_get_node(doc, pairs[i].value);
        const char *kname = node_text(kn);
        if (!kname || null_scalar(kn)) {
            char found[96];
            describe_kind(kn, found, sizeof found);
            return at(err, ECG_ERR_CONFIG, src, kn->start_mark, "expected a key name, found %s",
                      null_scalar(kn) ? "nothing" : found);
        }
        char full[256];
        if ((size_t)snprintf(full, sizeof full, "%s%s%s", prefix, prefix[0] ? "." : "", kname) >= sizeof full)
            return at(err, ECG_ERR_CONFIG, src, kn->start_mark, "unknown key '%.60s...' (too long)", full);
        for (int64_t j = 0; j < i; j++) {
            const char *other = node_text(yaml_document_get_node(doc, pairs[j].key));
            if (other && !strcmp(other, kname))
                return at(err, ECG_ERR_CONFIG, src, kn->start_mark, "duplicate key '%s' (first at line %zu)",
                          full, yaml_document_get_node(doc, pairs[j].key)->start_mark.line + 1);
        }
        if (!prefix[0] && !strcmp(kname, "base"))
            continue; /* applied before this mapping */
        const struct ecg_config_key *k = ecg_schema_find(L->s, full);
        if (k) {
            int64_t idx = k - keys;
            if (src->set_line[idx])
                return at(err, ECG_ERR_CONFIG, src, kn->start_mark, "duplicate key '%s' (first at line %lld)",
                          full, (long long)src->set_line[idx]);
            char why[ECG_ERROR_MAX / 2];
            int rc = ecg_config_set_node(L->c, k, doc, vn, why, sizeof why);
            if (rc)
                return at(err, rc, src, vn->start_mark, "key '%s': %s", full, why);
            src->set_line[idx] = (int64_t)kn->start_mark.line + 1;
        } else if (ecg_schema_is_section(L->s, full)) {
            if (vn->type == YAML_MAPPING_NODE) {
                ECG_TRY(apply_mapping(L, src, doc, vn, full, err));
            } else if (!null_scalar(vn)) { /* an empty section is fine */
                char found[96];
                describe_kind(vn, found, sizeof found);
                return at(err, ECG_ERR_CONFIG, src, vn->start_mark,
                          "key '%s' is a section: expected a mapping of its keys, found %s", full, found);
            }
        } else {
            return unknown_key(L->s, err, src, kn->start_mark, full);
        }
    }
    return ECG_OK;
}

/* "dir/of/including.yaml" + "base.yaml" -> "dir/of/base.yaml"; absolute bases stay. */
static char *join_relative(const char *including, const char *base)
{
    const char *slash = strrchr(including, '/');
    size_t dirlen = (base[0] == '/' || !slash) ? 0 : (size_t)(slash - including) + 1;
    char *out = malloc(dirlen + strlen(base) + 1);
    if (out) {
        memcpy(out, including, dirlen);
        strcpy(out + dirlen, base);
    }
    return out;
}

static int load_source(struct loader *L, const char *name, const char *text, struct ecg_error *err);

/* Loads the file named by `base:` (value node vn) of src before src itself. */
static int load_base(struct loader *L, const struct source *src, yaml_node_t *vn, struct ecg_error *err)
{
    const char *b = node_text(vn);
    if (!b || null_scalar(vn) || !b[0]) {
        char found[96];
        describe_kind(vn, found, sizeof found);
        return at(err, ECG_ERR_CONFIG, src, vn->start_mark, "key 'base': expected a file name, found %s",
                  b && !null_scalar(vn) ? "''" : (b ? "nothing" : found));
    }
    if (L->depth >= MAX_BASE_DEPTH)
        return at(err, ECG_ERR_CONFIG, src, vn->start_mark, "base '%s': more than %d levels of base files",
                  b, MAX_BASE_DEPTH);
    char *path = join_relative(src->name, b);
    if (!path)
        return ecg_error_set(err, ECG_ERR_NOMEM, "%s: out of memory", src->name);
    struct stat st;
    if (stat(path, &st) != 0) {
        int rc = at(err, ECG_ERR_IO, src, vn->start_mark, "base '%s': cannot open '%s': %s", b, path,
                    strerror(errno));
        free(path);
        return rc;
    }
    for (int i = 0; i < L->depth; i++) {
        if (L->dev[i] == st.st_dev && L->ino[i] == st.st_ino) {
            char chain[ECG_ERROR_MAX / 2] = "";
            size_t len = 0;
            for (int j = i; j < L->depth && len < sizeof chain; j++)
                len += (size_t)snprintf(chain + len, sizeof chain - len, "%s -> ", L->chain[j]);
            if (len < sizeof chain)
                snprintf(chain + len, sizeof chain - len, "%s", path);
            int rc = at(err, ECG_ERR_CONFIG, src, vn->start_mark, "base '%s' makes a cycle: %s", b, chain);
            free(path);
            return rc;
        }
    }
    int rc = load_source(L, path, NULL, err);
    free(path);
    return rc;
}

/* Points the parser at text, or at the file `name` (opened into *f, its device and inode recorded in the
 * loader's slot to find cycles of base files). */
static int set_input(struct loader *L, int slot, yaml_parser_t *parser, const char *name, const char *text, FILE **f,
                     struct ecg_error *err)
{
    if (text) {
        yaml_parser_set_input_string(parser, (const unsigned char *)text, strlen(text));
        return ECG_OK;
    }
    *f = fopen(name, "rb");
    if (!*f)
        return ecg_error_set(err, ECG_ERR_IO, "%s: cannot open: %s", name, strerror(errno));
    struct stat st;
    if (fstat(fileno(*f), &st) == 0) {
        if (S_ISDIR(st.st_mode))
            return ecg_error_set(err, ECG_ERR_IO, "%s: is a directory, expected a YAML file", name);
        L->dev[slot] = st.st_dev;
        L->ino[slot] = st.st_ino;
    }
    yaml_parser_set_input_file(parser, *f);
    return ECG_OK;
}

/* A second document in the same file is a mistake, not something to ignore. */
static int expect_one_document(yaml_parser_t *parser, const struct source *src, struct ecg_error *err)
{
    yaml_document_t extra;
    if (!yaml_parser_load(parser, &extra))
        return syntax_error(parser, src->name, err);
    yaml_node_t *extra_root = yaml_document_get_root_node(&extra);
    yaml_mark_t extra_mark = extra_root ? extra_root->start_mark : (yaml_mark_t){0};
    yaml_document_delete(&extra);
    if (extra_root)
        return at(err, ECG_ERR_CONFIG, src, extra_mark, "expected one YAML document, found a second one");
    return ECG_OK;
}

/* Applies a document's top-level mapping (a null document changes nothing): its base chain first, so
 * this file's keys override it, then its keys. */
static int apply_document(struct loader *L, const struct source *src, yaml_document_t *doc, yaml_node_t *root,
                          struct ecg_error *err)
{
    if (root->type != YAML_MAPPING_NODE) {
        if (null_scalar(root))
            return ECG_OK;
        char found[96];
        describe_kind(root, found, sizeof found);
        return at(err, ECG_ERR_CONFIG, src, root->start_mark,
                  "expected a mapping of sections (run, data, model, optim, train, eval) at the top level, found %s",
                  found);
    }
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top; p++) {
        const char *k = node_text(yaml_document_get_node(doc, p->key));
        if (k && !strcmp(k, "base")) {
            ECG_TRY(load_base(L, src, yaml_document_get_node(doc, p->value), err));
            break; /* a second `base` is reported as a duplicate key below */
        }
    }
    return apply_mapping(L, src, doc, root, "", err);
}

/* Parses one file (or text) and applies its base chain, then its keys. */
static int load_source(struct loader *L, const char *name, const char *text, struct ecg_error *err)
{
    int rc = ECG_OK;
    FILE *f = NULL;
    yaml_parser_t parser;
    yaml_document_t doc;
    bool parser_ok = false, doc_ok = false;
    struct source src = {.name = name, .set_line = calloc((size_t)L->s->count, sizeof(int64_t))};
    int slot = L->depth;

    if (!src.set_line)
        return ecg_error_set(err, ECG_ERR_NOMEM, "%s: out of memory", name);
    L->chain[slot] = strdup(name);
    L->dev[slot] = 0;
    L->ino[slot] = 0;
    L->depth++;
    if (!L->chain[slot]) {
        rc = ecg_error_set(err, ECG_ERR_NOMEM, "%s: out of memory", name);
        goto done;
    }
    if (!yaml_parser_initialize(&parser)) {
        rc = ecg_error_set(err, ECG_ERR_NOMEM, "%s: out of memory", name);
        goto done;
    }
    parser_ok = true;
    if ((rc = set_input(L, slot, &parser, name, text, &f, err)))
        goto done;
    if (!yaml_parser_load(&parser, &doc)) {
        rc = syntax_error(&parser, name, err);
        goto done;
    }
    doc_ok = true;
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (root && !(rc = expect_one_document(&parser, &src, err))) /* an empty file changes nothing */
        rc = apply_document(L, &src, &doc, root, err);
done:
    if (doc_ok)
        yaml_document_delete(&doc);
    if (parser_ok)
        yaml_parser_delete(&parser);
    if (f)
        fclose(f);
    L->depth--;
    free(L->chain[slot]);
    L->chain[slot] = NULL;
    free(src.set_line);
    return rc;
}

int ecg_schema_load(const struct ecg_schema *s, void *c, const char *path, struct ecg_error *err)
{
    struct loader L = {.s = s, .c = c};
    return load_source(&L, path, NULL, err);
}

int ecg_schema_load_string(const struct ecg_schema *s, void *c, const char *text, const char *name,
                           struct ecg_error *err)
{
    struct loader L = {.s = s, .c = c};
    return load_source(&L, name, text, err);
}

int ecg_schema_override(const struct ecg_schema *s, void *c, const char *assignment, struct ecg_error *err)
{
    const char *eq = strchr(assignment, '=');
    if (!eq || eq == assignment)
        return ecg_error_set(err, ECG_ERR_CONFIG, "override '%s': expected key=value, such as optim.lr=0.01",
                             assignment);
    char key[256];
    size_t klen = (size_t)(eq - assignment);
    if (klen >= sizeof key)
        klen = sizeof key - 1;
    memcpy(key, assignment, klen);
    key[klen] = '\0';
    const struct ecg_config_key *k = ecg_schema_find(s, key);
    if (!k) {
        if (ecg_schema_is_section(s, key)) {
            const char *example = NULL;
            for (int64_t i = 0; i < s->count && !example; i++)
                if (!strncmp(s->keys[i].name, key, klen) && s->keys[i].name[klen] == '.')
                    example = s->keys[i].name;
            return ecg_error_set(err, ECG_ERR_CONFIG,
                                 "override '%s': '%s' is a section; override one of its keys, such as '%s'",
                                 assignment, key, example);
        }
        char hint[ECG_SCHEMA_NAME_MAX];
        if (ecg_schema_suggest(s, key, hint, sizeof hint))
            return ecg_error_set(err, ECG_ERR_CONFIG, "override '%s': unknown key '%s' (did you mean '%s'?)",
                                 assignment, key, hint);
        return ecg_error_set(err, ECG_ERR_CONFIG,
                             "override '%s': unknown key '%s' (see %s --help for every key)", assignment,
                             key, s->program);
    }
    char why[ECG_ERROR_MAX / 2];
    int rc = ecg_config_set_text(c, k, eq + 1, why, sizeof why);
    if (rc)
        return ecg_error_set(err, rc, "override '%s': %s", assignment, why);
    return ECG_OK;
}

int ecg_schema_resolve(const struct ecg_schema *s, void *c, const char *path, int noverrides,
                       char *const *overrides, struct ecg_error *err)
{
    int rc = ecg_schema_defaults(s, c, err);
    if (rc)
        return rc;
    char *file = NULL; /* path, or its installed copy when the working directory lacks it */
    if (path && !(rc = ecg_path_find_data(path, &file, err)))
        rc = ecg_schema_load(s, c, file, err);
    free(file);
    if (rc)
        goto fail;
    for (int i = 0; i < noverrides; i++)
        if ((rc = ecg_schema_override(s, c, overrides[i], err)))
            goto fail;
    if ((rc = ecg_schema_check(s, c, err)))
        goto fail;
    return ECG_OK;
fail:
    ecg_schema_free(s, c);
    return rc;
}
