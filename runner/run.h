/* run.h - one row of the plan, start to stop: port check, server in its own group and cgroup,
 * ready line, pinned load generator, sampling every 100 ms, SIGTERM then SIGKILL, stats, row. */
#ifndef RUNNER_RUN_H
#define RUNNER_RUN_H

#include "cfg.h"
#include "plan.h"
#include "preflight.h"
#include "results.h"

#include <sched.h>

struct run_env {
    const struct cfg *c;
    const struct pf_sys *sys;
    const char *bindir;
    struct res *res;
    int sigfd;              /* signalfd for SIGCHLD, SIGINT, SIGTERM, SIGHUP */
    int interrupted;        /* the signal that asked us to stop, 0 while running */
    int use_cgroup;
    const char *accounting; /* backend the last run used, for meta.json */
    cpu_set_t server_cpus, loadgen_cpus;
};

/* Block the signals the runner reads through a signalfd, become a child subreaper (so orphans of
 * a server come back to us, are reaped and accounted) and return the fd, or -1. */
int run_signals_init(char *err, size_t errlen);

/* Run one row. Returns 0 with *row complete (failed runs included: they are results too) and
 * their timeseries lines appended to ts, or -1 when interrupted (no row; nothing left running). */
int run_row(struct run_env *e, const struct plan_row *pr, struct res_row *row, struct ut_str *ts);

/* Sleep s seconds, but return early (-1) on an interrupt; reaps strays meanwhile. */
int run_pause(struct run_env *e, double s);

#endif
