/* engine.c - the per-thread event loop: one epoll set per thread over its share of the
 * connections, their timers fired when due (timer.c: connect timeouts, reconnects, request
 * timeouts), the open-loop schedule, and the phases of a run (warmup, measured window, drain).
 * Threads share nothing while they run; their results are merged after join. */
#include "engine.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

/* Fire what is due. A handler may re-arm its own connection (lazily re-checked timeouts), so the
 * entry is removed before the call, never after. */
static void run_timers(struct lg_thread *t, int64_t now)
{
    struct lg_timer *tm;
    while ((tm = lg_timer_first(&t->timers)) && tm->at <= now) {
        lg_timer_del(&t->timers, tm);
        lg_conn_timer(t, LG_TIMER_OWNER(tm, struct lg_conn, timer), now);
    }
}

/* ---- open loop: the schedule ---------------------------------------------------------------- */

/* Advance the schedule by one arrival: fixed spacing, or exponential gaps for Poisson. */
static void advance(struct lg_thread *t)
{
    if (lg_in_window(t, (int64_t)t->next_f))
        t->res.c.scheduled++;
    if (t->o->arrival == LG_CONSTANT) {
        t->next_f += t->interval;
        return;
    }
    t->rng ^= t->rng >> 12, t->rng ^= t->rng << 25, t->rng ^= t->rng >> 27;
    double u = (double)((t->rng * 2685821657736338717ULL) >> 11) * 0x1.0p-53;
    t->next_f += -log1p(-u) * t->interval;
}

/* Send every request that is due, each on the free connection that waited longest. Latency is
 * later taken from the intended time, so a late send costs the percentiles, not just the rate. */
static void dispatch(struct lg_thread *t, int64_t now)
{
    while ((int64_t)t->next_f <= now && (int64_t)t->next_f < t->stop_at) {
        struct lg_conn *c = lg_conn_take_free(t);
        if (!c)
            break;                      /* all busy: the backlog waits for an answer */
        int64_t intended = (int64_t)t->next_f;
        if (lg_in_window(t, intended)) {
            hist_record(&t->res.lag, now - intended);
            /* Lag the server caused (no connection was free) is not ours; the rest is. */
            hist_record(&t->res.selflag, now - (c->free_since > intended ? c->free_since : intended));
        }
        lg_conn_assign(t, c, intended, now);
        advance(t);
    }
    lg_conn_flush_assigned(t, now);     /* one write per connection for all it was given */
}

/* ---- phases ------------------------------------------------------------------------------- */

static int64_t thread_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * LG_NS + ts.tv_nsec;
}

static void snap_idle(struct lg_thread *t)
{
    t->idle_snapped = 1;
    for (uint32_t i = t->nactive; i < t->nconns; i++)
        t->res.c.idle_open += t->conns[i].state == CS_OPEN;
}

/* End of the measured window: no new requests; what is due and unsent is counted, not sent. */
static void begin_stop(struct lg_thread *t, int64_t now)
{
    t->stopping = 1;
    t->stopped_at = now;
    if (t->drain_end > now + (int64_t)(t->o->timeout * LG_NS))   /* stopped early (SIGINT) */
        t->drain_end = now + (int64_t)(t->o->timeout * LG_NS);
    int64_t cpu = thread_cpu() - t->cpu0, wall = now - t->t0;
    t->res.c.thread_cpu_s = (double)cpu / LG_NS;
    t->res.c.thread_cpu_max = wall > 0 ? (double)cpu / (double)wall : 0;
    t->res.c.busy_s = (double)(wall - t->waited_ns) / LG_NS;
    t->res.c.busy_max = wall > 0 ? (double)(wall - t->waited_ns) / (double)wall : 0;
    int64_t end = now < t->stop_at ? now : t->stop_at;
    t->res.c.window_s = end > t->warm_end ? (double)(end - t->warm_end) / LG_NS : 0;
    if (!t->idle_snapped)
        snap_idle(t);
    while (t->open && (int64_t)t->next_f < t->stop_at) {
        if (lg_in_window(t, (int64_t)t->next_f))
            t->res.c.unsent++;
        advance(t);
    }
}

/* epoll_pwait2 takes a nanosecond timeout; old kernels get epoll_wait rounded up to 1 ms. */
static int wait_events(struct lg_thread *t, struct epoll_event *ev, int max, int64_t ns)
{
    static _Atomic int no_pwait2;
    if (ns < 0)
        ns = 0;
    if (!atomic_load_explicit(&no_pwait2, memory_order_relaxed)) {
        struct timespec ts = {.tv_sec = ns / LG_NS, .tv_nsec = ns % LG_NS};
        int n = epoll_pwait2(t->epfd, ev, max, &ts, NULL);
        if (n >= 0 || errno != ENOSYS)
            return n;
        atomic_store_explicit(&no_pwait2, 1, memory_order_relaxed);
    }
    return epoll_wait(t->epfd, ev, max, (int)((ns + 999999) / 1000000));
}

static void *thread_main(void *arg)
{
    struct lg_thread *t = arg;
    /* Open-loop wakeups should happen at the intended time, not 50 us (the default slack) later. */
    prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
    struct timespec ts = {.tv_sec = t->t0 / LG_NS, .tv_nsec = t->t0 % LG_NS};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
        ;
    t->cpu0 = thread_cpu();
    int64_t now = lg_now();
    for (uint32_t i = 0; i < t->nconns; i++)
        lg_conn_connect_at(t, &t->conns[i], now, now);
    struct epoll_event ev[256];       /* under load ~100 come back per call */
    for (;;) {
        now = lg_now();
        run_timers(t, now);
        /* Dispatch before the stop check: a send due just before the end is late, not unsent. */
        if (t->open && !t->stopping)
            dispatch(t, now);
        if (!t->stopping && (now >= t->stop_at || atomic_load_explicit(&t->sh->stop, memory_order_relaxed)))
            begin_stop(t, now);
        /* The drain: answers still due, and connects under way (the server may have accepted
         * them already, so they are waited for and counted, not dropped). */
        if (t->stopping && ((t->inflight == 0 && t->connecting == 0) || now >= t->drain_end))
            break;
        if (!t->idle_snapped && now >= t->idle_snap_at)
            snap_idle(t);
        /* Sleep until the earliest of: end of phase, idle snapshot, a timer, the next intended
         * send (only if a connection could take it; otherwise an answer will wake us). */
        int64_t wake = t->stopping ? t->drain_end : t->stop_at;
        if (!t->idle_snapped && t->idle_snap_at < wake)
            wake = t->idle_snap_at;
        struct lg_timer *first = lg_timer_first(&t->timers);
        if (first && first->at < wake)
            wake = first->at;
        if (t->open && !t->stopping && t->free_len && (int64_t)t->next_f < wake)
            wake = (int64_t)t->next_f;
        int64_t before = lg_now();
        if (wake > before + LG_NS / 10)
            wake = before + LG_NS / 10;  /* look at the shared stop flag now and then */
        int n = wait_events(t, ev, 256, wake - before);
        if (!t->stopping)
            t->waited_ns += lg_now() - before;
        for (int i = 0; i < n; i++)
            lg_conn_event(t, ev[i].data.ptr, ev[i].events);
        /* Progress for the parent: one relaxed store per pass, never per request. */
        atomic_store_explicit(&t->sh->reqs[t->gidx], t->res.c.requests_total, memory_order_relaxed);
        uint64_t e = 0;
        for (int k = 0; k < LG_E_COUNT; k++)
            e += t->res.c.err[k];
        atomic_store_explicit(&t->sh->errs[t->gidx], e, memory_order_relaxed);
    }
    for (uint32_t i = 0; i < t->nconns; i++)
        lg_conn_finish(t, &t->conns[i]);
    t->res.c.threads = 1;
    return NULL;
}

/* ---- setup and the process's share -------------------------------------------------------- */

/* [lo, hi) of the i-th of n equal shares of [0, total). */
static void share(uint32_t total, uint32_t i, uint32_t n, uint32_t *lo, uint32_t *hi)
{
    *lo = (uint32_t)((uint64_t)total * i / n);
    *hi = (uint32_t)((uint64_t)total * (i + 1) / n);
}

/* Thread g is the k-th of the n threads of process `proc`. Connections are split between the
 * processes first (each holds its fair share of fds, whatever the thread count), then between
 * that process's threads. */
static int thread_setup(struct lg_thread *t, const struct lg_opts *o, int g, const struct lg_plan *plan,
                        int proc, int k, int n)
{
    uint32_t T = o->threads, p0, p1, q0, q1, a0, a1, i0, i1;
    share(o->connections, (uint32_t)proc, o->procs, &p0, &p1);
    share(p1 - p0, (uint32_t)k, (uint32_t)n, &a0, &a1);
    a0 += p0, a1 += p0;
    share(o->idle, (uint32_t)proc, o->procs, &q0, &q1);
    share(q1 - q0, (uint32_t)k, (uint32_t)n, &i0, &i1);
    i0 += q0, i1 += q0;
    t->gidx = g;
    t->nactive = a1 - a0;
    t->nconns = t->nactive + (i1 - i0);
    int64_t t0 = plan->t0;
    t->t0 = t0;
    t->warm_end = plan->win0;
    t->stop_at = t->warm_end + (int64_t)(o->duration * LG_NS);
    t->drain_end = t->stop_at + (int64_t)(o->timeout * LG_NS);
    t->idle_snap_at = t->warm_end > t0 ? t->warm_end : t->stop_at;
    t->rng = 0x9E3779B97F4A7C15ULL * (uint64_t)(g + 1);   /* xorshift: never 0 */
    t->jitter = t->rng;
    /* Each thread takes the share of the rates that its connections are of all connections. */
    t->open = o->rate > 0 && t->nactive > 0;
    if (t->open) {
        t->interval = (double)LG_NS * o->connections / (o->rate * t->nactive);
        t->next_f = (double)t0 + t->interval * g / T;    /* threads interleave their arrivals */
    }
    if (o->connect_rate > 0 && t->nconns > 0) {
        t->connect_gap = (int64_t)((double)LG_NS * (o->connections + o->idle) / (o->connect_rate * t->nconns));
        t->connect_next = t0 + t->connect_gap * g / (int64_t)T;
    }
    /* Everything a thread touches per request is allocated here, once. */
    t->epfd = epoll_create1(EPOLL_CLOEXEC);
    t->conns = calloc(t->nconns ? t->nconns : 1, sizeof *t->conns);
    t->slots = calloc((size_t)(t->nactive ? t->nactive : 1) * o->pipeline, sizeof *t->slots);
    t->freering = calloc(t->nactive ? t->nactive : 1, sizeof *t->freering);
    t->dirtyv = calloc(t->nactive ? t->nactive : 1, sizeof *t->dirtyv);
    t->rbuf = malloc(LG_RBUF);
    if (t->epfd < 0 || !t->conns || !t->slots || lg_timers_init(&t->timers, t->nconns) < 0 ||
        !t->freering || !t->dirtyv || !t->rbuf || lg_result_init(&t->res, o, NULL) < 0) {
        snprintf(t->err, sizeof t->err, "thread %d setup: %s", g, strerror(errno));
        return -1;
    }
    for (uint32_t i = 0; i < t->nconns; i++) {
        struct lg_conn *c = &t->conns[i];
        c->fd = -1;
        lg_timer_init(&c->timer);
        c->idle = i >= t->nactive;
        c->id = c->idle ? o->connections + i0 + (i - t->nactive) : a0 + i;
        c->ring = c->idle ? NULL : t->slots + (size_t)i * o->pipeline;
        t->proto->reset(&c->ps);
    }
    return 0;
}

static void thread_free(struct lg_thread *t)
{
    if (t->epfd >= 0)
        close(t->epfd);
    free(t->conns);
    free(t->slots);
    lg_timers_free(&t->timers);
    free(t->freering);
    free(t->dirtyv);
    free(t->rbuf);
    lg_result_free(&t->res);
}

static double tv_s(struct timeval tv)
{
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

int lg_run_proc(const struct lg_opts *o, const struct lg_proto *proto, int proc,
                const struct lg_plan *plan, struct lg_shared *sh, struct lg_result *out, char *err,
                size_t errlen)
{
    int g0 = (int)((uint64_t)o->threads * proc / o->procs);
    int g1 = (int)((uint64_t)o->threads * (proc + 1) / o->procs);
    int n = g1 - g0, started = 0, rc = 0;
    struct lg_thread *ts = calloc((size_t)n, sizeof *ts);
    struct rusage ru0, ru1;
    getrusage(RUSAGE_SELF, &ru0);
    if (!ts) {
        snprintf(err, errlen, "no memory for %d threads", n);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        ts[i].o = o;
        ts[i].proto = proto;
        ts[i].sh = sh;
        ts[i].epfd = -1;
        if (thread_setup(&ts[i], o, g0 + i, plan, proc, i, n) < 0) {
            snprintf(err, errlen, "%s", ts[i].err);
            rc = -1;
            goto out;
        }
    }
    /* Threads sleep until t0 after creation, so setup time here does not skew the start. */
    for (; started < n; started++) {
        int e = pthread_create(&ts[started].tid, NULL, thread_main, &ts[started]);
        if (e) {
            snprintf(err, errlen, "pthread_create: %s", strerror(e));
            atomic_store(&sh->stop, 1);   /* the started ones end early; nothing is reported */
            rc = -1;
            break;
        }
    }
    for (int i = 0; i < started; i++)
        pthread_join(ts[i].tid, NULL);
    if (rc == 0)
        for (int i = 0; i < n; i++)
            lg_result_add(out, &ts[i].res);
    getrusage(RUSAGE_SELF, &ru1);
    out->c.cpu_user_s += tv_s(ru1.ru_utime) - tv_s(ru0.ru_utime);
    out->c.cpu_sys_s += tv_s(ru1.ru_stime) - tv_s(ru0.ru_stime);
out:
    for (int i = 0; i < n; i++)
        thread_free(&ts[i]);
    free(ts);
    return rc;
}
