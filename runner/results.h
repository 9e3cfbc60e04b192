/* results.h - the results folder of a run (docs/DESIGN.md "Results"): runs.csv and
 * timeseries.csv rewritten atomically after each complete row, meta.json, the config copy, the
 * log, hist/, and the results/latest link. */
#ifndef RUNNER_RESULTS_H
#define RUNNER_RESULTS_H

#include <stddef.h>

/* runs.csv columns, in the contract's order. The report reads them by name. */
#define RES_COLUMNS(X)                                                                              \
    X(run) X(server) X(model) X(workers) X(repeat) X(order) X(proto) X(connections) X(idle) X(size) \
    X(rate_rps) X(pipeline) X(conn_mode) X(work_us) X(loader) X(duration_s) X(probe)               \
    X(requests) X(throughput_rps) X(latency_p50_us) X(latency_p90_us) X(latency_p99_us)              \
    X(latency_p999_us) X(latency_max_us) X(latency_mean_us) X(uncorrected_p50_us)                    \
    X(uncorrected_p99_us) X(connect_p50_us) X(connect_p99_us) X(connects) X(send_lag_p99_us)         \
    X(achieved_rps)                                                                                  \
    X(err_connect) X(err_connect_timeout) X(err_reset) X(err_read) X(err_write) X(err_timeout)       \
    X(err_bad_response) X(err_mismatch) X(status_4xx) X(status_5xx) X(errors_total) X(incomplete)    \
    X(conn_requests_min) X(conn_requests_median) X(conn_requests_max) X(fairness_jain)               \
    X(conns_starved)                                                                                 \
    X(server_cpu_user_s) X(server_cpu_sys_s) X(server_cpu_cores) X(server_rss_peak_kb)               \
    X(server_mem_peak_kb) X(server_threads_peak) X(server_processes_peak) X(server_fds_peak)         \
    X(server_ctxsw_voluntary) X(server_ctxsw_involuntary) X(srv_accepted) X(srv_refused)             \
    X(srv_refused_reason) X(srv_requests) X(srv_wait_calls) X(srv_events) X(srv_eagain)              \
    X(srv_ctl_calls) X(srv_spawn_failures) X(srv_peak_conns)                                         \
    X(loadgen_cpu_s) X(loadgen_cpu_share) X(loadgen) X(bottleneck) X(status) X(status_reason)

#define RES_ENUM(n) RC_##n,
enum res_col { RES_COLUMNS(RES_ENUM) RC_N };
#undef RES_ENUM
extern const char *const res_col_names[RC_N];

#define RES_TS_HEADER "run,server,repeat,t_s,requests,throughput_rps,latency_p50_us,latency_p99_us,errors," \
                      "server_cpu_cores,server_rss_kb"

/* One runs.csv row; cells are owned strings, NULL prints as empty ("not measured"). */
struct res_row {
    char *cell[RC_N];
};
void res_set(struct res_row *r, enum res_col c, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* One cell of any table: *cell replaced by the formatted text. */
void res_cellf(char **cell, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void res_row_free(struct res_row *r);

struct res {
    char dir[1024];      /* results/<name>-<stamp> */
    char base[1024];     /* results/ */
    struct res_row *rows;
    int nrows;
    char *ts;            /* timeseries.csv body (no header) */
    size_t tslen;
};

/* Create dir (or reopen it for --resume, keeping its complete rows). config is copied in, the
 * log opened for appending. Returns 0 or -1 with err. */
int res_open(struct res *r, const char *base, const char *name, const char *config_path, const char *resume,
             char *err, size_t errlen);
/* Read dir's complete rows only (--dry-run --resume): no file is touched. */
int res_load(struct res *r, const char *dir, char *err, size_t errlen);
/* Is key already complete (a kept row that did not fail)? res_find: its index in rows, or -1. */
int res_has(const struct res *r, const char *key);
int res_find(const struct res *r, const char *key);
/* Append a complete row (taking ownership) and its timeseries lines; rewrites both files. */
int res_add(struct res *r, struct res_row *row, const char *ts_lines, char *err, size_t errlen);
/* Point base/latest at dir. */
void res_latest(const struct res *r);
/* Path of a file in the run folder. */
const char *res_path(const struct res *r, const char *name, char *buf, size_t len);
void res_close(struct res *r);

/* A CSV file of n rows of ncol cells (cells[i * ncol + c], NULL empty) under the header names,
 * written whole and renamed into place (capacity.csv, as runs.csv). Returns 0 or -1 with err. */
int res_csv_write(const char *path, const char *const *names, int ncol, char *const *cells, int n, char *err,
                  size_t errlen);

/* CSV field splitting with RFC 4180 quotes; returns the field count (fields point into line). */
int res_csv_split(char *line, char **fields, int max);

#endif
