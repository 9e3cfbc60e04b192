/* loader.c - the three load generators (loader.h): their limits, command lines and output. wrk
 * and h2load measure closed-loop keep-alive HTTP only; their summaries are read by peerout.c. */
#include "loader.h"
#include "extsrv.h"
#include "peerout.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int loader_path(const struct loader *l, const char *bindir, char *buf, size_t len)
{
    if (!l->program) {
        snprintf(buf, len, "%s/loadgen", bindir);
        return access(buf, X_OK);
    }
    return ext_which(l->program, buf, len);
}

/* --- loadgen: everything the matrix can ask ------------------------------------------------- */

static const char *loadgen_unsupported(const struct cfg *c, const long ax[CFG_NAXES], char *buf, size_t len)
{
    return NULL;
}

static void loadgen_argv(const struct loader_ctx *x, struct spawn_argv *a)
{
    const struct cfg *c = x->c;
    const struct plan_row *pr = x->pr;
    char mode[32];
    long conns = x->share ? x->share->connections : pr->ax[CFG_CONNECTIONS];
    long idle = x->share ? x->share->idle : pr->ax[CFG_IDLE], rate = x->share ? x->share->rate : pr->ax[CFG_RATE];
    spawn_arg(a, "%s/loadgen", x->bindir);
    spawn_arg(a, "--target"), spawn_arg(a, "%s:%d", x->host ? x->host : c->d.host, x->port);
    spawn_arg(a, "--proto"), spawn_arg(a, "%s", cfg_proto_names[c->d.proto]);
    if (c->d.proto == CFG_HTTP)
        spawn_arg(a, "--path"), spawn_arg(a, "%s", c->d.path);
    spawn_arg(a, "--connections"), spawn_arg(a, "%ld", conns);
    spawn_arg(a, "--idle"), spawn_arg(a, "%ld", idle);
    spawn_arg(a, "--threads"), spawn_arg(a, "%d", pr->lg_threads);
    spawn_arg(a, "--procs"), spawn_arg(a, "%d", pr->lg_procs);
    spawn_arg(a, "--duration"), spawn_arg(a, "%g", x->seconds);
    spawn_arg(a, "--warmup"), spawn_arg(a, "%g", c->d.warmup);
    spawn_arg(a, "--rate"), spawn_arg(a, "%ld", rate);
    if (rate)
        spawn_arg(a, "--arrival"), spawn_arg(a, "%s", c->d.arrival);
    spawn_arg(a, "--size"), spawn_arg(a, "%ld", pr->ax[CFG_SIZE]);
    spawn_arg(a, "--pipeline"), spawn_arg(a, "%ld", pr->ax[CFG_PIPELINE]);
    spawn_arg(a, "--conn-mode"), spawn_arg(a, "%s", cfg_conn_mode_str(pr->ax[CFG_CONN_MODE], mode, sizeof mode));
    spawn_arg(a, "--timeout"), spawn_arg(a, "%g", c->d.timeout);
    if (c->d.connect_rate)
        spawn_arg(a, "--connect-rate"), spawn_arg(a, "%ld", c->d.connect_rate);
    if (pr->source_ips > 1 && !x->share) /* loopback addresses: for a server on this machine's loopback */
        spawn_arg(a, "--source-ips"), spawn_arg(a, "127.0.0.1-127.0.0.%d", pr->source_ips);
    spawn_arg(a, "--json"), spawn_arg(a, "%s.lg.json", x->work);
    spawn_arg(a, "--timeseries"), spawn_arg(a, "%s.ts.csv", x->work);
    spawn_arg(a, "--hist"), spawn_arg(a, "%s.hgrm", x->work);
    if (x->hlog)
        spawn_arg(a, "--hlog"), spawn_arg(a, "%s.hlog", x->work);
    if (x->start_at > 0)
        spawn_arg(a, "--start-at"), spawn_arg(a, "%.6f", x->start_at);
    for (int i = 0; i < c->d.nloadgen_args; i++)
        spawn_arg(a, "%s", c->d.loadgen_args[i]);
}

static const struct loader loadgen = {
    .name = "loadgen",
    .program = NULL,
    .own_warmup = 1,
    .unsupported = loadgen_unsupported,
    .argv = loadgen_argv,
    .to_json = NULL,
};

/* --- wrk and h2load: closed-loop keep-alive HTTP ------------------------------------------- */

/* What neither can do. */
static const char *http_closed_loop(const char *name, const struct cfg *c, const long ax[CFG_NAXES], char *buf,
                                    size_t len)
{
    const char *what = NULL;
    if (c->d.proto != CFG_HTTP)
        what = "proto echo";
    else if (ax[CFG_RATE])
        what = "an open loop (rate > 0)";
    else if (ax[CFG_CONN_MODE] != CFG_KEEPALIVE)
        what = "new connections per request (conn_mode)";
    else if (ax[CFG_IDLE])
        what = "idle connections";
    if (!what)
        return NULL;
    snprintf(buf, len, "%s measures closed-loop keep-alive HTTP only, not %s", name, what);
    return buf;
}

static const char *wrk_unsupported(const struct cfg *c, const long ax[CFG_NAXES], char *buf, size_t len)
{
    if (http_closed_loop("wrk", c, ax, buf, len))
        return buf;
    if (ax[CFG_PIPELINE] != 1)
        snprintf(buf, len, "wrk sends one request at a time per connection (pipeline 1), not %ld", ax[CFG_PIPELINE]);
    else if (c->d.duration != floor(c->d.duration) || c->d.warmup != floor(c->d.warmup))
        snprintf(buf, len, "wrk runs whole seconds: duration %g and warmup %g must be whole", c->d.duration,
                 c->d.warmup);
    else
        return NULL;
    return buf;
}

static void url(const struct loader_ctx *x, struct spawn_argv *a)
{
    spawn_arg(a, "http://%s:%d%s", x->c->d.host, x->port, x->c->d.path);
}

/* --latency prints its percentiles; --timeout as ours (whole seconds, rounded up). */
static void wrk_argv(const struct loader_ctx *x, struct spawn_argv *a)
{
    spawn_arg(a, "wrk");
    spawn_arg(a, "--latency");
    spawn_arg(a, "--threads"), spawn_arg(a, "%d", x->pr->lg_threads);
    spawn_arg(a, "--connections"), spawn_arg(a, "%ld", x->pr->ax[CFG_CONNECTIONS]);
    spawn_arg(a, "--duration"), spawn_arg(a, "%.0fs", x->seconds);
    spawn_arg(a, "--timeout"), spawn_arg(a, "%.0fs", ceil(x->c->d.timeout));
    url(x, a);
}

static const struct loader wrk = {
    .name = "wrk",
    .program = "wrk",
    .own_warmup = 0,
    .unsupported = wrk_unsupported,
    .argv = wrk_argv,
    .to_json = peer_wrk_json,
};

static const char *h2load_unsupported(const struct cfg *c, const long ax[CFG_NAXES], char *buf, size_t len)
{
    return http_closed_loop("h2load", c, ax, buf, len);
}

/* --h1: HTTP/1.1 (it would try h2c otherwise); -m: requests in flight per connection, i.e. the
 * pipeline depth over HTTP/1.1; durations in milliseconds, as it takes no fractions. */
static void h2load_argv(const struct loader_ctx *x, struct spawn_argv *a)
{
    spawn_arg(a, "h2load");
    spawn_arg(a, "--h1");
    spawn_arg(a, "--threads"), spawn_arg(a, "%d", x->pr->lg_threads);
    spawn_arg(a, "--clients"), spawn_arg(a, "%ld", x->pr->ax[CFG_CONNECTIONS]);
    spawn_arg(a, "--max-concurrent-streams"), spawn_arg(a, "%ld", x->pr->ax[CFG_PIPELINE]);
    spawn_arg(a, "--duration"), spawn_arg(a, "%.0fms", x->seconds * 1000);
    spawn_arg(a, "--warm-up-time"), spawn_arg(a, "%.0fms", x->c->d.warmup * 1000);
    url(x, a);
}

static const struct loader h2load = {
    .name = "h2load",
    .program = "h2load",
    .own_warmup = 1,
    .unsupported = h2load_unsupported,
    .argv = h2load_argv,
    .to_json = peer_h2load_json,
};

const struct loader *const loaders[CFG_NLOADERS] = {
    [CFG_LOADGEN] = &loadgen,
    [CFG_WRK] = &wrk,
    [CFG_H2LOAD] = &h2load,
};
