/* row.h - from what one run observed to one runs.csv row (status and bottleneck included) and
 * its timeseries.csv lines. Pure: no processes, no clocks, so it is easy to test. */
#ifndef RUNNER_ROW_H
#define RUNNER_ROW_H

#include "acct.h"
#include "cfg.h"
#include "json.h"
#include "plan.h"
#include "results.h"
#include "util.h"

struct run_facts {
    const struct cfg *c;
    const struct plan_row *pr;
    const struct json *lg;     /* loadgen --json, NULL if missing */
    const struct json *stats;  /* server --stats, NULL if missing */
    const char *fail;          /* set: status failed, this is why */
    const char *notes;         /* appended to status_reason (e.g. "server needed SIGKILL") */
    int have_acct;             /* accounting numbers below are valid */
    double cpu_user_s, cpu_sys_s, window_s; /* server CPU over the measured window */
    long rss_peak_kb, mem_peak_kb;          /* mem < 0: not measured */
    int threads_peak, procs_peak, fds_peak;
    long long vcsw, ivcsw;
    double lg_cpu_s;           /* loadgen CPU (its whole tree, from wait4) */
    double lg_wall_s;          /* loadgen's run time */
    int server_ncpu, loadgen_ncpu;
    int lg_on_server_cpus;     /* the config put the loadgen on CPUs of the server's (a 2-CPU server) */
    double host_busy_s;        /* the server's CPUs: busy seconds over the window, any process */
};

/* The bottleneck verdict and why: "server", "loadgen" or "none". */
const char *row_bottleneck(const struct run_facts *f, char *why, size_t len);
void row_build(const struct run_facts *f, struct res_row *row);

/* Timeseries lines of one run: the loadgen's per-second file (NULL if absent) joined with the
 * server samples by second since the loadgen started (t0). */
void row_timeseries(const struct run_facts *f, const char *lg_ts_path, const struct acct_sample *s, int ns,
                    double t0, struct ut_str *out);

#endif
