/* cfg_value.c - the setters of the table of keys, as nginx's ngx_conf_set_*_slot: a node's value
 * read by its key's type, checked against its range, stored into its field; and the defaults,
 * read from the table's text as a config would give them. */
#include "cfg_int.h"
#include "util.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int cpus_value(struct cy *y, yaml_node_t *n, const char *key, char **out)
{
    cpu_set_t set;
    if (cy_str(y, n, key, out) < 0)
        return -1;
    if (ut_parse_cpus(*out, &set) < 0)
        return cy_fail(y, n, "'%s' expects a CPU list such as 0, 1-3 or 0,2, got '%s'", key, *out);
    if (CPU_COUNT(&set) > 0 && sysconf(_SC_NPROCESSORS_CONF) > 0) {
        for (int i = 0; i < CPU_SETSIZE; i++)
            if (CPU_ISSET(i, &set) && i >= sysconf(_SC_NPROCESSORS_CONF))
                return cy_fail(y, n, "'%s' names CPU %d, but this machine has %ld CPUs", key, i,
                               sysconf(_SC_NPROCESSORS_CONF));
    }
    return 0;
}

/* A name used in the results folder's name: letters, digits, - _ . only. */
static int name_value(struct cy *y, yaml_node_t *n, const char *key, char **out)
{
    if (cy_str(y, n, key, out) < 0)
        return -1;
    for (const char *s = *out; *s; s++)
        if (!(s[0] == '-' || s[0] == '_' || s[0] == '.' || (s[0] >= '0' && s[0] <= '9') ||
              ((s[0] | 32) >= 'a' && (s[0] | 32) <= 'z')))
            return cy_fail(y, n, "'%s' is used in the results folder name: letters, digits, - _ . only", key);
    return 0;
}

static int conn_mode(struct cy *y, yaml_node_t *n, const char *key, long *out)
{
    char w[80];
    if (n->type == YAML_SCALAR_NODE) {
        const char *s = (const char *)n->data.scalar.value;
        char *end;
        if (!strcmp(s, "keepalive"))
            return (*out = CFG_KEEPALIVE), 0;
        if (!strcmp(s, "close"))
            return (*out = CFG_CLOSE), 0;
        if (!strncmp(s, "reqs=", 5)) {
            long v = strtol(s + 5, &end, 10);
            if (end != s + 5 && !*end && v > 0)
                return (*out = v), 0;
        }
    }
    return cy_fail(y, n, "'%s' expects keepalive, close or reqs=N (N > 0), got %s", key, cy_what(n, w, sizeof w));
}

/* A percentage: 5% or 5, in [min, max] percent, stored as a fraction. */
static int pct_value(struct cy *y, yaml_node_t *n, const struct cfg_key *k, double *out)
{
    char w[80];
    const char *s = n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
    char *end = NULL;
    double v = s ? strtod(s, &end) : 0;
    if (!s || end == s || (*end && strcmp(end, "%")) || !(v >= k->min && v <= k->max))
        return cy_fail(y, n, "'%s' expects a percentage from %g%% to %g%% (e.g. 5%%), got %s", k->name, k->min,
                       k->max, cy_what(n, w, sizeof w));
    *out = v / 100;
    return 0;
}

/* A string or a list of them, replacing what was there (a default); with words, each one of them. */
static int strs_value(struct cy *y, yaml_node_t *n, const struct cfg_key *k, void *base)
{
    char ***f = cfg_field(base, k), **v;
    int *count = (int *)((char *)base + k->noff), cnt, e;
    if (cy_strlist(y, n, k->name, &v, &cnt) < 0)
        return -1;
    for (int i = 0; k->words && i < cnt; i++) {
        yaml_node_t item = {.type = YAML_SCALAR_NODE};
        item.data.scalar.value = (yaml_char_t *)v[i];
        item.data.scalar.length = strlen(v[i]);
        item.start_mark = n->start_mark; /* the list's place: the error names the word */
        if (cy_enum(y, &item, k->name, k->words, &e) < 0) {
            for (int j = 0; j < cnt; j++)
                free(v[j]);
            free(v);
            return -1;
        }
    }
    for (int i = 0; i < *count; i++)
        free((*f)[i]);
    free(*f);
    *f = v, *count = cnt;
    return 0;
}

/* A key whose value is a number (every type but strings, durations and sections) into *out. */
static int number(struct cy *y, yaml_node_t *n, const struct cfg_key *k, long *out)
{
    long lo = (long)k->min, hi = (long)k->max;
    int e;
    switch (k->type) {
    case CT_LONG:
        return cy_long(y, n, k->name, lo, hi, out);
    case CT_LONG_K:
        return cy_long_suffix(y, n, k->name, lo, hi, 0, out);
    case CT_LONG_KIB:
        return cy_long_suffix(y, n, k->name, lo, hi, 1, out);
    case CT_AUTO: {
        char *end, w[80];
        if (cy_is_auto(n))
            return *out = 0, 0;
        if (n->type == YAML_SCALAR_NODE && (strtol((const char *)n->data.scalar.value, &end, 10), *end))
            return cy_fail(y, n, "'%s' expects a whole number from %ld to %ld, or auto, got %s", k->name, lo, hi,
                           cy_what(n, w, sizeof w));
        return cy_long(y, n, k->name, lo, hi, out);
    }
    case CT_ENUM:
        return cy_enum(y, n, k->name, k->words, &e) < 0 ? -1 : (*out = e, 0);
    case CT_CONN_MODE:
        return conn_mode(y, n, k->name, out);
    default:
        return cy_fail(y, n, "'%s' is not a number key (the table of keys is wrong)", k->name);
    }
}

int cfg_set(struct cy *y, yaml_node_t *n, const struct cfg_key *k, void *base)
{
    void *f = cfg_field(base, k);
    long v;
    int e;
    switch (k->type) {
    case CT_STR:
        return cy_str(y, n, k->name, f);
    case CT_NAME:
        return name_value(y, n, k->name, f);
    case CT_CPUS:
        return cpus_value(y, n, k->name, f);
    case CT_WORD:
        if (cy_enum(y, n, k->name, k->words, &e) < 0)
            return -1;
        free(*(char **)f);
        *(char **)f = ut_strdup(k->words[e]);
        return 0;
    case CT_ENUM:
        return number(y, n, k, &v) < 0 ? -1 : (*(int *)f = (int)v, 0);
    case CT_STRS:
        return strs_value(y, n, k, base);
    case CT_DUR:
        return cy_dur(y, n, k->name, k->min, k->max, f);
    case CT_PCT:
        return pct_value(y, n, k, f);
    default:
        return number(y, n, k, f);
    }
}

void cfg_set_defaults(const struct cfg_key *t, int n, void *base)
{
    for (const struct cfg_key *k = t; k < t + n; k++) {
        void *f = cfg_field(base, k);
        if (k->type >= CT_DEFAULTS || (k->type == CT_STRS && !k->def))
            continue; /* sections and lists start empty */
        if (!k->def) {
            if (k->type != CT_STR && k->type != CT_NAME && k->type != CT_CPUS)
                *(long *)f = k->unset;
            continue;
        }
        if (k->type == CT_STR || k->type == CT_NAME || k->type == CT_CPUS) {
            /* Taken as written: a default CPU list is not checked against this machine. */
            free(*(char **)f);
            *(char **)f = ut_strdup(k->def);
            continue;
        }
        /* Read as a config's plain scalar would be, so a default means what the doc says. */
        char err[UT_ERRLEN];
        struct cy y = {.file = "the table of keys", .err = err, .errlen = sizeof err};
        yaml_node_t node = {.type = YAML_SCALAR_NODE};
        node.data.scalar.value = (yaml_char_t *)(uintptr_t)k->def;
        node.data.scalar.length = strlen(k->def);
        node.data.scalar.style = YAML_PLAIN_SCALAR_STYLE;
        if (cfg_set(&y, &node, k, base) < 0) {
            fprintf(stderr, "bench: default of '%s': %s\n", k->name, err);
            abort();
        }
    }
}

int cfg_axis_value(struct cy *y, yaml_node_t *n, enum cfg_axis a, long *out)
{
    return number(y, n, &cfg_axis_keys[a], out);
}

/* A scalar or a non-empty list of scalars into v. */
int cfg_axis_values(struct cy *y, yaml_node_t *n, enum cfg_axis a, struct cfg_values *v)
{
    if (n->type == YAML_SEQUENCE_NODE) {
        yaml_node_item_t *it = n->data.sequence.items.start, *end = n->data.sequence.items.top;
        if (it == end)
            return cy_fail(y, n, "'%s' is an empty list: give at least one value", cfg_axis_names[a]);
        v->n = (int)(end - it);
        v->v = ut_calloc((size_t)v->n, sizeof *v->v);
        for (int i = 0; i < v->n; i++)
            if (cfg_axis_value(y, cy_node(y, it[i]), a, &v->v[i]) < 0)
                return -1;
        return 0;
    }
    v->n = 1;
    v->v = ut_calloc(1, sizeof *v->v);
    return cfg_axis_value(y, n, a, &v->v[0]);
}

yaml_node_t **cfg_items(struct cy *y, yaml_node_t *v, int *n)
{
    if (v->type != YAML_SEQUENCE_NODE) {
        yaml_node_t **one = ut_calloc(1, sizeof *one);
        one[0] = v;
        *n = 1;
        return one;
    }
    *n = (int)(v->data.sequence.items.top - v->data.sequence.items.start);
    yaml_node_t **items = ut_calloc((size_t)*n + 1, sizeof *items);
    for (int i = 0; i < *n; i++)
        items[i] = cy_node(y, v->data.sequence.items.start[i]);
    return items;
}
