/* loader.h - the load generators a point can be measured with (the `loader` axis): the project's
 * loadgen, wrk and h2load, each a table of what it can measure, how it is started and how its
 * output becomes the loadgen's JSON that row.c reads. run.c starts them all the same way: pinned
 * to loadgen_cpus, in their own process group, bounded in time. */
#ifndef RUNNER_LOADER_H
#define RUNNER_LOADER_H

#include "agents.h"
#include "cfg.h"
#include "plan.h"
#include "spawn.h"
#include "util.h"

#include <stddef.h>

/* What one invocation needs to build its command line. */
struct loader_ctx {
    const struct cfg *c;
    const struct plan_row *pr;
    const char *bindir;    /* where bin/loadgen is */
    int port;              /* the server's */
    const char *work;      /* prefix of its output files: <run>/.work/<row key> */
    double seconds;        /* how long it runs: duration, or warmup for a warm-up run */
    const char *host;      /* the server's address as this load generator reaches it; NULL: defaults.host */
    /* One agent of several (agents.c): its share of the point, the wall-clock instant its window
     * opens (loadgen --start-at), and an interval log to merge (--hlog). NULL / 0: the whole row. */
    const struct agent_share *share;
    double start_at;
    int hlog;
};

struct loader {
    const char *name;
    const char *program;   /* looked up on PATH; NULL: bindir/loadgen */
    /* 1: it warms up itself and measures after (loadgen --warmup, h2load --warm-up-time); 0: the
     * runner first runs it for `warmup` seconds and throws that run away (wrk has no warm-up). */
    int own_warmup;
    /* Why it cannot measure this point of c, into buf; NULL when it can. */
    const char *(*unsupported)(const struct cfg *c, const long ax[CFG_NAXES], char *buf, size_t len);
    /* Its command line (argv[0] resolved by the caller when program is set). */
    void (*argv)(const struct loader_ctx *x, struct spawn_argv *a);
    /* NULL: it writes <work>.lg.json itself; else its stdout (<work>.out) into that JSON. */
    int (*to_json)(const char *text, struct ut_str *json, char *err, size_t errlen);
};

/* Indexed by enum cfg_loader. */
extern const struct loader *const loaders[CFG_NLOADERS];

static inline const struct loader *loader_of(const struct plan_row *pr)
{
    return loaders[pr->ax[CFG_LOADER]];
}

/* The executable of l into buf (bindir/loadgen, or the program found on PATH); 0, or -1 when it
 * is not there (buf then names what was looked for). */
int loader_path(const struct loader *l, const char *bindir, char *buf, size_t len);

#endif
