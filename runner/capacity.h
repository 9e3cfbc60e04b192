/* capacity.h - a capacity search run for real: for one row of the plan (a server and a point),
 * each objective of the config's `capacity:` searched by capsearch.c, every probe a row of
 * runs.csv marked with its objective (probe), and one capacity.csv row per objective
 * (docs/DESIGN.md "Results"). Probes already in runs.csv (--resume, or another objective's
 * search at the same rate) are not run again: the search replays from them. */
#ifndef RUNNER_CAPACITY_H
#define RUNNER_CAPACITY_H

#include "run.h"

/* capacity.csv columns, in the contract's order. Those named as a runs.csv column are copied
 * from the search's closed-loop probe. */
#define CAP_COLUMNS(X)                                                                                  \
    X(server) X(model) X(workers) X(repeat) X(proto) X(connections) X(idle) X(size) X(pipeline)        \
    X(conn_mode) X(work_us) X(loader) X(objective) X(p99_max_us) X(errors_max) X(achieved_min_pct)     \
    X(resolution_pct) X(capacity_rps) X(pass_rps) X(fail_rps) X(closed_loop_rps) X(probes)             \
    X(probe_bound) X(loadgen_limited) X(ended_by) X(errors_from_model) X(fail_reason)

#define CAP_ENUM(n) CAP_##n,
enum cap_col { CAP_COLUMNS(CAP_ENUM) CAP_N };
#undef CAP_ENUM

/* capacity.csv in memory, rewritten whole after each search. */
struct cap_row {
    char *cell[CAP_N];
};
struct cap_table {
    struct cap_row *rows;
    int n;
};

/* Run one row of the plan and add it to runs.csv (bench.c: progress, cooldown, the ETA).
 * Returns 0, or -1 when interrupted. */
typedef int (*cap_row_fn)(void *arg, const struct plan_row *pr);

/* Every objective's search for the plan row pr: probes through run (or found in e->res), the
 * capacity rows appended to t and capacity.csv rewritten. *reused counts the probes found
 * already in runs.csv. Returns 0, or -1 when interrupted (t then lacks this search's rows). */
int cap_search(struct run_env *e, const struct plan_row *pr, cap_row_fn run, void *arg, struct cap_table *t,
               int *reused);
/* capacity.csv from t (its header alone when t is empty). Returns 0 or -1 with err. */
int cap_write(const struct res *r, const struct cap_table *t, char *err, size_t errlen);
void cap_table_free(struct cap_table *t);

#endif
