/* cfg_servers.c - the servers list of a config: models (known from the project's list or a built
 * binary), per-server options, and the exclusions that take matrix points away from one server. */
#include "cfg.h"
#include "cfg_int.h"
#include "cfg_yaml.h"
#include "extsrv.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The project's concurrency models, in the order plans list them: servers/models.tsv. */
const char *const cfg_models[] = {
#include "models.h"
    NULL,
};

int cfg_model_known(const char *model, const char *bindir)
{
    for (int i = 0; cfg_models[i]; i++)
        if (!strcmp(model, cfg_models[i]))
            return 1;
    if (ext_preset(model))
        return 1;
    char path[4096];
    snprintf(path, sizeof path, "%s/server-%s", bindir, model);
    return strchr(model, '/') == NULL && access(path, X_OK) == 0;
}

/* --- exclusions ------------------------------------------------------------------------------- */

static int match_minmax(struct cy *y, const char *key, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    struct cfg_parse *p = arg;
    int a = p->range_axis;
    struct cfg_match *m = &p->e->ax[a];
    if (!strcmp(key, "min"))
        return (m->has_min = 1), cfg_axis_value(y, v, (enum cfg_axis)a, &m->min);
    if (!strcmp(key, "max"))
        return (m->has_max = 1), cfg_axis_value(y, v, (enum cfg_axis)a, &m->max);
    return cy_fail(y, k, "unknown key '%s' in a range (expected min and/or max)", key);
}

static int excl_pair(struct cy *y, const char *key, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    struct cfg_parse *p = arg;
    int a = cfg_axis_index(key);
    if (a < 0)
        return cy_fail(y, k, "unknown key '%s' in exclude (expected a matrix axis: %s)", key, cfg_axis_list);
    struct cfg_match *m = &p->e->ax[a];
    if (v->type == YAML_MAPPING_NODE) {
        p->range_axis = a;
        int rc = cy_mapping(y, v, "a range", match_minmax, p);
        m->set = 1;
        if (rc == 0 && !m->has_min && !m->has_max)
            return cy_fail(y, v, "a range needs min and/or max");
        return rc;
    }
    struct cfg_values vals = {0};
    if (cfg_axis_values(y, v, (enum cfg_axis)a, &vals) < 0) {
        free(vals.v);
        return -1;
    }
    m->set = 1;
    m->nvals = vals.n;
    m->vals = vals.v;
    return 0;
}

static int exclusions(struct cy *y, yaml_node_t *v, struct cfg_parse *p)
{
    struct cfg_server *s = p->s;
    yaml_node_t *one[1] = {v};
    yaml_node_t **items = one;
    int n = 1;
    if (v->type == YAML_SEQUENCE_NODE) {
        n = (int)(v->data.sequence.items.top - v->data.sequence.items.start);
        items = ut_calloc((size_t)n, sizeof *items);
        for (int i = 0; i < n; i++)
            items[i] = cy_node(y, v->data.sequence.items.start[i]);
    }
    int rc = 0;
    s->excl = ut_calloc((size_t)n, sizeof *s->excl);
    for (int i = 0; i < n && rc == 0; i++) {
        p->e = &s->excl[s->nexcl++];
        rc = cy_mapping(y, items[i], "exclude", excl_pair, p);
    }
    if (items != one)
        free(items);
    return rc;
}

/* --- servers ---------------------------------------------------------------------------------- */

/* Is the model (given at node v) one we can run? */
static int check_model(struct cy *y, yaml_node_t *v, struct cfg_parse *p, const char *model)
{
    if (cfg_model_known(model, p->bindir))
        return 0;
    struct ut_str known = {0};
    for (int i = 0; cfg_models[i]; i++)
        ut_str_addf(&known, "%s%s", i ? ", " : "", cfg_models[i]);
    for (const struct ext_preset *e = ext_presets; e->name; e++)
        ut_str_addf(&known, ", %s (external)", e->name);
    cy_fail(y, v, "unknown server '%s' (expected one of %s, a model built as %s/server-%s, or an external "
            "program given by command:)", model, known.s, p->bindir, model);
    ut_str_free(&known);
    return -1;
}

static int server_pair(struct cy *y, const char *key, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    struct cfg_parse *p = arg;
    struct cfg_server *s = p->s;
    long w;
    if (!strcmp(key, "model")) {
        /* Checked after the whole entry: with a command, the model is only a label. */
        p->model_node = v;
        return cy_str(y, v, key, &s->model);
    }
    if (!strcmp(key, "command")) {
        if (cy_strlist(y, v, key, &s->command, &s->ncommand) < 0)
            return -1;
        return s->ncommand ? 0 : cy_fail(y, v, "'command' is empty: give the program and its arguments");
    }
    if (!strcmp(key, "config"))
        return cy_str(y, v, key, &s->config);
    if (!strcmp(key, "name"))
        return cy_str(y, v, key, &s->name);
    if (!strcmp(key, "workers"))
        return cy_long(y, v, key, 0, 4096, &w) < 0 ? -1 : ((s->workers = (int)w), 0);
    if (!strcmp(key, "work_us")) {
        p->work_us_node = v;
        return cy_long(y, v, key, 0, 10000000, &s->work_us);
    }
    if (!strcmp(key, "idle_timeout"))
        return cy_long(y, v, key, 1, 86400, &s->idle_timeout);
    if (!strcmp(key, "max_conns"))
        return cy_long(y, v, key, 0, 10000000, &s->max_conns);
    if (!strcmp(key, "backlog"))
        return cy_long(y, v, key, 0, 1000000, &s->backlog);
    if (!strcmp(key, "docroot"))
        return cy_str(y, v, key, &s->docroot);
    if (!strcmp(key, "args"))
        return cy_strlist(y, v, key, &s->args, &s->nargs);
    if (!strcmp(key, "exclude"))
        return exclusions(y, v, p);
    return cy_fail(y, k,
                   "unknown key '%s' in a server (expected model, name, workers, work_us, idle_timeout, "
                   "max_conns, backlog, docroot, args, exclude, command, config)",
                   key);
}

/* An external server: a preset fills what the entry did not give; the templates are checked and
 * the options that only our servers understand are refused. */
static int external(struct cy *y, yaml_node_t *n, struct cfg_parse *p)
{
    struct cfg_server *s = p->s;
    const struct ext_preset *pre = s->model && !s->command ? ext_preset(s->model) : NULL;
    char err[UT_ERRLEN];
    if (!s->command && s->config)
        return cy_fail(y, n, "'config' is for an external server: give its 'command' too");
    if (!s->command && !pre)
        return 0; /* one of ours */
    if (pre) {
        for (const char *const *a = pre->command; *a; a++) {
            s->command = ut_realloc(s->command, (size_t)(s->ncommand + 2) * sizeof *s->command);
            s->command[s->ncommand++] = ut_strdup(*a);
            s->command[s->ncommand] = NULL;
        }
        if (!s->config)
            s->config = ut_strdup(pre->config);
        s->http_only = pre->http_only;
    }
    if (!s->model) {
        const char *b = strrchr(s->command[0], '/');
        s->model = ut_strdup(b ? b + 1 : s->command[0]);
    }
    if (s->docroot)
        return cy_fail(y, n, "server '%s' is external: it has no --docroot (put one in its config)", s->model);
    if (p->work_us_node)
        return cy_fail(y, p->work_us_node, "server '%s' is external: it cannot burn work_us", s->model);
    if (ext_check(s, err, sizeof err) < 0)
        return cy_fail(y, n, "server '%s': %s", s->model, err);
    return 0;
}

static struct cfg_server *new_server(struct cfg *c, int line)
{
    c->srv = ut_realloc(c->srv, (size_t)(c->nsrv + 1) * sizeof *c->srv);
    struct cfg_server *s = &c->srv[c->nsrv++];
    memset(s, 0, sizeof *s);
    s->work_us = s->idle_timeout = s->max_conns = s->backlog = -1;
    s->line = line;
    return s;
}

static int server_entry(struct cy *y, yaml_node_t *n, struct cfg_parse *p)
{
    char w[80];
    if (n->type == YAML_SCALAR_NODE && !strcmp((const char *)n->data.scalar.value, "all")) {
        for (int i = 0; cfg_models[i]; i++)
            new_server(p->c, cy_line(n))->model = ut_strdup(cfg_models[i]);
        return 0;
    }
    p->s = new_server(p->c, cy_line(n));
    p->work_us_node = p->model_node = NULL;
    if (n->type == YAML_SCALAR_NODE) {
        if (cy_str(y, n, "model", &p->s->model) < 0 || check_model(y, n, p, p->s->model) < 0)
            return -1;
        return external(y, n, p);
    }
    if (n->type != YAML_MAPPING_NODE)
        return cy_fail(y, n, "a server is a model name or a mapping with model:, got %s", cy_what(n, w, sizeof w));
    if (cy_mapping(y, n, "a server", server_pair, p) < 0)
        return -1;
    if (!p->s->model && !p->s->command)
        return cy_fail(y, n, "this server has no 'model' (e.g. model: threadpool) and no 'command'");
    if (!p->s->command && check_model(y, p->model_node, p, p->s->model) < 0)
        return -1;
    if (external(y, n, p) < 0)
        return -1;
    if (p->work_us_node)
        for (int b = 0; b < p->c->nblk; b++)
            if (p->c->blk[b].ax[CFG_WORK_US].n)
                return cy_fail(y, p->work_us_node,
                               "work_us is set for this server and is also a matrix axis: keep one");
    return 0;
}

int cfg_servers(struct cy *y, yaml_node_t *v, struct cfg_parse *p)
{
    if (v->type == YAML_SCALAR_NODE)
        return server_entry(y, v, p);
    if (v->type != YAML_SEQUENCE_NODE)
        return cy_fail(y, v, "'servers' expects a list of servers (or the word all)");
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++)
        if (server_entry(y, cy_node(y, *it), p) < 0)
            return -1;
    if (p->c->nsrv == 0)
        return cy_fail(y, v, "'servers' is empty: list at least one server");
    return 0;
}
