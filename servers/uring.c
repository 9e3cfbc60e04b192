/* uring.c: io_uring through liburing. Accept, receive, send and close are submissions; the loop
 * makes one io_uring_submit_and_wait() per turn (one io_uring_enter), which submits everything the
 * previous turn queued and returns the completions, so system calls are batched across connections.
 *
 * What the kernel offers is probed, with a fallback for each piece:
 *   - multishot accept (one SQE accepts until it fails)            else one accept SQE per connection
 *   - a provided-buffer ring + multishot recv: idle connections own no receive buffer; the kernel picks
 *     a buffer from the ring when data arrives                      else one recv SQE per read, into
 *     a pooled buffer of our own (an idle connection then holds one)
 *   - IORING_SETUP_SINGLE_ISSUER|DEFER_TASKRUN (completions run only when we enter), else plain setup.
 * The environment variable CMB_URING_FALLBACK (words: accept, recv, bufring, setup) forces fallbacks,
 * so tests can run the other paths on a kernel that has everything.
 *
 * A connection holds, besides its 168-byte struct: the receive buffers it has not consumed yet (it
 * stops its recv when it holds HOLD_MAX of them: back-pressure), an input buffer only while a request
 * is partial, and an output buffer only while a response is being sent; both come from a free list.
 * --idle-timeout: a timer per connection on the shared wheel (wheel.c), re-armed lazily from the time
 * it last moved bytes, checked every turn, with a periodic timeout SQE so that a turn happens at
 * least every TICK_MS. Stop: a poll SQE on the stop eventfd. */
#include "common/list.h"
#include "common/server.h"
#include "common/wheel.h"

#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define SQ_ENTRIES 4096u
#define CQ_ENTRIES 16384u
#ifndef BUF_COUNT
#define BUF_COUNT 8192u  /* provided buffers in the ring (power of two); -D for tests */
#endif
#define BUF_SIZE 2048u   /* each: a request fits; an 8 MiB echo takes 4096 of them */
#define BGID 1
#define HOLD_MAX 16u     /* unconsumed buffers a connection may hold before its recv is cancelled */
#define TICK_MS 250      /* idle-timer resolution */
#define WHEEL_SLOTS 512u /* 128 s of ticks; longer timeouts come back early and re-arm */
#define POOL_KEEP 1024u  /* free input/output buffers kept for reuse */

enum tag { T_IGNORE, T_ACCEPT, T_RECV, T_SEND, T_WAKE, T_TICK, T_ACCEPT_RETRY }; /* low 3 bits */

/* A receive buffer: a ring buffer's descriptor (fixed, bid = its index) or a pooled one of ours. */
struct rxbuf {
    struct rxbuf *next; /* in a connection's held queue, or the free list (fallback) */
    char *data;
    uint32_t len, off;  /* bytes received; bytes already consumed */
    uint16_t bid;
};

struct conn {
    struct proto_conn pc;
    struct wheel_node timer;    /* idle timer, if --idle-timeout */
    int64_t active_ns;          /* last progress (input taken, output sent): the timer re-arms from it */
    struct list link;           /* every connection (stop closes them all) */
    struct conn *starved_next;  /* on the list waiting for receive buffers */
    struct rxbuf *held, *held_tail, *rx; /* queue of received data; fallback: the recv's buffer */
    char *in, *out;             /* partial request; response being sent (NULL when none) */
    uint32_t inlen, outlen, outoff, nheld;
    int fd;
    uint8_t refs;      /* reasons not to free yet: recv, send in flight; on the starved list */
    uint8_t recv_on, send_on, cancelling, starved, eof, closing, proto_closed, need_room;
};

static struct {
    struct io_uring ring;
    struct srv *srv;
    struct srv_stats st;
    struct io_uring_buf_ring *br;    /* NULL: fallback, pooled buffers of our own */
    char *bufmem;
    struct rxbuf *rx;                /* ring mode: BUF_COUNT descriptors */
    struct rxbuf *rx_free;           /* fallback: free buffers */
    unsigned ring_avail, ring_adds;  /* buffers the kernel may use; recycled, not yet published */
    int ms_accept, ms_recv;          /* multishot accept / recv in use */
    struct list all;
    struct conn *starved, *starved_tail;
    struct wheel wheel;
    int64_t idle_ns;                 /* --idle-timeout; 0: none */
    char *pool[2][POOL_KEEP];        /* free input (0) and output (1) buffers */
    unsigned npool[2];
    int64_t now;
    unsigned backoff;
    int stopping;
} u;

static const size_t pool_size[2] = { SRV_IN_CAP, SRV_OUT_CAP };

/* ---- small helpers ---- */

static uint64_t ud(void *p, enum tag t) { return (uint64_t)(uintptr_t)p | t; }

/* An SQE, submitting what is queued if the SQ is full (that is an extra io_uring_enter: counted). */
static struct io_uring_sqe *sqe_get(void)
{
    struct io_uring_sqe *sqe;
    while ((sqe = io_uring_get_sqe(&u.ring)) == NULL) {
        u.st.wait_calls++;
        io_uring_submit(&u.ring);
    }
    u.st.ctl_calls++; /* for this model: SQEs submitted */
    return sqe;
}

static char *pool_get(int k)
{
    return u.npool[k] ? u.pool[k][--u.npool[k]] : malloc(pool_size[k]);
}

static void pool_put(int k, char *p)
{
    if (p && u.npool[k] < POOL_KEEP)
        u.pool[k][u.npool[k]++] = p;
    else
        free(p);
}

/* Give a consumed receive buffer back (ring: published at the start of the next turn, in one go). */
static void rx_recycle(struct rxbuf *b)
{
    if (u.br) {
        io_uring_buf_ring_add(u.br, b->data, BUF_SIZE, b->bid, io_uring_buf_ring_mask(BUF_COUNT),
                              (int)u.ring_adds++);
    } else {
        b->next = u.rx_free;
        u.rx_free = b;
    }
}

/* ---- submissions ---- */

static void arm_accept(void)
{
    struct io_uring_sqe *sqe = sqe_get();
    /* Accepted sockets stay blocking (see run() for why), close-on-exec. */
    if (u.ms_accept)
        io_uring_prep_multishot_accept(sqe, u.srv->listen_fd, NULL, NULL, SOCK_CLOEXEC);
    else
        io_uring_prep_accept(sqe, u.srv->listen_fd, NULL, NULL, SOCK_CLOEXEC);
    io_uring_sqe_set_data64(sqe, ud(NULL, T_ACCEPT));
}

static void arm_recv(struct conn *c)
{
    struct io_uring_sqe *sqe;
    if (!u.br) { /* fallback: our own buffer for this one recv */
        struct rxbuf *b = u.rx_free;
        if (b)
            u.rx_free = b->next;
        else if ((b = malloc(sizeof *b + BUF_SIZE)) != NULL)
            b->data = (char *)(b + 1);
        if (!b)
            return; /* out of memory: the idle timeout or stop ends this connection */
        c->rx = b;
        io_uring_prep_recv(sqe = sqe_get(), c->fd, b->data, BUF_SIZE, 0);
    } else {
        sqe = sqe_get();
        if (u.ms_recv)
            io_uring_prep_recv_multishot(sqe, c->fd, NULL, 0, 0);
        else
            io_uring_prep_recv(sqe, c->fd, NULL, BUF_SIZE, 0);
        sqe->flags |= IOSQE_BUFFER_SELECT;
        sqe->buf_group = BGID;
    }
    io_uring_sqe_set_data64(sqe, ud(c, T_RECV));
    c->recv_on = 1;
    c->refs++;
}

static void cancel(struct conn *c, enum tag t)
{
    struct io_uring_sqe *sqe = sqe_get();
    io_uring_prep_cancel64(sqe, ud(c, t), 0);
    io_uring_sqe_set_data64(sqe, ud(NULL, T_IGNORE));
}

static void send_out(struct conn *c)
{
    struct io_uring_sqe *sqe = sqe_get();
    io_uring_prep_send(sqe, c->fd, c->out + c->outoff, c->outlen - c->outoff, MSG_NOSIGNAL);
    io_uring_sqe_set_data64(sqe, ud(c, T_SEND));
    c->send_on = 1;
    c->refs++;
}

/* ---- connections ---- */

static void conn_free(struct conn *c)
{
    struct io_uring_sqe *sqe = sqe_get();
    io_uring_prep_close(sqe, c->fd);
    io_uring_sqe_set_data64(sqe, ud(NULL, T_IGNORE));
    while (c->held) {
        struct rxbuf *b = c->held;
        c->held = b->next;
        rx_recycle(b);
    }
    proto_fini(&c->pc);
    pool_put(0, c->in);
    pool_put(1, c->out);
    list_del(&c->link);
    u.st.closed++;
    srv_conn_release();
    free(c);
}

/* End a connection: stop what is in flight, free it once nothing refers to it. */
static void conn_close(struct conn *c)
{
    if (!c->closing) {
        c->closing = 1;
        wheel_del(&u.wheel, &c->timer);
        if (c->recv_on && !c->cancelling)
            cancel(c, T_RECV);
        if (c->send_on)
            cancel(c, T_SEND);
    }
    if (c->refs == 0)
        conn_free(c);
}

static void fail(struct conn *c, int res)
{
    if (res != -ECANCELED && !u.stopping)
        u.st.errors++;
    c->eof = 1;
    conn_close(c);
}

/* One proto_step over the pending input: the partial request in c->in topped up from the held
 * buffers, or else the first held buffer itself (no copy). -1 when out of memory. */
static int step(struct conn *c)
{
    const char *src = NULL;
    size_t n = 0, used;
    struct rxbuf *b = c->held;

    if (!c->out && !(c->out = pool_get(1)))
        return -1;
    if (c->inlen > 0) {
        while (b && c->inlen < SRV_IN_CAP) {
            uint32_t k = b->len - b->off < SRV_IN_CAP - c->inlen ? b->len - b->off
                                                                  : SRV_IN_CAP - c->inlen;
            memcpy(c->in + c->inlen, b->data + b->off, k);
            c->inlen += k;
            b->off += k;
            if (b->off < b->len)
                break;
            c->held = b->next;
            c->nheld--;
            rx_recycle(b);
            b = c->held;
        }
        src = c->in;
        n = c->inlen;
    } else if (b) {
        src = b->data + b->off;
        n = b->len - b->off;
    }
    struct proto_out out = { .buf = c->out, .len = c->outlen, .cap = SRV_OUT_CAP };
    enum proto_result r = proto_step(&c->pc, src, n, &used, &out);
    c->outlen = (uint32_t)out.len;
    u.st.requests += proto_take_requests(&c->pc);
    c->need_room = r == PROTO_NEED_ROOM;
    c->proto_closed = r == PROTO_CLOSE;
    if (used > 0 || out.len > 0)
        c->active_ns = u.now; /* progress (see on_recv) */
    if (src && src == c->in) {
        c->inlen -= (uint32_t)used;
        if (c->inlen > 0 && used > 0)
            memmove(c->in, c->in + used, c->inlen);
    } else if (src) {
        b->off += (uint32_t)used;
        if (b->off < b->len && r == PROTO_NEED_INPUT) { /* a partial request: keep it aside */
            if (!c->in && !(c->in = pool_get(0)))
                return -1;
            memcpy(c->in, b->data + b->off, b->len - b->off);
            c->inlen = b->len - b->off;
            b->off = b->len;
        }
        if (b->off == b->len) {
            c->held = b->next;
            c->nheld--;
            rx_recycle(b);
        }
    }
    return 0;
}

/* Make all the progress possible without waiting: feed the engine, then send, close, or receive. */
static void advance(struct conn *c)
{
    if (c->closing) {
        conn_close(c);
        return;
    }
    if (c->send_on)
        return;
    while (!c->proto_closed && (c->need_room ? c->outlen == 0 : c->held != NULL))
        if (step(c) < 0) {
            fail(c, -ENOMEM);
            return;
        }
    if (c->outlen > 0) {
        send_out(c);
    } else if (c->proto_closed || (c->eof && !c->held)) {
        conn_close(c); /* answered everything the peer sent */
        return;
    } else if (!c->need_room) { /* idle: give the buffers back */
        if (c->inlen == 0) {
            pool_put(0, c->in);
            c->in = NULL;
        }
        pool_put(1, c->out);
        c->out = NULL;
    }
    if (!c->recv_on && !c->starved && !c->eof && c->nheld == 0)
        arm_recv(c);
}

/* ---- completions ---- */

static void on_recv(struct conn *c, struct io_uring_cqe *cqe)
{
    int res = cqe->res;
    struct rxbuf *b = NULL;

    if (!(cqe->flags & IORING_CQE_F_MORE)) { /* this recv is over: multishot ended, or single-shot */
        c->recv_on = c->cancelling = 0;
        c->refs--;
    }
    if (!u.br) {
        b = c->rx;
        c->rx = NULL;
    } else if (cqe->flags & IORING_CQE_F_BUFFER) {
        b = &u.rx[cqe->flags >> IORING_CQE_BUFFER_SHIFT];
        u.ring_avail--;
    }
    if (res > 0 && b && !c->closing) {
        u.st.bytes_in += (uint64_t)res;
        b->len = (uint32_t)res;
        b->off = 0;
        b->next = NULL;
        if (c->held)
            c->held_tail->next = b;
        else
            c->held = b;
        c->held_tail = b;
        /* Back-pressure: the engine is waiting for a send and the peer keeps sending. */
        if (++c->nheld >= HOLD_MAX && c->recv_on && !c->cancelling) {
            c->cancelling = 1;
            cancel(c, T_RECV);
        }
        b = NULL;
    }
    if (b)
        rx_recycle(b);
    if (c->closing) {
        conn_close(c);
        return;
    }
    if (res == -ENOBUFS) { /* the ring ran dry: re-armed when buffers are back */
        if (!c->recv_on && !c->starved) {
            c->starved = 1;
            c->refs++;
            c->starved_next = NULL;
            if (u.starved)
                u.starved_tail->starved_next = c;
            else
                u.starved = c;
            u.starved_tail = c;
        }
    } else if (res == -EINVAL && u.ms_recv && !c->recv_on) {
        u.ms_recv = 0; /* the kernel has no multishot recv: one SQE per read from now on */
        srv_log("io_uring: multishot recv refused (%s); using single-shot recv", strerror(-res));
    } else if (res == 0) {
        c->eof = 1; /* the peer is done (or half-closed): answer what it sent, then close */
    } else if (res < 0 && res != -ECANCELED) {
        fail(c, res);
        return;
    }
    /* No active_ns here: bytes that only extend an unfinished request are not progress, or a client
     * trickling a header byte now and then would hold the connection forever (slowloris). step()
     * counts the engine taking input, on_send() output written. */
    advance(c);
}

static void on_send(struct conn *c, int res)
{
    c->send_on = 0;
    c->refs--;
    if (res <= 0 || c->closing) {
        if (c->closing)
            conn_close(c);
        else
            fail(c, res < 0 ? res : -EPIPE);
        return;
    }
    u.st.bytes_out += (uint64_t)res;
    c->outoff += (uint32_t)res;
    if (c->outoff == c->outlen)
        c->outoff = c->outlen = 0;
    c->active_ns = u.now;
    if (c->outlen > 0)
        send_out(c); /* a short send: the rest */
    else
        advance(c);
}

static void accept_retry_later(void)
{
    static struct __kernel_timespec ts; /* read by the kernel when submitted: must outlive this call */
    ts.tv_sec = 0;
    ts.tv_nsec = 10000000LL << (u.backoff < 5 ? u.backoff : 5); /* 10 ms doubling to 320 ms */
    u.backoff += u.backoff < 5;
    struct io_uring_sqe *sqe = sqe_get();
    io_uring_prep_timeout(sqe, &ts, 0, 0);
    io_uring_sqe_set_data64(sqe, ud(NULL, T_ACCEPT_RETRY));
}

static void on_accept(struct io_uring_cqe *cqe)
{
    static struct srv_ratelimit rl;
    static int accepted_once;
    int res = cqe->res, more = cqe->flags & IORING_CQE_F_MORE, one = 1;

    if (res >= 0) {
        struct conn *c;
        accepted_once = 1;
        u.backoff = 0;
        if (!more && !u.stopping)
            arm_accept();
        if (srv_conn_admit(u.srv, &u.st) < 0 || !(c = calloc(1, sizeof *c))) {
            close(res);
            return;
        }
        (void)setsockopt(res, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one); /* as srv_accept does */
        c->fd = res;
        proto_init(&c->pc, &u.srv->proto);
        list_add_tail(&u.all, &c->link);
        c->active_ns = u.now;
        if (u.idle_ns)
            wheel_add(&u.wheel, &c->timer, u.now + u.idle_ns);
        arm_recv(c);
        return;
    }
    if (more || u.stopping || res == -ECANCELED)
        return; /* a transient error with the multishot accept still armed, or we are stopping */
    if (res == -EINVAL && u.ms_accept && !accepted_once) {
        u.ms_accept = 0;
        srv_log("io_uring: multishot accept refused; using one accept per connection");
        arm_accept();
    } else if (srv_accept_exhausted(-res)) {
        srv_log_limited(&rl, 5, "accept: %s; backing off", strerror(-res));
        accept_retry_later();
    } else {
        arm_accept(); /* ECONNABORTED, EPERM and the like: try again */
    }
}

static void arm_tick(void)
{
    static struct __kernel_timespec ts = { .tv_sec = 0, .tv_nsec = TICK_MS * 1000000L };
    struct io_uring_sqe *sqe = sqe_get();
    io_uring_prep_timeout(sqe, &ts, 0, 0);
    io_uring_sqe_set_data64(sqe, ud(NULL, T_TICK));
}

static void on_cqe(struct io_uring_cqe *cqe)
{
    uint64_t d = io_uring_cqe_get_data64(cqe);
    struct conn *c = (struct conn *)(uintptr_t)(d & ~(uint64_t)7);
    switch ((enum tag)(d & 7)) {
    case T_RECV: on_recv(c, cqe); break;
    case T_SEND: on_send(c, cqe->res); break;
    case T_ACCEPT: on_accept(cqe); break;
    case T_ACCEPT_RETRY: if (!u.stopping) arm_accept(); break;
    case T_TICK: if (!u.stopping) arm_tick(); break;
    case T_WAKE: u.stopping = 1; break;
    case T_IGNORE: break;
    }
}

/* Start of a turn: publish recycled ring buffers, re-arm connections that found the ring empty. */
static void refill(void)
{
    if (u.ring_adds) {
        io_uring_buf_ring_advance(u.br, (int)u.ring_adds);
        u.ring_avail += u.ring_adds;
        u.ring_adds = 0;
    }
    for (unsigned k = 0; u.starved && k < u.ring_avail; k++) {
        struct conn *c = u.starved;
        u.starved = c->starved_next;
        c->starved = 0;
        c->refs--;
        advance(c); /* re-arms the recv, or finishes a close */
    }
}

/* ---- setup ---- */

static int forced(const char *word)
{
    const char *env = getenv("CMB_URING_FALLBACK");
    return env && strstr(env, word) != NULL;
}

/* The ring, with the best setup flags this kernel takes. */
static int ring_init(char *err, size_t errlen)
{
    static const unsigned flag_sets[] = {
        IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN, /* 6.1: no task work interrupts */
        IORING_SETUP_COOP_TASKRUN,                               /* 5.19 */
        0,
    };
    int ret = -EINVAL;
    for (size_t i = forced("setup") ? 2 : 0; i < sizeof flag_sets / sizeof *flag_sets; i++) {
        struct io_uring_params p = { .flags = flag_sets[i] | IORING_SETUP_CQSIZE,
                                     .cq_entries = CQ_ENTRIES };
        if ((ret = io_uring_queue_init_params(SQ_ENTRIES, &u.ring, &p)) == 0)
            break;
    }
    if (ret < 0) {
        snprintf(err, errlen, "io_uring_queue_init: %s", strerror(-ret));
        return -1;
    }
    (void)io_uring_register_ring_fd(&u.ring); /* saves an fd lookup per enter where supported */

    struct io_uring_probe *probe = io_uring_get_probe_ring(&u.ring);
    static const int needed[] = { IORING_OP_ACCEPT, IORING_OP_RECV, IORING_OP_SEND, IORING_OP_CLOSE,
                                  IORING_OP_POLL_ADD, IORING_OP_TIMEOUT, IORING_OP_ASYNC_CANCEL };
    for (size_t i = 0; i < sizeof needed / sizeof *needed; i++)
        if (!probe || !io_uring_opcode_supported(probe, needed[i])) {
            snprintf(err, errlen, "io_uring: this kernel lacks opcode %d", needed[i]);
            io_uring_free_probe(probe);
            return -1;
        }
    io_uring_free_probe(probe);
    return 0;
}

/* The provided-buffer ring (5.19); 0 also when absent: then the fallback buffers are used. */
static int bufring_init(void)
{
    size_t ringsz = BUF_COUNT * sizeof(struct io_uring_buf);
    u.br = mmap(NULL, ringsz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    u.bufmem = mmap(NULL, (size_t)BUF_COUNT * BUF_SIZE, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    u.rx = calloc(BUF_COUNT, sizeof *u.rx);
    struct io_uring_buf_reg reg = { .ring_addr = (uint64_t)(uintptr_t)u.br,
                                    .ring_entries = BUF_COUNT, .bgid = BGID };
    int ret = -ENOMEM;
    if (u.br == MAP_FAILED || u.bufmem == MAP_FAILED || !u.rx || forced("bufring") ||
        (ret = io_uring_register_buf_ring(&u.ring, &reg, 0)) < 0) {
        if (!forced("bufring"))
            srv_log("io_uring: no provided-buffer ring (%s); one recv per read into own buffers",
                    strerror(-ret));
        if (u.br != MAP_FAILED)
            munmap(u.br, ringsz);
        u.br = NULL;
        return -1;
    }
    io_uring_buf_ring_init(u.br);
    for (unsigned i = 0; i < BUF_COUNT; i++) {
        u.rx[i].bid = (uint16_t)i;
        u.rx[i].data = u.bufmem + (size_t)i * BUF_SIZE;
        rx_recycle(&u.rx[i]);
    }
    return 0;
}

static int run(struct srv *s)
{
    char err[256];
    struct io_uring_sqe *sqe;

    u.srv = s;
    list_init(&u.all);
    u.idle_ns = (int64_t)s->opt.idle_timeout * 1000000000;
    u.now = srv_now_ns();
    if (wheel_init(&u.wheel, TICK_MS * 1000000LL, WHEEL_SLOTS, u.now) < 0) {
        srv_log("out of memory");
        return 1;
    }
    if (ring_init(err, sizeof err) < 0) {
        srv_log("%s", err);
        return 1;
    }
    bufring_init();
    /* Sockets io_uring uses are blocking, the listener too: io_uring never blocks the caller on them
     * (it polls and retries), while on an O_NONBLOCK socket a request it hands to its worker threads
     * fails with a spurious -EAGAIN under load (a liburing bug, github.com/axboe/liburing/issues/364;
     * seastar works around the same). */
    int fl = fcntl(s->listen_fd, F_GETFL);
    if (fl < 0 || fcntl(s->listen_fd, F_SETFL, fl & ~O_NONBLOCK) < 0) {
        srv_log("listener: fcntl: %s", strerror(errno));
        return 1;
    }
    u.ms_accept = !forced("accept");
    u.ms_recv = u.br && !forced("recv");
    arm_accept();
    io_uring_prep_poll_add(sqe = sqe_get(), srv_wake_fd(), POLLIN);
    io_uring_sqe_set_data64(sqe, ud(NULL, T_WAKE));
    if (s->opt.idle_timeout)
        arm_tick();
    srv_ready(s);

    while (!u.stopping && !srv_stopping()) {
        unsigned head, n = 0;
        struct io_uring_cqe *cqe;
        refill();
        int ret = io_uring_submit_and_wait(&u.ring, 1);
        u.st.wait_calls++;
        u.now = srv_now_ns();
        if (ret < 0 && ret != -EINTR && ret != -EAGAIN && ret != -EBUSY && ret != -ETIME) {
            srv_log("io_uring_submit_and_wait: %s", strerror(-ret));
            break;
        }
        io_uring_for_each_cqe(&u.ring, head, cqe)
        {
            on_cqe(cqe);
            n++;
        }
        io_uring_cq_advance(&u.ring, n);
        u.st.events += n;
        struct wheel_node *wn;
        while ((wn = wheel_pop(&u.wheel, u.now)) != NULL) {
            struct conn *c = LIST_ENTRY(wn, struct conn, timer);
            if (c->active_ns + u.idle_ns <= u.now) {
                u.st.timeouts++;
                conn_close(c);
            } else {
                wheel_add(&u.wheel, &c->timer, c->active_ns + u.idle_ns);
            }
        }
    }

    /* Stop: the kernel cancels what is in flight when the ring goes; then close what is left. */
    u.stopping = 1;
    io_uring_queue_exit(&u.ring);
    while (!list_empty(&u.all)) {
        struct conn *c = LIST_ENTRY(u.all.next, struct conn, link);
        close(c->fd);
        c->held = NULL; /* the ring is gone: nothing to give back */
        proto_fini(&c->pc);
        free(c->in);
        free(c->out);
        list_del(&c->link);
        u.st.closed++;
        srv_conn_release();
        free(c);
    }
    wheel_free(&u.wheel);
    srv_stats_flush(&u.st);
    return 0;
}

const struct srv_model srv_model = {
    .name = "uring",
    .summary = "Uring: io_uring via liburing; multishot accept and recv with a provided-buffer ring.",
    .flags = SRV_F_EVENTS,
    .keepalive = SRV_KEEPALIVE_NGINX,
    .run = run,
};
