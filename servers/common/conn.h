/* conn.h: one non-blocking connection driven by readiness: read, feed the protocol engine, write with
 * partial-write buffering, close. Shared by the readiness loop (loop.c) and the libevent server, so they
 * differ only in who waits for readiness and how.
 *
 * The driver owns the waiting; this module owns the bytes. The contract:
 *
 *     r = conn_io(cx, c, ready);       ready: CONN_READ and/or CONN_WRITE as the wait reported them
 *     r & CONN_CLOSE     the connection is finished (counted): conn_close() it, ignore the rest
 *     r & CONN_MASK      the interest to register now: CONN_READ, CONN_WRITE (only while output is
 *                        pending), or 0 (nothing to wait for but CONN_MORE work)
 *     r & CONN_MORE      work is left that no readiness event will announce (the per-turn budget ran
 *                        out): call conn_io(cx, c, 0) again on a later turn, after serving the others
 *     r & CONN_PROGRESS  progress: the engine took input or output was written: restart the idle
 *                        timer (bytes that only extend an unfinished request are not progress)
 *
 * Level-triggered (default): at most one read per reported CONN_READ, like Redis; the wait reports
 * again while data is left. Edge-triggered (cx->edge): reads and writes are repeated until EAGAIN, since
 * the wait will not report the same readiness twice; the read readiness is remembered in the conn.
 *
 * Memory: an idle connection holds no buffer. Input and output buffers come from the context's pool
 * when bytes arrive and go back as soon as the input is consumed and the output written, so only a
 * partial request or unsent output keeps one. */
#ifndef CMB_CONN_H
#define CMB_CONN_H

#include <stddef.h>
#include <stdint.h>

#include "proto.h"
#include "server.h"

enum conn_bits {
    CONN_READ = 1u << 0,     /* readiness / interest: readable */
    CONN_WRITE = 1u << 1,    /* readiness / interest: writable */
    CONN_MASK = CONN_READ | CONN_WRITE,
    CONN_MORE = 1u << 2,     /* conn_io: call again on a later turn */
    CONN_CLOSE = 1u << 3,    /* conn_io: finished; conn_close() it */
    CONN_PROGRESS = 1u << 4, /* conn_io: bytes moved */
};

#define CONN_BUF_SIZE   SRV_IN_CAP   /* pool buffer: input needs PROTO_IN_MIN; same sizes as blocking */
#define CONN_OUT_CAP    SRV_OUT_CAP  /* output bytes per engine step, as the blocking models use */
#define CONN_TURN_BYTES (256u * 1024) /* bytes one connection may move per conn_io() call */
#define CONN_TURN_STEPS 64u          /* engine steps per call (each may burn --work-us of CPU) */

/* A free-list of CONN_BUF_SIZE buffers: a connection borrows one only while it has bytes in flight. */
struct conn_pool {
    void *free;     /* singly linked through the first bytes of each free buffer */
    unsigned nfree; /* buffers on the list */
    unsigned keep;  /* free buffers kept beyond this are given back to malloc */
    size_t live;    /* buffers handed out and not returned (for the memory figures) */
};

/* What the connections of one loop (one thread) share. */
struct conn_ctx {
    const struct proto_cfg *proto; /* the engine's configuration */
    struct srv_stats *st;          /* this thread's counters */
    struct conn_pool pool;
    int edge;                      /* edge-triggered: drain reads and writes until EAGAIN */
};

struct conn {
    struct proto_conn pc; /* engine state: small, no heap */
    char *in;             /* pool buffer with unconsumed input, or NULL */
    char *out;            /* pool buffer with output out[outoff..outlen), or NULL */
    uint32_t inlen;       /* unconsumed input bytes in `in` */
    uint32_t outoff;      /* bytes of `out` already written */
    uint32_t outlen;      /* bytes of `out` produced */
    int fd;
    uint8_t mask;         /* interest the driver has registered (CONN_READ/CONN_WRITE): its to keep */
    uint8_t flags;        /* private CONN_F_* state (conn.c) */
};

/* Context setup and teardown (frees the pool's spare buffers). */
void conn_ctx_init(struct conn_ctx *cx, const struct proto_cfg *proto, struct srv_stats *st, int edge);
void conn_ctx_fini(struct conn_ctx *cx);

/* Start serving an accepted, non-blocking fd. */
void conn_init(struct conn *c, int fd, const struct proto_cfg *proto);

/* Do the I/O that `ready` allows; see the top of this file. */
unsigned conn_io(struct conn_ctx *cx, struct conn *c, unsigned ready);

/* Close the fd, return the buffers, count it closed and release its admission (srv_conn_release). The
 * caller counts why first (timeouts; conn_io counts errors itself). */
void conn_close(struct conn_ctx *cx, struct conn *c);

/* Bytes of buffer memory the pool holds (handed out + spare), for memory accounting. */
size_t conn_pool_bytes(const struct conn_pool *p);

#endif
