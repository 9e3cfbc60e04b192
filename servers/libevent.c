/* libevent.c: the event-driven server on libevent 2.1: an evconnlistener accepts, one persistent
 * event per connection carries its interest and its idle timeout, and the connection's bytes are the
 * same conn.c state machine the readiness loop uses. So this model differs from epoll-lt only in who
 * runs the loop: libevent's dispatch, timer queues and listener instead of ours.
 *
 * Counters: wait_calls = event_base_loop(EVLOOP_ONCE) rounds (one epoll_wait each, unless a wait ends
 * with nothing to run: only a signal does that, and a signal stops us); events = our callbacks run
 * (connection events and accepted connections); eagain = our reads and writes that returned EAGAIN
 * (the listener's final EAGAIN is libevent's, unseen); ctl_calls = interest changes we make, each one
 * epoll_ctl thanks to the changelist.
 *
 * Out of fds: the listener's error callback disables it and a timer re-enables it LOOP_PAUSE_MS later;
 * pending clients wait in the backlog meanwhile instead of being refused. */
#include "common/conn.h"
#include "common/list.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>

#define PAUSE_MS 100 /* listener rest after an accept error */

struct lev {
    struct srv *s;
    struct event_base *base;
    struct evconnlistener *lis;
    struct event *wake;         /* srv_wake_fd(): ends the dispatch on a stop */
    struct event *resume;       /* re-enables the listener after an accept error */
    struct event *kick;         /* zero timeout: runs the CONN_MORE queue after the next dispatch */
    const struct timeval *idle; /* --idle-timeout as a libevent common timeout, or NULL */
    struct conn_ctx cx;
    struct srv_stats st;
    struct list all;            /* every connection, for the stop */
    struct list more;           /* connections with CONN_MORE work */
    struct srv_ratelimit rl;
};

struct econn {
    struct conn c;
    struct event *ev;    /* re-assigned when the interest changes */
    int64_t stall_since; /* first read that took an unfinished request no further, or 0 */
    struct lev *L;
    struct list all;
    struct list more;
};

static const struct timeval zero_tv = { 0, 0 };

static void conn_cb(evutil_socket_t fd, short what, void *arg);

static void drop(struct econn *ec)
{
    if (ec->c.mask)
        ec->L->st.ctl_calls++; /* the delete, as the loop counts it */
    event_free(ec->ev);        /* deletes it too, even from the active queue */
    list_del(&ec->all);
    list_del(&ec->more);
    conn_close(&ec->L->cx, &ec->c);
    free(ec);
}

/* Register `mask` as the connection's interest: one event, its flags re-assigned. */
static int watch(struct econn *ec, unsigned mask)
{
    struct lev *L = ec->L;
    short flags = (short)(((mask & CONN_READ) ? EV_READ : 0) | ((mask & CONN_WRITE) ? EV_WRITE : 0));

    L->st.ctl_calls++;
    if (ec->c.mask)
        event_del(ec->ev);
    ec->c.mask = (uint8_t)mask;
    if (!mask)
        return 0; /* only CONN_MORE work: the kick runs it */
    event_assign(ec->ev, L->base, ec->c.fd, flags | EV_PERSIST, conn_cb, ec);
    return event_add(ec->ev, L->idle);
}

static void turn(struct econn *ec, unsigned ready)
{
    struct lev *L = ec->L;

    list_del(&ec->more);
    unsigned r = conn_io(&L->cx, &ec->c, ready);
    if (r & CONN_CLOSE) {
        drop(ec);
        return;
    }
    if (r & CONN_PROGRESS) {
        ec->stall_since = 0;
    } else if ((ready & CONN_READ) && L->idle) {
        /* The event's timeout restarts at every readiness, so a client trickling an endless request
         * head (slowloris) would never meet it: give a request --idle-timeout to make progress. */
        int64_t now = srv_now_ns();
        if (ec->stall_since == 0) {
            ec->stall_since = now;
        } else if (now - ec->stall_since > (int64_t)L->s->opt.idle_timeout * 1000000000) {
            L->st.timeouts++;
            drop(ec);
            return;
        }
    }
    if ((r & CONN_MASK) != ec->c.mask && watch(ec, r & CONN_MASK) < 0) {
        L->st.errors++;
        drop(ec);
        return;
    }
    if (r & CONN_MORE) {
        list_add_tail(&L->more, &ec->more);
        if (!evtimer_pending(L->kick, NULL))
            evtimer_add(L->kick, &zero_tv);
    }
}

static void conn_cb(evutil_socket_t fd, short what, void *arg)
{
    struct econn *ec = arg;
    ec->L->st.events++;
    if (what & EV_TIMEOUT) {
        /* A persistent event's timeout restarts whenever it fires: this one saw nothing for a whole
         * --idle-timeout. */
        ec->L->st.timeouts++;
        drop(ec);
        return;
    }
    turn(ec, ((what & EV_READ) ? CONN_READ : 0) | ((what & EV_WRITE) ? CONN_WRITE : 0));
}

/* One more turn for each connection whose budget ran out, after the dispatch let the others in. */
static void kick_cb(evutil_socket_t fd, short what, void *arg)
{
    struct lev *L = arg;
    struct list runq;
    list_take(&runq, &L->more);
    while (!list_empty(&runq))
        turn(LIST_ENTRY(runq.next, struct econn, more), 0);
}

static void accept_cb(struct evconnlistener *lis, evutil_socket_t fd, struct sockaddr *sa, int len,
                      void *arg)
{
    struct lev *L = arg;
    struct econn *ec;
    int one = 1;

    L->st.events++;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one); /* as srv_accept() does */
    if (srv_conn_admit(L->s, &L->st) < 0) {
        close(fd); /* --max-conns: counted as refused */
        return;
    }
    if ((ec = calloc(1, sizeof *ec)) == NULL ||
        (ec->ev = event_new(L->base, fd, EV_READ | EV_PERSIST, conn_cb, ec)) == NULL) {
        srv_log_limited(&L->rl, 5, "out of memory for a new connection");
        free(ec);
        L->st.errors++;
        close(fd);
        srv_conn_release();
        return;
    }
    conn_init(&ec->c, fd, L->cx.proto);
    ec->L = L;
    ec->c.mask = CONN_READ;
    list_add_tail(&L->all, &ec->all);
    L->st.ctl_calls++;
    if (event_add(ec->ev, L->idle) < 0) {
        L->st.errors++;
        drop(ec);
    }
}

/* accept() failed with something other than EAGAIN/EINTR/ECONNABORTED: EMFILE, ENFILE, ENOBUFS...
 * Retrying at once would spin; rest the listener and let the backlog hold the clients. */
static void accept_error_cb(struct evconnlistener *lis, void *arg)
{
    struct lev *L = arg;
    int err = EVUTIL_SOCKET_ERROR();
    struct timeval tv = { 0, PAUSE_MS * 1000 };

    srv_log_limited(&L->rl, 5, "accept: %s; listener rests %d ms", strerror(err), PAUSE_MS);
    evconnlistener_disable(lis);
    evtimer_add(L->resume, &tv);
}

static void resume_cb(evutil_socket_t fd, short what, void *arg)
{
    struct lev *L = arg;
    evconnlistener_enable(L->lis);
}

static void wake_cb(evutil_socket_t fd, short what, void *arg)
{
    struct lev *L = arg;
    event_base_loopbreak(L->base); /* not read: srv_wake_fd() is the whole process's */
}

/* Build the base, listener and helper events. -1 with a message logged. */
static int setup(struct lev *L)
{
    struct event_config *cfg = event_config_new();
    if (cfg) {
        /* Fold an event_del + event_add of one fd into one epoll_ctl, as our loop's modify is one. */
        event_config_set_flag(cfg, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST | EVENT_BASE_FLAG_NOLOCK);
        L->base = event_base_new_with_config(cfg);
        event_config_free(cfg);
    }
    if (!L->base) {
        srv_log("event_base_new failed");
        return -1;
    }
    if (L->s->opt.idle_timeout) {
        /* Common timeouts: equal durations in a queue, O(1) to re-arm instead of a heap update. */
        struct timeval tv = { (time_t)L->s->opt.idle_timeout, 0 };
        L->idle = event_base_init_common_timeout(L->base, &tv);
    }
    L->lis = evconnlistener_new(L->base, accept_cb, L, LEV_OPT_CLOSE_ON_EXEC, 0 /* listening */,
                                L->s->listen_fd);
    L->wake = event_new(L->base, srv_wake_fd(), EV_READ | EV_PERSIST, wake_cb, L);
    L->resume = evtimer_new(L->base, resume_cb, L);
    L->kick = evtimer_new(L->base, kick_cb, L);
    if (!L->lis || !L->wake || !L->resume || !L->kick || event_add(L->wake, NULL) < 0) {
        srv_log("libevent setup failed: %s", strerror(errno));
        return -1;
    }
    evconnlistener_set_error_cb(L->lis, accept_error_cb);
    return 0;
}

static void teardown(struct lev *L)
{
    while (!list_empty(&L->all)) {
        struct econn *ec = LIST_ENTRY(L->all.next, struct econn, all);
        ec->c.mask = 0; /* the base goes away whole: no interest change to count */
        drop(ec);
    }
    if (L->lis)
        evconnlistener_free(L->lis); /* the listener fd stays open: it is the framework's */
    if (L->wake)
        event_free(L->wake);
    if (L->resume)
        event_free(L->resume);
    if (L->kick)
        event_free(L->kick);
    if (L->base)
        event_base_free(L->base);
    conn_ctx_fini(&L->cx);
    srv_stats_flush(&L->st);
}

static int run(struct srv *s)
{
    struct lev L = { .s = s };
    int rc = 0;

    list_init(&L.all);
    list_init(&L.more);
    conn_ctx_init(&L.cx, &s->proto, &L.st, 0);
    if (setup(&L) < 0) {
        teardown(&L);
        return 1;
    }
    srv_ready(s);
    while (!srv_stopping()) {
        if (event_base_loop(L.base, EVLOOP_ONCE) < 0) {
            srv_log("event_base_loop failed");
            rc = 1;
            break;
        }
        L.st.wait_calls++;
    }
    teardown(&L);
    return rc;
}

const struct srv_model srv_model = {
    .name = "libevent",
    .summary = "Event loop on libevent 2.1: evconnlistener, one persistent event per connection.",
    .flags = SRV_F_EVENTS,
    .keepalive = SRV_KEEPALIVE_NGINX,
    .run = run,
};
