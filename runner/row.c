/* row.c - one runs.csv row from a run's facts: parameters, loadgen numbers, server accounting and
 * counters, then the status and the bottleneck verdict; plus the per-second timeseries. */
#include "row.h"
#include "../loadgen/saturated.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A number from the loadgen or server JSON; absent stays empty ("not measured"). */
static void jcell(struct res_row *r, enum res_col c, const struct json *j, const char *path, int decimals)
{
    double v;
    if (!j || json_num(j, path, &v) < 0)
        return;
    if (decimals == 0 || v == floor(v))
        res_set(r, c, "%.0f", v);
    else
        res_set(r, c, "%.*f", decimals, v);
}

static double jnum(const struct json *j, const char *path, double dflt)
{
    double v;
    return j && json_num(j, path, &v) == 0 ? v : dflt;
}

/* The loadgen judges its own saturation (CPU share, open-loop send lag; of agents, also theirs
 * together on one machine's CPUs); we check the share too. 1 with why when it was saturated. */
static int loadgen_saturated(const struct run_facts *f, char *why, size_t len)
{
    const char *lb = json_str(f->lg, "bottleneck");
    const char *lr = json_str(f->lg, "bottleneck_reason");
    if (lb && !strcmp(lb, "loadgen")) {
        snprintf(why, len, "loadgen: %s", lr && *lr ? lr : "saturated");
        return 1;
    }
    double share = jnum(f->lg, "cpu.share", -1);
    if (share < 0 && f->lg_wall_s > 0 && f->loadgen_ncpu > 0)
        share = f->lg_cpu_s / (f->lg_wall_s * f->loadgen_ncpu);
    if (share >= CPU_SATURATED) {
        snprintf(why, len, "loadgen CPU share %.2f", share);
        return 1;
    }
    return 0;
}

const char *row_bottleneck(const struct run_facts *f, char *why, size_t len)
{
    why[0] = '\0';
    if (f->fail || !f->lg)
        return NULL;
    /* The server is saturated when it used (nearly) all the CPU it could: its CPU set, or fewer
     * CPUs when it has fewer tasks than that (a single-threaded loop saturates one core). */
    if (f->have_acct && f->window_s > 0) {
        double cores = (f->cpu_user_s + f->cpu_sys_s) / f->window_s;
        int ncpu = f->server_ncpu > 0 ? f->server_ncpu : 1, cap = ncpu;
        if (f->threads_peak > 0 && f->threads_peak < cap)
            cap = f->threads_peak;
        if (cores >= CPU_SATURATED * cap) {
            snprintf(why, len, "server used %.2f of its %d CPU(s)", cores, cap);
            return "server";
        }
        /* On a shared machine others may fill the server's CPUs: saturated all the same. */
        double busy = f->host_busy_s / f->window_s;
        if (busy >= CPU_SATURATED * ncpu) {
            snprintf(why, len, "the server's %d CPU(s) were %.0f%% busy, %.2f CPU of it other processes", ncpu,
                     100 * busy / ncpu, busy - cores > 0 ? busy - cores : 0);
            return "server";
        }
    }
    return loadgen_saturated(f, why, len) ? "loadgen" : "none";
}

static void params(const struct run_facts *f, struct res_row *r)
{
    const struct cfg *c = f->c;
    const struct plan_row *p = f->pr;
    const struct cfg_server *s = &c->srv[p->srv];
    char mode[32];
    long workers = cfg_srv_effective(c, s).workers;
    res_set(r, RC_run, "%s", p->key);
    res_set(r, RC_server, "%s", s->name);
    res_set(r, RC_model, "%s", s->model);
    if (workers)
        res_set(r, RC_workers, "%ld", workers);
    res_set(r, RC_repeat, "%d", p->repeat);
    res_set(r, RC_order, "%d", p->order);
    res_set(r, RC_proto, "%s", cfg_proto_names[c->d.proto]);
    res_set(r, RC_connections, "%ld", p->ax[CFG_CONNECTIONS]);
    res_set(r, RC_idle, "%ld", p->ax[CFG_IDLE]);
    res_set(r, RC_size, "%ld", p->ax[CFG_SIZE]);
    res_set(r, RC_rate_rps, "%ld", p->ax[CFG_RATE]);
    res_set(r, RC_pipeline, "%ld", p->ax[CFG_PIPELINE]);
    res_set(r, RC_conn_mode, "%s", cfg_conn_mode_str(p->ax[CFG_CONN_MODE], mode, sizeof mode));
    res_set(r, RC_work_us, "%ld", p->ax[CFG_WORK_US]);
    res_set(r, RC_loader, "%s", cfg_loader_names[p->ax[CFG_LOADER]]);
    res_set(r, RC_duration_s, "%g", c->d.duration);
    if (p->probe)
        res_set(r, RC_probe, "%s", p->probe);
    if (p->ax[CFG_LOADER] == CFG_LOADGEN)
        res_set(r, RC_loadgen, "procs=%d threads=%d ips=%d", p->lg_procs, p->lg_threads, p->source_ips);
    else
        res_set(r, RC_loadgen, "threads=%d", p->lg_threads);
}

static void loadgen_cells(const struct json *j, struct res_row *r)
{
    static const struct {
        enum res_col col;
        const char *path;
        int dec;
    } map[] = {
        {RC_requests, "requests", 0},           {RC_throughput_rps, "throughput_rps", 1},
        {RC_latency_p50_us, "latency_us.p50", 1}, {RC_latency_p90_us, "latency_us.p90", 1},
        {RC_latency_p99_us, "latency_us.p99", 1}, {RC_latency_p999_us, "latency_us.p999", 1},
        {RC_latency_max_us, "latency_us.max", 1}, {RC_latency_mean_us, "latency_us.mean", 1},
        {RC_uncorrected_p50_us, "latency_uncorrected_us.p50", 1},
        {RC_uncorrected_p99_us, "latency_uncorrected_us.p99", 1},
        {RC_connect_p50_us, "connect_us.p50", 1}, {RC_connect_p99_us, "connect_us.p99", 1},
        {RC_connects, "connects", 0},           {RC_send_lag_p99_us, "send_lag_us.p99", 1},
        {RC_achieved_rps, "achieved_rps", 1},   {RC_err_connect, "errors.connect", 0},
        {RC_err_connect_timeout, "errors.connect_timeout", 0}, {RC_err_reset, "errors.reset", 0},
        {RC_err_read, "errors.read", 0},        {RC_err_write, "errors.write", 0},
        {RC_err_timeout, "errors.timeout", 0},  {RC_err_bad_response, "errors.bad_response", 0},
        {RC_err_mismatch, "errors.mismatch", 0}, {RC_status_4xx, "errors.status_4xx", 0},
        {RC_status_5xx, "errors.status_5xx", 0}, {RC_errors_total, "errors_total", 0},
        {RC_incomplete, "incomplete", 0},       {RC_loadgen_cpu_share, "cpu.share", 3},
        {RC_conn_requests_min, "conn_requests.min", 0}, {RC_conn_requests_median, "conn_requests.median", 1},
        {RC_conn_requests_max, "conn_requests.max", 0}, {RC_fairness_jain, "fairness_jain", 4},
        {RC_conns_starved, "conns_starved", 0},
    };
    for (size_t i = 0; i < sizeof map / sizeof *map; i++)
        jcell(r, map[i].col, j, map[i].path, map[i].dec);
}

static void server_cells(const struct json *j, struct res_row *r, char *refused_why, size_t len)
{
    static const struct {
        enum res_col col;
        const char *key;
    } map[] = {
        {RC_srv_accepted, "accepted"},   {RC_srv_refused, "refused"},       {RC_srv_requests, "requests"},
        {RC_srv_wait_calls, "wait_calls"}, {RC_srv_events, "events"},       {RC_srv_eagain, "eagain"},
        {RC_srv_ctl_calls, "ctl_calls"}, {RC_srv_spawn_failures, "spawn_failures"},
        {RC_srv_peak_conns, "peak_conns"},
    };
    refused_why[0] = '\0';
    if (!j)
        return;
    for (size_t i = 0; i < sizeof map / sizeof *map; i++)
        jcell(r, map[i].col, j, map[i].key, 0);
    /* refused_reasons {"fd_setsize":9000,...} -> "fd_setsize=9000" (non-zero ones, ';'-joined). */
    const struct json *why = json_get(j, "refused_reasons");
    size_t off = 0;
    for (int i = 0; why && why->type == JSON_OBJ && i < why->n && off + 1 < len; i++)
        if (why->kids[i].type == JSON_NUM && why->kids[i].num > 0)
            off += (size_t)snprintf(refused_why + off, len - off, "%s%s=%.0f", off ? ";" : "", why->keys[i],
                                    why->kids[i].num);
    if (refused_why[0])
        res_set(r, RC_srv_refused_reason, "%s", refused_why);
}

/* Non-zero error classes as "connect=3, reset=2". */
static void error_list(const struct json *lg, char *buf, size_t len)
{
    const struct json *e = json_get(lg, "errors");
    size_t off = 0;
    buf[0] = '\0';
    for (int i = 0; e && e->type == JSON_OBJ && i < e->n && off + 1 < len; i++)
        if (e->kids[i].type == JSON_NUM && e->kids[i].num > 0)
            off += (size_t)snprintf(buf + off, len - off, "%s%s=%.0f", off ? ", " : "", e->keys[i], e->kids[i].num);
}

void row_build(const struct run_facts *f, struct res_row *r)
{
    char refused[256], errs[512], why[256];
    params(f, r);
    if (f->lg)
        loadgen_cells(f->lg, r);
    server_cells(f->stats, r, refused, sizeof refused);
    if (f->have_acct) {
        res_set(r, RC_server_cpu_user_s, "%.3f", f->cpu_user_s);
        res_set(r, RC_server_cpu_sys_s, "%.3f", f->cpu_sys_s);
        if (f->window_s > 0)
            res_set(r, RC_server_cpu_cores, "%.3f", (f->cpu_user_s + f->cpu_sys_s) / f->window_s);
        res_set(r, RC_server_rss_peak_kb, "%ld", f->rss_peak_kb);
        if (f->mem_peak_kb >= 0)
            res_set(r, RC_server_mem_peak_kb, "%ld", f->mem_peak_kb);
        res_set(r, RC_server_threads_peak, "%d", f->threads_peak);
        res_set(r, RC_server_processes_peak, "%d", f->procs_peak);
        res_set(r, RC_server_fds_peak, "%d", f->fds_peak);
        res_set(r, RC_server_ctxsw_voluntary, "%lld", f->vcsw);
        res_set(r, RC_server_ctxsw_involuntary, "%lld", f->ivcsw);
    }
    if (f->lg_wall_s > 0)
        res_set(r, RC_loadgen_cpu_s, "%.3f", f->lg_cpu_s);
    /* wrk and h2load do not say how busy they were: the share the runner saw (wait4), as our
     * loadgen defines its own (CPU seconds / (wall seconds * threads)). */
    if (f->lg && !json_get(f->lg, "cpu.share") && f->lg_wall_s > 0 && f->pr->lg_threads > 0)
        res_set(r, RC_loadgen_cpu_share, "%.3f", f->lg_cpu_s / (f->lg_wall_s * f->pr->lg_threads));
    const char *b = row_bottleneck(f, why, sizeof why);
    if (b)
        res_set(r, RC_bottleneck, "%s", b);

    /* Status: failed > refused (the server turned connections away by design) > errors > ok. */
    double refused_n = jnum(f->stats, "refused", 0), errors = jnum(f->lg, "errors_total", 0);
    char reason[1024] = "";
    const char *status = "ok";
    if (f->fail) {
        status = "failed";
        snprintf(reason, sizeof reason, "%s", f->fail);
    } else if (refused_n > 0) {
        status = "refused";
        error_list(f->lg, errs, sizeof errs);
        snprintf(reason, sizeof reason, "server refused %.0f connections (%s)%s%s", refused_n,
                 refused[0] ? refused : "no reason given", errs[0] ? "; loadgen errors: " : "", errs);
    } else if (errors > 0) {
        status = "errors";
        error_list(f->lg, errs, sizeof errs);
        snprintf(reason, sizeof reason, "%.0f errors: %s", errors, errs[0] ? errs : "unclassified");
    }
    /* A shared machine: say when others took a noticeable part of the server's CPUs. */
    if (!f->fail && f->have_acct && f->window_s > 0) {
        double other = (f->host_busy_s - f->cpu_user_s - f->cpu_sys_s) / f->window_s;
        /* A loadgen the config pinned among the server's CPUs is the experiment's, not another's. */
        if (f->lg_on_server_cpus && f->lg_wall_s > 0)
            other -= f->lg_cpu_s / f->lg_wall_s;
        if (other >= 0.1) {
            size_t l = strlen(reason);
            snprintf(reason + l, sizeof reason - l, "%sother processes used %.2f CPU of the server's CPUs",
                     l ? "; " : "", other);
        }
    }
    /* Both saturated: the figures are the server's limit and the load generator's at once. */
    char lwhy[256];
    if (b && !strcmp(b, "server") && loadgen_saturated(f, lwhy, sizeof lwhy)) {
        size_t l = strlen(reason);
        snprintf(reason + l, sizeof reason - l, "%sthe load generator was saturated too (%s)", l ? "; " : "", lwhy);
    }
    if (f->notes && *f->notes) {
        size_t l = strlen(reason);
        snprintf(reason + l, sizeof reason - l, "%s%s", l ? "; " : "", f->notes);
    }
    res_set(r, RC_status, "%s", status);
    if (reason[0])
        res_set(r, RC_status_reason, "%s", reason);
}

/* --- timeseries ------------------------------------------------------------------------------ */

/* Server CPU cores and peak RSS over [a, b) from the samples (cumulative CPU: difference of the
 * last samples at or before each edge). */
static void server_second(const struct acct_sample *s, int ns, double a, double b, double *cores, long *rss)
{
    int ia = -1, ib = -1;
    *rss = -1;
    for (int i = 0; i < ns; i++) {
        if (s[i].t <= a + 0.05)
            ia = i;
        if (s[i].t <= b + 0.05)
            ib = i;
        if (s[i].t >= a && s[i].t < b + 0.05 && !s[i].partial && s[i].rss_kb > *rss)
            *rss = s[i].rss_kb;
    }
    *cores = -1;
    if (ia >= 0 && ib > ia && s[ib].t > s[ia].t)
        *cores = (s[ib].cpu_s - s[ia].cpu_s) / (s[ib].t - s[ia].t);
}

static int column(char **hdr, int n, const char *const names[])
{
    for (int k = 0; names[k]; k++)
        for (int i = 0; i < n; i++)
            if (!strcmp(hdr[i], names[k]))
                return i;
    return -1;
}

void row_timeseries(const struct run_facts *f, const char *lg_ts_path, const struct acct_sample *s, int ns,
                    double t0, struct ut_str *out)
{
    const char *server = f->c->srv[f->pr->srv].name;
    char *text = NULL, *save = NULL;
    int seconds = (int)ceil(f->lg_wall_s);
    /* The loadgen's per-second file, columns found by name so extra columns do no harm. */
    static const char *const n_t[] = {"t_s", "t", "second", NULL}, *const n_req[] = {"requests", NULL},
                             *const n_rps[] = {"throughput_rps", "rps", NULL},
                             *const n_p50[] = {"latency_p50_us", "p50_us", NULL},
                             *const n_p99[] = {"latency_p99_us", "p99_us", NULL},
                             *const n_err[] = {"errors", "errors_total", NULL};
    int ct = -1, col[5] = {-1, -1, -1, -1, -1};
    char *lines[4096];
    int nl = 0;
    if (lg_ts_path && ut_read_file(lg_ts_path, &text) >= 0) {
        for (char *l = strtok_r(text, "\n", &save); l && nl < 4096; l = strtok_r(NULL, "\n", &save))
            lines[nl++] = l;
        if (nl) {
            char *hdr[64];
            int nh = res_csv_split(lines[0], hdr, 64);
            ct = column(hdr, nh, n_t);
            col[0] = column(hdr, nh, n_req), col[1] = column(hdr, nh, n_rps), col[2] = column(hdr, nh, n_p50);
            col[3] = column(hdr, nh, n_p99), col[4] = column(hdr, nh, n_err);
        }
    }
    if (ct >= 0) {
        for (int i = 1; i < nl; i++) {
            char *fl[64];
            int n = res_csv_split(lines[i], fl, 64);
            if (ct >= n)
                continue;
            double t = atof(fl[ct]), cores;
            long rss;
            /* t_s numbers the seconds from the loadgen's start: second t is [t, t+1). */
            server_second(s, ns, t0 + t, t0 + t + 1, &cores, &rss);
            ut_str_addf(out, "%s,%s,%d,%s", f->pr->key, server, f->pr->repeat, fl[ct]);
            for (int k = 0; k < 5; k++)
                ut_str_addf(out, ",%s", col[k] >= 0 && col[k] < n ? fl[col[k]] : "");
            if (cores >= 0)
                ut_str_addf(out, ",%.3f,%ld\n", cores, rss);
            else
                ut_str_add(out, ",,\n");
        }
    } else {
        /* No loadgen timeseries: the server's side alone, one line per second. */
        for (int t = 0; t < seconds; t++) {
            double cores;
            long rss;
            server_second(s, ns, t0 + t, t0 + t + 1, &cores, &rss);
            if (cores >= 0)
                ut_str_addf(out, "%s,%s,%d,%d,,,,,,%.3f,%ld\n", f->pr->key, server, f->pr->repeat, t, cores, rss);
        }
    }
    free(text);
}
