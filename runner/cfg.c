/* cfg.c - the experiment schema (configs/README.md): top level, defaults, matrix axes, checked
 * key by key so a typo stops the run before anything starts. Servers are in cfg_servers.c. */
#include "cfg.h"
#include "cfg_int.h"
#include "cfg_yaml.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *const cfg_axis_names[CFG_NAXES] = {
    [CFG_CONNECTIONS] = "connections", [CFG_IDLE] = "idle",         [CFG_SIZE] = "size",
    [CFG_RATE] = "rate",               [CFG_PIPELINE] = "pipeline", [CFG_CONN_MODE] = "conn_mode",
    [CFG_WORK_US] = "work_us",         [CFG_LOADER] = "loader",
};

const char *const cfg_loader_names[CFG_NLOADERS + 1] = {
    [CFG_LOADGEN] = "loadgen", [CFG_WRK] = "wrk", [CFG_H2LOAD] = "h2load", [CFG_NLOADERS] = NULL,
};

const char *cfg_conn_mode_str(long mode, char *buf, size_t len)
{
    if (mode == CFG_KEEPALIVE)
        return "keepalive";
    if (mode == CFG_CLOSE)
        return "close";
    snprintf(buf, len, "reqs=%ld", mode);
    return buf;
}

/* --- axis values ------------------------------------------------------------------------------ */

int cfg_axis_value(struct cy *y, yaml_node_t *n, enum cfg_axis a, long *out)
{
    const char *key = cfg_axis_names[a];
    switch (a) {
    case CFG_CONNECTIONS:
        return cy_long_suffix(y, n, key, 1, 1000000, 0, out);
    case CFG_IDLE:
        return cy_long_suffix(y, n, key, 0, 1000000, 0, out);
    case CFG_SIZE:
        return cy_long_suffix(y, n, key, 1, 1L << 30, 1, out);
    case CFG_RATE:
        return cy_long_suffix(y, n, key, 0, 100000000, 0, out);
    case CFG_PIPELINE:
        return cy_long(y, n, key, 1, 1024, out);
    case CFG_WORK_US:
        return cy_long(y, n, key, 0, 10000000, out);
    case CFG_LOADER: {
        int e;
        if (cy_enum(y, n, key, cfg_loader_names, &e) < 0)
            return -1;
        return (*out = e), 0;
    }
    case CFG_CONN_MODE:
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
        {
            char w[80];
            return cy_fail(y, n, "'conn_mode' expects keepalive, close or reqs=N (N > 0), got %s",
                           cy_what(n, w, sizeof w));
        }
    default:
        return -1;
    }
}

int cfg_axis_index(const char *key)
{
    for (int a = 0; a < CFG_NAXES; a++)
        if (!strcmp(key, cfg_axis_names[a]))
            return a;
    return -1;
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

const char cfg_axis_list[] = "connections, idle, size, rate, pipeline, conn_mode, work_us, loader";

/* --- defaults --------------------------------------------------------------------------------- */

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

/* An integer or the word auto (stored as 0). */
static int auto_long(struct cy *y, yaml_node_t *n, const char *key, long max, long *out)
{
    if (cy_is_auto(n))
        return (*out = 0), 0;
    return cy_long(y, n, key, 1, max, out);
}

static int defaults_pair(struct cy *y, const char *key, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    struct cfg_parse *p = arg;
    struct cfg_defaults *d = &p->c->d;
    static const char *const protos[] = {"echo", "http", NULL};
    static const char *const arrivals[] = {"constant", "poisson", NULL};
    int a = cfg_axis_index(key), e;

    if (a >= 0)
        return cfg_axis_value(y, v, (enum cfg_axis)a, &p->c->axis_default[a]);
    if (!strcmp(key, "proto")) {
        if (cy_enum(y, v, key, protos, &e) < 0)
            return -1;
        d->proto = (enum cfg_proto)e;
        return 0;
    }
    if (!strcmp(key, "arrival")) {
        if (cy_enum(y, v, key, arrivals, &e) < 0)
            return -1;
        free(d->arrival);
        d->arrival = ut_strdup(arrivals[e]);
        return 0;
    }
    if (!strcmp(key, "duration"))
        return cy_dur(y, v, key, 0.1, 86400, &d->duration);
    if (!strcmp(key, "warmup"))
        return cy_dur(y, v, key, 0, 3600, &d->warmup);
    if (!strcmp(key, "timeout"))
        return cy_dur(y, v, key, 0.001, 3600, &d->timeout);
    if (!strcmp(key, "cooldown"))
        return cy_dur(y, v, key, 0, 600, &d->cooldown);
    if (!strcmp(key, "ready_timeout"))
        return cy_dur(y, v, key, 0.1, 600, &d->ready_timeout);
    if (!strcmp(key, "stop_grace"))
        return cy_dur(y, v, key, 0.1, 60, &d->stop_grace);
    if (!strcmp(key, "repeats"))
        return cy_long(y, v, key, 1, 1000, &d->repeats);
    if (!strcmp(key, "server_cpus"))
        return cpus_value(y, v, key, &d->server_cpus);
    if (!strcmp(key, "loadgen_cpus"))
        return cpus_value(y, v, key, &d->loadgen_cpus);
    if (!strcmp(key, "runner_cpus"))
        return cpus_value(y, v, key, &d->runner_cpus);
    if (!strcmp(key, "loadgen_threads"))
        return auto_long(y, v, key, 1024, &d->loadgen_threads);
    if (!strcmp(key, "loadgen_procs"))
        return auto_long(y, v, key, 64, &d->loadgen_procs);
    if (!strcmp(key, "source_ips"))
        return auto_long(y, v, key, 250, &d->source_ips);
    if (!strcmp(key, "connect_rate"))
        return cy_long_suffix(y, v, key, 0, 100000000, 0, &d->connect_rate);
    if (!strcmp(key, "host"))
        return cy_str(y, v, key, &d->host);
    if (!strcmp(key, "path"))
        return cy_str(y, v, key, &d->path);
    if (!strcmp(key, "docroot"))
        return cy_str(y, v, key, &d->docroot);
    if (!strcmp(key, "port"))
        return cy_long(y, v, key, 0, 65535, &d->port);
    if (!strcmp(key, "workers"))
        return cy_long(y, v, key, 0, 4096, &d->workers);
    if (!strcmp(key, "idle_timeout"))
        return cy_is_auto(v) ? (d->idle_timeout = 0, 0) : cy_long(y, v, key, 1, 86400, &d->idle_timeout);
    if (!strcmp(key, "max_conns"))
        return cy_long(y, v, key, 0, 10000000, &d->max_conns);
    if (!strcmp(key, "backlog"))
        return cy_long(y, v, key, 0, 1000000, &d->backlog);
    if (!strcmp(key, "server_args"))
        return cy_strlist(y, v, key, &d->server_args, &d->nserver_args);
    if (!strcmp(key, "loadgen_args"))
        return cy_strlist(y, v, key, &d->loadgen_args, &d->nloadgen_args);
    return cy_fail(y, k,
                   "unknown key '%s' in defaults (expected proto, path, duration, warmup, repeats, timeout, "
                   "cooldown, ready_timeout, stop_grace, server_cpus, loadgen_cpus, runner_cpus, loadgen_threads, "
                   "loadgen_procs, source_ips, arrival, connect_rate, host, port, workers, idle_timeout, "
                   "max_conns, backlog, docroot, server_args, loadgen_args, or a matrix axis: %s)",
                   key, cfg_axis_list);
}

/* --- matrix and top level --------------------------------------------------------------------- */

static int block_pair(struct cy *y, const char *key, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    struct cfg_parse *p = arg;
    int a = cfg_axis_index(key);
    if (a < 0)
        return cy_fail(y, k, "unknown key '%s' in matrix (expected %s)", key, cfg_axis_list);
    return cfg_axis_values(y, v, (enum cfg_axis)a, &p->b->ax[a]);
}

static int matrix(struct cy *y, yaml_node_t *v, struct cfg_parse *p)
{
    struct cfg *c = p->c;
    yaml_node_t *one[1] = {v}, **items = one;
    int n = 1;
    if (v->type == YAML_SEQUENCE_NODE) {
        n = (int)(v->data.sequence.items.top - v->data.sequence.items.start);
        if (n == 0)
            return cy_fail(y, v, "'matrix' is an empty list");
        items = ut_calloc((size_t)n, sizeof *items);
        for (int i = 0; i < n; i++)
            items[i] = cy_node(y, v->data.sequence.items.start[i]);
    }
    c->blk = ut_calloc((size_t)n, sizeof *c->blk);
    int rc = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        p->b = &c->blk[c->nblk++];
        rc = cy_mapping(y, items[i], "matrix", block_pair, p);
    }
    if (items != one)
        free(items);
    return rc;
}

static int top_pair(struct cy *y, const char *key, yaml_node_t *k, yaml_node_t *v, void *arg)
{
    struct cfg_parse *p = arg;
    if (!strcmp(key, "name")) {
        if (cy_str(y, v, key, &p->c->name) < 0)
            return -1;
        for (const char *s = p->c->name; *s; s++)
            if (!(s[0] == '-' || s[0] == '_' || s[0] == '.' || (s[0] >= '0' && s[0] <= '9') ||
                  ((s[0] | 32) >= 'a' && (s[0] | 32) <= 'z')))
                return cy_fail(y, v, "'name' is used in the results folder name: letters, digits, - _ . only");
        return 0;
    }
    if (!strcmp(key, "description"))
        return cy_str(y, v, key, &p->c->description);
    if (!strcmp(key, "defaults"))
        return cy_mapping(y, v, "defaults", defaults_pair, p);
    if (!strcmp(key, "servers"))
        return cfg_servers(y, v, p);
    if (!strcmp(key, "matrix"))
        return matrix(y, v, p);
    return cy_fail(y, k, "unknown key '%s' at the top level (expected name, description, defaults, servers, matrix)",
                   key);
}

static void set_defaults(struct cfg *c)
{
    struct cfg_defaults *d = &c->d;
    d->proto = CFG_HTTP;
    d->path = ut_strdup("/");
    d->duration = 5;
    d->warmup = 1;
    d->timeout = 5;
    d->cooldown = 0.2;
    d->ready_timeout = 5;
    d->stop_grace = 2;
    d->repeats = 1;
    d->server_cpus = ut_strdup("0");
    d->loadgen_cpus = ut_strdup(sysconf(_SC_NPROCESSORS_ONLN) > 1 ? "1" : "0");
    d->arrival = ut_strdup("constant");
    d->host = ut_strdup("127.0.0.1");
    c->axis_default[CFG_CONNECTIONS] = 10;
    c->axis_default[CFG_SIZE] = 64;
    c->axis_default[CFG_PIPELINE] = 1;
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
    if (rc == 0 && c->nblk == 0)
        c->blk = ut_calloc(1, sizeof *c->blk), c->nblk = 1; /* no matrix: one point of the defaults */
    for (int s = 0; rc == 0 && s < c->nsrv; s++) {
        struct cfg_server *sv = &c->srv[s];
        if (!sv->name) {
            char nm[128];
            snprintf(nm, sizeof nm, sv->workers ? "%s-w%d" : "%s", sv->model, sv->workers);
            sv->name = ut_strdup(nm);
        }
        for (int o = 0; o < s; o++)
            if (!strcmp(c->srv[o].name, sv->name))
                rc = -1, snprintf(err, errlen, "%s:%d:1: server name '%s' is used twice (first at line %d): give one a name:",
                                  path, sv->line, sv->name, c->srv[o].line);
    }
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
