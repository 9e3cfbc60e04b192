/* result.c - results of a thread, process or run: one flat block of memory (so a worker process
 * can fill it in a shared mapping), and the merge that adds one result into another. */
#include "lg.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define LAT_LOW  1                      /* ns: 3 significant digits from 1 ns */
#define LAT_HIGH (100 * LG_NS)          /* 100 s */
#define LAT_SIG  3
#define SEC_SIG  2                      /* per-second histograms only feed p50/p99 columns */

const char *const lg_err_names[LG_E_COUNT] = {
    [LG_E_CONNECT] = "connect",         [LG_E_CONNECT_TIMEOUT] = "connect_timeout",
    [LG_E_RESET] = "reset",             [LG_E_READ] = "read",
    [LG_E_WRITE] = "write",             [LG_E_TIMEOUT] = "timeout",
    [LG_E_BAD_RESPONSE] = "bad_response", [LG_E_MISMATCH] = "mismatch",
    [LG_E_STATUS_4XX] = "status_4xx",   [LG_E_STATUS_5XX] = "status_5xx",
};

/* Seconds a run can last: warmup + duration + the drain (timeout) + slack. */
uint32_t lg_result_nsec(const struct lg_opts *o)
{
    return (uint32_t)ceil(o->warmup + o->duration + o->timeout) + 2;
}

/* --hlog: one interval per second of the window, the last one shorter for a fractional duration. */
static uint32_t nivl(const struct lg_opts *o)
{
    return o->hlog ? (uint32_t)ceil(o->duration) : 0;
}

/* With --hlog, 2 x 230 KB per second of the window; calloc and the shared mapping hand out pages
 * that stay untouched (and cost nothing) until a value lands in them. */
size_t lg_result_bytes(const struct lg_opts *o)
{
    size_t n = lg_result_nsec(o), big = hist_counts_bytes(LAT_LOW, LAT_HIGH, LAT_SIG);
    return 5 * big +
           n * (sizeof(struct hist) + sizeof(struct lg_sec) + hist_counts_bytes(LAT_LOW, LAT_HIGH, SEC_SIG)) +
           2 * nivl(o) * (sizeof(struct hist) + big) + (size_t)o->connections * sizeof(uint64_t);
}

int lg_result_init(struct lg_result *r, const struct lg_opts *o, void *mem)
{
    size_t big = hist_counts_bytes(LAT_LOW, LAT_HIGH, LAT_SIG);
    size_t small = hist_counts_bytes(LAT_LOW, LAT_HIGH, SEC_SIG);
    memset(r, 0, sizeof *r);
    if (!mem) {
        if (!(mem = calloc(1, lg_result_bytes(o))))
            return -1;
        r->block = mem;
    }
    char *p = mem;
    struct hist *h[5] = {&r->lat, &r->unc, &r->con, &r->lag, &r->selflag};
    for (int i = 0; i < 5; i++, p += big)
        hist_init_at(h[i], LAT_LOW, LAT_HIGH, LAT_SIG, p);
    r->nsec = lg_result_nsec(o);
    r->sechist = (struct hist *)p;
    p += r->nsec * sizeof(struct hist);
    r->sec = (struct lg_sec *)p;
    p += r->nsec * sizeof(struct lg_sec);
    for (uint32_t i = 0; i < r->nsec; i++, p += small)
        hist_init_at(&r->sechist[i], LAT_LOW, LAT_HIGH, SEC_SIG, p);
    r->nivl = nivl(o);
    r->ivl = r->nivl ? (struct hist *)p : NULL;
    p += 2 * r->nivl * sizeof(struct hist);
    for (uint32_t i = 0; i < 2 * r->nivl; i++, p += big)
        hist_init_at(&r->ivl[i], LAT_LOW, LAT_HIGH, LAT_SIG, p);
    r->per_conn = (uint64_t *)p;    /* 8-aligned: everything before is counts of 8 bytes */
    r->nconn = o->connections;
    return 0;
}

void lg_result_free(struct lg_result *r)
{
    free(r->block);
    r->block = NULL;
}

/* Everything adds except the per-thread maxima. */
void lg_result_add(struct lg_result *d, const struct lg_result *s)
{
    struct lg_counts *a = &d->c;
    const struct lg_counts *b = &s->c;
    a->requests += b->requests;
    a->requests_total += b->requests_total;
    a->requests_sent += b->requests_sent;
    a->failed += b->failed;
    a->incomplete += b->incomplete;
    a->unsent += b->unsent;
    a->scheduled += b->scheduled;
    a->bytes_in += b->bytes_in;
    a->bytes_out += b->bytes_out;
    a->connects += b->connects;
    a->connects_total += b->connects_total;
    a->reconnects += b->reconnects;
    a->resent += b->resent;
    for (int i = 0; i < LG_E_COUNT; i++)
        a->err[i] += b->err[i];
    for (int i = 0; i < 5; i++)
        a->status[i] += b->status[i];
    a->idle_open += b->idle_open;
    a->idle_closed += b->idle_closed;
    a->busy_s += b->busy_s;
    a->busy_max = fmax(a->busy_max, b->busy_max);
    a->thread_cpu_s += b->thread_cpu_s;
    a->thread_cpu_max = fmax(a->thread_cpu_max, b->thread_cpu_max);
    a->cpu_user_s += b->cpu_user_s;
    a->cpu_sys_s += b->cpu_sys_s;
    a->threads += b->threads;
    a->window_s = fmax(a->window_s, b->window_s);
    hist_add(&d->lat, &s->lat);
    hist_add(&d->unc, &s->unc);
    hist_add(&d->con, &s->con);
    hist_add(&d->lag, &s->lag);
    hist_add(&d->selflag, &s->selflag);
    for (uint32_t i = 0; i < d->nsec && i < s->nsec; i++) {
        d->sec[i].requests += s->sec[i].requests;
        d->sec[i].errors += s->sec[i].errors;
        d->sec[i].connects += s->sec[i].connects;
        hist_add(&d->sechist[i], &s->sechist[i]);
    }
    for (uint32_t i = 0; i < 2 * d->nivl && i < 2 * s->nivl; i++)
        hist_add(&d->ivl[i], &s->ivl[i]);
    for (uint32_t i = 0; i < d->nconn && i < s->nconn; i++)
        d->per_conn[i] += s->per_conn[i];
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Computed from the merged per-slot counts, never from per-thread summaries. */
void lg_result_fair(const struct lg_result *r, struct lg_fair *f)
{
    uint32_t n = r->nconn;
    double sum = 0, sq = 0;
    memset(f, 0, sizeof *f);
    f->jain = -1;
    uint64_t *v = n ? malloc(n * sizeof *v) : NULL;
    if (!v)
        return;
    memcpy(v, r->per_conn, n * sizeof *v);
    qsort(v, n, sizeof *v, cmp_u64);
    for (uint32_t i = 0; i < n; i++) {
        sum += (double)v[i];
        sq += (double)v[i] * (double)v[i];
        f->starved += v[i] == 0;
    }
    f->min = v[0];
    f->max = v[n - 1];
    f->median = n % 2 ? (double)v[n / 2] : ((double)v[n / 2 - 1] + (double)v[n / 2]) / 2;
    if (sq > 0)
        f->jain = sum * sum / (n * sq);
    free(v);
}
