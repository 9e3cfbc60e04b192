/* conn.c: the connection state machine of the event-driven servers (see conn.h for the contract).
 *
 * One call of conn_io() runs this priority order until it runs out of readiness or budget:
 *   1. write pending output (nothing new is produced while old output waits: that is the backpressure
 *      that keeps every connection's memory bounded by one output buffer);
 *   2. run the engine if it has work (new input, or it asked for room);
 *   3. read, if the readiness allows it.
 * The budget (bytes and engine steps per call) is the fairness rule: a connection streaming 1 GiB or a
 * pipeline of thousands of requests gets its share and then yields to the others. */
#include "conn.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum {
    F_RD = 1u << 0,    /* edge: the socket may still hold input (no EAGAIN since the last event) */
    F_STEP = 1u << 1,  /* the engine has work: new input arrived, or it asked for room */
    F_EOF = 1u << 2,   /* the peer shut its write side: answer what it sent, then close */
    F_CLOSE = 1u << 3, /* the engine is done (PROTO_CLOSE): close once the output is written */
};

enum { IO_DONE, IO_AGAIN, IO_EOF, IO_FAIL }; /* outcome of one read or write */

/* ---- buffer pool ---- */

struct freebuf {
    struct freebuf *next;
};

static char *pool_get(struct conn_pool *p)
{
    struct freebuf *b = p->free;
    if (b) {
        p->free = b->next;
        p->nfree--;
    } else if ((b = malloc(CONN_BUF_SIZE)) == NULL) {
        return NULL;
    }
    p->live++;
    return (char *)b;
}

static void pool_put(struct conn_pool *p, char *buf)
{
    struct freebuf *b = (struct freebuf *)(void *)buf;
    p->live--;
    if (p->nfree >= p->keep) {
        free(b); /* a burst is over: do not hold its memory forever */
        return;
    }
    b->next = p->free;
    p->free = b;
    p->nfree++;
}

size_t conn_pool_bytes(const struct conn_pool *p)
{
    return (p->live + p->nfree) * (size_t)CONN_BUF_SIZE;
}

void conn_ctx_init(struct conn_ctx *cx, const struct proto_cfg *proto, struct srv_stats *st, int edge)
{
    *cx = (struct conn_ctx){ .proto = proto, .st = st, .edge = edge };
    cx->pool.keep = 64; /* 1 MiB of spare buffers: enough for the hot set, small beside 10k conns */
}

void conn_ctx_fini(struct conn_ctx *cx)
{
    struct freebuf *b;
    while ((b = cx->pool.free) != NULL) {
        cx->pool.free = b->next;
        free(b);
    }
    cx->pool.nfree = 0;
}

/* ---- one connection ---- */

void conn_init(struct conn *c, int fd, const struct proto_cfg *proto)
{
    memset(c, 0, sizeof *c);
    proto_init(&c->pc, proto);
    c->fd = fd;
}

/* Give back the buffers that hold nothing: an idle connection keeps none. */
static void trim(struct conn_ctx *cx, struct conn *c)
{
    if (c->in && c->inlen == 0) {
        pool_put(&cx->pool, c->in);
        c->in = NULL;
    }
    if (c->out && c->outoff == c->outlen) {
        pool_put(&cx->pool, c->out);
        c->out = NULL;
        c->outoff = c->outlen = 0;
    }
}

/* A socket error (or no memory) ends the connection; a stop is not the peer's fault. */
static unsigned fail(struct conn_ctx *cx)
{
    if (!srv_stopping())
        cx->st->errors++;
    return CONN_CLOSE;
}

static void no_memory(void)
{
    static __thread struct srv_ratelimit rl;
    srv_log_limited(&rl, 5, "out of memory for a connection buffer: closing it");
}

/* One write of the pending output; *moved gets the bytes written. */
static int flush(struct conn_ctx *cx, struct conn *c, size_t *moved)
{
    size_t len = c->outlen - c->outoff;
    ssize_t n;
    while ((n = write(c->fd, c->out + c->outoff, len)) < 0 && errno == EINTR)
        ;
    if (n < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return IO_FAIL;
        cx->st->eagain++;
        return IO_AGAIN;
    }
    c->outoff += (uint32_t)n;
    cx->st->bytes_out += (uint64_t)n;
    *moved = (size_t)n;
    /* Level-triggered: a short write means the socket buffer is full; trying again would only earn
     * an EAGAIN, and the wait will say when there is room. Edge-triggered drains to EAGAIN. */
    return (size_t)n < len && !cx->edge ? IO_AGAIN : IO_DONE;
}

/* One read into the connection's input buffer; *moved gets the bytes read. */
static int fill(struct conn_ctx *cx, struct conn *c, size_t *moved)
{
    if (!c->in && !(c->in = pool_get(&cx->pool))) {
        no_memory();
        return IO_FAIL;
    }
    /* Never full here: the engine gives a verdict before PROTO_IN_MIN bytes of a request are pending
     * and echo consumes everything once the output is empty. */
    size_t room = CONN_BUF_SIZE - c->inlen;
    ssize_t n;
    while ((n = read(c->fd, c->in + c->inlen, room)) < 0 && errno == EINTR)
        ;
    if (n > 0) {
        c->inlen += (uint32_t)n;
        c->flags |= F_STEP;
        cx->st->bytes_in += (uint64_t)n;
        *moved = (size_t)n;
        return IO_DONE;
    }
    if (n == 0) {
        c->flags = (uint8_t)((c->flags | F_EOF) & ~F_RD);
        return IO_EOF;
    }
    if (errno != EAGAIN && errno != EWOULDBLOCK)
        return IO_FAIL;
    cx->st->eagain++;
    c->flags &= (uint8_t)~F_RD;
    return IO_AGAIN;
}

/* Run the engine once over the buffered input into an empty output buffer. -1: no memory. */
static int step(struct conn_ctx *cx, struct conn *c)
{
    static const char nothing[1];
    size_t used = 0;

    if (!c->out && !(c->out = pool_get(&cx->pool))) {
        no_memory();
        return -1;
    }
    struct proto_out o = { .buf = c->out, .len = 0, .cap = CONN_OUT_CAP };
    enum proto_result r = proto_step(&c->pc, c->in ? c->in : nothing, c->inlen, &used, &o);
    cx->st->requests += proto_take_requests(&c->pc);
    c->outoff = 0;
    c->outlen = (uint32_t)o.len;
    if (r == PROTO_CLOSE) {
        c->flags = (uint8_t)((c->flags | F_CLOSE) & ~F_STEP);
        c->inlen = 0; /* nothing after the last answer is for us */
        return 0;
    }
    if (used > 0) {
        c->inlen -= (uint32_t)used;
        if (c->inlen > 0)
            memmove(c->in, c->in + used, c->inlen); /* a partial pipelined request: small */
    }
    if (r == PROTO_NEED_INPUT)
        c->flags &= (uint8_t)~F_STEP; /* PROTO_NEED_ROOM keeps it: step again once out is written */
    return 0;
}

unsigned conn_io(struct conn_ctx *cx, struct conn *c, unsigned ready)
{
    size_t budget = CONN_TURN_BYTES, moved;
    unsigned steps = CONN_TURN_STEPS, res = 0;
    int rd, wr = 1; /* may read / may write in this call; writing is optimistic */

    if (cx->edge) {
        if (ready & CONN_READ)
            c->flags |= F_RD;
        rd = c->flags & F_RD;
    } else {
        rd = (ready & CONN_READ) != 0; /* one read per reported readiness */
    }

    for (;;) {
        if (c->outoff < c->outlen) {
            if (!wr || budget == 0)
                break;
            moved = 0;
            int r = flush(cx, c, &moved);
            if (r == IO_FAIL)
                return fail(cx) | res;
            if (moved)
                res |= CONN_PROGRESS;
            budget -= moved < budget ? moved : budget;
            if (r == IO_AGAIN)
                wr = 0;
            continue;
        }
        if (c->flags & F_CLOSE)
            return CONN_CLOSE | res; /* everything the engine said is out */
        if (c->flags & F_STEP) {
            if (steps == 0)
                break;
            steps--;
            uint32_t before = c->inlen;
            if (step(cx, c) < 0)
                return fail(cx) | res;
            if (c->inlen != before || c->outlen > 0)
                res |= CONN_PROGRESS; /* the engine took input or answered */
            continue;
        }
        if (c->flags & F_EOF)
            return CONN_CLOSE | res; /* the peer is done and has all its answers (half-close) */
        if (!rd || budget == 0)
            break;
        moved = 0;
        int r = fill(cx, c, &moved);
        if (r == IO_FAIL)
            return fail(cx) | res;
        /* Bytes read are not progress by themselves: only the engine taking them (above) is, so a
         * client trickling an endless request head cannot hold the connection (slowloris). */
        budget -= moved < budget ? moved : budget;
        if (r != IO_DONE || !cx->edge)
            rd = 0;
    }

    trim(cx, c);
    if (c->outoff < c->outlen) {
        res |= CONN_WRITE; /* write interest only while output is pending */
        if (wr)
            res |= CONN_MORE; /* still writable: the budget, not the socket, stopped us */
    } else {
        if (!(c->flags & F_EOF))
            res |= CONN_READ;
        if ((c->flags & F_STEP) || (cx->edge && rd))
            res |= CONN_MORE; /* buffered requests or unread input no event will announce */
    }
    return res;
}

void conn_close(struct conn_ctx *cx, struct conn *c)
{
    proto_fini(&c->pc);
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    c->inlen = c->outoff = c->outlen = 0;
    trim(cx, c);
    cx->st->closed++;
    srv_conn_release();
}
