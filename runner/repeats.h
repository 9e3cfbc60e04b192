/* repeats.h - repeats: auto. The plan runs every row repeats_min times (interleaved as any
 * repeats are); then, round after round, every (server, point) whose 95 % bootstrap interval of
 * the median is still wider than the target, on any column of repeats_on, runs once more -- the
 * rows left interleaved, their order rotated each round -- until each is narrow, has run
 * repeats_max times, or the budget would be passed. meta.json says how many each ran and why it
 * stopped (docs/DESIGN.md "Results"). */
#ifndef RUNNER_REPEATS_H
#define RUNNER_REPEATS_H

#include "plan.h"
#include "results.h"
#include "util.h"

enum rep_stop { REP_RUNNING, REP_NARROW, REP_MAX, REP_BUDGET, REP_NO_FIGURE, REP_INTERRUPTED, REP_NSTOPS };
extern const char *const rep_stop_names[REP_NSTOPS];

#define REP_COLS 16 /* columns of repeats_on at most (the key's choices) */

/* A (server, point) of the plan: its first repeat's row, how many ran, and its state. */
struct rep_pair {
    int row;                   /* index in the plan of its repeat-1 row */
    int repeats;               /* repeats run (or kept) so far */
    enum rep_stop stop;
    double half_pct[REP_COLS]; /* per column of repeats_on: the interval's half-width, % of the median (-1: none) */
    int worst;                 /* the column furthest from narrow */
};

struct rep_state {
    struct rep_pair *pairs;
    int npairs, rounds;        /* rounds beyond the plan's first repeats_min */
    int cols[REP_COLS];        /* repeats_on as runs.csv columns */
    int ncols;
    struct plan_row *round;    /* the rows of the round under way */
};

/* The pairs of p (auto repeats: c->d.repeats == 0). */
void rep_init(struct rep_state *st, const struct cfg *c, const struct plan *p);
/* Decide every running pair from the rows res holds, then the next round: its rows into
 * st->round (*n of them, 0 when every pair has stopped). elapsed is the run's time so far,
 * overhead the measured cost of a row beyond its load (plan_row_seconds). */
int rep_next(struct rep_state *st, const struct cfg *c, const struct plan *p, const struct res *res, double elapsed,
             double overhead);
/* Every pair still running stops as interrupted, its repeats those runs.csv holds. */
void rep_interrupted(struct rep_state *st, const struct cfg *c, const struct plan *p, const struct res *res);
/* meta.json's "repeats" object. */
void rep_json(const struct rep_state *st, const struct cfg *c, const struct plan *p, struct ut_str *o);
void rep_free(struct rep_state *st);

/* The 95 % percentile-bootstrap interval of the median of v[0..n) (2000 resamples, a fixed seed,
 * the report's method, report/bootstrap.py): its half-width as a share of |median| into *half
 * (0 when every value is 0, HUGE_VAL when only the median is), the median into *med. */
void rep_interval(const double *v, int n, double *med, double *half);

#endif
