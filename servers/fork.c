/* fork.c: a process per connection. The parent accepts and forks; the child serves the connection and
 * exits. The parent reaps children from a SIGCHLD handler (a loop of waitpid WNOHANG: one signal may
 * stand for several exits). If fork() fails the connection is closed and counted, the parent backs off
 * and keeps accepting. On stop the parent signals every live child and waits for them. */
#include "common/server.h"

#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static atomic_uchar *alive;  /* alive[pid]: a child not yet reaped (so its pid cannot be reused) */
static size_t alive_len;     /* pid_max */
static atomic_int nchildren; /* children not yet reaped */

static void on_child(int sig)
{
    int saved = errno, status;
    pid_t pid;
    (void)sig;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        if ((size_t)pid < alive_len)
            atomic_store(&alive[pid], 0);
        atomic_fetch_sub(&nchildren, 1);
        srv_conn_release();
    }
    errno = saved;
}

static size_t read_pid_max(void)
{
    unsigned long v = 0;
    FILE *f = fopen("/proc/sys/kernel/pid_max", "r");
    if (f) {
        if (fscanf(f, "%lu", &v) != 1)
            v = 0;
        fclose(f);
    }
    return v ? v + 1 : 4194305; /* the kernel's largest pid_max, plus one */
}

static void child(struct srv *s, int fd, pid_t parent)
{
    struct srv_stats st = { 0 }; /* the parent's unflushed counts must not be flushed twice */
    signal(SIGCHLD, SIG_DFL);
    srv_child_init();
    prctl(PR_SET_PDEATHSIG, SIGTERM); /* never outlive a parent that was killed outright */
    if (getppid() != parent)
        _exit(0);
    close(s->listen_fd);
    srv_serve_blocking(s, fd, &st);
    _exit(0);
}

/* Signal the live children, wait for them up to the deadline, then kill what is left. */
static void stop_children(void)
{
    int64_t deadline = srv_now_ns() + 800000000;
    struct timespec tick = { 0, 2000000 };
    for (size_t pid = 1; pid < alive_len; pid++)
        if (atomic_load(&alive[pid]))
            kill((pid_t)pid, SIGTERM);
    while (atomic_load(&nchildren) > 0 && srv_now_ns() < deadline)
        nanosleep(&tick, NULL);
    for (size_t pid = 1; pid < alive_len; pid++)
        if (atomic_load(&alive[pid]))
            kill((pid_t)pid, SIGKILL);
    while (atomic_load(&nchildren) > 0 && srv_now_ns() < deadline + 100000000)
        nanosleep(&tick, NULL);
}

static int run(struct srv *s)
{
    struct srv_stats st = { 0 };
    struct srv_ratelimit rl = { 0 };
    struct sigaction sa;
    sigset_t chld, old;
    unsigned step = 0;
    pid_t self = getpid();
    int fd;

    alive_len = read_pid_max();
    alive = calloc(alive_len, sizeof *alive);
    if (!alive) {
        srv_log("out of memory");
        return 1;
    }
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_child;
    sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
    sigfillset(&sa.sa_mask);
    sigaction(SIGCHLD, &sa, NULL);
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);

    srv_ready(s);
    while ((fd = srv_accept_blocking(s, &st)) >= 0) {
        /* SIGCHLD is held until the child is recorded, so its reaping cannot come first. */
        sigprocmask(SIG_BLOCK, &chld, &old);
        pid_t pid = fork();
        int fork_err = errno;
        if (pid == 0) {
            sigprocmask(SIG_SETMASK, &old, NULL);
            child(s, fd, self);
        }
        if (pid > 0) {
            atomic_store(&alive[pid], 1);
            atomic_fetch_add(&nchildren, 1);
        }
        sigprocmask(SIG_SETMASK, &old, NULL);
        close(fd);
        if (pid < 0) {
            st.spawn_failures++;
            srv_conn_release();
            srv_log_limited(&rl, 5, "fork: %s; connection closed, backing off",
                            strerror(fork_err));
            srv_backoff(&step);
        } else {
            step = 0;
        }
    }
    srv_stats_flush(&st);
    stop_children();
    return 0;
}

const struct srv_model srv_model = {
    .name = "fork",
    .summary = "Fork: one child process per connection, reaped on SIGCHLD.",
    .flags = SRV_F_BLOCKING | SRV_F_SPAWNS,
    .keepalive = SRV_KEEPALIVE_APACHE,
    .run = run,
};
