/* stop.c: what a stop signal (SIGTERM, SIGINT) does, at once, from the handler: set the flag, wake
 * the event loops (an eventfd), shut the blocking models' listener down (Linux wakes every accept()
 * blocked on it, with EINVAL) and every tracked fd (a thread blocked in read() sees EOF, in write()
 * EPIPE). Everything the handler touches is a lock-free atomic or a system call from the
 * async-signal-safe list (write, shutdown), so it may run at any point of any model.
 *
 * The C servers link it through server.c; the Python servers through bin/libcmbproto.so. There the
 * interpreter has installed its own handler first, and this one runs in front of it and then calls
 * it: CPython runs a Python handler only between bytecodes, so a signal that lands after the last
 * check and before a blocking accept() or recv() would otherwise wait there for the next client. */
#include "server.h"

#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "server_int.h"

static atomic_int stop_flag;
static int wake_fd = -1;
static atomic_int stop_listen_fd = -1; /* listener to shut down on stop (blocking models), or -1 */
static atomic_uchar *tracked;          /* tracked[fd]: shut fd down on stop */
static size_t tracked_len;
static struct sigaction chained[2];    /* SIGTERM's and SIGINT's handler before ours, called after it */

int srv_stopping(void)
{
    return atomic_load_explicit(&stop_flag, memory_order_acquire);
}

int srv_wake_fd(void)
{
    return wake_fd;
}

void srv_stop_now(void)
{
    uint64_t one = 1;
    atomic_store_explicit(&stop_flag, 1, memory_order_seq_cst);
    if (wake_fd >= 0 && write(wake_fd, &one, sizeof one) < 0) {
        /* the counter is already nonzero: the wakeup is pending anyway */
    }
    int lfd = atomic_load(&stop_listen_fd);
    if (lfd >= 0)
        shutdown(lfd, SHUT_RDWR);
    for (size_t fd = 0; fd < tracked_len; fd++)
        if (atomic_load_explicit(&tracked[fd], memory_order_acquire))
            shutdown((int)fd, SHUT_RDWR);
}

static void on_stop(int sig, siginfo_t *info, void *ctx)
{
    int saved = errno;
    const struct sigaction *prev = &chained[sig == SIGINT];
    srv_stop_now();
    if (prev->sa_flags & SA_SIGINFO)
        prev->sa_sigaction(sig, info, ctx);
    else if (prev->sa_handler != SIG_DFL && prev->sa_handler != SIG_IGN)
        prev->sa_handler(sig);
    errno = saved;
}

void srv_track(int fd)
{
    if (fd >= 0 && (size_t)fd < tracked_len) {
        atomic_store_explicit(&tracked[fd], 1, memory_order_seq_cst);
        /* A stop that swept the registry just before we registered has set the flag: honour it. */
        if (atomic_load_explicit(&stop_flag, memory_order_seq_cst))
            shutdown(fd, SHUT_RDWR);
    }
}

void srv_untrack(int fd)
{
    if (fd >= 0 && (size_t)fd < tracked_len)
        atomic_store_explicit(&tracked[fd], 0, memory_order_release);
}

/* Install on_stop for SIGTERM and SIGINT, keeping a handler function found there to call after it
 * (never on_stop itself: a forked child installs again). The signals are held meanwhile, so on_stop
 * never sees a half-written chained[]. A previous SIG_IGN is not kept: a server started in the
 * background of a shell, with SIGINT ignored, still stops on it. */
static void install_handlers(void)
{
    int sigs[2] = { SIGTERM, SIGINT };
    sigset_t hold, old;
    struct sigaction sa;

    sigemptyset(&hold);
    sigaddset(&hold, SIGTERM);
    sigaddset(&hold, SIGINT);
    pthread_sigmask(SIG_BLOCK, &hold, &old);
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_stop;
    sa.sa_flags = SA_SIGINFO; /* no SA_RESTART: a blocked call returns EINTR and sees the flag */
    sigfillset(&sa.sa_mask);
    for (int i = 0; i < 2; i++) {
        struct sigaction cur;
        sigaction(sigs[i], NULL, &cur);
        if (!((cur.sa_flags & SA_SIGINFO) && cur.sa_sigaction == on_stop))
            chained[sigs[i] == SIGINT] = cur;
        sigaction(sigs[i], &sa, NULL);
    }
    signal(SIGPIPE, SIG_IGN);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}

int srv_stop_init(int stop_listener, int with_wake_fd, char *err, size_t errlen)
{
    struct rlimit rl;

    tracked_len = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY
                      ? (size_t)rl.rlim_cur : 65536;
    tracked = calloc(tracked_len, sizeof *tracked);
    if (!tracked) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (with_wake_fd) {
        wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (wake_fd < 0) {
            snprintf(err, errlen, "eventfd: %s", strerror(errno));
            return -1;
        }
    }
    atomic_store(&stop_listen_fd, stop_listener);
    install_handlers();
    return 0;
}

void srv_child_init(void)
{
    atomic_store(&stop_listen_fd, -1);
    for (size_t fd = 0; fd < tracked_len; fd++)
        atomic_store_explicit(&tracked[fd], 0, memory_order_relaxed);
    install_handlers();
}
