/* engine.h - private to engine.c (the per-thread event loop) and conn.c (one connection's life):
 * a connection and a thread's state. The calls go one way: the loop (engine.c) drives connections
 * (conn.c), and both use the timer heap (timer.c); conn.c calls nothing in engine.c.
 * Everything here belongs to exactly one thread: no locks, no atomics on the request path. */
#ifndef LG_ENGINE_H
#define LG_ENGINE_H

#include <pthread.h>

#include "lg.h"
#include "timer.h"

#define LG_RBUF      (64 * 1024)        /* per-thread receive buffer */
#define LG_READS_PER_EVENT 16           /* full buffers read from one socket before the next one */
#define LG_FAIL_GAP  (10 * 1000000LL)   /* after failures: at most one reconnect per 10 ms per thread */

enum lg_cstate {
    CS_DOWN,        /* no socket and none wanted (stopping, or an idle connection the server closed) */
    CS_WAIT,        /* no socket; the timer says when to connect */
    CS_CONNECTING,  /* connect() in progress; the timer is the connect timeout */
    CS_OPEN,        /* connected; the timer (if armed) checks the oldest request's timeout */
};

struct lg_slot {                /* one request in flight */
    int64_t intended;           /* when it should have been sent (closed loop: when it was) */
    int64_t sent;               /* when it was handed to the socket */
};

struct lg_conn {
    int fd;
    uint8_t state;              /* enum lg_cstate */
    uint8_t idle;               /* held open and silent (--idle) */
    uint8_t want_out;           /* output stopped on a full socket buffer: wait for EPOLLOUT */
    uint8_t in_free;            /* queued in the open-loop free ring */
    uint8_t dirty;              /* queued for a flush after the open-loop dispatch */
    uint8_t closing;            /* the server announced a close: send nothing more */
    uint8_t was_open;           /* has been connected since the last failure */
    uint32_t id;                /* global connection number: echo pattern, source address */
    struct lg_timer timer;      /* connect timeout, reconnect time, or the oldest request's timeout */
    uint32_t inflight;          /* requests handed over and not answered (ring entries) */
    uint32_t unsent;            /* of those, the newest ones not fully written yet */
    uint32_t head;              /* ring index of the oldest */
    uint32_t out_off;           /* bytes of the first unsent request already written */
    uint32_t on_conn;           /* requests handed to this connection since it opened */
    uint32_t answered;          /* answers received on this connection since it opened */
    uint32_t backoff_ms;        /* reconnect delay after a failure; doubles, reset by an answer */
    int64_t conn_start;         /* when connect() was called */
    int64_t free_since;         /* open loop: when it last got room for a request */
    uint64_t seq_next;          /* message number of the next request */
    struct lg_slot *ring;       /* pipeline entries */
    struct lg_pstate ps;
};

struct lg_thread {
    const struct lg_opts *o;
    const struct lg_proto *proto;
    struct lg_shared *sh;
    int gidx;                   /* thread number over all processes */
    pthread_t tid;
    int epfd;
    int ok;                     /* setup succeeded */
    char err[256];
    struct lg_conn *conns;
    uint32_t nconns, nactive;   /* active connections first, then idle ones */
    struct lg_slot *slots;
    char *rbuf;
    struct lg_timers timers;    /* at most one entry per connection (lg_conn.timer) */
    struct lg_conn **freering;  /* open loop: connections with room, oldest first */
    uint32_t free_head, free_len;
    struct lg_conn **dirtyv;    /* open loop: connections with requests to write */
    uint32_t ndirty;
    int open;                   /* open loop (--rate) */
    double interval;            /* ns between this thread's intended sends */
    double next_f;              /* next intended send, ns (double: no drift over a run) */
    uint64_t rng;               /* Poisson arrivals (xorshift) */
    uint64_t jitter;            /* reconnect jitter (LCG) */
    int64_t connect_gap, connect_next;   /* --connect-rate pacing */
    int64_t fail_next;
    uint32_t fail_streak;       /* failures since the last answer: slows reconnects */
    int64_t t0, warm_end, stop_at, drain_end, idle_snap_at;
    int stopping, idle_snapped;
    int64_t stopped_at;         /* when sending actually stopped */
    int64_t waited_ns;          /* time in epoll_wait while sending */
    int64_t cpu0;               /* thread CPU at t0 */
    uint64_t inflight;          /* over all connections */
    uint32_t connecting;        /* connections in CS_CONNECTING */
    struct lg_result res;
};

/* conn.c, called by the loop */
void lg_conn_connect_at(struct lg_thread *t, struct lg_conn *c, int64_t at, int64_t now);
void lg_conn_event(struct lg_thread *t, struct lg_conn *c, uint32_t events);
void lg_conn_timer(struct lg_thread *t, struct lg_conn *c, int64_t now);
void lg_conn_finish(struct lg_thread *t, struct lg_conn *c);
/* Open loop: the connection that has had room for a request the longest (NULL: none has room);
 * give it request `intended`, then write what each connection was given in this pass. */
struct lg_conn *lg_conn_take_free(struct lg_thread *t);
void lg_conn_assign(struct lg_thread *t, struct lg_conn *c, int64_t intended, int64_t now);
void lg_conn_flush_assigned(struct lg_thread *t, int64_t now);

static inline int lg_in_window(const struct lg_thread *t, int64_t ts)
{
    return ts >= t->warm_end && ts < t->stop_at;
}

static inline uint32_t lg_sec_of(const struct lg_thread *t, int64_t ts)
{
    int64_t s = (ts - t->t0) / LG_NS;
    return s < 0 ? 0 : s >= (int64_t)t->res.nsec ? t->res.nsec - 1 : (uint32_t)s;
}

#endif
