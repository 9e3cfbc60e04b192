/* cfg_servers.c - the servers list of a config: models (known from the project's list or a built
 * binary), per-server options, and the exclusions that take matrix points away from one server. */
#include "cfg_int.h"
#include "extpreset.h"
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

/* The Python models: known, not in `servers: all`. */
static const char *const cfg_py_models[] = {
#include "py-models.h"
    NULL,
};

int cfg_model_known(const char *model, const char *bindir)
{
    for (int i = 0; cfg_models[i]; i++)
        if (!strcmp(model, cfg_models[i]))
            return 1;
    for (int i = 0; cfg_py_models[i]; i++)
        if (!strcmp(model, cfg_py_models[i]))
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
    const struct cfg_key *ck = cfg_key_want(y, k, cfg_axis_keys, CFG_NAXES, key, "in exclude", "a matrix axis: ");
    if (!ck)
        return -1;
    int a = (int)(ck - cfg_axis_keys);
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
    int n, rc = 0;
    yaml_node_t **items = cfg_items(y, v, &n);
    s->excl = ut_calloc((size_t)n + 1, sizeof *s->excl);
    for (int i = 0; i < n && rc == 0; i++) {
        p->e = &s->excl[s->nexcl++];
        rc = cy_mapping(y, items[i], "exclude", excl_pair, p);
    }
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
    for (int i = 0; cfg_py_models[i]; i++)
        ut_str_addf(&known, ", %s", cfg_py_models[i]);
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
    const struct cfg_key *ck = cfg_key_want(y, k, cfg_server_keys, cfg_nserver_keys, key, "in a server", "");
    if (!ck)
        return -1;
    if (ck->type == CT_EXCLUDE)
        return exclusions(y, v, p);
    if (cfg_set(y, v, ck, s) < 0)
        return -1;
    /* Where model and work_us were given: checked once the whole entry is known (with a
     * command, the model is only a label; an external server burns no work_us). */
    if (&s->model == cfg_field(s, ck))
        p->model_node = v;
    if (&s->work_us == cfg_field(s, ck))
        p->work_us_node = v;
    if (&s->command == cfg_field(s, ck) && !s->ncommand)
        return cy_fail(y, v, "'command' is empty: give the program and its arguments");
    return 0;
}

static struct cfg_server *new_server(struct cfg *c, int line)
{
    c->srv = ut_realloc(c->srv, (size_t)(c->nsrv + 1) * sizeof *c->srv);
    struct cfg_server *s = &c->srv[c->nsrv++];
    memset(s, 0, sizeof *s);
    cfg_set_defaults(cfg_server_keys, cfg_nserver_keys, s);
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
        return ext_resolve(y, n, p);
    }
    if (n->type != YAML_MAPPING_NODE)
        return cy_fail(y, n, "a server is a model name or a mapping with model:, got %s", cy_what(n, w, sizeof w));
    if (cy_mapping(y, n, "a server", server_pair, p) < 0)
        return -1;
    if (!p->s->model && !p->s->command)
        return cy_fail(y, n, "this server has no 'model' (e.g. model: threadpool) and no 'command'");
    if (!p->s->command && check_model(y, p->model_node, p, p->s->model) < 0)
        return -1;
    if (ext_resolve(y, n, p) < 0)
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
