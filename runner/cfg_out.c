/* cfg_out.c - what the rest of the runner asks of a parsed config: effective per-server settings,
 * the normalized JSON kept in meta.json, and freeing. */
#include "cfg.h"
#include "util.h"

#include <math.h>
#include <stdlib.h>

long cfg_srv_idle_timeout(const struct cfg *c, const struct cfg_server *s)
{
    if (s->idle_timeout > 0)
        return s->idle_timeout;
    if (c->d.idle_timeout > 0)
        return c->d.idle_timeout;
    /* auto: idle connections must outlive the whole run, or the idle experiment measures the
     * server's timer instead of its cost of holding them. */
    return (long)ceil(c->d.warmup + c->d.duration + c->d.timeout) + 30;
}

static void json_strs(struct ut_str *o, const char *key, char **v, int n)
{
    ut_str_addf(o, ",\"%s\":[", key);
    for (int i = 0; i < n; i++) {
        if (i)
            ut_str_add(o, ",");
        ut_str_json(o, v[i]);
    }
    ut_str_add(o, "]");
}

static void json_values(struct ut_str *o, const struct cfg_values *v, int axis)
{
    char buf[32];
    ut_str_add(o, "[");
    for (int i = 0; i < v->n; i++) {
        if (axis == CFG_CONN_MODE)
            ut_str_addf(o, "%s\"%s\"", i ? "," : "", cfg_conn_mode_str(v->v[i], buf, sizeof buf));
        else if (axis == CFG_LOADER)
            ut_str_addf(o, "%s\"%s\"", i ? "," : "", cfg_loader_names[v->v[i]]);
        else
            ut_str_addf(o, "%s%ld", i ? "," : "", v->v[i]);
    }
    ut_str_add(o, "]");
}

void cfg_to_json(const struct cfg *c, struct ut_str *o)
{
    const struct cfg_defaults *d = &c->d;
    char buf[32];
    ut_str_add(o, "{\"name\":");
    ut_str_json(o, c->name);
    ut_str_add(o, ",\"description\":");
    ut_str_json(o, c->description ? c->description : "");
    ut_str_addf(o, ",\"file\":");
    ut_str_json(o, c->path);
    ut_str_addf(o, ",\"defaults\":{\"proto\":\"%s\",\"path\":", d->proto == CFG_HTTP ? "http" : "echo");
    ut_str_json(o, d->path);
    ut_str_addf(o, ",\"duration_s\":%g,\"warmup_s\":%g,\"timeout_s\":%g,\"cooldown_s\":%g,"
                   "\"ready_timeout_s\":%g,\"stop_grace_s\":%g,\"repeats\":%ld,",
                d->duration, d->warmup, d->timeout, d->cooldown, d->ready_timeout, d->stop_grace, d->repeats);
    ut_str_addf(o, "\"runner_cpus\":\"%s\",", d->runner_cpus ? d->runner_cpus : d->loadgen_cpus);
    ut_str_addf(o, "\"server_cpus\":\"%s\",\"loadgen_cpus\":\"%s\",\"loadgen_threads\":%ld,"
                   "\"loadgen_procs\":%ld,\"source_ips\":%ld,\"arrival\":\"%s\",\"connect_rate\":%ld,",
                d->server_cpus, d->loadgen_cpus, d->loadgen_threads, d->loadgen_procs, d->source_ips,
                d->arrival, d->connect_rate);
    ut_str_add(o, "\"host\":");
    ut_str_json(o, d->host);
    ut_str_addf(o, ",\"port\":%ld,\"workers\":%ld,\"idle_timeout\":%ld,\"max_conns\":%ld,\"backlog\":%ld",
                d->port, d->workers, d->idle_timeout, d->max_conns, d->backlog);
    json_strs(o, "server_args", d->server_args, d->nserver_args);
    json_strs(o, "loadgen_args", d->loadgen_args, d->nloadgen_args);
    for (int a = 0; a < CFG_NAXES; a++) {
        if (a == CFG_CONN_MODE)
            ut_str_addf(o, ",\"%s\":\"%s\"", cfg_axis_names[a], cfg_conn_mode_str(c->axis_default[a], buf, sizeof buf));
        else if (a == CFG_LOADER)
            ut_str_addf(o, ",\"%s\":\"%s\"", cfg_axis_names[a], cfg_loader_names[c->axis_default[a]]);
        else
            ut_str_addf(o, ",\"%s\":%ld", cfg_axis_names[a], c->axis_default[a]);
    }
    ut_str_add(o, "},\"servers\":[");
    for (int i = 0; i < c->nsrv; i++) {
        const struct cfg_server *s = &c->srv[i];
        ut_str_add(o, i ? ",{\"name\":" : "{\"name\":");
        ut_str_json(o, s->name);
        ut_str_add(o, ",\"model\":");
        ut_str_json(o, s->model);
        ut_str_addf(o, ",\"workers\":%d,\"work_us\":%ld,\"idle_timeout\":%ld,\"exclusions\":%d", s->workers,
                    s->work_us, cfg_srv_idle_timeout(c, s), s->nexcl);
        json_strs(o, "args", s->args, s->nargs);
        if (cfg_srv_external(s)) {
            json_strs(o, "command", s->command, s->ncommand);
            ut_str_add(o, ",\"config\":");
            ut_str_json(o, s->config ? s->config : "");
        }
        ut_str_add(o, "}");
    }
    ut_str_add(o, "],\"matrix\":[");
    for (int b = 0; b < c->nblk; b++) {
        ut_str_add(o, b ? ",{" : "{");
        int first = 1;
        for (int a = 0; a < CFG_NAXES; a++) {
            if (!c->blk[b].ax[a].n)
                continue;
            ut_str_addf(o, "%s\"%s\":", first ? "" : ",", cfg_axis_names[a]);
            json_values(o, &c->blk[b].ax[a], a);
            first = 0;
        }
        ut_str_add(o, "}");
    }
    ut_str_add(o, "]}");
}

static void free_strs(char **v, int n)
{
    for (int i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

void cfg_free(struct cfg *c)
{
    struct cfg_defaults *d = &c->d;
    free(d->path), free(d->server_cpus), free(d->loadgen_cpus), free(d->runner_cpus), free(d->arrival), free(d->host);
    free(d->docroot);
    free_strs(d->server_args, d->nserver_args);
    free_strs(d->loadgen_args, d->nloadgen_args);
    for (int i = 0; i < c->nsrv; i++) {
        struct cfg_server *s = &c->srv[i];
        free(s->name), free(s->model), free(s->docroot), free(s->config);
        free_strs(s->args, s->nargs);
        free_strs(s->command, s->ncommand);
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
    free(c->path), free(c->name), free(c->description);
}
