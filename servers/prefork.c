/* prefork.c: a pool of N worker processes forked at start, each blocking in accept() on the shared
 * listener and serving one connection at a time (the kernel wakes one waiter per connection). The
 * parent only supervises: it waits on a signalfd for SIGCHLD and on the stop eventfd, restarts a
 * worker that dies (backing off when workers die young), and on stop signals the workers and waits. */
#include "common/server.h"

#include <errno.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define YOUNG_NS 1000000000LL /* a worker dying younger than this counts towards back-off */

/* Workers blocked in accept(), in memory shared by the pool (--keepalive-yield): while one is, the
 * kernel hands it any new client at once, so nobody waits and the listener need not be asked. */
static _Atomic int *idle_workers;
static int listen_fd = -1;

static int clients_waiting(void)
{
    if (idle_workers && atomic_load_explicit(idle_workers, memory_order_relaxed) > 0)
        return 0;
    return srv_listener_pending(listen_fd);
}

static int accept_next(struct srv *s, struct srv_stats *st)
{
    if (idle_workers)
        atomic_fetch_add_explicit(idle_workers, 1, memory_order_relaxed);
    int fd = srv_accept_blocking(s, st);
    if (idle_workers)
        atomic_fetch_sub_explicit(idle_workers, 1, memory_order_relaxed);
    return fd;
}

struct slot {
    pid_t pid;        /* 0: empty, to be (re)started */
    int64_t started;  /* when it was forked */
    int64_t retry_at; /* earliest time to restart an empty slot */
};

static void worker(struct srv *s, pid_t parent, const sigset_t *mask, int sfd)
{
    struct srv_stats st = { 0 };
    int fd;
    close(sfd);
    sigprocmask(SIG_SETMASK, mask, NULL);
    srv_child_init(); /* a worker told to stop alone must not shut the shared listener down */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent)
        _exit(0);
    while ((fd = accept_next(s, &st)) >= 0) {
        srv_serve_blocking(s, fd, &st);
        srv_conn_release();
    }
    srv_stats_flush(&st);
    _exit(0);
}

static void spawn(struct srv *s, struct slot *sl, int i, struct srv_stats *st,
                  const sigset_t *mask, int sfd)
{
    /* A refused fork (EAGAIN under a process limit) lasts as long as the limit: retry every 100 ms
     * so a worker is back soon after, but say so only every few seconds, not ten times a second. */
    static struct srv_ratelimit rl;
    pid_t self = getpid();
    pid_t pid = fork();
    if (pid == 0)
        worker(s, self, mask, sfd);
    if (pid < 0) {
        st->spawn_failures++;
        srv_log_limited(&rl, 5, "fork of worker %d: %s; retrying", i, strerror(errno));
        sl->retry_at = srv_now_ns() + 100000000;
        return;
    }
    sl->pid = pid;
    sl->started = srv_now_ns();
}

/* Reap exited workers; mark their slots for restart. */
static void reap(struct slot *slots, int n, unsigned *young)
{
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        for (int i = 0; i < n; i++) {
            if (slots[i].pid != pid)
                continue;
            slots[i].pid = 0;
            if (srv_stopping())
                break;
            int64_t now = srv_now_ns();
            *young = now - slots[i].started < YOUNG_NS ? *young + 1 : 0;
            slots[i].retry_at = now + (*young ? (10000000LL << (*young < 7 ? *young : 7)) : 0);
            if (WIFSIGNALED(status))
                srv_log("worker %d (pid %d) killed by signal %d; restarting", i, (int)pid,
                        WTERMSIG(status));
            else
                srv_log("worker %d (pid %d) exited with %d; restarting", i, (int)pid,
                        WEXITSTATUS(status));
        }
    }
}

static int live(const struct slot *slots, int n)
{
    int k = 0;
    for (int i = 0; i < n; i++)
        k += slots[i].pid > 0;
    return k;
}

static void stop_workers(struct slot *slots, int n)
{
    struct timespec tick = { 0, 2000000 };
    int64_t deadline = srv_now_ns() + 800000000;
    unsigned young = 0;
    for (int sig = SIGTERM; sig; sig = sig == SIGTERM ? SIGKILL : 0) {
        for (int i = 0; i < n; i++)
            if (slots[i].pid > 0)
                kill(slots[i].pid, sig);
        for (reap(slots, n, &young); live(slots, n) && srv_now_ns() < deadline;
             reap(slots, n, &young))
            nanosleep(&tick, NULL);
        deadline += 100000000;
    }
}

static int run(struct srv *s)
{
    struct srv_stats st = { 0 };
    int n = s->opt.workers;
    unsigned young = 0;
    sigset_t chld, old;
    struct slot *slots = calloc((size_t)n, sizeof *slots);

    listen_fd = s->listen_fd;
    if (s->opt.keepalive.yield) {
        /* Without the shared count the listener is asked at every response: slower, still right. */
        void *m = mmap(NULL, sizeof *idle_workers, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED)
            srv_log("prefork: mmap of the idle-worker count: %s", strerror(errno));
        else
            idle_workers = m;
    }
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, &old);
    int sfd = signalfd(-1, &chld, SFD_NONBLOCK | SFD_CLOEXEC);
    if (!slots || sfd < 0) {
        srv_log("prefork setup: %s", strerror(errno));
        return 1;
    }
    for (int i = 0; i < n; i++)
        spawn(s, &slots[i], i, &st, &old, sfd);
    srv_ready(s);
    while (!srv_stopping()) {
        int64_t now = srv_now_ns(), wait_ns = -1;
        for (int i = 0; i < n; i++) {
            if (slots[i].pid > 0)
                continue;
            if (slots[i].retry_at <= now)
                spawn(s, &slots[i], i, &st, &old, sfd);
            if (slots[i].pid == 0 && (wait_ns < 0 || slots[i].retry_at - now < wait_ns))
                wait_ns = slots[i].retry_at - now;
        }
        struct pollfd p[2] = { { .fd = sfd, .events = POLLIN }, { .fd = srv_wake_fd(), .events = POLLIN } };
        poll(p, 2, wait_ns < 0 ? -1 : (int)(wait_ns / 1000000) + 1);
        struct signalfd_siginfo si;
        while (read(sfd, &si, sizeof si) == (ssize_t)sizeof si)
            ; /* one SIGCHLD may stand for several exits: reap() loops anyway */
        reap(slots, n, &young);
    }
    srv_stats_flush(&st);
    stop_workers(slots, n);
    close(sfd);
    free(slots);
    return 0;
}

const struct srv_model srv_model = {
    .name = "prefork",
    .summary = "Prefork: N worker processes forked at start, each blocking in accept().",
    .flags = SRV_F_BLOCKING | SRV_F_SPAWNS | SRV_F_WORKERS,
    .default_workers = 8,
    .keepalive = { .requests = 100, .timeout = 5, .yield = 1 }, /* Apache prefork; Tomcat */
    .clients_waiting = clients_waiting,
    .run = run,
};
