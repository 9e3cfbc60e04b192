/* lg.h - the load generator's shared types: options, results, protocol table, entry points. */
#ifndef LG_H
#define LG_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>

#include "hist.h"
#include "hresp.h"

#define LG_MAX_THREADS 256
#define LG_MAX_SRC     256
#define LG_NS          1000000000LL

/* Error classes, in the order of the JSON keys. */
enum lg_err {
    LG_E_CONNECT,           /* connect() or socket() failed (refused, no ports, no fds) */
    LG_E_CONNECT_TIMEOUT,   /* no connection within --timeout */
    LG_E_RESET,             /* the peer reset or closed with requests outstanding */
    LG_E_READ,              /* recv() failed otherwise */
    LG_E_WRITE,             /* send failed otherwise */
    LG_E_TIMEOUT,           /* no answer within --timeout of the send */
    LG_E_BAD_RESPONSE,      /* unparseable or unsolicited response */
    LG_E_MISMATCH,          /* echo bytes differ from what was sent */
    LG_E_STATUS_4XX,        /* answered, with a 4xx status */
    LG_E_STATUS_5XX,        /* answered, with a 5xx status */
    LG_E_COUNT
};
extern const char *const lg_err_names[LG_E_COUNT];

enum lg_proto_id { LG_ECHO, LG_HTTP };
enum lg_arrival { LG_CONSTANT, LG_POISSON };

struct lg_opts {
    char target[300];               /* as given, HOST:PORT */
    struct sockaddr_storage addr;   /* resolved target */
    socklen_t addrlen;
    int proto;                      /* enum lg_proto_id */
    char path[1024];                /* http request target */
    char host[300];                 /* http Host header */
    uint32_t connections;           /* active connections, all processes */
    uint32_t idle;                  /* extra silent connections */
    uint32_t threads;               /* threads, all processes */
    uint32_t procs;                 /* worker processes */
    double duration, warmup;        /* seconds */
    double rate;                    /* requests/s over all connections; 0 = closed loop */
    int arrival;                    /* enum lg_arrival */
    uint32_t size;                  /* echo message bytes */
    uint32_t pipeline;              /* requests in flight per connection */
    uint32_t reqs_per_conn;         /* 0 = keep-alive, 1 = close, N = reqs=N */
    double timeout;                 /* seconds, for connects and answers */
    double connect_rate;            /* new connections/s over all threads; 0 = unlimited */
    struct sockaddr_storage src[LG_MAX_SRC]; /* source addresses, used round-robin */
    uint32_t nsrc;
    long long max_errors;           /* exit non-zero above this; -1 = never */
    int64_t start_at;               /* --start-at: the window opens then, ns since the epoch; 0 = none */
    const char *csv, *json, *timeseries, *hist, *hlog;
    int quiet;                      /* no summary on stdout */
};

/* Counters of a thread, a process or the run; merged by addition (the *_max fields by max). */
struct lg_counts {
    uint64_t requests;          /* answered, intended send time in the measured window */
    uint64_t requests_total;    /* answered over the whole run */
    uint64_t requests_sent;     /* handed to a connection over the whole run */
    uint64_t failed;            /* sent, then lost to an error */
    uint64_t incomplete;        /* sent, still unanswered at the end */
    uint64_t unsent;            /* open loop: due in the window, never sent */
    uint64_t scheduled;         /* open loop: intended sends in the window */
    uint64_t bytes_in, bytes_out;
    uint64_t connects;          /* established, started in the measured window */
    uint64_t connects_total;
    uint64_t reconnects;        /* the server closed after a complete answer: reconnected, no error */
    uint64_t resent;            /* requests sent again after such a close (counted once in _sent) */
    uint64_t err[LG_E_COUNT];
    uint64_t status[5];         /* 1xx..5xx */
    uint64_t idle_open, idle_closed;
    double busy_s;              /* time outside epoll_wait while sending, summed over threads */
    double busy_max;            /* highest busy share of one thread */
    double thread_cpu_s;        /* CPU of the worker threads */
    double thread_cpu_max;      /* highest CPU share of one thread */
    double cpu_user_s, cpu_sys_s; /* getrusage of the process(es) */
    uint32_t threads;           /* threads that reported */
    double window_s;            /* length of the measured window (shorter if stopped early) */
};

struct lg_sec {                 /* one second of the run, by completion time */
    uint64_t requests, errors, connects;
};

/* Results: a thread's, a process's (in shared memory) or the merged run's. */
struct lg_result {
    struct lg_counts c;
    struct hist lat;            /* latency from the intended send time, ns */
    struct hist unc;            /* latency from the actual send, ns */
    struct hist con;            /* connect time, ns */
    struct hist lag;            /* open loop: actual - intended send time, ns */
    struct hist selflag;        /* open loop: the part of the lag the load generator caused, ns */
    uint32_t nsec;
    struct lg_sec *sec;
    struct hist *sechist;       /* per-second latency, 2 significant digits */
    uint32_t nivl;              /* --hlog: seconds of the window (else 0) */
    struct hist *ivl;           /* --hlog: per second of the window by intended send time, as lat
                                   and unc: [2 i] corrected, [2 i + 1] uncorrected */
    uint64_t *per_conn;         /* answers in the window per client slot (active connection id);
                                   every result holds all of them, so merging is exact addition */
    uint32_t nconn;             /* = connections */
    void *block;                /* the memory behind all of it, when lg_result_init allocated it */
};

/* How evenly the answers of the window went to the client slots (a replaced connection is the
 * same slot). */
struct lg_fair {
    uint64_t min, max;
    double median;
    double jain;                /* (sum x)^2 / (n * sum x^2); < 0 when there was no answer */
    uint32_t starved;           /* slots without any answer in the window */
};

/* When the phases begin. Set by main before any thread starts, except win_real. */
struct lg_plan {
    int64_t t0;                 /* monotonic: connect and warm up from here */
    int64_t win0;               /* monotonic: the measured window opens (t0 + warmup, or --start-at) */
    int64_t win_real;           /* CLOCK_REALTIME when win0 passed, ns since the epoch */
};

/* Shared between all processes: stop request and progress (written once per loop, not per request). */
struct lg_shared {
    _Atomic int stop;
    _Atomic uint64_t reqs[LG_MAX_THREADS];
    _Atomic uint64_t errs[LG_MAX_THREADS];
};

/* Per-connection protocol state, owned by the protocol functions. */
struct lg_pstate {
    uint16_t status;            /* http: status of the response just completed */
    uint8_t close;              /* http: the server closes after it */
    uint64_t got;               /* echo: bytes of the current message received */
    struct hresp http;
};

enum { LG_P_MORE, LG_P_DONE, LG_P_BAD, LG_P_MISMATCH };

/* A protocol: how requests look and how answers end. Set up once before any thread starts; the
 * request bytes are then read-only and shared. */
struct lg_proto {
    const char *name;
    int (*setup)(const struct lg_opts *o, char *err, size_t errlen);
    /* Bytes of message `seq` on connection `id`; `pos` is its place in this write (lets consecutive
     * requests be one contiguous buffer); `last` asks the server to close after it. */
    struct iovec (*request)(uint32_t id, uint64_t seq, unsigned pos, int last);
    /* Consume answer bytes of message `seq`: LG_P_DONE when complete (*used = its bytes),
     * LG_P_MORE (*used = len), LG_P_BAD or LG_P_MISMATCH. */
    int (*parse)(struct lg_pstate *ps, uint32_t id, uint64_t seq, const char *buf, size_t len,
                 size_t *used);
    /* The peer closed: LG_P_DONE completes a close-delimited answer, LG_P_MORE none started,
     * LG_P_BAD one cut short. */
    int (*eof)(struct lg_pstate *ps);
    void (*reset)(struct lg_pstate *ps);
};
extern const struct lg_proto lg_proto_echo, lg_proto_http;

static inline int64_t lg_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * LG_NS + ts.tv_nsec;
}

/* opts.c */
int lg_parse_opts(struct lg_opts *o, int argc, char **argv, char *err, size_t errlen);
void lg_usage(FILE *f);

/* result.c */
size_t lg_result_bytes(const struct lg_opts *o);
int lg_result_init(struct lg_result *r, const struct lg_opts *o, void *mem);
void lg_result_add(struct lg_result *dst, const struct lg_result *src);
void lg_result_free(struct lg_result *r);
uint32_t lg_result_nsec(const struct lg_opts *o);
void lg_result_fair(const struct lg_result *r, struct lg_fair *f);

/* engine.c: run process `proc`'s share of threads and connections as planned; merge into out.
 * Return 0, or -1 with err filled. */
int lg_run_proc(const struct lg_opts *o, const struct lg_proto *proto, int proc,
                const struct lg_plan *plan, struct lg_shared *sh, struct lg_result *out, char *err,
                size_t errlen);

/* report.c */
struct lg_verdict {
    int loadgen;                /* the load generator was the bottleneck */
    char reason[256];
};
void lg_verdict(const struct lg_opts *o, const struct lg_result *r, double wall_s,
                struct lg_verdict *v);
void lg_print_summary(FILE *f, const struct lg_opts *o, const struct lg_plan *p,
                      const struct lg_result *r, double wall_s, const struct lg_verdict *v);
int lg_write_json(const char *path, const struct lg_opts *o, const struct lg_plan *p,
                  const struct lg_result *r, double wall_s, const struct lg_verdict *v);
int lg_write_csv(const char *path, const struct lg_opts *o, const struct lg_result *r,
                 double wall_s, const struct lg_verdict *v);
int lg_write_timeseries(const char *path, const struct lg_opts *o, const struct lg_plan *p,
                        const struct lg_result *r);
int lg_write_hist(const char *path, const struct lg_result *r);
int lg_write_hlog(const char *path, const struct lg_plan *p, const struct lg_result *r);

#endif
