/* cfg.c - reading a config: the top level, defaults and the matrix walked key by key through the
 * table of keys (cfg_keys.c), so a typo stops the run before anything starts; the servers are in
 * cfg_servers.c. And freeing what was read. */
#include "cfg_int.h"
#include "util.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* --- defaults ------------------------------------------------------------------------------ */

static int defaults_pair(struct cy *y, const char *key, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    struct cfg_parse *p = arg;
    char keys[512], axes[256];
    const struct cfg_key *ck = cfg_key_find(cfg_axis_keys, CFG_NAXES, key);
    if (ck)
        return cfg_set(y, v, ck, p->c->axis_default);
    if ((ck = cfg_key_find(cfg_defaults_keys, cfg_ndefaults_keys, key))) {
        if (!strncmp(ck->name, "repeats", 7))
            p->c->rep_line = cy_line(k);
        return cfg_set(y, v, ck, &p->c->d);
    }
    return cy_fail(y, k, "unknown key '%s' in defaults (expected %s, or a matrix axis: %s)", key,
                   cfg_key_names(cfg_defaults_keys, cfg_ndefaults_keys, keys, sizeof keys),
                   cfg_key_names(cfg_axis_keys, CFG_NAXES, axes, sizeof axes));
}

/* --- matrix and top level --------------------------------------------------------------------- */

static int block_pair(struct cy *y, const char *key, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    struct cfg_parse *p = arg;
    const struct cfg_key *ck = cfg_key_want(y, k, cfg_axis_keys, CFG_NAXES, key, "in matrix", "");
    if (!ck)
        return -1;
    return cfg_axis_values(y, v, (enum cfg_axis)(ck - cfg_axis_keys), &p->b->ax[ck - cfg_axis_keys]);
}

static int matrix(struct cy *y, yaml_node_t *v, struct cfg_parse *p)
{
    struct cfg *c = p->c;
    int n, rc = 0;
    yaml_node_t **items = cfg_items(y, v, &n);
    if (n == 0)
        rc = cy_fail(y, v, "'matrix' is an empty list");
    c->blk = ut_calloc((size_t)n + 1, sizeof *c->blk);
    for (int i = 0; i < n && rc == 0; i++) {
        p->b = &c->blk[c->nblk++];
        rc = cy_mapping(y, items[i], "matrix", block_pair, p);
    }
    free(items);
    return rc;
}

/* --- capacity -------------------------------------------------------------------------------- */

static int objective_pair(struct cy *y, const char *key, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    struct cfg_parse *p = arg;
    const struct cfg_key *ck = cfg_key_want(y, k, cfg_objective_keys, cfg_nobjective_keys, key, "in an objective", "");
    return ck ? cfg_set(y, v, ck, p->o) : -1;
}

/* One objective or a list of them; each needs p99, and the names (default p99-<p99>) are unique
 * because they mark the probes. */
static int capacity(struct cy *y, yaml_node_t *v, struct cfg_parse *p)
{
    struct cfg *c = p->c;
    int n, rc = 0;
    yaml_node_t **items = cfg_items(y, v, &n);
    if (n == 0)
        rc = cy_fail(y, v, "'capacity' is an empty list: give at least one objective, e.g. {p99: 1ms}");
    c->obj = ut_calloc((size_t)n + 1, sizeof *c->obj);
    c->cap_line = cy_line(v);
    for (int i = 0; i < n && rc == 0; i++) {
        struct cfg_objective *o = p->o = &c->obj[c->nobj++];
        cfg_set_defaults(cfg_objective_keys, cfg_nobjective_keys, o);
        o->line = cy_line(items[i]);
        if ((rc = cy_mapping(y, items[i], "an objective", objective_pair, p)) < 0)
            break;
        if (o->p99 <= 0)
            rc = cy_fail(y, items[i], "an objective needs p99, the corrected p99 latency it allows (e.g. p99: 1ms)");
        if (rc == 0 && !o->name) {
            char nm[64];
            snprintf(nm, sizeof nm, "p99-%gms", o->p99 * 1000);
            o->name = ut_strdup(nm);
        }
        for (int j = 0; rc == 0 && j < i; j++)
            if (!strcmp(c->obj[j].name, o->name))
                rc = cy_fail(y, items[i], "objective name '%s' is used twice (first at line %d): give one a name:",
                             o->name, c->obj[j].line);
    }
    free(items);
    return rc;
}

static int top_pair(struct cy *y, const char *key, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    struct cfg_parse *p = arg;
    const struct cfg_key *ck = cfg_key_want(y, k, cfg_top_keys, cfg_ntop_keys, key, "at the top level", "");
    if (!ck)
        return -1;
    switch (ck->type) {
    case CT_DEFAULTS:
        return cy_mapping(y, v, "defaults", defaults_pair, p);
    case CT_SERVERS:
        return cfg_servers(y, v, p);
    case CT_MATRIX:
        return matrix(y, v, p);
    case CT_CAPACITY:
        return capacity(y, v, p);
    case CT_HOSTS:
        return cfg_hosts(y, v, p);
    default:
        if (!strcmp(ck->name, "server_host") || !strcmp(ck->name, "loadgen_hosts"))
            p->c->hosts_line = cy_line(k);
        return cfg_set(y, v, ck, p->c);
    }
}

static void set_defaults(struct cfg *c)
{
    c->hosts = ut_calloc(1, sizeof *c->hosts); /* hosts[0]: this machine, whatever hosts: says */
    c->hosts[0] = (struct cfg_host){.name = ut_strdup("local"), .kind = CFG_HOST_LOCAL};
    c->nhosts = 1;
    cfg_set_defaults(cfg_top_keys, cfg_ntop_keys, c);
    cfg_set_defaults(cfg_defaults_keys, cfg_ndefaults_keys, &c->d);
    cfg_set_defaults(cfg_axis_keys, CFG_NAXES, c->axis_default);
    if (sysconf(_SC_NPROCESSORS_ONLN) <= 1) { /* one CPU: the load generator shares it */
        free(c->d.loadgen_cpus);
        c->d.loadgen_cpus = ut_strdup("0");
    }
}

int cfg_load(const char *path, const char *bindir, struct cfg *c, char *err, size_t errlen)
{
    struct cy y;
    memset(c, 0, sizeof *c);
    set_defaults(c);
    c->path = ut_strdup(path);
    if (cy_load(&y, path, err, errlen) < 0)
        return -1;
    struct cfg_parse p = {.c = c, .bindir = bindir};
    yaml_node_t *root = cy_root(&y);
    int rc = cy_mapping(&y, root, "the top level", top_pair, &p);
    if (rc == 0 && c->nsrv == 0)
        rc = cy_fail(&y, root, "no 'servers' list: name at least one server model");
    /* A server's work_us can only conflict with a matrix parsed after it: check again. */
    for (int s = 0; rc == 0 && s < c->nsrv; s++)
        for (int b = 0; rc == 0 && b < c->nblk; b++)
            if (c->srv[s].work_us >= 0 && c->blk[b].ax[CFG_WORK_US].n)
                rc = -1, snprintf(err, errlen, "%s:%d:1: server '%s' sets work_us and the matrix has a work_us axis: keep one",
                                  path, c->srv[s].line, c->srv[s].model);
    /* The search chooses the rate: a rate of the config's own would be ignored. */
    for (int b = 0; rc == 0 && c->nobj && b < c->nblk; b++)
        if (c->blk[b].ax[CFG_RATE].n)
            rc = -1, snprintf(err, errlen, "%s:%d:1: capacity searches the rate, and the matrix has a rate axis: "
                              "keep one", path, c->cap_line);
    if (rc == 0 && c->nobj && c->axis_default[CFG_RATE])
        rc = -1, snprintf(err, errlen, "%s:%d:1: capacity searches the rate, and defaults set rate %ld: keep one",
                          path, c->cap_line, c->axis_default[CFG_RATE]);
    if (rc == 0 && c->d.repeats_min > c->d.repeats_max)
        rc = -1, snprintf(err, errlen, "%s:%d:1: repeats_min %ld is above repeats_max %ld", path, c->rep_line,
                          c->d.repeats_min, c->d.repeats_max);
    /* A search picks its next probe from the last: its windows are not rows to repeat until narrow. */
    if (rc == 0 && c->nobj && c->d.repeats == 0)
        rc = -1, snprintf(err, errlen, "%s:%d:1: repeats: auto repeats rows until narrow, and a capacity search's "
                          "probes are not such rows: give repeats a number", path, c->cap_line);
    if (rc == 0)
        rc = cfg_hosts_check(c, err, errlen);
    if (rc == 0 && c->nblk == 0)
        c->blk = ut_calloc(1, sizeof *c->blk), c->nblk = 1; /* no matrix: one point of the defaults */
    for (int s = 0; rc == 0 && s < c->nsrv; s++) {
        struct cfg_server *sv = &c->srv[s];
        if (!sv->name) {
            char nm[128];
            snprintf(nm, sizeof nm, sv->workers ? "%s-w%ld" : "%s", sv->model, sv->workers);
            sv->name = ut_strdup(nm);
        }
        for (int o = 0; o < s; o++)
            if (!strcmp(c->srv[o].name, sv->name))
                rc = -1, snprintf(err, errlen, "%s:%d:1: server name '%s' is used twice (first at line %d): give one a name:",
                                  path, sv->line, sv->name, c->srv[o].line);
    }
    if (rc == 0 && !c->d.runner_cpus)
        c->d.runner_cpus = ut_strdup(c->d.loadgen_cpus);
    if (rc == 0 && !c->name) {
        const char *b = strrchr(path, '/');
        c->name = ut_strdup(b ? b + 1 : path);
        char *dot = strrchr(c->name, '.');
        if (dot)
            *dot = '\0';
    }
    cy_free(&y);
    return rc;
}

int cfg_override(struct cfg *c, const char *assign, char *err, size_t errlen)
{
    const char *eq = strchr(assign, '=');
    char key[64];
    snprintf(key, sizeof key, "%.*s", eq ? (int)(eq - assign) : 0, assign);
    const struct cfg_key *k = eq ? cfg_key_find(cfg_defaults_keys, cfg_ndefaults_keys, key) : NULL;
    if (!k || k->type >= CT_DEFAULTS) {
        char keys[1024];
        snprintf(err, errlen, "--set %s: expected KEY=VALUE, KEY one of the keys of defaults (%s)", assign,
                 cfg_key_names(cfg_defaults_keys, cfg_ndefaults_keys, keys, sizeof keys));
        return -1;
    }
    /* Read as the same plain scalar in the file would be: the same checks, the same messages. */
    struct cy y = {.file = "--set", .err = err, .errlen = errlen};
    yaml_node_t node = {.type = YAML_SCALAR_NODE};
    node.data.scalar.value = (yaml_char_t *)(uintptr_t)(eq + 1);
    node.data.scalar.length = strlen(eq + 1);
    node.data.scalar.style = YAML_PLAIN_SCALAR_STYLE;
    if (cfg_set(&y, &node, k, &c->d) < 0)
        return -1;
    if (c->d.repeats_min > c->d.repeats_max) {
        snprintf(err, errlen, "--set %s: repeats_min %ld is above repeats_max %ld", assign, c->d.repeats_min,
                 c->d.repeats_max);
        return -1;
    }
    if (c->nobj && c->d.repeats == 0) {
        snprintf(err, errlen, "--set %s: a capacity search's probes are not repeated until narrow", assign);
        return -1;
    }
    return 0;
}

static void free_strs(char **v, int n)
{
    for (int i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* Every string and list field of the struct at base that t's keys name. */
static void free_keys(const struct cfg_key *t, int n, void *base)
{
    for (const struct cfg_key *k = t; k < t + n; k++) {
        void *f = cfg_field(base, k);
        if (k->type == CT_STR || k->type == CT_NAME || k->type == CT_CPUS || k->type == CT_WORD)
            free(*(char **)f);
        else if (k->type == CT_STRS)
            free_strs(*(char ***)f, *(int *)((char *)base + k->noff));
    }
}

void cfg_free(struct cfg *c)
{
    free_keys(cfg_defaults_keys, cfg_ndefaults_keys, &c->d);
    for (int i = 0; i < c->nsrv; i++) {
        struct cfg_server *s = &c->srv[i];
        free_keys(cfg_server_keys, cfg_nserver_keys, s);
        for (int e = 0; e < s->nexcl; e++)
            for (int a = 0; a < CFG_NAXES; a++)
                free(s->excl[e].ax[a].vals);
        free(s->excl);
    }
    free(c->srv);
    for (int b = 0; b < c->nblk; b++)
        for (int a = 0; a < CFG_NAXES; a++)
            free(c->blk[b].ax[a].v);
    free(c->blk);
    for (int i = 0; i < c->nobj; i++)
        free_keys(cfg_objective_keys, cfg_nobjective_keys, &c->obj[i]);
    free(c->obj);
    free_keys(cfg_top_keys, cfg_ntop_keys, c);
    cfg_hosts_free(c);
    free(c->path);
}
