/* run.h - one row of the plan, start to stop, and the state it lives in while it runs.
 *
 * run.c is the script of a row (start the server, wait for it to be ready, load it, collect the
 * row); child.c controls the processes (signals, waiting, stopping, killing); runloop.c is the one
 * place a row waits (signals, the server's stdout, the sampling clock); acct*.c account the
 * server's tree. Each calls only the ones after it in that list. */
#ifndef RUNNER_RUN_H
#define RUNNER_RUN_H

#include "acct.h"
#include "agents.h"
#include "cfg.h"
#include "hostcheck.h"
#include "plan.h"
#include "preflight.h"
#include "results.h"
#include "util.h"

#include <sched.h>

/* What every row of one bench run shares. */
struct run_env {
    const struct cfg *c;
    const struct pf_sys *sys;
    const char *bindir;
    struct res *res;
    int sigfd;              /* signalfd for SIGCHLD, SIGINT, SIGTERM, SIGHUP (child_signals_init) */
    int interrupted;        /* the signal that asked us to stop, 0 while running */
    int use_cgroup;
    const char *accounting; /* backend every run used, or "mixed", for meta.json */
    cpu_set_t server_cpus, loadgen_cpus;
    struct hosts_run *hosts;  /* where the server and the load generators run (hostcheck.c) */
    char **agent_cells;       /* agents.csv so far, AG_N cells a line */
    int nagent_cells;
};

/* A child of the runner: the server or the load generator, each the leader of its own group. */
struct kid {
    pid_t pid;          /* also its process group id */
    int alive;
    int status;         /* wait status once reaped */
    double t_start, t_exit;
    double cpu_s;       /* user + sys from wait4, its reaped descendants and orphans included */
};

/* One row while it runs. */
struct run {
    struct run_env *e;
    const struct plan_row *pr;  /* NULL between rows (run_pause) */
    struct kid srv;
    cpu_set_t server_cpus;      /* the row's server's CPUs (its server_cpus, or the defaults') */
    int server_ncpu;
    struct kid lg[AGENTS_MAX];  /* the load generators: one, or one per host of loadgen_hosts */
    int nlg;                    /* how many of lg are started (0 before the load) */
    int lg_stdin[AGENTS_MAX];   /* write ends of remote agents' stdin: closing one stops it (-1: none) */
    const struct host_conn *remote; /* the server's host when it is not this machine's files (ssh, exec) */
    int srv_stdin;              /* then the write end of its cmb-run's stdin: closing it stops the server */
    char rwork[1400];           /* and its files' prefix there */
    struct acct acct;
    int acct_on;                /* acct is open: close it, sample it */
    int out_fd;                 /* server stdout, -1 once closed */
    char line[1024];            /* its partial line */
    size_t linelen;
    int ready, port;            /* the ready line seen (or the port accepting), and its port */
    int sampling;               /* the 100 ms clock runs (from the server's start to its stop) */
    double next_sample, interval;
    double edge[2];             /* the loadgen's measured window: sampled at exactly these times */
    int edge_sample[2];         /* ... into these samples (-1: not yet) */
    int nedges, next_edge;
    struct acct_sample *smp;
    int nsmp, capsmp;
    struct ut_str notes;        /* for status_reason */
};

/* Run one row. Returns 0 with *row complete (failed runs included: they are results too) and
 * their timeseries lines appended to ts, or -1 when interrupted (no row; nothing left running). */
int run_row(struct run_env *e, const struct plan_row *pr, struct res_row *row, struct ut_str *ts);

/* Sleep s seconds, but return early (-1) on an interrupt; reaps strays meanwhile. */
int run_pause(struct run_env *e, double s);

/* The loadgens' state as one: alive while any is, the earliest start, the last exit, CPU summed. */
int run_lg_alive(const struct run *r);
double run_lg_start(const struct run *r);
double run_lg_exit(const struct run *r);

#endif
