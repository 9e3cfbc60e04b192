/* runloop.h - the event loop one run waits in: signals (children exiting, Ctrl-C) through a
 * signalfd, the server's stdout (its ready line), and the 100 ms sampling clock. Everything that
 * waits in the runner waits here, so an interrupt is seen within one poll. */
#ifndef RUNNER_RUNLOOP_H
#define RUNNER_RUNLOOP_H

#include "acct.h"
#include "run.h"
#include "util.h"

struct kid {
    pid_t pid;          /* also its process group id */
    int alive;
    int status;         /* wait status once reaped */
    double t_start, t_exit;
    double cpu_s;       /* user + sys from wait4, its reaped descendants and orphans included */
};

struct run {
    struct run_env *e;
    const struct plan_row *pr;
    struct kid srv, lg;
    struct acct acct;
    int acct_on;
    int out_fd;                 /* server stdout, -1 once closed */
    char line[1024];
    size_t linelen;
    int ready, port;
    int sampling;
    double next_sample, interval;
    double edge[2];             /* the loadgen's measured window: sampled at exactly these times */
    int edge_sample[2];         /* ... into these samples (-1: not yet) */
    int nedges, next_edge;
    struct acct_sample *smp;
    int nsmp, capsmp;
    struct ut_str notes;        /* for status_reason */
};

#define RUN_SAMPLE_S 0.1

/* Wait for one batch of events, at most until `until`. */
void rl_pump(struct run *r, double until);
/* Take a sample now (also called by the pump on the sampling clock); the per-process scan stops
 * at `deadline` (0: tree-wide counters only). Returns its index. */
int rl_sample(struct run *r, double deadline);
/* No process of the server's tree (cgroup or group) and of the loadgen's group is left. */
int rl_tree_empty(struct run *r);
/* Add a note to the row's status_reason and the log. */
void rl_note(struct run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Describe a wait status: "exit 1", "signal 11 (Segmentation fault)". */
const char *rl_status_str(int status, char *buf, size_t len);

#endif
