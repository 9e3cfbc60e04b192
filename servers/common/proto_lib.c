/* proto_lib.c: the protocol engine as a shared library (bin/libcmbproto.so) for the Python servers of
 * servers/python/, called through ctypes. The engine is unchanged; this file only packs a connection's
 * engine state with its two buffers, so one foreign call per step does the work of blocking.c's
 * proto_step, memmove and proto_take_requests. The C servers never link it.
 *
 * Contract (the Python side mirrors struct proto_lib_conn up to `awaits`):
 *
 *     cfg = proto_lib_cfg_new(kind, docroot_fd, keepalive_requests, keepalive_time, yield_hook)
 *     c = proto_lib_conn_new(cfg)          NULL: out of memory
 *     read into c->in[c->inlen .. c->incap), then
 *     r = proto_lib_step(c, nread, yield)  a proto_result; write c->out[0 .. c->outlen) before the next
 *                                          step; c->requests: requests this step answered
 *     proto_lib_conn_free(c)
 *
 * Stop signals are stop.c's, called directly: srv_stop_init(listener, 0, ...) once the interpreter's
 * handlers are set (ours runs first, then theirs), srv_stopping(), srv_stop_now() for a stop that
 * came another way, srv_track(fd) / srv_untrack(fd), srv_child_init() in a forked child.
 *
 * --work-us and --wait-us are not the engine's here: the Python servers burn and wait themselves, per
 * answered request, the way their model does (in bytecode, time.sleep, gevent.sleep, asyncio.sleep).
 *
 * The GIL: the Python side loads this with ctypes.PyDLL, which keeps the GIL held across each call. A
 * step takes about a microsecond and never blocks (--docroot reads come from the page cache), so
 * releasing the GIL around it (ctypes.CDLL) overlaps nothing; with threads waiting for the GIL it is
 * handed over about every third call, which nearly doubles the cost of a step
 * (tests/bench/py-gil-cost.py; README, "Python models", has the numbers). */
#include "proto.h"
#include "server.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

struct proto_lib_conn {
    char *in;          /* received bytes not yet consumed: in[0..inlen) */
    uint32_t inlen;
    uint32_t incap;    /* SRV_IN_CAP, as the blocking models */
    char *out;         /* the last step's output: out[0..outlen) */
    uint32_t outlen;
    uint32_t outcap;   /* SRV_OUT_CAP */
    uint32_t requests; /* requests the last step answered */
    uint32_t awaits;   /* 1: waiting for a next request, none buffered (--keepalive-timeout applies) */
    struct proto_conn pc;
};

/* Functions exported to ctypes: declared here, since no C file includes them. */
struct proto_cfg *proto_lib_cfg_new(int kind, int docroot_fd, unsigned ka_requests, unsigned ka_time,
                                    int yield_hook);
void proto_lib_cfg_free(struct proto_cfg *cfg);
struct proto_lib_conn *proto_lib_conn_new(const struct proto_cfg *cfg);
void proto_lib_conn_free(struct proto_lib_conn *c);
int proto_lib_step(struct proto_lib_conn *c, uint32_t added, int yield);
int64_t proto_lib_atomic_add(int64_t *p, int64_t d);
void proto_lib_atomic_max(int64_t *p, int64_t v);

/* --keepalive-yield: the caller says per step whether a client waits for a worker; the engine asks
 * the hook per response. Per thread, and set just before the engine runs, so greenlets or coroutines
 * sharing a thread never see each other's answer. */
static __thread int yield_now;

static int yield_hook_fn(void)
{
    return yield_now;
}

struct proto_cfg *proto_lib_cfg_new(int kind, int docroot_fd, unsigned ka_requests, unsigned ka_time,
                                    int yield_hook)
{
    struct proto_cfg *cfg = calloc(1, sizeof *cfg);
    if (!cfg)
        return NULL;
    *cfg = (struct proto_cfg){ .kind = kind ? PROTO_HTTP : PROTO_ECHO, .docroot_fd = docroot_fd,
                               .keepalive_requests = ka_requests, .keepalive_time = ka_time,
                               .yield = yield_hook ? yield_hook_fn : NULL };
    return cfg;
}

void proto_lib_cfg_free(struct proto_cfg *cfg)
{
    free(cfg);
}

struct proto_lib_conn *proto_lib_conn_new(const struct proto_cfg *cfg)
{
    struct proto_lib_conn *c = calloc(1, sizeof *c);
    char *buf = malloc(SRV_IN_CAP + SRV_OUT_CAP);
    if (!c || !buf) {
        free(c);
        free(buf);
        return NULL;
    }
    c->in = buf;
    c->incap = SRV_IN_CAP;
    c->out = buf + SRV_IN_CAP;
    c->outcap = SRV_OUT_CAP;
    proto_init(&c->pc, cfg);
    return c;
}

void proto_lib_conn_free(struct proto_lib_conn *c)
{
    if (!c)
        return;
    proto_fini(&c->pc);
    free(c->in);
    free(c);
}

/* `added` bytes were received at in[inlen..): take them, run the engine once over the input into an
 * empty output buffer, drop what it consumed. Returns PROTO_NEED_INPUT, PROTO_NEED_ROOM or
 * PROTO_CLOSE (proto.h). */
int proto_lib_step(struct proto_lib_conn *c, uint32_t added, int yield)
{
    size_t used = 0;
    if (added > c->incap - c->inlen)
        added = c->incap - c->inlen; /* a caller's error; never read past the buffer */
    c->inlen += added;
    struct proto_out out = { .buf = c->out, .len = 0, .cap = c->outcap };
    yield_now = yield;
    enum proto_result r = proto_step(&c->pc, c->in, c->inlen, &used, &out);
    c->requests = proto_take_requests(&c->pc);
    c->outlen = (uint32_t)out.len;
    if (r == PROTO_CLOSE) {
        c->inlen = 0; /* nothing after the last answer is for us */
    } else if (used > 0) {
        c->inlen -= (uint32_t)used;
        if (c->inlen > 0)
            memmove(c->in, c->in + used, c->inlen); /* a partial pipelined request: rare and small */
    }
    c->awaits = c->inlen == 0 && proto_awaits_request(&c->pc);
    return (int)r;
}

/* The server's counters live in memory shared by its processes (a MAP_SHARED mmap the Python side
 * makes), as server.c's totals do: these are the atomic updates Python has no word for. */
int64_t proto_lib_atomic_add(int64_t *p, int64_t d)
{
    return atomic_fetch_add_explicit((_Atomic int64_t *)p, d, memory_order_relaxed) + d;
}

void proto_lib_atomic_max(int64_t *p, int64_t v)
{
    _Atomic int64_t *a = (_Atomic int64_t *)p;
    int64_t cur = atomic_load_explicit(a, memory_order_relaxed);
    while (v > cur &&
           !atomic_compare_exchange_weak_explicit(a, &cur, v, memory_order_relaxed, memory_order_relaxed))
        ;
}
