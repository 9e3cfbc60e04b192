/* agents.c - a row's load over several load generators (agents.h): the split, and the merge of
 * their outputs. The interval logs (loadgen --hlog) carry every agent's histograms losslessly;
 * adding them gives the row's percentiles exactly as one load generator would have measured them. */
#include "agents.h"
#include "json.h"
#include "../loadgen/hlog.h"
#include "../loadgen/saturated.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* CPU used of what it may use above which a load generator counts as saturated (loadgen/report.c). */

#define AGENT_NAME(n) #n,
const char *const agent_col_names[AG_N] = {AGENT_COLUMNS(AGENT_NAME)};
#undef AGENT_NAME

int agents_split(const struct plan_row *pr, int n, struct agent_share *out)
{
    long c = pr->ax[CFG_CONNECTIONS], i = pr->ax[CFG_IDLE], r = pr->ax[CFG_RATE];
    int used = 0;
    for (int k = 0; k < n; k++) {
        out[k].connections = c / n + (k < c % n);
        out[k].idle = i / n + (k < i % n);
        out[k].rate = r / n + (k < r % n);
        used += out[k].connections > 0;
    }
    return used;
}

static double num(const struct json *j, const char *path)
{
    double v = 0;
    return j && json_num(j, path, &v) == 0 ? v : 0;
}

static int has(const struct json *j, const char *path)
{
    double v;
    return j && json_num(j, path, &v) == 0;
}

/* The whole window of one tag of an agent's log added into *sum (set up on the first). */
static int add_log(const char *path, const char *tag, struct hist *sum, int *have, char *err, size_t errlen)
{
    FILE *f = fopen(path, "re");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    struct hlog_reader rd;
    hlog_reader_init(&rd, f, path);
    struct hlog_interval iv;
    int rc;
    while ((rc = hlog_reader_next(&rd, &iv, err, errlen)) == 1) {
        if (!strcmp(iv.tag, tag)) {
            if (!*have) {
                *sum = iv.h; /* the first interval's configuration, and its counts */
                *have = 1;
                continue; /* owned by sum now */
            }
            if (hlog_add(sum, &iv.h, err, errlen) < 0)
                rc = -1;
        }
        hist_free(&iv.h);
        if (rc < 0)
            break;
    }
    hlog_reader_free(&rd);
    fclose(f);
    return rc < 0 ? -1 : 0;
}

#define US(ns) ((double)(ns) / 1000.0)

/* The merged latency object of one tag: percentiles of the added histogram, in microseconds. */
static void latency_json(struct ut_str *o, const char *name, const struct hist *h, int have)
{
    if (!have || h->total == 0) {
        ut_str_addf(o, ",\"%s\":{\"min\":0,\"mean\":0,\"p50\":0,\"p90\":0,\"p99\":0,\"p999\":0,\"p9999\":0,\"max\":0}", name);
        return;
    }
    ut_str_addf(o, ",\"%s\":{\"min\":%.1f,\"mean\":%.1f,\"stdev\":%.1f,\"p50\":%.1f,\"p90\":%.1f,\"p99\":%.1f,"
                   "\"p999\":%.1f,\"p9999\":%.1f,\"max\":%.1f}",
                name, US(h->min), hist_mean(h) / 1000.0, hist_stdev(h) / 1000.0, US(hist_percentile(h, 50)),
                US(hist_percentile(h, 90)), US(hist_percentile(h, 99)), US(hist_percentile(h, 99.9)),
                US(hist_percentile(h, 99.99)), US(h->max));
}

static const char *const summed[] = {
    "requests", "requests_total", "requests_sent", "incomplete", "requests_failed", "throughput_rps", "bytes_in",
    "bytes_out", "connects", "connects_total", "reconnects", "requests_resent", "conns_starved", "intended_rps",
    "achieved_rps", "scheduled", "unsent", "errors_total", "idle_open", "idle_closed", "connections", "idle", "rate",
    NULL,
};
static const char *const errors[] = {"connect", "connect_timeout", "reset", "read", "write", "timeout", "bad_response",
                                     "mismatch", "status_4xx", "status_5xx", NULL};
static const char *const statuses[] = {"1xx", "2xx", "3xx", "4xx", "5xx", NULL};

/* ,"name":{"key":sum,...}: each key of the agents' object `name` summed. */
static void summed_object(struct ut_str *o, struct json **js, int n, const char *name, const char *const keys[])
{
    char path[96];
    ut_str_addf(o, ",\"%s\":{", name);
    for (int k = 0; keys[k]; k++) {
        double s = 0;
        snprintf(path, sizeof path, "%s.%s", name, keys[k]);
        for (int i = 0; i < n; i++)
            s += num(js[i], path);
        ut_str_addf(o, "%s\"%s\":%.0f", k ? "," : "", keys[k], s);
    }
    ut_str_add(o, "}");
}

/* The merged JSON: what row.c reads, with the same meaning as one load generator's. */
static void merged_json(struct json **js, const struct agent_out *a, int n, const struct hist *lat, int have_lat,
                        const struct hist *unc, int have_unc, struct ut_str *o)
{
    ut_str_add(o, "{\"agents\":");
    ut_str_addf(o, "%d", n);
    for (int k = 0; summed[k]; k++) {
        double s = 0;
        for (int i = 0; i < n; i++)
            s += num(js[i], summed[k]);
        ut_str_addf(o, ",\"%s\":%.2f", summed[k], s);
    }
    summed_object(o, js, n, "errors", errors);
    summed_object(o, js, n, "status", statuses);
    latency_json(o, "latency_us", lat, have_lat);
    latency_json(o, "latency_uncorrected_us", unc, have_unc);
    /* Bounds where no histogram was kept: the largest of the agents' (connect times, send lag). */
    double cp50 = 0, cp99 = 0, lag = 0, share = 0, wmin = 0, wmax = 0, window = 0;
    double rmin = -1, rmax = 0, rmed = 0, sum_x = 0, sum_x2 = 0, conns = 0;
    for (int i = 0; i < n; i++) {
        cp50 = fmax(cp50, num(js[i], "connect_us.p50"));
        cp99 = fmax(cp99, num(js[i], "connect_us.p99"));
        lag = fmax(lag, num(js[i], "send_lag_us.p99"));
        share = fmax(share, num(js[i], "cpu.share"));
        window = fmax(window, num(js[i], "window_s"));
        double ws = num(js[i], "window_start_unix");
        wmin = i == 0 || ws < wmin ? ws : wmin;
        wmax = ws > wmax ? ws : wmax;
        /* Jain's index over all connections from each agent's own: sum x = its requests in the
         * window, sum x^2 = (sum x)^2 / (n J). */
        double c = num(js[i], "connections"), x = num(js[i], "requests"), jn = num(js[i], "fairness_jain");
        if (c > 0) {
            sum_x += x, conns += c;
            sum_x2 += jn > 0 ? x * x / (c * jn) : 0;
            double mn = num(js[i], "conn_requests.min"), mx = num(js[i], "conn_requests.max");
            rmin = rmin < 0 || mn < rmin ? mn : rmin;
            rmax = mx > rmax ? mx : rmax;
            rmed += num(js[i], "conn_requests.median") * c; /* a weighted mean of medians: an estimate */
        }
    }
    ut_str_addf(o, ",\"connect_us\":{\"p50\":%.1f,\"p99\":%.1f},\"send_lag_us\":{\"p99\":%.1f}", cp50, cp99, lag);
    ut_str_addf(o, ",\"conn_requests\":{\"min\":%.0f,\"median\":%.1f,\"max\":%.0f}", rmin < 0 ? 0 : rmin,
                conns ? rmed / conns : 0, rmax);
    ut_str_addf(o, ",\"fairness_jain\":%.4f", sum_x2 > 0 ? sum_x * sum_x / (conns * sum_x2) : 0);
    ut_str_addf(o, ",\"window_s\":%.6f,\"window_start_unix\":%.6f,\"window_start_spread_us\":%.0f", window, wmin,
                (wmax - wmin) * 1e6);
    double user = 0, sys = 0;
    for (int i = 0; i < n; i++)
        user += num(js[i], "cpu.user_s"), sys += num(js[i], "cpu.sys_s");
    ut_str_addf(o, ",\"cpu\":{\"user_s\":%.3f,\"sys_s\":%.3f,\"share\":%.4f}", user, sys, share);
    /* A row's bottleneck is the load generator when any agent was saturated: say which. */
    struct ut_str why = {0};
    for (int i = 0; i < n; i++) {
        const char *b = json_str(js[i], "bottleneck");
        if (b && !strcmp(b, "loadgen")) {
            const char *r = json_str(js[i], "bottleneck_reason");
            ut_str_addf(&why, "%sagent %d (%s): %s", why.len ? "; " : "", i + 1, a[i].host, r ? r : "saturated");
        }
    }
    /* Agents on one machine's CPUs (a test network: namespaces pinned to one CPU) can saturate
     * them together while each looks idle enough: their CPU summed against those CPUs. */
    for (int i = 0; i < n; i++) {
        int first = 1, nshare = 0;
        double cores = 0;
        for (int j = 0; j < n; j++) {
            if (strcmp(a[j].cpus, a[i].cpus))
                continue;
            first = first && j >= i, nshare++;
            cores += num(js[j], "cpu.share") * num(js[j], "threads");
        }
        if (first && nshare > 1 && a[i].ncpus > 0 && cores >= CPU_SATURATED * a[i].ncpus)
            ut_str_addf(&why, "%s%d agents on one machine's %d CPU%s used %.2f of %s together", why.len ? "; " : "",
                        nshare, a[i].ncpus, a[i].ncpus > 1 ? "s" : "", cores, a[i].ncpus > 1 ? "them" : "it");
    }
    ut_str_addf(o, ",\"bottleneck\":\"%s\",\"bottleneck_reason\":", why.len ? "loadgen" : "none");
    ut_str_json(o, why.s ? why.s : "");
    ut_str_free(&why);
    ut_str_add(o, "}\n");
}

/* Per-second rows of every agent placed on one wall-clock axis (an agent's row i is the second
 * from its own start, which is its window start less its warmup), counts summed, the max the
 * largest; percentiles of a second are not in these files, so the merged ones are left empty. */
static int merged_timeseries(struct json **js, const struct agent_out *a, int n, double warmup, const char *path,
                             char *err, size_t errlen)
{
    enum { NSEC = 4000 };
    double *req = calloc(NSEC, sizeof *req), *mx = calloc(NSEC, sizeof *mx), *errs = calloc(NSEC, sizeof *errs),
           *conn = calloc(NSEC, sizeof *conn);
    double t0 = 0, wstart = 0, window = 0;
    for (int i = 0; i < n; i++) {
        double s = num(js[i], "window_start_unix") - num(js[i], "warmup_actual_s");
        t0 = i == 0 || s < t0 ? s : t0;
        wstart = fmax(wstart, num(js[i], "window_start_unix"));
        window = fmax(window, num(js[i], "window_s"));
    }
    int last = 0;
    for (int i = 0; i < n; i++) {
        char p[1500], *text;
        snprintf(p, sizeof p, "%s.ts.csv", a[i].work);
        if (ut_read_file(p, &text) < 0)
            continue;
        int off = (int)lround(num(js[i], "window_start_unix") - num(js[i], "warmup_actual_s") - t0);
        char *save = NULL;
        for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
            unsigned t;
            char phase[16];
            double rq, th, p50, p99, m, e, c;
            if (sscanf(l, "%u,%15[^,],%lf,%lf,%lf,%lf,%lf,%lf,%lf", &t, phase, &rq, &th, &p50, &p99, &m, &e, &c) != 9)
                continue;
            int j = off + (int)t;
            if (j < 0 || j >= NSEC)
                continue;
            req[j] += rq, errs[j] += e, conn[j] += c, mx[j] = fmax(mx[j], m);
            last = j + 1 > last ? j + 1 : last;
        }
        free(text);
    }
    struct ut_str o = {0};
    ut_str_add(&o, "t_s,phase,requests,throughput_rps,latency_p50_us,latency_p99_us,latency_max_us,errors,connects\n");
    double w0 = wstart - t0; /* the window, from the earliest agent's start */
    for (int j = 0; j < last; j++)
        ut_str_addf(&o, "%d,%s,%.0f,%.0f,,,%.1f,%.0f,%.0f\n", j,
                    j < (int)floor(w0) ? "warmup" : j < w0 + window ? "measure" : "drain", req[j], req[j], mx[j],
                    errs[j], conn[j]);
    (void)warmup;
    int rc = ut_write_atomic(path, o.s ? o.s : "", o.len, err, errlen);
    ut_str_free(&o);
    free(req), free(mx), free(errs), free(conn);
    return rc;
}

static void cell(char ***cells, int *ncells, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void cell(char ***cells, int *ncells, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    *cells = ut_realloc(*cells, (size_t)(*ncells + 1) * sizeof **cells);
    (*cells)[(*ncells)++] = ut_strdup(buf);
}

int agents_merge(const char *work, const char *key, const struct agent_out *a, int n, double warmup,
                 const char *hlog, char ***cells, int *ncells, char *err, size_t errlen)
{
    struct json *js[AGENTS_MAX] = {0};
    struct hist lat, unc;
    int have_lat = 0, have_unc = 0, rc = 0;
    char path[1500], e[UT_ERRLEN];
    for (int i = 0; i < n && rc == 0; i++) {
        snprintf(path, sizeof path, "%s.lg.json", a[i].work);
        if (!(js[i] = json_parse_file(path, e, sizeof e))) {
            snprintf(err, errlen, "agent %d on %s (%s) left no usable JSON (%s): %s", i + 1, a[i].host, a[i].placement,
                     a[i].exit, e);
            rc = -1;
            break;
        }
        snprintf(path, sizeof path, "%s.hlog", a[i].work);
        if (num(js[i], "requests") > 0 &&
            (add_log(path, "corrected", &lat, &have_lat, e, sizeof e) < 0 ||
             add_log(path, "uncorrected", &unc, &have_unc, e, sizeof e) < 0)) {
            snprintf(err, errlen, "agent %d on %s: its interval log: %s", i + 1, a[i].host, e);
            rc = -1;
        }
    }
    if (rc == 0) {
        struct ut_str o = {0};
        merged_json(js, a, n, &lat, have_lat, &unc, have_unc, &o);
        snprintf(path, sizeof path, "%s.lg.json", work);
        rc = ut_write_atomic(path, o.s, o.len, err, errlen);
        ut_str_free(&o);
    }
    if (rc == 0) {
        snprintf(path, sizeof path, "%s.ts.csv", work);
        rc = merged_timeseries(js, a, n, warmup, path, err, errlen);
    }
    if (rc == 0 && have_lat) {
        snprintf(path, sizeof path, "%s.hgrm", work);
        FILE *f = fopen(path, "we");
        if (f) {
            hist_print_spectrum(&lat, f, 1000.0, 5);
            fclose(f);
        }
    }
    if (rc == 0) {
        /* The merged interval log: bin/hlog merge of the agents' logs, interval by interval. */
        struct ut_str cmd = {0};
        ut_str_addf(&cmd, "'%s' merge", hlog);
        for (int i = 0; i < n; i++)
            if (num(js[i], "requests") > 0)
                ut_str_addf(&cmd, " '%s.hlog'", a[i].work);
        ut_str_addf(&cmd, " > '%s.hlog' 2> /dev/null", work);
        if (system(cmd.s) != 0)
            ut_log(UT_WARN, "%s: bin/hlog merge failed: the row has no merged interval log", key);
        ut_str_free(&cmd);
    }
    for (int i = 0; i < n && rc == 0; i++) {
        const struct json *j = js[i];
        cell(cells, ncells, "%s", key);
        cell(cells, ncells, "%d", i + 1);
        cell(cells, ncells, "%s", a[i].host);
        cell(cells, ncells, "%s", a[i].placement);
        cell(cells, ncells, "%ld", a[i].share.connections);
        cell(cells, ncells, "%ld", a[i].share.idle);
        cell(cells, ncells, "%ld", a[i].share.rate);
        cell(cells, ncells, "%.0f", num(j, "requests"));
        cell(cells, ncells, "%.0f", num(j, "requests_total"));
        cell(cells, ncells, "%.1f", num(j, "throughput_rps"));
        cell(cells, ncells, "%.1f", num(j, "latency_us.p50"));
        cell(cells, ncells, "%.1f", num(j, "latency_us.p99"));
        cell(cells, ncells, "%.0f", num(j, "errors_total"));
        cell(cells, ncells, "%.3f", num(j, "cpu.share"));
        cell(cells, ncells, "%s", json_str(j, "bottleneck") ? json_str(j, "bottleneck") : "");
        cell(cells, ncells, "%.6f", num(j, "window_start_unix"));
        /* Its window opened at T on its own clock: on the runner's, T less its clock's offset. */
        if (has(j, "start_skew_us"))
            cell(cells, ncells, "%.0f", num(j, "start_skew_us"));
        else
            cell(cells, ncells, "%s", "");
        cell(cells, ncells, "%.0f", a[i].clock_offset_s * 1e6);
        cell(cells, ncells, "%.0f", a[i].clock_err_s * 1e6);
        if (has(j, "start_skew_us"))
            cell(cells, ncells, "%.0f", num(j, "start_skew_us") - a[i].clock_offset_s * 1e6);
        else
            cell(cells, ncells, "%s", "");
        cell(cells, ncells, "%s", a[i].exit);
    }
    for (int i = 0; i < n; i++)
        json_free(js[i]);
    if (have_lat)
        hist_free(&lat);
    if (have_unc)
        hist_free(&unc);
    return rc;
}
