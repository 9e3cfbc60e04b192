/* capsearch.h - the capacity search, pure: the highest open-loop rate that meets an objective,
 * found through a probe callback (the runner measures a window; a unit test simulates a server).
 * No processes, clocks or files: every decision is a function of the probes' verdicts, so a
 * search given the same verdicts asks for the same rates (--resume replays a search from kept
 * rows), and the number of probes is bounded whatever the verdicts are. */
#ifndef RUNNER_CAPSEARCH_H
#define RUNNER_CAPSEARCH_H

/* What one probe found, as the search sees it. */
struct cs_obs {
    int pass;      /* the rate met the objective (open loop); unused for the closed-loop probe */
    int loadgen;   /* the load generator was saturated: a failure may be its own, not the server's */
    int failed;    /* no result at all (the row failed): a failure */
    double rps;    /* the closed-loop probe: its throughput, the search's upper bound */
};

/* Measure rate (0: the closed-loop probe) into *o; again 1: once more, a new window, to confirm
 * a pass (0: a window already measured at rate may answer). Returns 0, or -1 to stop the search
 * at once (interrupted). */
typedef int (*cs_probe_fn)(void *arg, long rate, int again, struct cs_obs *o);

struct cs_params {
    double resolution; /* stop when fail - pass <= resolution * pass (a fraction: 0.05) */
    int max_probes;    /* open-loop probes at most, the closed-loop one not counted */
    int max_down;      /* halvings below the bound before the capacity is called 0 */
    int max_up;        /* steps of a quarter above the bound while everything passes */
};

/* A verdict already known for this objective (another objective's probe at the same point):
 * it narrows the first bracket and costs no probe. */
struct cs_known {
    long rate;
    int pass, loadgen;
};

enum cs_end {
    CS_RESOLVED,    /* the bracket is within the resolution */
    CS_LOWEST,      /* it failed even at the lowest rate tried: capacity 0, bracket from 0 */
    CS_NO_FAIL,     /* nothing failed up to the highest rate tried (max_up steps) */
    CS_LOADGEN,     /* every rate passed up to one where the load generator was saturated */
    CS_PROBE_BOUND, /* max_probes spent before the resolution */
    CS_NO_BOUND,    /* the closed-loop probe gave no result or no throughput: no search */
    CS_STOPPED,     /* the callback asked to stop */
};
extern const char *const cs_end_names[]; /* by enum cs_end: how capacity.csv says it */

struct cs_result {
    long capacity;       /* the highest passing rate, 0 when none passed */
    long pass, fail;     /* the bracket: pass 0 = from zero; fail 0 = no rate failed */
    long bound;          /* the closed-loop throughput, rounded */
    int probes;          /* probes made (the closed-loop one included) */
    int loadgen_limited; /* the load generator limited the result (see cs_search) */
    enum cs_end end;
};

/* The search: a closed-loop probe for the bound B; then open-loop probes at B, halving below
 * while they fail (max_down times at most), a quarter more a step above while they pass (max_up
 * times); then
 * bisection of [pass, fail] down to the resolution. Probes only ever fall inside the current
 * bracket, so it stays consistent (pass < fail) however noisy the verdicts are. The capacity is
 * a pass confirmed by a second window at its rate: a pass at the edge that does not hold becomes
 * the failing end, the highest pass below it the passing one, and the search goes on (within
 * max_probes; a result the probes ran out before confirming ends by CS_PROBE_BOUND). loadgen_limited
 * is set when the lowest failing probe had a saturated load generator, or when nothing failed
 * and the highest pass or the bound did. known (n of them) seed the bracket. Returns 0, or -1
 * when stopped (r holds what was found so far). */
int cs_search(const struct cs_params *p, const struct cs_known *known, int nknown, cs_probe_fn fn, void *arg,
              struct cs_result *r);

/* The most probes a search with p can make, the closed-loop one included. */
int cs_probe_bound(const struct cs_params *p);

#endif
