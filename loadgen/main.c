/* main.c - bin/loadgen: parse, prepare, run the worker process(es) and their threads, merge the
 * results, judge itself, and write the outputs. See lg_usage() for the command line. */
#include "lg.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

/* One worker process's slot in the shared mapping: its result and, if it failed, why. */
struct proc_slot {
    struct lg_result res;
    int rc;                         /* 0 ok, -1 failed, 1 still running */
    char err[256];
};

static struct lg_shared *shared;

static void on_signal(int sig)
{
    atomic_store(&shared->stop, 1);  /* lock-free, so safe here; threads see it within 100 ms */
}

/* The soft fd limit up to the hard one; refuse a share of connections one process cannot hold. */
static int fd_budget(const struct lg_opts *o, char *err, size_t errlen)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0) {
        snprintf(err, errlen, "getrlimit: %s", strerror(errno));
        return -1;
    }
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    getrlimit(RLIMIT_NOFILE, &rl);
    uint64_t per_proc = ((uint64_t)o->connections + o->idle + o->procs - 1) / o->procs;
    uint64_t need = per_proc + 16 + 2 * o->threads;   /* stdio, epoll sets, outputs */
    if (rl.rlim_cur != RLIM_INFINITY && need > rl.rlim_cur) {
        snprintf(err, errlen, "%llu connections per process need about %llu fds but the limit is %llu: "
                 "use --procs %llu or more", (unsigned long long)per_proc, (unsigned long long)need,
                 (unsigned long long)rl.rlim_cur,
                 (unsigned long long)(((uint64_t)o->connections + o->idle) / (rl.rlim_cur - 16 - 2 * o->threads) + 1));
        return -1;
    }
    return 0;
}

struct runner_arg {
    const struct lg_opts *o;
    const struct lg_proto *proto;
    const struct lg_plan *plan;
    struct proc_slot *slot;
    _Atomic int done;
};

static void *runner(void *p)
{
    struct runner_arg *a = p;
    a->slot->rc = lg_run_proc(a->o, a->proto, 0, a->plan, shared, &a->slot->res, a->slot->err,
                              sizeof a->slot->err);
    atomic_store(&a->done, 1);
    return NULL;
}

static int64_t real_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * LG_NS + ts.tv_nsec;
}

/* CLOCK_REALTIME at the monotonic instant `mono`, from one reading of the wall clock between two of
 * the monotonic one: exact to the reading's width (well under a microsecond). */
static int64_t real_at(int64_t mono)
{
    int64_t m0 = lg_now(), r = real_ns(), m1 = lg_now();
    return r - (m0 + (m1 - m0) / 2 - mono);
}

/* A signal that asked to stop ends the sleep; others do not. */
static void sleep_until(clockid_t clock, int64_t at)
{
    struct timespec ts = {.tv_sec = at / LG_NS, .tv_nsec = at % LG_NS};
    while (clock_nanosleep(clock, TIMER_ABSTIME, &ts, NULL) == EINTR && !atomic_load(&shared->stop))
        ;
}

/* When the threads start (t0) and the window opens (win0), both monotonic. Without --start-at the
 * threads start in a moment (time to create them or fork the workers) and the window opens
 * --warmup later. With --start-at T the window opens at T: the start waits until T - warmup on
 * CLOCK_REALTIME (so a clock set meanwhile is followed), then T is carried over to the monotonic
 * clock; when T - warmup has passed by then the warmup is shortened, and when T has passed too the
 * window opens at the start, and stderr says so (the JSON's start_skew_us says by how much). */
static void plan_start(const struct lg_opts *o, struct lg_plan *p)
{
    int64_t lead = (o->procs > 1 ? 100 : 20) * 1000000LL, warm = (int64_t)(o->warmup * LG_NS);
    if (!o->start_at) {
        p->t0 = lg_now() + lead;
        p->win0 = p->t0 + warm;
        return;
    }
    if (o->start_at - warm - lead > real_ns())
        sleep_until(CLOCK_REALTIME, o->start_at - warm - lead);
    int64_t now = lg_now();
    p->t0 = now + lead;
    if (atomic_load(&shared->stop)) {   /* interrupted while waiting: start now, and stop at once */
        p->win0 = p->t0;
        return;
    }
    p->win0 = now + (o->start_at - real_at(now));
    if (p->win0 - warm > p->t0)
        p->t0 = p->win0 - warm;
    if (p->win0 < p->t0) {
        fprintf(stderr, "loadgen: --start-at was %.6f s ago when the load generator was ready: "
                "the window opens at once\n", (double)(p->t0 - p->win0) / LG_NS);
        p->win0 = p->t0;
    }
}

/* Once a second, when stderr is a terminal: elapsed time, answers, rate, errors. */
static void progress(const struct lg_opts *o, const struct lg_plan *p, int64_t now, uint64_t *last_reqs)
{
    uint64_t reqs = 0, errs = 0;
    for (uint32_t i = 0; i < o->threads; i++) {
        reqs += atomic_load_explicit(&shared->reqs[i], memory_order_relaxed);
        errs += atomic_load_explicit(&shared->errs[i], memory_order_relaxed);
    }
    double el = (double)(now - p->t0) / LG_NS, all = (double)(p->win0 - p->t0) / LG_NS + o->duration;
    fprintf(stderr, "\r  %5.1fs/%gs  %llu answered  %llu req/s  %llu errors   ", el, all,
            (unsigned long long)reqs, (unsigned long long)(reqs - *last_reqs), (unsigned long long)errs);
    *last_reqs = reqs;
}

/* Wait for the worker(s), showing progress; kill any worker still alive past the hard end. Wake
 * at the window's start too, to read the wall clock then (plan->win_real). */
static void supervise(const struct lg_opts *o, struct lg_plan *plan, pid_t *pids, struct proc_slot **slots,
                      struct runner_arg *ra)
{
    int tty = isatty(2), opened = 0;
    int64_t hard_end = plan->win0 + (int64_t)((o->duration + o->timeout + 1) * LG_NS) + LG_NS;
    int64_t next_progress = plan->t0 + LG_NS;
    uint64_t last = 0;
    uint32_t left = o->procs;
    while (left) {
        int64_t wake = lg_now() + 20 * 1000000;
        sleep_until(CLOCK_MONOTONIC, opened || wake < plan->win0 ? wake : plan->win0);
        int64_t now = lg_now();
        if (!opened && now >= plan->win0) {
            plan->win_real = real_at(plan->win0);
            opened = 1;
        }
        if (tty && now >= next_progress) {
            progress(o, plan, now, &last);
            next_progress += LG_NS;
        }
        if (!pids) {
            left = !atomic_load(&ra->done);
            continue;
        }
        left = 0;
        for (uint32_t p = 0; p < o->procs; p++) {
            if (!pids[p])
                continue;
            int st;
            pid_t r = waitpid(pids[p], &st, WNOHANG);
            if (r == pids[p]) {
                pids[p] = 0;
                if (!WIFEXITED(st) || WEXITSTATUS(st) != 0 || slots[p]->rc == 1) {
                    slots[p]->rc = -1;
                    if (!slots[p]->err[0])
                        snprintf(slots[p]->err, sizeof slots[p]->err, "worker %u died (status 0x%x)", p, st);
                }
                continue;
            }
            if (now > hard_end) {          /* a worker must never hold the run hostage */
                kill(pids[p], SIGKILL);
                waitpid(pids[p], &st, 0);
                pids[p] = 0;
                slots[p]->rc = -1;
                snprintf(slots[p]->err, sizeof slots[p]->err, "worker %u killed: past the hard end", p);
                continue;
            }
            left++;
        }
    }
    if (!opened)                        /* stopped before the window: where it would have been */
        plan->win_real = real_at(plan->win0);
    if (tty)
        fputc('\n', stderr);
}

/* Judge, print, write the files; the exit code says whether errors passed --max-errors. */
static int report(const struct lg_opts *o, const struct lg_plan *p, const struct lg_result *total,
                  double wall_s)
{
    struct lg_verdict v;
    lg_verdict(o, total, wall_s, &v);
    if (!o->quiet)
        lg_print_summary(stdout, o, p, total, wall_s, &v);
    int bad = 0;
    if (o->json)
        bad |= lg_write_json(o->json, o, p, total, wall_s, &v);
    if (o->csv)
        bad |= lg_write_csv(o->csv, o, total, wall_s, &v);
    if (o->timeseries)
        bad |= lg_write_timeseries(o->timeseries, o, p, total);
    if (o->hist)
        bad |= lg_write_hist(o->hist, total);
    if (o->hlog)
        bad |= lg_write_hlog(o->hlog, p, total);
    if (bad)
        return 1;
    uint64_t errors = 0;
    for (int i = 0; i < LG_E_COUNT; i++)
        errors += total->c.err[i];
    if (o->max_errors >= 0 && errors > (uint64_t)o->max_errors) {
        fprintf(stderr, "loadgen: %llu errors, more than --max-errors %lld\n",
                (unsigned long long)errors, o->max_errors);
        return 2;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct lg_opts o;
    char err[512];
    int r = lg_parse_opts(&o, argc, argv, err, sizeof err);
    if (r != 0) {
        if (r < 0)
            fprintf(stderr, "loadgen: %s (try --help)\n", err);
        return r < 0 ? 1 : 0;
    }
    signal(SIGPIPE, SIG_IGN);
    const struct lg_proto *proto = o.proto == LG_ECHO ? &lg_proto_echo : &lg_proto_http;
    if (fd_budget(&o, err, sizeof err) < 0 || proto->setup(&o, err, sizeof err) < 0) {
        fprintf(stderr, "loadgen: %s\n", err);
        return 1;
    }
    /* Progress, the stop flag and every worker's result live in one shared mapping, so a worker
     * process hands its result over without any serialisation. */
    size_t slot_head = (sizeof(struct proc_slot) + 63) & ~(size_t)63;
    size_t slot_bytes = slot_head + ((lg_result_bytes(&o) + 63) & ~(size_t)63);
    size_t map_bytes = sizeof(struct lg_shared) + 64 + slot_bytes * o.procs;
    char *map = mmap(NULL, map_bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (map == MAP_FAILED) {
        fprintf(stderr, "loadgen: mmap %zu bytes: %s\n", map_bytes, strerror(errno));
        return 1;
    }
    shared = (struct lg_shared *)map;
    struct proc_slot *slots[64];
    for (uint32_t p = 0; p < o.procs; p++) {
        char *base = map + ((sizeof(struct lg_shared) + 63) & ~(size_t)63) + slot_bytes * p;
        slots[p] = (struct proc_slot *)base;
        lg_result_init(&slots[p]->res, &o, base + slot_head);
        slots[p]->rc = 1;
    }
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    fflush(NULL);

    /* Every thread of every process starts at the same monotonic instant (CLOCK_MONOTONIC is one
     * clock for the whole machine, so forked workers agree on it). */
    struct lg_plan plan;
    plan_start(&o, &plan);
    pid_t pids[64] = {0};
    struct runner_arg ra = {.o = &o, .proto = proto, .plan = &plan, .slot = slots[0]};
    if (o.procs == 1) {
        pthread_t tid;
        int e = pthread_create(&tid, NULL, runner, &ra);
        if (e) {
            fprintf(stderr, "loadgen: pthread_create: %s\n", strerror(e));
            return 1;
        }
        supervise(&o, &plan, NULL, NULL, &ra);
        pthread_join(tid, NULL);
    } else {
        for (uint32_t p = 0; p < o.procs; p++) {
            pid_t pid = fork();
            if (pid == 0) {   /* the worker writes straight into its slot of the shared map */
                struct proc_slot *s = slots[p];
                s->rc = lg_run_proc(&o, proto, (int)p, &plan, shared, &s->res, s->err, sizeof s->err);
                _exit(s->rc ? 1 : 0);
            }
            if (pid < 0) {
                slots[p]->rc = -1;
                snprintf(slots[p]->err, sizeof slots[p]->err, "fork: %s", strerror(errno));
                atomic_store(&shared->stop, 1);
                continue;
            }
            pids[p] = pid;
        }
        supervise(&o, &plan, pids, slots, NULL);
    }
    double wall_s = (double)(lg_now() - plan.t0) / LG_NS;

    struct lg_result total;
    if (lg_result_init(&total, &o, NULL) < 0) {
        fprintf(stderr, "loadgen: no memory to merge results\n");
        return 1;
    }
    int rc = 0;
    for (uint32_t p = 0; p < o.procs; p++) {
        if (slots[p]->rc != 0) {
            fprintf(stderr, "loadgen: %s\n", slots[p]->err[0] ? slots[p]->err : "a worker failed");
            rc = 1;
            continue;
        }
        lg_result_add(&total, &slots[p]->res);
    }
    if (rc == 0)
        rc = report(&o, &plan, &total, wall_s);
    lg_result_free(&total);
    munmap(map, map_bytes);
    return rc;
}
