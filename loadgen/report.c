/* report.c - what a run says: the self-check verdict, the human summary, and the JSON, CSV,
 * per-second and percentile-spectrum files the runner and the report read. */
#include "lg.h"
#include "hlog.h"
#include "saturated.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#define US(ns) ((double)(ns) / 1000.0)

/* Thresholds of the bottleneck verdict: a thread that was hardly ever waiting for the network, or
 * open-loop sends it made late on its own account (not for want of a free connection). */
#define BUSY_SATURATED   0.95
#define BUSY_ON_CPU      0.50
#define SELF_LAG_MAX_NS  5000000    /* p99 of the lag the loadgen caused: 5 ms. Timer wakeups on a
                                       shared VM are 40 us late typically and ~1 ms at p99; a loop
                                       that cannot keep up falls behind by far more, and grows. */

static uint64_t errors_total(const struct lg_result *r)
{
    uint64_t n = 0;
    for (int i = 0; i < LG_E_COUNT; i++)
        n += r->c.err[i];
    return n;
}

static double cpu_s(const struct lg_result *r)
{
    return r->c.cpu_user_s + r->c.cpu_sys_s;
}

/* Throughput over the window actually measured (shorter than --duration after a SIGINT). */
static double rps(const struct lg_result *r)
{
    return r->c.window_s > 0 ? (double)r->c.requests / r->c.window_s : 0;
}

static const char *conn_mode(const struct lg_opts *o, char *buf, size_t n)
{
    if (o->reqs_per_conn == 0)
        return "keepalive";
    if (o->reqs_per_conn == 1)
        return "close";
    snprintf(buf, n, "reqs=%u", o->reqs_per_conn);
    return buf;
}

void lg_verdict(const struct lg_opts *o, const struct lg_result *r, double wall_s, struct lg_verdict *v)
{
    v->loadgen = 0;
    v->reason[0] = 0;
    size_t n = 0;
    /* Busy (never waiting for the network) only counts with real CPU behind it: a thread that is
     * runnable but starved by other processes looks busy too, and that is the machine's doing. */
    if (r->c.busy_max >= BUSY_SATURATED && r->c.thread_cpu_max >= BUSY_ON_CPU) {
        v->loadgen = 1;
        n += (size_t)snprintf(v->reason + n, sizeof v->reason - n, "a thread was busy %.0f%% of the time; ",
                              100 * r->c.busy_max);
    }
    if (r->c.thread_cpu_max >= CPU_SATURATED && n < sizeof v->reason) {
        v->loadgen = 1;
        n += (size_t)snprintf(v->reason + n, sizeof v->reason - n, "a thread used %.0f%% of a core; ",
                              100 * r->c.thread_cpu_max);
    }
    int64_t self99 = hist_percentile(&r->selflag, 99);
    if (o->rate > 0 && self99 > SELF_LAG_MAX_NS && n < sizeof v->reason) {
        v->loadgen = 1;
        n += (size_t)snprintf(v->reason + n, sizeof v->reason - n,
                              "sends fell behind schedule (own lag p99 %.0f us); ", US(self99));
    }
    if (n >= 2 && n < sizeof v->reason)
        v->reason[n - 2] = 0;   /* drop the last "; " */
}

/* 12.3us, 4.56ms, 1.23s: the unit wrk would pick. */
static const char *dur(char *b, size_t n, double ns)
{
    if (ns < 1e6)
        snprintf(b, n, "%.1fus", ns / 1e3);
    else if (ns < 1e9)
        snprintf(b, n, "%.2fms", ns / 1e6);
    else
        snprintf(b, n, "%.2fs", ns / 1e9);
    return b;
}

static const char *bytes(char *b, size_t n, double x)
{
    const char *u[] = {"B", "KB", "MB", "GB", "TB"};
    int i = 0;
    while (x >= 1024 && i < 4)
        x /= 1024, i++;
    snprintf(b, n, "%.2f%s", x, u[i]);
    return b;
}

static void lat_row(FILE *f, const char *name, const struct hist *h)
{
    char a[7][24];
    if (!h->total) {
        fprintf(f, "    %-12s (none)\n", name);
        return;
    }
    fprintf(f, "    %-12s %9s %9s %9s %9s %9s %9s %9s\n", name, dur(a[0], 24, hist_mean(h)),
            dur(a[1], 24, hist_stdev(h)), dur(a[2], 24, (double)hist_percentile(h, 50)),
            dur(a[3], 24, (double)hist_percentile(h, 90)), dur(a[4], 24, (double)hist_percentile(h, 99)),
            dur(a[5], 24, (double)hist_percentile(h, 99.9)), dur(a[6], 24, (double)h->max));
}

/* --start-at: how far from T the window opened, microseconds (late > 0). */
static double skew_us(const struct lg_opts *o, const struct lg_plan *p)
{
    return (double)(p->win_real - o->start_at) / 1e3;
}

/* Nanoseconds since the epoch as seconds with `digits` decimals (a double would keep only ~7). */
static void epoch(FILE *f, int64_t ns, int digits)
{
    int64_t div = 1;
    for (int i = digits; i < 9; i++)
        div *= 10;
    int64_t v = (ns + div / 2) / div, one = LG_NS / div;
    fprintf(f, "%lld.%0*lld", (long long)(v / one), digits, (long long)(v % one));
}

void lg_print_summary(FILE *f, const struct lg_opts *o, const struct lg_plan *p,
                      const struct lg_result *r, double wall_s, const struct lg_verdict *v)
{
    char m[32], b1[32], b2[32];
    const struct lg_counts *c = &r->c;
    fprintf(f, "Running %.1fs test @ %s (%s%s), warmup %.1fs\n", o->duration, o->target,
            o->proto == LG_HTTP ? "http GET " : "echo", o->proto == LG_HTTP ? o->path : "", o->warmup);
    fprintf(f, "  %u threads in %u process%s, %u connections + %u idle, %s, %s, pipeline %u",
            o->threads, o->procs, o->procs > 1 ? "es" : "", o->connections, o->idle,
            o->rate > 0 ? "open loop" : "closed loop", conn_mode(o, m, sizeof m), o->pipeline);
    if (o->proto == LG_ECHO)
        fprintf(f, ", %u-byte messages", o->size);
    if (o->start_at)
    {
        fputs("\n  window opened at ", f);
        epoch(f, p->win_real, 6);
        fprintf(f, ", %+.1f us from --start-at, after a %.3fs warmup", skew_us(o, p),
                (double)(p->win0 - p->t0) / LG_NS);
    }
    fprintf(f, "\n  Latency        %9s %9s %9s %9s %9s %9s %9s\n", "mean", "stdev", "p50", "p90", "p99",
            "p99.9", "max");
    lat_row(f, o->rate > 0 ? "corrected" : "latency", &r->lat);
    if (o->rate > 0)
        lat_row(f, "uncorrected", &r->unc);
    lat_row(f, "connect", &r->con);
    fprintf(f, "  %llu requests in %.2fs, %s read, %s written\n", (unsigned long long)c->requests,
            c->window_s, bytes(b1, 32, (double)c->bytes_in), bytes(b2, 32, (double)c->bytes_out));
    fprintf(f, "Requests/sec: %10.2f\n", rps(r));
    fprintf(f, "Transfer/sec: %10s\n",
            bytes(b1, 32, wall_s > 0 ? (double)c->bytes_in / wall_s : 0));
    fprintf(f, "  whole run: %llu sent, %llu answered, %llu failed, %llu incomplete; %llu connects",
            (unsigned long long)c->requests_sent, (unsigned long long)c->requests_total,
            (unsigned long long)c->failed, (unsigned long long)c->incomplete,
            (unsigned long long)c->connects_total);
    if (c->reconnects)
        fprintf(f, " (%llu after the server closed, %llu requests resent)", (unsigned long long)c->reconnects,
                (unsigned long long)c->resent);
    fputc('\n', f);
    if (o->proto == LG_HTTP)
        fprintf(f, "  status: 1xx %llu, 2xx %llu, 3xx %llu, 4xx %llu, 5xx %llu\n",
                (unsigned long long)c->status[0], (unsigned long long)c->status[1],
                (unsigned long long)c->status[2], (unsigned long long)c->status[3],
                (unsigned long long)c->status[4]);
    struct lg_fair fr;
    lg_result_fair(r, &fr);
    if (o->connections) {
        fprintf(f, "  per connection: answers min %llu, median %.1f, max %llu; Jain index ",
                (unsigned long long)fr.min, fr.median, (unsigned long long)fr.max);
        if (fr.jain >= 0)
            fprintf(f, "%.3f", fr.jain);
        else
            fputs("-", f);
        fprintf(f, "; %u of %u got no answer\n", fr.starved, o->connections);
    }
    if (o->idle)
        fprintf(f, "  idle: %llu held, %llu closed by the server\n", (unsigned long long)c->idle_open,
                (unsigned long long)c->idle_closed);
    if (o->rate > 0) {
        fprintf(f, "  open loop: intended %.1f req/s, achieved %.1f req/s, %llu due but never sent\n",
                o->rate, rps(r), (unsigned long long)c->unsent);
        fprintf(f, "  send lag: p50 %s, p99 %s, max %s (own part p99 %s)\n",
                dur(b1, 32, (double)hist_percentile(&r->lag, 50)),
                dur(b2, 32, (double)hist_percentile(&r->lag, 99)), dur(m, 32, (double)r->lag.max),
                dur((char[32]){0}, 32, (double)hist_percentile(&r->selflag, 99)));
    }
    uint64_t et = errors_total(r);
    fprintf(f, "  errors: %llu", (unsigned long long)et);
    for (int i = 0; i < LG_E_COUNT && et; i++)
        if (c->err[i])
            fprintf(f, " %s=%llu", lg_err_names[i], (unsigned long long)c->err[i]);
    fputc('\n', f);
    double per = c->requests_total ? cpu_s(r) * 1e6 / (double)c->requests_total : 0;
    fprintf(f, "  self-check: cpu %.2fs user + %.2fs sys = %.2fus/request, %.0f%% of %u thread%s; "
            "busiest thread busy %.0f%%\n", c->cpu_user_s, c->cpu_sys_s, per,
            wall_s > 0 ? 100 * cpu_s(r) / (wall_s * o->threads) : 0, o->threads,
            o->threads > 1 ? "s" : "", 100 * c->busy_max);
    fprintf(f, "  bottleneck=%s%s%s\n", v->loadgen ? "loadgen" : "none", v->loadgen ? ": " : "",
            v->reason);
}

/* ---- JSON --------------------------------------------------------------------------------- */

static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(f, "\\%c", ch);
        else if (ch < 0x20)
            fprintf(f, "\\u%04x", ch);
        else
            fputc(ch, f);
    }
    fputc('"', f);
}

static void json_lat(FILE *f, const char *key, const struct hist *h, int full)
{
    fprintf(f, ",\"%s\":{\"min\":%.1f,\"mean\":%.1f", key, h->total ? US(h->min) : 0, US(hist_mean(h)));
    if (full)
        fprintf(f, ",\"stdev\":%.1f", US(hist_stdev(h)));
    fprintf(f, ",\"p50\":%.1f", US(hist_percentile(h, 50)));
    if (full)
        fprintf(f, ",\"p90\":%.1f", US(hist_percentile(h, 90)));
    fprintf(f, ",\"p99\":%.1f", US(hist_percentile(h, 99)));
    if (full)
        fprintf(f, ",\"p999\":%.1f,\"p9999\":%.1f", US(hist_percentile(h, 99.9)),
                US(hist_percentile(h, 99.99)));
    fprintf(f, ",\"max\":%.1f}", US(h->max));
}

/* Open the output, or "-" for stdout; NULL, said on stderr, when it does not open. */
static FILE *out_open(const char *path, const char *mode)
{
    FILE *f = strcmp(path, "-") ? fopen(path, mode) : stdout;
    if (!f)
        fprintf(stderr, "loadgen: %s: %s\n", path, strerror(errno));
    return f;
}

static int out_close(FILE *f, const char *path)
{
    int bad = ferror(f);
    if (f != stdout)
        bad |= fclose(f);
    else
        bad |= fflush(f);
    if (bad)
        fprintf(stderr, "loadgen: writing %s failed\n", path);
    return bad ? -1 : 0;
}

int lg_write_json(const char *path, const struct lg_opts *o, const struct lg_plan *p,
                  const struct lg_result *r, double wall_s, const struct lg_verdict *v)
{
    FILE *f = out_open(path, "we");
    if (!f)
        return -1;
    const struct lg_counts *c = &r->c;
    char m[32];
    fputs("{\"target\":", f);
    json_str(f, o->target);
    fprintf(f, ",\"proto\":\"%s\",\"connections\":%u,\"idle\":%u,\"threads\":%u,\"procs\":%u,"
            "\"duration_s\":%g,\"warmup_s\":%g,\"rate\":%g,\"arrival\":\"%s\",\"size\":%u,"
            "\"pipeline\":%u,\"conn_mode\":\"%s\"", o->proto == LG_HTTP ? "http" : "echo",
            o->connections, o->idle, o->threads, o->procs, o->duration, o->warmup, o->rate,
            o->arrival == LG_POISSON ? "poisson" : "constant", o->size, o->pipeline,
            conn_mode(o, m, sizeof m));
    fputs(",\"path\":", f);
    json_str(f, o->path);
    fprintf(f, ",\"requests\":%llu,\"requests_total\":%llu,\"requests_sent\":%llu,\"incomplete\":%llu,"
            "\"requests_failed\":%llu,\"throughput_rps\":%.2f,\"bytes_in\":%llu,\"bytes_out\":%llu,"
            "\"window_s\":%.6f,\"wall_s\":%.6f",
            (unsigned long long)c->requests, (unsigned long long)c->requests_total,
            (unsigned long long)c->requests_sent, (unsigned long long)c->incomplete,
            (unsigned long long)c->failed, rps(r), (unsigned long long)c->bytes_in,
            (unsigned long long)c->bytes_out, c->window_s, wall_s);
    fputs(",\"window_start_unix\":", f);
    epoch(f, p->win_real, 6);
    fprintf(f, ",\"warmup_actual_s\":%.6f", (double)(p->win0 - p->t0) / LG_NS);
    if (o->start_at) {
        fputs(",\"start_at_unix\":", f);
        epoch(f, o->start_at, 6);
        fprintf(f, ",\"start_skew_us\":%.1f", skew_us(o, p));
    } else
        fputs(",\"start_at_unix\":null,\"start_skew_us\":null", f);
    json_lat(f, "latency_us", &r->lat, 1);
    json_lat(f, "latency_uncorrected_us", &r->unc, 1);
    json_lat(f, "connect_us", &r->con, 0);
    fprintf(f, ",\"connects\":%llu,\"connects_total\":%llu,\"reconnects\":%llu,\"requests_resent\":%llu",
            (unsigned long long)c->connects, (unsigned long long)c->connects_total,
            (unsigned long long)c->reconnects, (unsigned long long)c->resent);
    struct lg_fair fr;
    lg_result_fair(r, &fr);
    fprintf(f, ",\"conn_requests\":{\"min\":%llu,\"median\":%.1f,\"max\":%llu},\"fairness_jain\":",
            (unsigned long long)fr.min, fr.median, (unsigned long long)fr.max);
    if (fr.jain >= 0)
        fprintf(f, "%.4f", fr.jain);
    else
        fputs("null", f);           /* no answer at all: evenness is not defined */
    fprintf(f, ",\"conns_starved\":%u", fr.starved);
    fprintf(f, ",\"intended_rps\":%.2f,\"achieved_rps\":%.2f,\"scheduled\":%llu,\"unsent\":%llu",
            o->rate, rps(r), (unsigned long long)c->scheduled, (unsigned long long)c->unsent);
    fprintf(f, ",\"send_lag_us\":{\"p50\":%.1f,\"p99\":%.1f,\"max\":%.1f}",
            US(hist_percentile(&r->lag, 50)), US(hist_percentile(&r->lag, 99)), US(r->lag.max));
    fprintf(f, ",\"send_lag_self_us\":{\"p50\":%.1f,\"p99\":%.1f,\"max\":%.1f}",
            US(hist_percentile(&r->selflag, 50)), US(hist_percentile(&r->selflag, 99)),
            US(r->selflag.max));
    fputs(",\"errors\":{", f);
    for (int i = 0; i < LG_E_COUNT; i++)
        fprintf(f, "%s\"%s\":%llu", i ? "," : "", lg_err_names[i], (unsigned long long)c->err[i]);
    fprintf(f, "},\"errors_total\":%llu", (unsigned long long)errors_total(r));
    fprintf(f, ",\"status\":{\"1xx\":%llu,\"2xx\":%llu,\"3xx\":%llu,\"4xx\":%llu,\"5xx\":%llu}",
            (unsigned long long)c->status[0], (unsigned long long)c->status[1],
            (unsigned long long)c->status[2], (unsigned long long)c->status[3],
            (unsigned long long)c->status[4]);
    fprintf(f, ",\"idle_open\":%llu,\"idle_closed\":%llu", (unsigned long long)c->idle_open,
            (unsigned long long)c->idle_closed);
    double per = c->requests_total ? cpu_s(r) * 1e6 / (double)c->requests_total : 0;
    fprintf(f, ",\"cpu\":{\"user_s\":%.3f,\"sys_s\":%.3f,\"us_per_request\":%.3f,\"share\":%.4f,"
            "\"thread_busy_max\":%.4f,\"thread_cpu_max\":%.4f}",
            c->cpu_user_s, c->cpu_sys_s, per, wall_s > 0 ? cpu_s(r) / (wall_s * o->threads) : 0,
            c->busy_max, c->thread_cpu_max);
    fprintf(f, ",\"bottleneck\":\"%s\",\"bottleneck_reason\":", v->loadgen ? "loadgen" : "none");
    json_str(f, v->reason);
    fputs("}\n", f);
    return out_close(f, path);
}

/* ---- CSV: the JSON flattened; column names carry their units ----------------------------- */

static const char csv_header[] =
    "target,proto,connections,idle,threads,procs,duration_s,warmup_s,rate,arrival,size,pipeline,"
    "conn_mode,requests,requests_total,requests_sent,incomplete,requests_failed,throughput_rps,"
    "bytes_in,bytes_out,latency_min_us,latency_mean_us,latency_stdev_us,latency_p50_us,"
    "latency_p90_us,latency_p99_us,latency_p999_us,latency_p9999_us,latency_max_us,"
    "uncorrected_p50_us,uncorrected_p99_us,uncorrected_max_us,connect_p50_us,connect_p99_us,"
    "connect_max_us,connects,intended_rps,achieved_rps,send_lag_p50_us,send_lag_p99_us,"
    "send_lag_max_us,unsent,err_connect,err_connect_timeout,err_reset,err_read,err_write,"
    "err_timeout,err_bad_response,err_mismatch,err_status_4xx,err_status_5xx,errors_total,"
    "status_1xx,status_2xx,status_3xx,status_4xx,status_5xx,idle_open,conn_requests_min,"
    "conn_requests_median,conn_requests_max,fairness_jain,conns_starved,cpu_user_s,cpu_sys_s,"
    "cpu_us_per_request,cpu_share,bottleneck,bottleneck_reason\n";

int lg_write_csv(const char *path, const struct lg_opts *o, const struct lg_result *r,
                 double wall_s, const struct lg_verdict *v)
{
    struct stat st;
    int fresh = stat(path, &st) < 0 || st.st_size == 0;
    FILE *f = out_open(path, "ae");
    if (!f)
        return -1;
    const struct lg_counts *c = &r->c;
    char m[32];
    if (fresh)
        fputs(csv_header, f);
    /* The target never holds a comma or a quote worth escaping (HOST:PORT); the reason is quoted. */
    fprintf(f, "%s,%s,%u,%u,%u,%u,%g,%g,%g,%s,%u,%u,%s,", o->target, o->proto == LG_HTTP ? "http" : "echo",
            o->connections, o->idle, o->threads, o->procs, o->duration, o->warmup, o->rate,
            o->arrival == LG_POISSON ? "poisson" : "constant", o->size, o->pipeline,
            conn_mode(o, m, sizeof m));
    fprintf(f, "%llu,%llu,%llu,%llu,%llu,%.2f,%llu,%llu,", (unsigned long long)c->requests,
            (unsigned long long)c->requests_total, (unsigned long long)c->requests_sent,
            (unsigned long long)c->incomplete, (unsigned long long)c->failed, rps(r),
            (unsigned long long)c->bytes_in, (unsigned long long)c->bytes_out);
    const struct hist *l = &r->lat;
    fprintf(f, "%.1f,%.1f,%.1f,%.1f,%.1f,%.1f,%.1f,%.1f,%.1f,", l->total ? US(l->min) : 0,
            US(hist_mean(l)), US(hist_stdev(l)), US(hist_percentile(l, 50)), US(hist_percentile(l, 90)),
            US(hist_percentile(l, 99)), US(hist_percentile(l, 99.9)), US(hist_percentile(l, 99.99)),
            US(l->max));
    fprintf(f, "%.1f,%.1f,%.1f,%.1f,%.1f,%.1f,%llu,", US(hist_percentile(&r->unc, 50)),
            US(hist_percentile(&r->unc, 99)), US(r->unc.max), US(hist_percentile(&r->con, 50)),
            US(hist_percentile(&r->con, 99)), US(r->con.max), (unsigned long long)c->connects);
    fprintf(f, "%.2f,%.2f,%.1f,%.1f,%.1f,%llu,", o->rate, rps(r), US(hist_percentile(&r->lag, 50)),
            US(hist_percentile(&r->lag, 99)), US(r->lag.max), (unsigned long long)c->unsent);
    for (int i = 0; i < LG_E_COUNT; i++)
        fprintf(f, "%llu,", (unsigned long long)c->err[i]);
    fprintf(f, "%llu,", (unsigned long long)errors_total(r));
    for (int i = 0; i < 5; i++)
        fprintf(f, "%llu,", (unsigned long long)c->status[i]);
    struct lg_fair fr;
    lg_result_fair(r, &fr);
    fprintf(f, "%llu,%llu,%.1f,%llu,", (unsigned long long)c->idle_open, (unsigned long long)fr.min,
            fr.median, (unsigned long long)fr.max);
    if (fr.jain >= 0)
        fprintf(f, "%.4f", fr.jain);    /* empty: no answer at all */
    fprintf(f, ",%u,", fr.starved);
    double per = c->requests_total ? cpu_s(r) * 1e6 / (double)c->requests_total : 0;
    fprintf(f, "%.3f,%.3f,%.3f,%.4f,%s,\"%s\"\n", c->cpu_user_s,
            c->cpu_sys_s, per, wall_s > 0 ? cpu_s(r) / (wall_s * o->threads) : 0,
            v->loadgen ? "loadgen" : "none", v->reason);
    return out_close(f, path);
}

/* ---- per-second rows and the spectrum ------------------------------------------------------ */

int lg_write_timeseries(const char *path, const struct lg_opts *o, const struct lg_plan *p,
                        const struct lg_result *r)
{
    FILE *f = out_open(path, "we");
    if (!f)
        return -1;
    /* Seconds by completion time since the start; the phase says whether they were counted. */
    double warmup = (double)(p->win0 - p->t0) / LG_NS;   /* shorter than asked after --start-at */
    uint32_t last = 0;
    for (uint32_t i = 0; i < r->nsec; i++)
        if (r->sec[i].requests || r->sec[i].errors || r->sec[i].connects || i < warmup + o->duration)
            last = i + 1;
    fputs("t_s,phase,requests,throughput_rps,latency_p50_us,latency_p99_us,latency_max_us,errors,"
          "connects\n", f);
    for (uint32_t i = 0; i < last; i++) {
        const struct hist *h = &r->sechist[i];
        const char *phase = i < warmup ? "warmup" : i < warmup + o->duration ? "measure" : "drain";
        fprintf(f, "%u,%s,%llu,%llu,%.1f,%.1f,%.1f,%llu,%llu\n", i, phase,
                (unsigned long long)r->sec[i].requests, (unsigned long long)r->sec[i].requests,
                US(hist_percentile(h, 50)), US(hist_percentile(h, 99)), US(h->max),
                (unsigned long long)r->sec[i].errors, (unsigned long long)r->sec[i].connects);
    }
    return out_close(f, path);
}

int lg_write_hist(const char *path, const struct lg_result *r)
{
    FILE *f = out_open(path, "we");
    if (!f)
        return -1;
    hist_print_spectrum(&r->lat, f, 1000.0, 5);
    return out_close(f, path);
}

/* ---- the interval log ---------------------------------------------------------------------- */

/* One interval a second from the window's start, each with both tags: every request of the window
 * lands in the second of its intended send time, so the intervals' counts add up to `requests`.
 * The log's times have milliseconds: its base is the window's start cut to the millisecond. */
int lg_write_hlog(const char *path, const struct lg_plan *p, const struct lg_result *r)
{
    FILE *f = out_open(path, "we");
    if (!f)
        return -1;
    const struct hist *h = &r->lat;
    char units[200];
    snprintf(units, sizeof units, "[Values in nanoseconds: lowest discernible %lld, highest trackable %lld, "
             "%d significant digits; Interval_Max in milliseconds (max / %.1f)]", (long long)h->lowest,
             (long long)h->highest, h->sig, HLOG_MAX_DIVISOR);
    const char *comments[] = {
        "[bin/loadgen: latency of the measured window, one interval a second by intended send time]",
        units,
        "[Tag corrected: from the intended send time (latency_us); uncorrected: from the actual send "
        "(latency_uncorrected_us)]",
    };
    int64_t ms = p->win_real / 1000000;   /* down: the window's offset from the base is >= 0 */
    double base = (double)ms / 1000, off = (double)(p->win_real - ms * 1000000) / LG_NS;
    hlog_write_header(f, comments, 3, base, base);
    uint32_t n = (uint32_t)ceil(r->c.window_s - 1e-9);
    for (uint32_t i = 0; i < r->nivl; i++)
        if (r->ivl[2 * i].total && i >= n)
            n = i + 1;                  /* none past the window, but never drop a value */
    int bad = 0;
    for (uint32_t i = 0; i < n && i < r->nivl && !bad; i++) {
        double len = r->c.window_s - i < 1 && r->c.window_s > i ? r->c.window_s - i : 1;
        for (int k = 0; k < 2 && !bad; k++) {
            const struct hist *iv = &r->ivl[2 * i + k];
            bad = hlog_write_interval(f, k ? "uncorrected" : "corrected", i + off, len,
                                      (double)iv->max / HLOG_MAX_DIVISOR, iv) < 0;
        }
    }
    if (bad)
        fprintf(stderr, "loadgen: %s: no memory to encode a histogram\n", path);
    return out_close(f, path) < 0 || bad ? -1 : 0;
}
