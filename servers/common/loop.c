/* loop.c: the readiness loop (contract in loop.h). The bytes of each connection are conn.c's; this file
 * decides when each connection runs: on readiness from the backend, on the CONN_MORE queue when its
 * budget ran out, or on its idle timer. */
#include "loop.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "list.h"
#include "wheel.h"

#define LOOP_MAXEV     1024 /* events per wait (backends that must report every ready fd size up) */
#define LOOP_WHEEL     1024 /* wheel slots: 102 s at LOOP_TICK_MS, longer timeouts re-arm */
#define NS_PER_MS      1000000LL

struct lconn {
    struct conn c;
    struct wheel_node timer; /* idle timer; re-armed lazily from active_ns when it comes due */
    struct list more;        /* on the CONN_MORE queue, or unlinked (next == NULL) */
    int64_t active_ns;       /* last time bytes moved */
};

#define LCONN_OF(ptr, member) LIST_ENTRY(ptr, struct lconn, member)

struct loop {
    struct srv *srv;
    const struct loop_backend *be;
    void *bs;                 /* the backend's state */
    int listen_fd, wake_fd;
    int spare_fd;             /* kept open to accept-and-close when out of fds; -1 if it could not be had */
    unsigned listen_mask;     /* CONN_READ, or 0 while the listener rests */
    int accept_more;          /* edge: the listener was not drained to EAGAIN, accept again this turn */
    int64_t resume_ns;        /* when a resting listener is watched again; 0: not resting */
    struct lconn **conns;     /* by fd */
    int nconns;               /* length of conns */
    struct conn_ctx cx;
    struct wheel wheel;
    int64_t idle_ns;          /* --idle-timeout; 0: none */
    struct list more;         /* connections with CONN_MORE work */
    int64_t now;              /* monotonic time after the last wait */
    int progress;             /* this turn moved bytes or accepted (busy polling yields otherwise) */
    int setsize_logged;
    struct srv_stats st;      /* this loop's counters, flushed when it ends */
    struct srv_ratelimit rl_exhausted, rl_accept, rl_ctl;
};

/* ---- connections ---- */

/* Forget a connection and close it. `teardown`: the loop is ending, the backend goes away whole. */
static void drop(struct loop *l, struct lconn *lc, int teardown)
{
    int fd = lc->c.fd;
    if (!teardown) {
        l->st.ctl_calls++;
        l->be->del(l->bs, fd, lc->c.mask);
    }
    l->conns[fd] = NULL;
    list_del(&lc->more);
    wheel_del(&l->wheel, &lc->timer);
    conn_close(&l->cx, &lc->c);
    free(lc);
}

/* One turn of one connection: its I/O, then the interest, the queue and the timer follow the result. */
static void turn(struct loop *l, struct lconn *lc, unsigned ready)
{
    struct conn *c = &lc->c;

    list_del(&lc->more); /* this turn does whatever it was queued for */
    unsigned r = conn_io(&l->cx, c, ready);
    if (r & CONN_PROGRESS) {
        lc->active_ns = l->now;
        l->progress = 1;
    }
    if (r & CONN_CLOSE) {
        drop(l, lc, 0);
        return;
    }
    unsigned mask = r & CONN_MASK;
    if (mask != c->mask) {
        l->st.ctl_calls++;
        if (l->be->modify(l->bs, c->fd, c->mask, mask) < 0) {
            srv_log_limited(&l->rl_ctl, 5, "%s: modify fd %d: %s", l->be->name, c->fd, strerror(errno));
            l->st.errors++;
            drop(l, lc, 0);
            return;
        }
        c->mask = (uint8_t)mask;
    }
    if (r & CONN_MORE)
        list_add_tail(&l->more, &lc->more);
}

static int grow(struct loop *l, int fd)
{
    int n = l->nconns ? l->nconns : 1024;
    while (n <= fd)
        n *= 2;
    struct lconn **p = realloc(l->conns, (size_t)n * sizeof *p);
    if (!p)
        return -1;
    memset(p + l->nconns, 0, (size_t)(n - l->nconns) * sizeof *p);
    l->conns = p;
    l->nconns = n;
    return 0;
}

/* A freshly accepted fd: refuse it (fd limit, --max-conns) or start serving it. */
static void admit(struct loop *l, int fd)
{
    struct lconn *lc;

    if (l->be->fd_limit && fd >= l->be->fd_limit) {
        /* select: FD_SET on it would write past the fd_set. Refuse, keep serving the others. */
        l->st.accepted++;
        l->st.refused_fd_setsize++;
        close(fd);
        if (!l->setsize_logged)
            srv_log("fd %d >= %d: %s cannot watch it; refusing such connections (logged once)", fd,
                    l->be->fd_limit, l->be->name);
        l->setsize_logged = 1;
        return;
    }
    if (srv_conn_admit(l->srv, &l->st) < 0) {
        close(fd); /* --max-conns: counted as refused */
        return;
    }
    if ((fd >= l->nconns && grow(l, fd) < 0) || (lc = calloc(1, sizeof *lc)) == NULL) {
        srv_log_limited(&l->rl_accept, 5, "out of memory for a new connection");
        goto fail;
    }
    conn_init(&lc->c, fd, &l->srv->proto);
    l->st.ctl_calls++;
    if (l->be->add(l->bs, fd, CONN_READ) < 0) {
        srv_log_limited(&l->rl_ctl, 5, "%s: add fd %d: %s", l->be->name, fd, strerror(errno));
        free(lc);
        goto fail;
    }
    lc->c.mask = CONN_READ;
    lc->active_ns = l->now;
    l->conns[fd] = lc;
    if (l->idle_ns)
        wheel_add(&l->wheel, &lc->timer, l->now + l->idle_ns);
    return;
fail:
    l->st.errors++;
    close(fd);
    srv_conn_release();
}

/* ---- the listener ---- */

static void listen_watch(struct loop *l, unsigned mask)
{
    if (mask == l->listen_mask)
        return;
    if (!(l->be->flags & LOOP_BE_SPIN)) {
        l->st.ctl_calls++;
        if (l->be->modify(l->bs, l->listen_fd, l->listen_mask, mask) < 0)
            srv_log_limited(&l->rl_ctl, 5, "%s: listener: %s", l->be->name, strerror(errno));
    }
    l->listen_mask = mask;
    l->resume_ns = mask ? 0 : l->now + LOOP_PAUSE_MS * NS_PER_MS;
}

/* accept() failed for want of fds or memory. Returns 1 to go on accepting, 0 to stop this turn. */
static int exhausted(struct loop *l, int err)
{
    srv_log_limited(&l->rl_exhausted, 5, "accept: %s: refusing connections until fds are free",
                    strerror(err));
    if ((err == EMFILE || err == ENFILE) && l->spare_fd >= 0) {
        /* Free one fd to take the waiting connection off the backlog and close it: the client learns
         * at once, and the listener stops being readable instead of waking us in a loop. */
        close(l->spare_fd);
        int fd = accept4(l->listen_fd, NULL, NULL, SOCK_CLOEXEC);
        int saved = errno;
        if (fd >= 0) {
            close(fd); /* first: the spare takes its place */
            l->st.accepted++;
            l->st.refused_emfile++;
        }
        l->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (fd >= 0 && l->spare_fd >= 0)
            return 1;
        if (fd < 0 && (saved == EAGAIN || saved == EWOULDBLOCK)) {
            l->st.eagain++;
            return 0; /* the backlog is empty */
        }
    }
    listen_watch(l, 0); /* no spare to use: rest the listener instead of spinning on it */
    return 0;
}

static void accept_some(struct loop *l)
{
    l->accept_more = 0;
    for (int i = 0; i < LOOP_ACCEPT_BATCH; i++) {
        int fd = srv_accept(l->listen_fd, 1);
        if (fd >= 0) {
            l->progress = 1;
            admit(l, fd);
            continue;
        }
        int err = errno;
        if (srv_accept_transient(err))
            continue;
        switch (err) {
        case EAGAIN:
#if EWOULDBLOCK != EAGAIN
        case EWOULDBLOCK:
#endif
            l->st.eagain++;
            return;
        default:
            if (srv_accept_exhausted(err)) {
                if (exhausted(l, err))
                    continue;
                return;
            }
            srv_log_limited(&l->rl_accept, 5, "accept: %s", strerror(err));
            listen_watch(l, 0); /* unexpected: rest rather than spin on it */
            return;
        }
    }
    /* The batch ran out before EAGAIN: edge-triggered, no new edge will announce the rest. */
    if (l->be->flags & LOOP_BE_EDGE)
        l->accept_more = 1;
}

/* ---- the loop ---- */

static int wait_timeout(struct loop *l)
{
    if ((l->be->flags & LOOP_BE_SPIN) || !list_empty(&l->more) || l->accept_more)
        return 0;
    int64_t next = wheel_next(&l->wheel);
    if (l->resume_ns && (next < 0 || l->resume_ns < next))
        next = l->resume_ns;
    if (next < 0)
        return -1;
    int64_t d = next - srv_now_ns();
    if (d <= 0)
        return 0;
    d = (d + NS_PER_MS - 1) / NS_PER_MS;
    return d > INT_MAX ? INT_MAX : (int)d;
}

static void expire(struct loop *l)
{
    struct wheel_node *n;
    while ((n = wheel_pop(&l->wheel, l->now)) != NULL) {
        struct lconn *lc = LCONN_OF(n, timer);
        int64_t deadline = lc->active_ns + l->idle_ns;
        if (deadline > l->now) {
            wheel_add(&l->wheel, n, deadline); /* it was active since: re-arm from the stamp */
            continue;
        }
        l->st.timeouts++;
        drop(l, lc, 0);
    }
}

static void dispatch(struct loop *l, const struct loop_event *e)
{
    if (e->fd == l->listen_fd) {
        if (l->listen_mask)
            accept_some(l);
    } else if (e->fd == l->wake_fd) {
        /* Not read: every loop of the process must see it. The stop flag is checked each turn. */
    } else if (e->fd >= 0 && e->fd < l->nconns && l->conns[e->fd]) {
        turn(l, l->conns[e->fd], e->mask);
    }
}

int loop_run(struct loop *l)
{
    int spin = (l->be->flags & LOOP_BE_SPIN) != 0, rc = 0;

    l->now = srv_now_ns();
    while (!srv_stopping()) {
        struct loop_event *ev;
        int n = l->be->wait(l->bs, wait_timeout(l), &ev);
        if (!spin)
            l->st.wait_calls++;
        l->now = srv_now_ns();
        if (n < 0) {
            if (errno == EINTR)
                continue;
            srv_log("%s: wait: %s", l->be->name, strerror(errno));
            rc = -1;
            break;
        }
        /* Connections queued before this wait get one more turn below, after the ready ones. */
        struct list runq;
        list_take(&runq, &l->more);
        l->progress = 0;
        if (spin && l->listen_mask)
            accept_some(l); /* busy polling: the listener is tried every turn, however many fds */
        for (int i = 0; i < n; i++) {
            l->st.events++;
            dispatch(l, &ev[i]);
        }
        if (l->accept_more)
            accept_some(l);
        while (!list_empty(&runq))
            turn(l, LCONN_OF(runq.next, more), 0);
        if (l->idle_ns)
            expire(l);
        if (l->resume_ns && l->now >= l->resume_ns)
            listen_watch(l, CONN_READ);
        if (spin && !l->progress)
            sched_yield(); /* still a busy loop, but one that lets a load generator on this core run */
    }
    for (int fd = 0; fd < l->nconns; fd++)
        if (l->conns[fd])
            drop(l, l->conns[fd], 1);
    srv_stats_flush(&l->st);
    return rc;
}

struct loop *loop_new(struct srv *s, const struct loop_backend *be, int listen_fd, char *err,
                      size_t errlen)
{
    struct loop *l = calloc(1, sizeof *l);
    if (!l) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    l->srv = s;
    l->be = be;
    l->listen_fd = listen_fd;
    l->wake_fd = srv_wake_fd();
    l->listen_mask = CONN_READ;
    l->idle_ns = (int64_t)s->opt.idle_timeout * 1000 * NS_PER_MS;
    l->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    list_init(&l->more);
    conn_ctx_init(&l->cx, &s->proto, &l->st, (be->flags & LOOP_BE_EDGE) != 0);
    if (wheel_init(&l->wheel, LOOP_TICK_MS * NS_PER_MS, LOOP_WHEEL, srv_now_ns()) < 0) {
        snprintf(err, errlen, "out of memory");
        goto error;
    }
    if ((l->bs = be->create(LOOP_MAXEV, err, errlen)) == NULL)
        goto error;
    if (!(be->flags & LOOP_BE_SPIN)) {
        /* Busy polling checks the stop flag and the listener every turn; the others wait on them. */
        l->st.ctl_calls += 2;
        if (be->add(l->bs, l->wake_fd, CONN_READ) < 0 || be->add(l->bs, listen_fd, CONN_READ) < 0) {
            snprintf(err, errlen, "%s: cannot watch the listener: %s", be->name, strerror(errno));
            goto error;
        }
    }
    return l;
error:
    loop_free(l);
    return NULL;
}

void loop_free(struct loop *l)
{
    if (!l)
        return;
    if (l->bs)
        l->be->free(l->bs);
    wheel_free(&l->wheel);
    conn_ctx_fini(&l->cx);
    free(l->conns);
    if (l->spare_fd >= 0)
        close(l->spare_fd);
    free(l);
}

int loop_serve(struct srv *s, const struct loop_backend *be)
{
    char err[256];
    struct loop *l = loop_new(s, be, s->listen_fd, err, sizeof err);
    if (!l) {
        srv_log("%s", err);
        return 1;
    }
    srv_ready(s);
    int rc = loop_run(l);
    loop_free(l);
    return rc < 0 ? 1 : 0;
}
