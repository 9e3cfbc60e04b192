/* plan.h - the run plan: the matrix expanded as a cross product (a union of them when the matrix
 * is a list), per-server exclusions and --only applied, repeats interleaved with the server order
 * rotated per repeat, and the time it should all take. */
#ifndef RUNNER_PLAN_H
#define RUNNER_PLAN_H

#include "cfg.h"

#include <stdio.h>

struct plan_row {
    int srv;                  /* index into cfg->srv */
    long ax[CFG_NAXES];       /* the point; work_us already resolved for this server */
    int repeat;               /* 1-based */
    int order;                /* 1-based position in the plan */
    char key[200];            /* unique row key: runs.csv `run`, hist/<key>.hgrm */
    int done;                 /* --resume: already complete in runs.csv, skipped */
    /* A capacity search's probe (capacity.c): the objective whose search runs it, NULL for a row
     * of the plan itself; seq numbers the probes of one search (0 for a row of the plan). */
    const char *probe;
    int seq;
    /* Filled by preflight: how the load generator is split for this point. */
    int lg_procs, lg_threads, source_ips;
};

struct plan {
    struct plan_row *rows;
    int n;
    int npoints;   /* distinct matrix points */
    int nexcluded; /* (server, point) pairs removed by exclusions */
};

/* Expand c into p. only is NULL or "name,model,..." (server names or models). Returns 0, or -1
 * with err filled (an --only name that matches no server). */
int plan_build(const struct cfg *c, const char *only, struct plan *p, char *err, size_t errlen);
void plan_free(struct plan *p);

/* Seconds a row should take, start to stop, before any run has been measured. overhead is the
 * measured per-row cost beyond warmup + duration (negative: use the built-in guess). A row of a
 * capacity search's plan stands for the search: plan_seconds counts its probe bound. */
double plan_row_seconds(const struct cfg *c, const struct plan_row *r, double overhead);
/* Rows one row of the plan may take: 1, or a capacity search's probe bound (its closed-loop
 * probe, shared by its objectives, and each objective's open-loop probes). */
int plan_row_bound(const struct cfg *c);
double plan_seconds(const struct cfg *c, const struct plan *p, int from, double overhead);

/* The plan as a table plus its totals (--dry-run). */
void plan_print(FILE *f, const struct cfg *c, const struct plan *p);

/* Row key for (server name, point, repeat). */
void plan_key(const char *server, const long ax[CFG_NAXES], int repeat, char *buf, size_t len);

#endif
