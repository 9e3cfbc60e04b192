/* cfg_yaml.c - libyaml document loading and typed scalar access with positioned errors. */
#include "cfg_yaml.h"
#include "util.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int cy_load(struct cy *y, const char *file, char *err, size_t errlen)
{
    memset(y, 0, sizeof *y);
    y->file = file;
    y->err = err;
    y->errlen = errlen;
    FILE *f = fopen(file, "re");
    if (!f) {
        snprintf(err, errlen, "%s: %s", file, strerror(errno));
        return -1;
    }
    yaml_parser_t p;
    yaml_parser_initialize(&p);
    yaml_parser_set_input_file(&p, f);
    int rc = -1;
    if (!yaml_parser_load(&p, &y->doc)) {
        /* libyaml marks are 0-based; editors count from 1. */
        char ctx[256] = "";
        if (p.context)
            snprintf(ctx, sizeof ctx, " %s started at line %zu", p.context, p.context_mark.line + 1);
        snprintf(err, errlen, "%s:%zu:%zu: YAML syntax error: %s%s", file, p.problem_mark.line + 1,
                 p.problem_mark.column + 1, p.problem ? p.problem : "unknown problem", ctx);
        goto out;
    }
    if (!yaml_document_get_root_node(&y->doc)) {
        yaml_document_delete(&y->doc);
        snprintf(err, errlen, "%s:1:1: the file is empty (expected a mapping with servers and matrix)", file);
        goto out;
    }
    /* A second document would be silently ignored: say so instead. */
    yaml_document_t extra;
    if (yaml_parser_load(&p, &extra)) {
        yaml_node_t *root2 = yaml_document_get_root_node(&extra);
        int more = root2 != NULL;
        size_t line = more ? root2->start_mark.line + 1 : 0;
        yaml_document_delete(&extra);
        if (more) {
            yaml_document_delete(&y->doc);
            snprintf(err, errlen, "%s:%zu:1: a second YAML document (---): one experiment per file", file, line);
            goto out;
        }
    }
    rc = 0;
out:
    yaml_parser_delete(&p);
    fclose(f);
    return rc;
}

void cy_free(struct cy *y)
{
    yaml_document_delete(&y->doc);
}

yaml_node_t *cy_node(struct cy *y, int index)
{
    return yaml_document_get_node(&y->doc, index);
}

yaml_node_t *cy_root(struct cy *y)
{
    return yaml_document_get_root_node(&y->doc);
}

int cy_line(const yaml_node_t *n)
{
    return (int)n->start_mark.line + 1;
}

int cy_fail(struct cy *y, const yaml_node_t *n, const char *fmt, ...)
{
    char msg[UT_ERRLEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(y->err, y->errlen, "%s:%zu:%zu: %s", y->file, n->start_mark.line + 1, n->start_mark.column + 1,
             msg);
    return -1;
}

const char *cy_what(const yaml_node_t *n, char *buf, size_t len)
{
    switch (n->type) {
    case YAML_SEQUENCE_NODE:
        return "a list";
    case YAML_MAPPING_NODE:
        return "a mapping";
    case YAML_SCALAR_NODE:
        snprintf(buf, len, "'%.60s'", (const char *)n->data.scalar.value);
        return buf;
    default:
        return "nothing";
    }
}

int cy_is_auto(const yaml_node_t *n)
{
    return n->type == YAML_SCALAR_NODE && !strcmp((const char *)n->data.scalar.value, "auto");
}

int cy_mapping(struct cy *y, yaml_node_t *n, const char *what, cy_pair_fn fn, void *arg)
{
    char w[80];
    if (n->type != YAML_MAPPING_NODE)
        return cy_fail(y, n, "%s must be a mapping (key: value lines), got %s", what, cy_what(n, w, sizeof w));
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *k = cy_node(y, p->key), *v = cy_node(y, p->value);
        if (k->type != YAML_SCALAR_NODE)
            return cy_fail(y, k, "keys in %s must be plain words, got %s", what, cy_what(k, w, sizeof w));
        char key[64];
        snprintf(key, sizeof key, "%s", (const char *)k->data.scalar.value);
        for (char *c = key; *c; c++)
            if (*c == '-')
                *c = '_';
        /* YAML allows a repeated key and keeps the last; for a config that is always a mistake. */
        for (yaml_node_pair_t *q = n->data.mapping.pairs.start; q < p; q++) {
            yaml_node_t *qk = cy_node(y, q->key);
            char other[64];
            snprintf(other, sizeof other, "%s", qk->type == YAML_SCALAR_NODE ? (const char *)qk->data.scalar.value : "");
            for (char *c = other; *c; c++)
                if (*c == '-')
                    *c = '_';
            if (!strcmp(other, key))
                return cy_fail(y, k, "duplicate key '%s' in %s (first at line %d)", key, what, cy_line(qk));
        }
        if (fn(y, key, k, v, arg) < 0)
            return -1;
    }
    return 0;
}

static int want_scalar(struct cy *y, yaml_node_t *n, const char *key, const char *expected)
{
    char w[80];
    if (n->type == YAML_SCALAR_NODE && n->data.scalar.length > 0)
        return 0;
    return cy_fail(y, n, "'%s' expects %s, got %s", key, expected,
                   n->type == YAML_SCALAR_NODE ? "an empty value" : cy_what(n, w, sizeof w));
}

int cy_str(struct cy *y, yaml_node_t *n, const char *key, char **out)
{
    if (want_scalar(y, n, key, "a string") < 0)
        return -1;
    free(*out);
    *out = ut_strdup((const char *)n->data.scalar.value);
    return 0;
}

int cy_long_suffix(struct cy *y, yaml_node_t *n, const char *key, long min, long max, int binary, long *out)
{
    /* binary > 0: k/m/g are powers of 1024 (sizes); 0: k/m are powers of 1000; < 0: no suffix. */
    const char *expected = binary > 0    ? "a whole number of bytes (e.g. 64, 4k, 1m)"
                           : binary == 0 ? "a whole number (e.g. 100, 10k)"
                                         : "a whole number";
    if (want_scalar(y, n, key, expected) < 0)
        return -1;
    const char *s = (const char *)n->data.scalar.value;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (end == s || errno)
        return cy_fail(y, n, "'%s' expects %s, got '%s'", key, expected, s);
    long long mul = 1;
    if (*end && binary >= 0) {
        if (!strcasecmp(end, "k"))
            mul = binary ? 1024 : 1000;
        else if (!strcasecmp(end, "m"))
            mul = binary ? 1024 * 1024 : 1000000;
        else if (!strcasecmp(end, "g") && binary)
            mul = 1024LL * 1024 * 1024;
        else
            return cy_fail(y, n, "'%s' expects %s, got '%s'", key, expected, s);
    } else if (*end) {
        return cy_fail(y, n, "'%s' expects %s, got '%s'", key, expected, s);
    }
    v *= mul;
    if (v < min || v > max)
        return cy_fail(y, n, "'%s' must be between %ld and %ld, got %lld", key, min, max, v);
    *out = (long)v;
    return 0;
}

int cy_long(struct cy *y, yaml_node_t *n, const char *key, long min, long max, long *out)
{
    return cy_long_suffix(y, n, key, min, max, -1, out);
}

int cy_dur(struct cy *y, yaml_node_t *n, const char *key, double min, double max, double *out)
{
    const char *expected = "a duration in seconds (e.g. 2, 0.5, 500ms, 1m)";
    if (want_scalar(y, n, key, expected) < 0)
        return -1;
    const char *s = (const char *)n->data.scalar.value;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno || !isfinite(v))
        return cy_fail(y, n, "'%s' expects %s, got '%s'", key, expected, s);
    if (!strcmp(end, "ms"))
        v /= 1000;
    else if (!strcmp(end, "m") || !strcmp(end, "min"))
        v *= 60;
    else if (*end && strcmp(end, "s"))
        return cy_fail(y, n, "'%s' expects %s, got '%s'", key, expected, s);
    if (v < min || v > max)
        return cy_fail(y, n, "'%s' must be between %g and %g seconds, got %g", key, min, max, v);
    *out = v;
    return 0;
}

int cy_enum(struct cy *y, yaml_node_t *n, const char *key, const char *const choices[], int *out)
{
    char list[256] = "";
    for (int i = 0; choices[i]; i++) {
        strncat(list, i ? ", " : "", sizeof list - strlen(list) - 1);
        strncat(list, choices[i], sizeof list - strlen(list) - 1);
    }
    if (n->type == YAML_SCALAR_NODE)
        for (int i = 0; choices[i]; i++)
            if (!strcmp((const char *)n->data.scalar.value, choices[i])) {
                *out = i;
                return 0;
            }
    char w[80];
    return cy_fail(y, n, "'%s' expects one of %s, got %s", key, list, cy_what(n, w, sizeof w));
}

int cy_strlist(struct cy *y, yaml_node_t *n, const char *key, char ***out, int *count)
{
    yaml_node_item_t *it = NULL, *end = NULL;
    int one = n->type == YAML_SCALAR_NODE;
    if (n->type == YAML_SEQUENCE_NODE) {
        it = n->data.sequence.items.start;
        end = n->data.sequence.items.top;
    } else if (!one) {
        return cy_fail(y, n, "'%s' expects a string or a list of strings", key);
    }
    int cnt = one ? 1 : (int)(end - it);
    char **v = ut_calloc((size_t)cnt + 1, sizeof *v);
    for (int i = 0; i < cnt; i++) {
        yaml_node_t *e = one ? n : cy_node(y, it[i]);
        if (e->type != YAML_SCALAR_NODE) {
            for (int j = 0; j < i; j++)
                free(v[j]);
            free(v);
            return cy_fail(y, e, "'%s' expects a list of strings, this item is not one", key);
        }
        v[i] = ut_strdup((const char *)e->data.scalar.value);
    }
    *out = v;
    *count = cnt;
    return 0;
}
