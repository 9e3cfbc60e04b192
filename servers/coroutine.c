/* coroutine.c: stackful coroutines scheduled over epoll, the C counterpart of a gevent server.
 *
 * Each connection is a coroutine running the blocking models' connection loop (srv_serve_io in
 * blocking.c: read, feed the engine, write, repeat), unchanged. Only its read and write differ: on
 * EAGAIN they park the coroutine and switch to the scheduler, which waits in epoll_wait and switches
 * back to the coroutine whose socket became ready. One thread, thousands of coroutines, each on a
 * small guard-paged stack (servers/common/coro.c) kept on a free list for the next connection.
 *
 * Sockets are registered once, edge-triggered for both directions: a parked coroutine has always just
 * seen EAGAIN, so the next edge is exactly the wakeup it needs, and parking costs no epoll_ctl.
 * --idle-timeout: each coroutine has a timer on the shared wheel (wheel.c), re-armed lazily from the
 * time it last parked; one parked for longer is resumed with ETIMEDOUT. Stop: every coroutine is
 * resumed with ECANCELED and unwinds through the same loop. */
#include "common/coro.h"
#include "common/list.h"
#include "common/server.h"
#include "common/wheel.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define STACK_SIZE (256u * 1024u) /* instrumented frames are several times larger */
#else
#define STACK_SIZE (64u * 1024u)
#endif
#define STACKS_KEPT 256u  /* free stacks kept mapped for reuse; more are unmapped */
#define MAX_EVENTS 256
#define ACCEPTS_PER_TURN 256
#define TICK_NS 100000000LL /* idle-timer resolution */
#define WHEEL_SLOTS 1024u   /* 102 s of ticks; longer timeouts come back early and re-arm */

enum wake { WAKE_READY, WAKE_TIMEOUT, WAKE_STOP };

struct task {
    struct coro_ctx ctx;
    struct coro_stack stack;
    struct wheel_node timer;   /* idle timer, if --idle-timeout */
    int64_t parked_ns;         /* when it last parked: the timer re-arms from this */
    struct list link;          /* every live task: a stop resumes them all */
    int fd;
    uint32_t want;             /* EPOLLIN or EPOLLOUT while parked, 0 while running */
    enum wake wake;            /* why the scheduler resumed it */
    int done;                  /* finished: the scheduler frees it */
};

struct free_stack {
    struct free_stack *next;   /* kept in the free stack's own memory */
    struct coro_stack stack;
};

static struct {
    struct srv *srv;
    int epfd;
    struct coro_ctx main;      /* the scheduler's context: the thread's own stack */
    struct list all;           /* live tasks */
    struct wheel wheel;
    int64_t idle_ns;           /* --idle-timeout; 0: none */
    struct free_stack *free_stacks;
    unsigned nfree;
    int64_t now;               /* monotonic ns at the last wakeup: parking needs no clock read */
    int64_t accept_at;         /* listener paused after fd exhaustion until then, or 0 */
    unsigned backoff;          /* consecutive exhaustion pauses */
    int stopping;              /* the loop has ended: no coroutine may park again */
    struct srv_stats st;       /* one thread: every coroutine counts here */
} sched;

/* ---- parking: what a coroutine's blocking call does instead of blocking ---- */

/* Park the running task until its fd is ready for `events`. 0 when ready; -1 with errno ETIMEDOUT
 * (idle timeout) or ECANCELED (the server stops). */
static int park(struct task *t, uint32_t events)
{
    if (sched.stopping || srv_stopping()) {
        errno = ECANCELED;
        return -1;
    }
    t->want = events;
    t->parked_ns = sched.now;
    coro_switch(&t->ctx, &sched.main);
    t->want = 0;
    if (t->wake == WAKE_READY)
        return 0;
    errno = t->wake == WAKE_TIMEOUT ? ETIMEDOUT : ECANCELED;
    return -1;
}

static ssize_t co_read(void *ctx, int fd, void *buf, size_t n)
{
    for (;;) {
        ssize_t r = read(fd, buf, n);
        if (r >= 0 || errno != EAGAIN)
            return r;
        sched.st.eagain++;
        if (park(ctx, EPOLLIN) < 0)
            return -1;
    }
}

static ssize_t co_write(void *ctx, int fd, const void *buf, size_t n)
{
    for (;;) {
        ssize_t r = write(fd, buf, n);
        if (r >= 0 || errno != EAGAIN)
            return r;
        sched.st.eagain++;
        if (park(ctx, EPOLLOUT) < 0)
            return -1;
    }
}

static const struct srv_io coro_io = {
    .name = "coroutine",
    .read = co_read,
    .write = co_write,
};

/* A connection's whole life, in blocking style. */
static void conn_main(void *arg)
{
    struct task *t = arg;
    srv_serve_io(sched.srv, t->fd, &sched.st, &coro_io, t, sched.srv->opt.idle_timeout);
    close(t->fd); /* also leaves the epoll set */
    sched.st.closed++;
    srv_conn_release();
    t->done = 1;
    coro_exit(&t->ctx, &sched.main);
}

/* ---- tasks ---- */

static void resume(struct task *t, enum wake why)
{
    t->wake = why;
    coro_switch(&sched.main, &t->ctx);
    if (!t->done)
        return;
    /* It ran off the end of conn_main: it is off its stack for good, so the stack can be reused. */
    list_del(&t->link);
    wheel_del(&sched.wheel, &t->timer);
    coro_release(&t->ctx);
    if (sched.nfree < STACKS_KEPT) {
        struct free_stack *fs = t->stack.base; /* the bottom of the stack: never touched by a task */
        fs->stack = t->stack;
        fs->next = sched.free_stacks;
        sched.free_stacks = fs;
        sched.nfree++;
    } else {
        coro_stack_free(&t->stack);
    }
    free(t);
}

/* Start a coroutine for a new connection fd; on failure close it. */
static void spawn(int fd)
{
    static struct srv_ratelimit rl;
    struct task *t = calloc(1, sizeof *t);
    struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET };

    if (t && sched.free_stacks) {
        struct free_stack *fs = sched.free_stacks;
        sched.free_stacks = fs->next;
        sched.nfree--;
        t->stack = fs->stack;
    } else if (t && coro_stack_alloc(&t->stack, STACK_SIZE) < 0) {
        free(t);
        t = NULL;
    }
    ev.data.ptr = t;
    if (t) {
        sched.st.ctl_calls++;
        if (epoll_ctl(sched.epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
            coro_stack_free(&t->stack);
            free(t);
            t = NULL;
        }
    }
    if (!t) {
        sched.st.spawn_failures++;
        srv_log_limited(&rl, 5, "cannot start a coroutine: %s; connection closed", strerror(errno));
        close(fd);
        srv_conn_release();
        return;
    }
    t->fd = fd;
    list_add_tail(&sched.all, &t->link);
    if (sched.idle_ns)
        wheel_add(&sched.wheel, &t->timer, sched.now + sched.idle_ns);
    coro_make(&t->ctx, &t->stack, conn_main, t);
    resume(t, WAKE_READY); /* runs until its first read would block */
}

/* ---- the scheduler ---- */

static void accept_some(struct srv *s)
{
    static struct srv_ratelimit rl;
    for (int i = 0; i < ACCEPTS_PER_TURN; i++) {
        int fd = srv_accept(s->listen_fd, 1);
        if (fd >= 0) {
            sched.backoff = 0;
            if (srv_conn_admit(s, &sched.st) < 0)
                close(fd);
            else
                spawn(fd);
            continue;
        }
        if (srv_accept_transient(errno))
            continue;
        if (errno == EAGAIN) {
            sched.st.eagain++;
            return;
        }
        /* Out of fds or memory: stop watching the listener for a while (10 ms doubling to 320 ms)
         * instead of spinning on a level-triggered listener that stays readable. */
        srv_log_limited(&rl, 5, "accept: %s; pausing accepts", strerror(errno));
        sched.st.ctl_calls++;
        epoll_ctl(sched.epfd, EPOLL_CTL_DEL, s->listen_fd, NULL);
        sched.accept_at = sched.now + (10000000LL << (sched.backoff < 5 ? sched.backoff : 5));
        sched.backoff += sched.backoff < 5;
        return;
    }
}

/* Milliseconds epoll_wait may sleep: until the next idle deadline or accept resumption, or forever. */
static int wait_ms(void)
{
    int64_t next = wheel_next(&sched.wheel);
    if (sched.accept_at && (next < 0 || sched.accept_at < next))
        next = sched.accept_at;
    if (next < 0)
        return -1;
    int64_t ms = (next - sched.now + 999999) / 1000000;
    return ms < 0 ? 0 : ms > 60000 ? 60000 : (int)ms;
}

static int watch(int fd, void *tag)
{
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = tag };
    sched.st.ctl_calls++;
    return epoll_ctl(sched.epfd, EPOLL_CTL_ADD, fd, &ev);
}

static int run(struct srv *s)
{
    static char listen_tag, wake_tag; /* epoll data for the two fds that are not tasks */
    struct epoll_event evs[MAX_EVENTS];

    sched.srv = s;
    list_init(&sched.all);
    sched.idle_ns = (int64_t)s->opt.idle_timeout * 1000000000;
    sched.now = srv_now_ns();
    coro_main_init(&sched.main);
    sched.epfd = epoll_create1(EPOLL_CLOEXEC);
    if (sched.epfd < 0 || watch(s->listen_fd, &listen_tag) < 0 || watch(srv_wake_fd(), &wake_tag) < 0 ||
        wheel_init(&sched.wheel, TICK_NS, WHEEL_SLOTS, sched.now) < 0) {
        srv_log("scheduler setup: %s", strerror(errno));
        return 1;
    }
    srv_ready(s);

    while (!srv_stopping()) {
        int n = epoll_wait(sched.epfd, evs, MAX_EVENTS, wait_ms());
        sched.now = srv_now_ns();
        if (n < 0) {
            if (errno == EINTR)
                continue;
            srv_log("epoll_wait: %s", strerror(errno));
            break;
        }
        sched.st.wait_calls++;
        sched.st.events += (uint64_t)n;
        for (int i = 0; i < n; i++) {
            void *tag = evs[i].data.ptr;
            if (tag == &listen_tag) {
                accept_some(s);
            } else if (tag != &wake_tag) {
                struct task *t = tag;
                /* An edge for the other direction is dropped: the task tries the call first anyway. */
                if (t->want && (evs[i].events & (t->want | EPOLLERR | EPOLLHUP | EPOLLRDHUP)))
                    resume(t, WAKE_READY);
            }
        }
        if (sched.accept_at && sched.now >= sched.accept_at) {
            sched.accept_at = 0;
            watch(s->listen_fd, &listen_tag);
        }
        struct wheel_node *wn;
        while ((wn = wheel_pop(&sched.wheel, sched.now)) != NULL) {
            struct task *t = LIST_ENTRY(wn, struct task, timer);
            if (t->parked_ns + sched.idle_ns <= sched.now)
                resume(t, WAKE_TIMEOUT); /* every task is parked while the scheduler runs */
            else
                wheel_add(&sched.wheel, &t->timer, t->parked_ns + sched.idle_ns);
        }
    }

    /* Stop: resume every coroutine with ECANCELED; each unwinds, closes its socket and ends. */
    sched.stopping = 1;
    while (!list_empty(&sched.all))
        resume(LIST_ENTRY(sched.all.next, struct task, link), WAKE_STOP);
    while (sched.free_stacks) {
        struct free_stack *fs = sched.free_stacks;
        sched.free_stacks = fs->next;
        struct coro_stack st = fs->stack;
        coro_stack_free(&st);
    }
    close(sched.epfd);
    wheel_free(&sched.wheel);
    srv_stats_flush(&sched.st);
    return 0;
}

const struct srv_model srv_model = {
    .name = "coroutine",
    .summary = "Coroutine: a stackful coroutine per connection in blocking style, scheduled over epoll.",
    .flags = SRV_F_EVENTS | SRV_F_SPAWNS,
    .keepalive = SRV_KEEPALIVE_NGINX,
    .run = run,
};
