/* loop.h: the readiness loop shared by busypoll, select, poll, epoll-lt, epoll-et (and the per-thread
 * loops of reuseport). One loop = one thread, one listener, one wait backend; no process globals, so
 * several loops can run side by side, each in its own thread.
 *
 * Contract:
 *
 *     struct loop *l = loop_new(s, &loop_epoll_lt, listen_fd, err, sizeof err);   NULL + err on failure
 *     loop_run(l);     serve until srv_stopping(): accept, serve, time out idle connections; then close
 *                      every connection and flush this loop's counters. 0, or -1 if the wait failed.
 *     loop_free(l);    free it (the listener is the caller's and stays open)
 *
 * loop_run() may be called from any thread, once per loop. The loop watches srv_wake_fd() and never
 * reads it, so every loop sees a stop. The listener must be non-blocking; with SO_REUSEPORT each loop
 * gets its own. srv_ready() is the caller's, once every loop is set up (loop_serve() does it all for a
 * one-loop server).
 *
 * Per turn: wait (never blocking while a connection has CONN_MORE work), handle every ready fd, give
 * each CONN_MORE connection one more budgeted turn, expire idle timers. Write interest is registered only
 * while a connection has output pending. Counters: wait_calls = wait returns, events = ready fds handled,
 * eagain = reads/writes/accepts that returned EAGAIN, ctl_calls = add/modify/delete calls on the backend.
 *
 * Accept under fd exhaustion (EMFILE/ENFILE): the loop keeps one spare fd; it closes it, accepts the
 * pending connection and closes that at once (refused, reason emfile), and reopens the spare, so the
 * backlog drains instead of spinning. If the spare cannot be had (ENFILE, ENOMEM), the listener is not
 * watched for LOOP_PAUSE_MS. Either way it is logged at most every few seconds. */
#ifndef CMB_LOOP_H
#define CMB_LOOP_H

#include <stddef.h>

#include "conn.h"
#include "server.h"

#define LOOP_ACCEPT_BATCH 64   /* accepts per turn: new clients wait at most one turn */
#define LOOP_PAUSE_MS     100  /* listener rest after an exhaustion the spare fd cannot absorb */
#define LOOP_TICK_MS      100  /* idle-timer resolution */

/* One ready fd, as the backend reports it. */
struct loop_event {
    int fd;
    unsigned mask; /* CONN_READ | CONN_WRITE; errors and hangups are reported as both */
};

enum loop_backend_flags {
    LOOP_BE_EDGE = 1u << 0, /* readiness is reported once per change: drain until EAGAIN */
    LOOP_BE_SPIN = 1u << 1, /* wait() never blocks and is no system call: busy polling */
};

/* A wait backend, in the manner of Redis's aeApiState: private state behind void *, the loop calls
 * these and nothing else. Masks are CONN_READ | CONN_WRITE; 0 means registered but not watched. */
struct loop_backend {
    const char *name;
    unsigned flags;   /* enum loop_backend_flags */
    int fd_limit;     /* fds >= this cannot be watched (select: FD_SETSIZE); 0: no limit */
    /* State for up to maxev events per wait; NULL with a message in err. */
    void *(*create)(int maxev, char *err, size_t errlen);
    void (*free)(void *st);
    /* Start watching fd with mask. -1 with errno (the loop then drops the connection). */
    int (*add)(void *st, int fd, unsigned mask);
    /* Change fd's mask from old to mask (old is what the loop last set). -1 with errno. */
    int (*modify)(void *st, int fd, unsigned old, unsigned mask);
    /* Stop watching fd (still open). */
    void (*del)(void *st, int fd, unsigned old);
    /* Wait up to timeout_ms (-1: forever, 0: poll) and point *ev at the ready fds (backend memory,
     * valid until the next call). Returns their count, or -1 with errno (EINTR: just call again). A SPIN
     * backend returns the next slice of its watched fds as if they were ready. */
    int (*wait)(void *st, int timeout_ms, struct loop_event **ev);
};

extern const struct loop_backend loop_epoll_lt; /* loop_epoll.c */
extern const struct loop_backend loop_epoll_et;

struct loop;

struct loop *loop_new(struct srv *s, const struct loop_backend *be, int listen_fd, char *err,
                      size_t errlen);
int loop_run(struct loop *l);
void loop_free(struct loop *l);

/* A one-loop server's whole run(): loop_new on s->listen_fd, srv_ready, loop_run, loop_free. Returns
 * the exit code. */
int loop_serve(struct srv *s, const struct loop_backend *be);

#endif
