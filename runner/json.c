/* json.c - recursive-descent JSON reader; strict enough to reject a truncated file, no more. */
#include "json.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct jp {
    const char *s, *p;
    char *err;
    size_t errlen;
    int depth;
};

static int jfail(struct jp *j, const char *what)
{
    if (!j->err[0])
        snprintf(j->err, j->errlen, "offset %ld: %s", (long)(j->p - j->s), what);
    return -1;
}

static void ws(struct jp *j)
{
    while (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r')
        j->p++;
}

static int value(struct jp *j, struct json *out);

static int string(struct jp *j, char **out)
{
    struct ut_str b = {0};
    j->p++; /* opening quote */
    for (;;) {
        char c = *j->p++;
        if (c == '"')
            break;
        if (c == '\0' || (unsigned char)c < 0x20) {
            ut_str_free(&b);
            return jfail(j, "unterminated string");
        }
        if (c == '\\') {
            char e = *j->p++;
            static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
            const char *k = e ? strchr(from, e) : NULL;
            if (k) {
                ut_str_addn(&b, &to[k - from], 1);
            } else if (e == 'u' && j->p[0] && j->p[1] && j->p[2] && j->p[3]) {
                /* Only ASCII escapes matter in our files; others become '?'. */
                unsigned v = (unsigned)strtoul((char[5]){j->p[0], j->p[1], j->p[2], j->p[3], 0}, NULL, 16);
                char ch = v < 0x80 ? (char)v : '?';
                ut_str_addn(&b, &ch, 1);
                j->p += 4;
            } else {
                ut_str_free(&b);
                return jfail(j, "bad escape");
            }
            continue;
        }
        ut_str_addn(&b, &c, 1);
    }
    *out = b.s ? b.s : ut_strdup("");
    return 0;
}

static int members(struct jp *j, struct json *out, int obj)
{
    char close = obj ? '}' : ']';
    j->p++;
    ws(j);
    if (*j->p == close) {
        j->p++;
        return 0;
    }
    for (;;) {
        ws(j);
        char *key = NULL;
        if (obj) {
            if (*j->p != '"' || string(j, &key) < 0)
                return jfail(j, "expected a key");
            ws(j);
            if (*j->p++ != ':') {
                free(key);
                return jfail(j, "expected ':'");
            }
        }
        out->kids = ut_realloc(out->kids, (size_t)(out->n + 1) * sizeof *out->kids);
        if (obj)
            out->keys = ut_realloc(out->keys, (size_t)(out->n + 1) * sizeof *out->keys), out->keys[out->n] = key;
        memset(&out->kids[out->n], 0, sizeof *out->kids);
        out->n++;
        if (value(j, &out->kids[out->n - 1]) < 0)
            return -1;
        ws(j);
        if (*j->p == ',') {
            j->p++;
            continue;
        }
        if (*j->p++ == close)
            return 0;
        return jfail(j, obj ? "expected ',' or '}'" : "expected ',' or ']'");
    }
}

static int value(struct jp *j, struct json *out)
{
    ws(j);
    if (++j->depth > 64)
        return jfail(j, "nested too deep");
    int rc = 0;
    char c = *j->p;
    if (c == '{' || c == '[') {
        out->type = c == '{' ? JSON_OBJ : JSON_ARR;
        rc = members(j, out, c == '{');
    } else if (c == '"') {
        out->type = JSON_STR;
        rc = string(j, &out->str);
    } else if (!strncmp(j->p, "true", 4) || !strncmp(j->p, "false", 5)) {
        out->type = JSON_BOOL;
        out->num = c == 't';
        j->p += c == 't' ? 4 : 5;
    } else if (!strncmp(j->p, "null", 4)) {
        out->type = JSON_NULL;
        j->p += 4;
    } else {
        char *end;
        errno = 0;
        out->num = strtod(j->p, &end);
        if (end == j->p)
            return jfail(j, "expected a value");
        out->type = JSON_NUM;
        j->p = end;
    }
    j->depth--;
    return rc;
}

struct json *json_parse(const char *text, char *err, size_t errlen)
{
    struct jp j = {.s = text, .p = text, .err = err, .errlen = errlen};
    struct json *root = ut_calloc(1, sizeof *root);
    err[0] = '\0';
    if (value(&j, root) < 0) {
        json_free(root);
        return NULL;
    }
    ws(&j);
    if (*j.p) {
        jfail(&j, "trailing data");
        json_free(root);
        return NULL;
    }
    return root;
}

struct json *json_parse_file(const char *path, char *err, size_t errlen)
{
    char *text;
    if (ut_read_file(path, &text) < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    char e[256];
    struct json *j = json_parse(text, e, sizeof e);
    if (!j)
        snprintf(err, errlen, "%s: %s", path, e);
    free(text);
    return j;
}

static void json_clear(struct json *j)
{
    for (int i = 0; i < j->n; i++) {
        json_clear(&j->kids[i]);
        if (j->keys)
            free(j->keys[i]);
    }
    free(j->kids);
    free(j->keys);
    free(j->str);
}

void json_free(struct json *j)
{
    if (!j)
        return;
    json_clear(j);
    free(j);
}

const struct json *json_get(const struct json *j, const char *path)
{
    while (j && *path) {
        size_t l = strcspn(path, ".");
        const struct json *next = NULL;
        if (j->type == JSON_OBJ)
            for (int i = 0; i < j->n && !next; i++)
                if (strlen(j->keys[i]) == l && !strncmp(j->keys[i], path, l))
                    next = &j->kids[i];
        j = next;
        path += l + (path[l] == '.');
    }
    return j;
}

int json_num(const struct json *j, const char *path, double *out)
{
    const struct json *v = json_get(j, path);
    if (!v || (v->type != JSON_NUM && v->type != JSON_BOOL))
        return -1;
    *out = v->num;
    return 0;
}

const char *json_str(const struct json *j, const char *path)
{
    const struct json *v = json_get(j, path);
    return v && v->type == JSON_STR ? v->str : NULL;
}
