/* proto.h: the protocol engine every server model shares (echo and minimal strict HTTP/1.1).
 *
 * Pure, incremental and allocation-free: the caller feeds the bytes it read from a connection and the
 * engine appends the bytes to write. It never touches a socket, so a difference in the numbers between
 * two models is a difference of concurrency model and nothing else. The only system calls it makes are
 * for --docroot files (openat2 or openat, fstat, pread, close), time() for the Date header, and the
 * thread CPU clock for --work-us.
 *
 * Driving it, in every model:
 *
 *     r = proto_step(&pc, in, inlen, &used, &out);
 *     drop `used` bytes from the front of in;   write out.buf[0..out.len) when you can;
 *     PROTO_NEED_INPUT  read more input (out may still hold bytes to write: write them too)
 *     PROTO_NEED_ROOM   call proto_step again once out has been written (no new input needed)
 *     PROTO_CLOSE       write what is in out, then close; no more input will be consumed
 *
 * The input buffer must hold at least PROTO_IN_MIN bytes: the engine gives a verdict (a response or an
 * error status) before an unconsumed request grows past that. The output buffer must hold at least
 * PROTO_OUT_MIN bytes.
 */
#ifndef CMB_PROTO_H
#define CMB_PROTO_H

#include <stddef.h>
#include <stdint.h>

#define PROTO_TARGET_MAX   8192u             /* longer request-target: 414 */
#define PROTO_HEADERS_MAX  8192u             /* header section beyond the request line: 431 above */
#define PROTO_FIELDS_MAX   100u              /* more header fields: 431 */
#define PROTO_BODY_MAX     (1u << 20)        /* request body (chunked: decoded) above this: 413 */
#define PROTO_METHOD_MAX   7u                /* longer method than any we implement (OPTIONS): 501 */
#define PROTO_CHUNK_LINE_MAX 1024u           /* longer chunk-size line (size, extensions): 413 */
#define PROTO_ECHO_HELD_MAX 16384u           /* chunked body to /echo, as sent, above this: 413 */
#define PROTO_BYTES_MAX    (1ull << 30)      /* largest /bytes/N */
#define PROTO_IN_MIN       (PROTO_TARGET_MAX + PROTO_HEADERS_MAX + 64u)
#define PROTO_OUT_MIN      1024u

enum proto_kind { PROTO_ECHO, PROTO_HTTP };

enum proto_result {
    PROTO_NEED_INPUT, /* consumed all it could; progress needs more bytes from the peer */
    PROTO_NEED_ROOM,  /* out is full (or a response body is pending): drain out, then step again */
    PROTO_CLOSE,      /* close after out is written; set for errors, Connection: close, HTTP/1.0,
                         the keep-alive limits */
};

/* Shared, read-only configuration (one per server). */
struct proto_cfg {
    enum proto_kind kind;
    int docroot_fd;   /* O_PATH directory fd of --docroot, or -1: then only / and /bytes/N exist */
    unsigned work_us; /* CPU microseconds burned per request (echo: per step that consumed input) */
    unsigned wait_us; /* microseconds slept per request, after work_us: a blocking call's wait */
    /* Keep-alive limits (HTTP; 0 = none). The response that is the connection's keepalive_requests-th,
     * or that answers a request started once the connection is keepalive_time seconds old, is its
     * last: it carries Connection: close and nothing behind it is answered. */
    unsigned keepalive_requests;
    unsigned keepalive_time;
    /* Keep-alive yields (a pool's --keepalive-yield): when set and it returns nonzero, a client
     * waits for a worker, and the response being made is the connection's last. */
    int (*yield)(void);
};

/* Output buffer the engine appends to; the caller owns the memory and empties it by writing. */
struct proto_out {
    char *buf;
    size_t len; /* bytes waiting to be written */
    size_t cap; /* >= PROTO_OUT_MIN */
};

/* Decoder of a chunked request body (chunked.c). */
struct proto_chunked {
    uint64_t left;   /* data bytes left in the current chunk; on its size line, the size so far */
    uint64_t total;  /* data bytes of the body so far */
    uint32_t count;  /* bytes of the current chunk line, or of the trailer section */
    uint16_t fields; /* trailer fields so far */
    uint8_t state;
};

/* A response decided when its request's head was parsed; its head is written at once, or (after a
 * chunked body) once the body has been read. Always 200. */
struct proto_plan {
    const char *ctype; /* Content-Type, or NULL (no content) */
    const char *allow; /* Allow, or NULL */
    uint64_t len;      /* Content-Length */
    uint8_t src;       /* where the body comes from: hello, /bytes pattern, file, request (echo) */
    uint8_t conn;      /* Connection header to send (none, close, keep-alive) */
    uint8_t head;      /* answers HEAD: no body */
    uint8_t pending;   /* the head is still to be written */
};

/* Per-connection state: small, fixed size, no heap. Treat as opaque outside proto.c. */
struct proto_conn {
    const struct proto_cfg *cfg;
    uint64_t body_left;  /* request body bytes (Content-Length) still to read and discard or echo */
    uint64_t resp_left;  /* response body bytes still to produce */
    uint64_t resp_off;   /* offset of the next response body byte (file offset or pattern index) */
    uint32_t scan;       /* bytes of the pending header block already searched for its end */
    uint32_t requests;   /* requests answered since the last proto_take_requests() */
    uint32_t responses;  /* requests answered on this connection (for keepalive_requests) */
    int64_t born_ns;     /* CLOCK_MONOTONIC_COARSE at proto_init, when keepalive_time is set */
    uint32_t held;       /* chunked body to /echo: bytes checked but left in the caller's buffer */
    int file_fd;         /* file whose body is being sent, or -1 */
    uint8_t body;        /* how the request body is read (BODY_* in proto.c) */
    struct proto_plan plan;
    struct proto_chunked chunked;
    uint8_t close_after; /* close once the current response is out */
    uint8_t closed;      /* PROTO_CLOSE was returned: consume nothing more */
};

/* Prepare a connection's state. */
void proto_init(struct proto_conn *c, const struct proto_cfg *cfg);

/* Release what the connection holds (an open file). Safe to call twice. */
void proto_fini(struct proto_conn *c);

/* Feed in[0..n) and append output to out. Sets *used to the number of input bytes consumed (possibly
 * 0: a partial request stays in the caller's buffer and is offered again with more bytes behind it).
 * Returns what the caller must do next (see the top of this file). */
enum proto_result proto_step(struct proto_conn *c, const char *in, size_t n, size_t *used,
                             struct proto_out *out);

/* Requests answered since the last call (for the server's counters); resets the count. */
static inline unsigned proto_take_requests(struct proto_conn *c)
{
    unsigned r = c->requests;
    c->requests = 0;
    return r;
}

/* Nonzero when the connection waits for its next request: a response is complete and nothing of a
 * next request has been taken (the caller adds: and none is in its input buffer). --keepalive-timeout
 * applies then. */
static inline int proto_awaits_request(const struct proto_conn *c)
{
    /* body 0 is BODY_DISCARD: no chunked body is being read; a pending plan waits for one. */
    return c->responses > 0 && c->body_left == 0 && c->body == 0 && !c->plan.pending &&
           c->resp_left == 0 && c->scan == 0 && !c->closed;
}

/* Burn `us` microseconds of this thread's CPU time (the --work-us model of request work). */
void proto_burn_cpu(unsigned us);

/* Sleep `us` microseconds of wall time (the --wait-us model of a blocking call: a disk read, a query
 * to a database). The calling thread blocks; in an event loop that stalls every connection. */
void proto_block(unsigned us);

#endif
