/* agents.h - a row's load spread over several load generators, one per host of loadgen_hosts: the
 * share each gets, and the merge of their outputs into what a row of one load generator has (its
 * JSON, time series, histogram and interval log), losslessly where it can be: counts and errors
 * summed, latency percentiles from the added histograms of their interval logs, never averaged;
 * fairness recomputed over all connections; a bound where only a bound can be had (a connect
 * percentile: the largest of the agents'). agents.csv keeps one line per agent. */
#ifndef RUNNER_AGENTS_H
#define RUNNER_AGENTS_H

#include "plan.h"
#include "util.h"

#define AGENTS_MAX 16

struct agent_share {
    long connections, idle, rate;
};

/* pr's connections, idle connections and open-loop rate over n agents, the remainders to the
 * first: out[0..n). Returns how many get connections (the rest would have nothing to do). */
int agents_split(const struct plan_row *pr, int n, struct agent_share *out);

/* agents.csv columns. */
#define AGENT_COLUMNS(X)                                                                                \
    X(run) X(agent) X(host) X(placement) X(connections) X(idle) X(rate_rps) X(requests) X(requests_total)  \
    X(throughput_rps)                                                                                   \
    X(latency_p50_us) X(latency_p99_us) X(errors_total) X(cpu_share) X(bottleneck) X(window_start_unix) \
    X(start_skew_us) X(clock_offset_us) X(clock_error_us) X(runner_skew_us) X(exit)
#define AGENT_ENUM(n) AG_##n,
enum agent_col { AGENT_COLUMNS(AGENT_ENUM) AG_N };
#undef AGENT_ENUM
extern const char *const agent_col_names[AG_N];

/* One agent of a row as the merge sees it. */
struct agent_out {
    const char *host;             /* its host's name */
    char placement[512];          /* and where that is ("ssh b", "netns c") */
    char cpus[80];                /* the machine (its boot id) and CPUs it ran on: agents with */
    int ncpus;                    /* one value share those ncpus CPUs, as on a test network */
    double clock_offset_s;        /* its host's clock minus the runner's, as preflight estimated */
    double clock_err_s;           /* and +- how well */
    struct agent_share share;
    char work[1400];              /* its files here: <work>.lg.json, .ts.csv, .hlog */
    char exit[64];                /* how it ended */
};

/* Merge the n agents' files into <work>.lg.json, .ts.csv, .hgrm and .hlog (hlog is the path of
 * bin/hlog, which writes the merged log), warmup the row's nominal warmup; append each agent's
 * line (AG_N cells) to *cells. Returns 0, or -1 with err (the row then fails, naming the agent). */
int agents_merge(const char *work, const char *key, const struct agent_out *a, int n, double warmup,
                 const char *hlog, char ***cells, int *ncells, char *err, size_t errlen);

#endif
