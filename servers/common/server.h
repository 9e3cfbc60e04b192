/* server.h: the framework every model shares: command line, listener, counters, stop handling, and
 * the blocking connection loop. A model file defines `srv_model` and its run() function and nothing
 * else; main() lives in main.c.
 *
 * Counters: each thread or process counts into its own `struct srv_stats` with plain increments (no
 * atomics on the per-request path) and adds it to the server's shared totals with srv_stats_flush().
 * The totals live in a MAP_SHARED mapping, so forked children flush into the same place as threads. */
#ifndef CMB_SERVER_H
#define CMB_SERVER_H

#include <stdint.h>
#include <sys/types.h>

#include "proto.h"

#define SRV_IN_CAP  (PROTO_IN_MIN + 0u)  /* per-connection input buffer of the blocking models */
#define SRV_OUT_CAP 16384u               /* per-connection output buffer of the blocking models */

/* Counters; X-macro so that flushing and JSON output never miss one. */
#define SRV_COUNTERS(X)                                                                             \
    X(accepted)           /* connections accepted (including ones refused right after) */         \
    X(closed)             /* connections closed after being served */                             \
    X(requests)           /* HTTP requests answered / echo read batches */                        \
    X(bytes_in)           /* bytes read from clients */                                           \
    X(bytes_out)          /* bytes written to clients */                                          \
    X(errors)             /* connections ended by a socket error (reset, broken pipe, ...) */     \
    X(timeouts)           /* connections closed by --idle-timeout */                              \
    X(refused_max_conns)  /* closed at once: --max-conns reached */                               \
    X(refused_fd_setsize) /* closed at once: fd >= FD_SETSIZE (select) */                         \
    X(refused_emfile)     /* accepted with the spare fd and closed: out of file descriptors */    \
    X(spawn_failures)     /* fork() or pthread_create() failed */                                 \
    X(wait_calls)         /* select/poll/epoll_wait/io_uring_enter returns */                     \
    X(events)             /* readiness or completion events handled */                            \
    X(eagain)             /* reads/writes/accepts that returned EAGAIN */                          \
    X(ctl_calls)          /* interest changes: epoll_ctl, event_add/del, FD_SET bookkeeping */

struct srv_stats {
#define SRV_FIELD(name) uint64_t name;
    SRV_COUNTERS(SRV_FIELD)
#undef SRV_FIELD
};

/* Keep-alive limits of HTTP connections, both 0 = none (proto.h, struct proto_cfg). */
struct srv_keepalive {
    unsigned requests; /* --keepalive-requests: the Nth response on a connection closes it */
    unsigned time;     /* --keepalive-time seconds: a request started later than that is the last */
    unsigned timeout;  /* --keepalive-timeout seconds waiting for the next request (blocking models) */
    unsigned yield;    /* --keepalive-yield: while a client waits for a worker, responses close */
};

/* The keep-alive defaults of two families of real servers, for model descriptors: nginx's
 * keepalive_requests and keepalive_time (event loops, where an idle connection holds no worker), and
 * Apache's MaxKeepAliveRequests and KeepAliveTimeout (processes and threads). */
#define SRV_KEEPALIVE_NGINX  { .requests = 1000, .time = 3600 }
#define SRV_KEEPALIVE_APACHE { .requests = 100, .timeout = 5 }

struct srv_opts {
    const char *host;      /* --host (default 127.0.0.1) */
    int port;              /* --port (0: any free port, reported on the ready line) */
    enum proto_kind proto; /* --proto echo|http */
    int workers;           /* --workers, or the model's default */
    const char *docroot;   /* --docroot, or NULL */
    unsigned work_us;      /* --work-us */
    unsigned wait_us;      /* --wait-us */
    unsigned idle_timeout; /* --idle-timeout seconds; 0: never */
    unsigned max_conns;    /* --max-conns; 0: no limit */
    struct srv_keepalive keepalive; /* --keepalive-requests, --keepalive-time, or the model's */
    int backlog;           /* --backlog */
    const char *stats_path;/* --stats */
};

struct srv;

enum srv_model_flags {
    SRV_F_BLOCKING = 1u << 0,     /* blocking sockets: stop by shutting them down, timeouts by SO_*TIMEO */
    SRV_F_EVENTS = 1u << 1,       /* an event loop: report wait_calls, events, eagain, ctl_calls */
    SRV_F_SPAWNS = 1u << 2,       /* creates processes or threads: report spawn_failures */
    SRV_F_WORKERS = 1u << 3,      /* --workers means something */
    SRV_F_OWN_LISTENER = 1u << 4, /* the model opens its own listeners (srv_listen) */
};

/* What a model file provides. */
struct srv_model {
    const char *name;    /* "epoll-et": the binary is server-<name> */
    const char *summary; /* one line for --help */
    unsigned flags;      /* enum srv_model_flags */
    int default_workers; /* --workers default when SRV_F_WORKERS (0: one per CPU we may run on) */
    struct srv_keepalive keepalive; /* the keep-alive limits a real server of this model applies */
    /* Models whose clients can wait for a worker (the pools): nonzero while one does. Called per
     * response when --keepalive-yield is on, so it must be cheap and thread-safe; NULL: never. */
    int (*clients_waiting)(void);
    int (*run)(struct srv *s); /* serve until srv_stopping(); flush counters; return the exit code */
};

extern const struct srv_model srv_model; /* defined by the model file */

struct srv {
    struct srv_opts opt;
    struct proto_cfg proto;        /* the engine's configuration, shared by all connections */
    const struct srv_model *model;
    int listen_fd;                 /* blocking for SRV_F_BLOCKING models, else non-blocking; -1 if own */
    int port;                      /* the bound port (set by the model when SRV_F_OWN_LISTENER) */
};

/* ---- life cycle ---- */

/* Print the one `ready <model> port=<port> pid=<pid>` line. Call once, when connections are served. */
void srv_ready(const struct srv *s);

/* Nonzero once SIGTERM or SIGINT arrived. */
int srv_stopping(void);

/* An eventfd that becomes readable when the server must stop: event loops watch it. */
int srv_wake_fd(void);

/* In a forked child: forget the parent's stop duties (it must not shut down the shared listener when
 * it alone is told to stop) and re-arm the handlers for this process. */
void srv_child_init(void);

/* Blocking models: when stopping, shut this fd down so a thread blocked on it wakes (track), or stop
 * doing so (untrack, before close). */
void srv_track(int fd);
void srv_untrack(int fd);

/* ---- counters ---- */

/* Add *st to the server's totals and zero it. Async-signal-safe. */
void srv_stats_flush(struct srv_stats *st);

/* A new connection: count it and enforce --max-conns. Returns 0 to serve it, -1 when it must be closed
 * (already counted as refused). srv_conn_release() when it is gone. */
int srv_conn_admit(const struct srv *s, struct srv_stats *st);
void srv_conn_release(void);

/* ---- sockets (net.c) ---- */

/* Open a TCP listener on host:port. flags: SRV_LISTEN_NONBLOCK, SRV_LISTEN_REUSEPORT. Returns the fd or
 * -1 with a message in err. */
enum { SRV_LISTEN_NONBLOCK = 1, SRV_LISTEN_REUSEPORT = 2 };
int srv_listen(const char *host, int port, int backlog, int flags, char *err, size_t errlen);

/* The local port a socket is bound to, or -1. */
int srv_local_port(int fd);

/* accept4() with CLOEXEC (and NONBLOCK if asked) and TCP_NODELAY on the new socket; EINTR is the
 * caller's to retry (a stop may be behind it). Returns the fd or -1 with errno. */
int srv_accept(int lfd, int nonblock);

/* Nonzero for accept() errors that mean "out of descriptors or memory" (EMFILE ENFILE ENOBUFS ENOMEM). */
int srv_accept_exhausted(int err);

/* Nonzero for accept() errors that only concern one connection or one call, to retry at once: EINTR,
 * ECONNABORTED (the client gave up while queued), EPROTO, EPERM (firewall rules). */
int srv_accept_transient(int err);

/* ---- blocking models (blocking.c) ---- */

/* Accept the next connection, admitted and counted. Returns -1 when the server is stopping. Retries
 * transient errors; on fd exhaustion backs off (sleeps) instead of spinning. */
int srv_accept_blocking(struct srv *s, struct srv_stats *st);

/* Nonzero when a connection waits in the kernel's accept queue of listener fd (a poll with no
 * wait). */
int srv_listener_pending(int fd);

/* Serve fd until the peer leaves, it idles past --idle-timeout, or the server stops; then close it and
 * flush *st. The caller then calls srv_conn_release(). */
void srv_serve_blocking(struct srv *s, int fd, struct srv_stats *st);

/* How a connection loop reads and writes: blocking system calls (srv_serve_blocking), or a model's own
 * (the coroutine model's yield to its scheduler instead of blocking the thread). Both follow the
 * read(2)/write(2) contract; a call that times out fails with EAGAIN or ETIMEDOUT (counted as a
 * timeout), and any failure once srv_stopping() is not counted as an error. */
struct srv_io {
    const char *name;
    ssize_t (*read)(void *ctx, int fd, void *buf, size_t n);
    ssize_t (*write)(void *ctx, int fd, const void *buf, size_t n);
};

/* The connection loop itself: drive the engine over fd through io until the peer leaves, an I/O call
 * fails, or the engine says close. read_timeout: the seconds after which io->read times out (0:
 * never); a timed-out read is retried until --idle-timeout, or --keepalive-timeout while the
 * connection waits for its next request, is used up. Counts into *st; does not close fd or flush *st. */
void srv_serve_io(struct srv *s, int fd, struct srv_stats *st, const struct srv_io *io, void *ctx,
                  unsigned read_timeout);

/* Sleep with exponential back-off after a resource failure: 10 ms doubling to 320 ms; *step counts the
 * consecutive failures, reset it to 0 on success. */
void srv_backoff(unsigned *step);

/* ---- logging ---- */

/* "server-<model>: message" on stderr. */
void srv_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The same, at most once per `interval` seconds for this limiter; says how many were suppressed. */
struct srv_ratelimit {
    int64_t last_ns;
    unsigned suppressed;
};
void srv_log_limited(struct srv_ratelimit *rl, int interval, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Monotonic nanoseconds. */
int64_t srv_now_ns(void);

#endif
