/* conn.c - one connection's life: connect, write a window of requests, read and check answers,
 * classify failures, reconnect without spinning; in open loop, which connection takes a due request.
 * Called only from its thread's loop (engine.c); it arms its own timer (timer.c).
 *
 * The socket is registered once, edge-triggered for IN and OUT, and never modified: a request costs
 * one send and, shared with whatever else arrived, one recv. A recv shorter than the buffer means
 * the socket was drained, so no extra recv is spent to see EAGAIN. */
#include "engine.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

static void conn_fail(struct lg_thread *t, struct lg_conn *c, int cls, int64_t now);
static void conn_queue(struct lg_thread *t, struct lg_conn *c, int64_t intended, int64_t now);
static void conn_flush(struct lg_thread *t, struct lg_conn *c, int64_t now);

/* ---- open loop: the connections with room for a request, oldest first -------------------- */

static void free_push(struct lg_thread *t, struct lg_conn *c, int64_t now)
{
    if (c->in_free)
        return;
    c->in_free = 1;
    c->free_since = now;
    uint32_t i = t->free_head + t->free_len;
    t->freering[i >= t->nactive ? i - t->nactive : i] = c;
    t->free_len++;
}

static int has_room(const struct lg_thread *t, const struct lg_conn *c)
{
    uint32_t reqs = t->o->reqs_per_conn;
    return c->inflight < t->o->pipeline && (!reqs || c->on_conn < reqs);
}

/* Entries that went stale (closed, full) are dropped on the way. */
struct lg_conn *lg_conn_take_free(struct lg_thread *t)
{
    while (t->free_len) {
        struct lg_conn *c = t->freering[t->free_head];
        if (++t->free_head == t->nactive)
            t->free_head = 0;
        t->free_len--;
        c->in_free = 0;
        if (c->state == CS_OPEN && !c->closing && has_room(t, c))
            return c;
    }
    return NULL;
}

void lg_conn_assign(struct lg_thread *t, struct lg_conn *c, int64_t intended, int64_t now)
{
    conn_queue(t, c, intended, now);
    if (!c->dirty) {
        c->dirty = 1;
        t->dirtyv[t->ndirty++] = c;
    }
    if (has_room(t, c)) {
        int64_t since = c->free_since;     /* still free since the same moment */
        free_push(t, c, now);
        c->free_since = since;
    }
}

void lg_conn_flush_assigned(struct lg_thread *t, int64_t now)
{
    for (uint32_t i = 0; i < t->ndirty; i++) {
        struct lg_conn *c = t->dirtyv[i];
        c->dirty = 0;
        if (c->state == CS_OPEN && !c->want_out)
            conn_flush(t, c, now);
    }
    t->ndirty = 0;
}

/* ---- one connection ----------------------------------------------------------------------- */

/* Every state change goes here: the thread counts its connects in progress, so the drain at the
 * end can wait for them and count each connection the server accepted. */
static void set_state(struct lg_thread *t, struct lg_conn *c, uint8_t s)
{
    t->connecting += (uint32_t)(s == CS_CONNECTING) - (uint32_t)(c->state == CS_CONNECTING);
    c->state = s;
}

static void count_error(struct lg_thread *t, int cls, uint64_t n, int64_t now)
{
    t->res.c.err[cls] += n;
    t->res.sec[lg_sec_of(t, now)].errors += n;
}

/* Drop the socket and every request on it; the caller decides what happens next. */
static void drop(struct lg_thread *t, struct lg_conn *c)
{
    if (c->fd >= 0)
        close(c->fd);      /* also leaves the epoll set */
    c->fd = -1;
    t->inflight -= c->inflight;
    c->inflight = c->unsent = c->head = c->out_off = c->on_conn = c->answered = 0;
    c->want_out = c->closing = 0;
    set_state(t, c, CS_WAIT);
    lg_timer_del(&t->timers, &c->timer);
    t->proto->reset(&c->ps);
}

/* Schedule a connect no earlier than `at`, paced by --connect-rate and, while connects keep
 * failing, by LG_FAIL_GAP per thread: a dead port costs a few syscalls per 10 ms, not a spin. */
void lg_conn_connect_at(struct lg_thread *t, struct lg_conn *c, int64_t at, int64_t now)
{
    if (t->stopping && !c->inflight) {  /* requests to resend are still answered in the drain */
        set_state(t, c, CS_DOWN);
        return;
    }
    if (t->connect_gap) {
        if (at < t->connect_next)
            at = t->connect_next;
        t->connect_next = at + t->connect_gap;
    }
    if (t->fail_streak) {
        if (at < t->fail_next)
            at = t->fail_next;
        t->fail_next = at + LG_FAIL_GAP;
    }
    set_state(t, c, CS_WAIT);
    lg_timer_set(&t->timers, &c->timer, at > now ? at : now);
}

static void connected(struct lg_thread *t, struct lg_conn *c, int64_t now)
{
    set_state(t, c, CS_OPEN);
    c->was_open = 1;
    lg_timer_del(&t->timers, &c->timer);
    t->res.c.connects_total++;
    t->res.sec[lg_sec_of(t, now)].connects++;
    if (lg_in_window(t, c->conn_start)) {
        t->res.c.connects++;
        hist_record(&t->res.con, now - c->conn_start);
    }
    if (c->idle)
        return;
    if (c->inflight)        /* requests to resend: their timeout still runs from the first send */
        lg_timer_set(&t->timers, &c->timer, c->ring[c->head].sent + (int64_t)(t->o->timeout * LG_NS));
    if (t->open) {
        if (has_room(t, c))
            free_push(t, c, now);
    } else {
        while (!t->stopping && has_room(t, c))
            conn_queue(t, c, now, now);
    }
    if (c->unsent)
        conn_flush(t, c, now);
}

static void start_connect(struct lg_thread *t, struct lg_conn *c, int64_t now)
{
    const struct lg_opts *o = t->o;
    int one = 1, r;
    c->conn_start = now = lg_now();   /* not the loop's time: many connects may share one pass */
    c->fd = socket(o->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0)
        goto fail;
    /* Requests are whole messages: do not let Nagle hold a pipelined one back. */
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (o->nsrc) {
        const struct sockaddr_storage *src = &o->src[c->id % o->nsrc];
        /* Let connect() pick the port per destination, so each source address has its own range. */
        setsockopt(c->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
        if (bind(c->fd, (const struct sockaddr *)src, o->addrlen) < 0)
            goto fail;
    }
    /* Non-blocking: EINPROGRESS, or (interrupted) EINTR, both finish asynchronously; a retry
     * would only see EALREADY. */
    r = connect(c->fd, (const struct sockaddr *)&o->addr, o->addrlen);
    if (r < 0 && errno != EINPROGRESS && errno != EINTR)
        goto fail;
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.ptr = c};
    if (epoll_ctl(t->epfd, EPOLL_CTL_ADD, c->fd, &ev) < 0)
        goto fail;
    set_state(t, c, CS_CONNECTING);
    lg_timer_set(&t->timers, &c->timer, now + (int64_t)(o->timeout * LG_NS));
    if (r == 0)
        connected(t, c, lg_now());
    return;
fail:
    conn_fail(t, c, LG_E_CONNECT, now);
}

/* A failure: count it once per request lost (once if none was), then reconnect after a backoff. */
static void conn_fail(struct lg_thread *t, struct lg_conn *c, int cls, int64_t now)
{
    count_error(t, cls, c->inflight ? c->inflight : 1, now);
    t->res.c.failed += c->inflight;
    int idle_lost = c->idle && c->was_open;
    drop(t, c);
    c->was_open = 0;
    t->fail_streak++;
    if (idle_lost) {               /* an idle connection is not replaced once held */
        t->res.c.idle_closed++;
        set_state(t, c, CS_DOWN);
        return;
    }
    c->backoff_ms = c->backoff_ms ? (c->backoff_ms >= 500 ? 1000 : c->backoff_ms * 2) : 10;
    /* Jitter keeps connections that failed together from retrying in lockstep. */
    t->jitter = t->jitter * 6364136223846793005ULL + 1442695040888963407ULL;
    int64_t jitter = (int64_t)((t->jitter >> 33) % ((uint64_t)c->backoff_ms * 250000 + 1));
    lg_conn_connect_at(t, c, now + (int64_t)c->backoff_ms * 1000000 + jitter, now);
}

/* A clean end (request quota used, server closed an unused connection): reconnect at once. */
static void conn_close_ok(struct lg_thread *t, struct lg_conn *c, int64_t now)
{
    drop(t, c);
    lg_conn_connect_at(t, c, now, now);
}

/* The server ended a keep-alive connection after a complete answer (Connection: close, HTTP/1.0,
 * or a clean EOF) while requests were still unanswered: reconnect at once and send them again on
 * the new connection. They keep their place in the ring and their intended and first send times,
 * so each is counted once, and its latency includes the reconnect (no coordinated omission). */
static void conn_resend(struct lg_thread *t, struct lg_conn *c, int64_t now)
{
    if (!c->inflight) {
        conn_close_ok(t, c, now);
        return;
    }
    close(c->fd);
    c->fd = -1;
    t->res.c.reconnects++;
    t->res.c.resent += c->inflight;
    c->unsent = c->on_conn = c->inflight;
    c->out_off = c->answered = 0;
    c->want_out = c->closing = 0;
    set_state(t, c, CS_WAIT);
    lg_timer_del(&t->timers, &c->timer);
    t->proto->reset(&c->ps);
    lg_conn_connect_at(t, c, now, now);
}

static void conn_queue(struct lg_thread *t, struct lg_conn *c, int64_t intended, int64_t now)
{
    uint32_t i = c->head + c->inflight;
    if (i >= t->o->pipeline)
        i -= t->o->pipeline;
    c->ring[i].intended = intended;
    c->ring[i].sent = now;
    c->inflight++;
    c->unsent++;
    c->on_conn++;
    c->seq_next++;
    t->inflight++;
    t->res.c.requests_sent++;
    if (!lg_timer_armed(&c->timer))  /* lazily armed: re-checked against the oldest when it fires */
        lg_timer_set(&t->timers, &c->timer, now + (int64_t)(t->o->timeout * LG_NS));
}

/* Write the unsent requests: one send for a window of pipelined requests. */
static void conn_flush(struct lg_thread *t, struct lg_conn *c, int64_t now)
{
    uint32_t reqs = t->o->reqs_per_conn;
    while (c->unsent && c->state == CS_OPEN) {
        struct iovec iov[64];
        size_t lens[64], total = 0;
        int k = 0;
        uint32_t taken = 0, first = c->on_conn - c->unsent;
        uint64_t seq = c->seq_next - c->unsent;
        for (; taken < c->unsent && taken < 64; taken++) {
            int last = reqs && first + taken + 1 == reqs;
            struct iovec v = t->proto->request(c->id, seq + taken, taken, last);
            lens[taken] = v.iov_len;
            if (taken == 0) {
                v.iov_base = (char *)v.iov_base + c->out_off;
                v.iov_len -= c->out_off;
            }
            if (k && (char *)iov[k - 1].iov_base + iov[k - 1].iov_len == v.iov_base)
                iov[k - 1].iov_len += v.iov_len;   /* contiguous: one buffer for the kernel */
            else
                iov[k++] = v;
            total += v.iov_len;
        }
        ssize_t n;
        do {
            if (k == 1) {
                n = send(c->fd, iov[0].iov_base, iov[0].iov_len, MSG_NOSIGNAL);
            } else {
                struct msghdr mh = {.msg_iov = iov, .msg_iovlen = (size_t)k};
                n = sendmsg(c->fd, &mh, MSG_NOSIGNAL);
            }
        } while (n < 0 && errno == EINTR);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                c->want_out = 1;
                return;
            }
            if ((errno == EPIPE || errno == ECONNRESET) && c->answered) {
                /* The server may have closed after a complete answer (its FIN read with that
                 * answer) and reset what came after. The reset's hang-up event is pending: its
                 * read finds the EOF and decides (resend, or a reset error). Until then nothing
                 * more is written; the request timeout still covers it. */
                c->closing = 1;
                return;
            }
            conn_fail(t, c, errno == EPIPE || errno == ECONNRESET ? LG_E_RESET : LG_E_WRITE, now);
            return;
        }
        t->res.c.bytes_out += (uint64_t)n;
        size_t left = (size_t)n + c->out_off;
        for (uint32_t i = 0; i < taken && left >= lens[i]; i++) {
            left -= lens[i];
            c->unsent--;
        }
        c->out_off = (uint32_t)left;
        if ((size_t)n < total) {       /* the socket buffer is full: EPOLLOUT will say when */
            c->want_out = 1;
            return;
        }
    }
    c->want_out = 0;
}

/* The oldest request is answered. */
static void complete(struct lg_thread *t, struct lg_conn *c, int64_t now)
{
    struct lg_slot *s = &c->ring[c->head];
    if (++c->head == t->o->pipeline)
        c->head = 0;
    c->inflight--;
    c->answered++;
    t->inflight--;
    t->res.c.requests_total++;
    if (lg_in_window(t, s->intended)) {
        t->res.c.requests++;
        t->res.per_conn[c->id]++;      /* the client slot: the same across reconnects */
        hist_record(&t->res.lat, now - s->intended);
        hist_record(&t->res.unc, now - s->sent);
        if (t->res.nivl) {              /* --hlog: the same two values in their second's pair */
            uint32_t i = (uint32_t)((s->intended - t->warm_end) / LG_NS);
            struct hist *iv = &t->res.ivl[2 * (i < t->res.nivl ? i : t->res.nivl - 1)];
            hist_record(&iv[0], now - s->intended);
            hist_record(&iv[1], now - s->sent);
        }
    }
    uint32_t sec = lg_sec_of(t, now);
    t->res.sec[sec].requests++;
    hist_record(&t->res.sechist[sec], now - s->intended);
    if (t->o->proto == LG_HTTP) {
        unsigned cls = c->ps.status / 100;
        if (cls >= 1 && cls <= 5)
            t->res.c.status[cls - 1]++;
        if (cls == 4 || cls == 5)
            count_error(t, cls == 4 ? LG_E_STATUS_4XX : LG_E_STATUS_5XX, 1, now);
        if (c->ps.close)
            c->closing = 1;
    }
    c->backoff_ms = 0;
    t->fail_streak = 0;
    if (t->open && !c->closing && has_room(t, c))
        free_push(t, c, now);
}

/* Feed received bytes to the protocol; returns -1 when the connection failed. */
static int absorb(struct lg_thread *t, struct lg_conn *c, const char *buf, size_t n, int64_t now)
{
    size_t pos = 0;
    while (pos < n) {
        if (c->inflight == 0) {      /* bytes nobody asked for */
            conn_fail(t, c, LG_E_BAD_RESPONSE, now);
            return -1;
        }
        size_t used = 0;
        int r = t->proto->parse(&c->ps, c->id, c->seq_next - c->inflight, buf + pos, n - pos, &used);
        pos += used;
        if (r == LG_P_MORE)
            break;
        if (r != LG_P_DONE) {
            conn_fail(t, c, r == LG_P_MISMATCH ? LG_E_MISMATCH : LG_E_BAD_RESPONSE, now);
            return -1;
        }
        complete(t, c, now);
    }
    return 0;
}

static void on_eof(struct lg_thread *t, struct lg_conn *c, int64_t now)
{
    int r = c->inflight ? t->proto->eof(&c->ps) : LG_P_MORE;
    if (r == LG_P_DONE)
        complete(t, c, now);          /* a close-delimited body ends here */
    if (r == LG_P_BAD) {              /* closed in the middle of an answer */
        conn_fail(t, c, LG_E_RESET, now);
        return;
    }
    /* Closed after a complete answer with requests outstanding: a keep-alive connection ended
     * by the server, so they go again on a new one. Without any answer on this connection it
     * is a refusal of those requests (and a server that never answers cannot make us loop). */
    if (c->inflight) {
        if (c->answered)
            conn_resend(t, c, now);
        else
            conn_fail(t, c, LG_E_RESET, now);
        return;
    }
    /* Closed before any request and soon after the connect: a refusal (e.g. over a server's
     * connection limit). Counted and paced like a failure, or accept-then-close would make us spin.
     * (Later, an unused connection closed by the server's idle timeout is no error.) */
    if (!c->idle && c->on_conn == 0 && now - c->conn_start < (int64_t)(t->o->timeout * LG_NS)) {
        conn_fail(t, c, LG_E_RESET, now);
        return;
    }
    if (c->idle) {
        t->res.c.idle_closed++;
        drop(t, c);
        set_state(t, c, CS_DOWN);
        return;
    }
    conn_close_ok(t, c, now);
}

/* After answers: refill the window (closed loop) or end a connection whose quota is used. */
static void after_answers(struct lg_thread *t, struct lg_conn *c, int64_t now)
{
    uint32_t reqs = t->o->reqs_per_conn;
    int spent = c->closing || (reqs && c->on_conn >= reqs);
    if (spent) {
        if (c->inflight == 0)
            conn_close_ok(t, c, now);
        else if (c->closing)          /* the server closes: what it will not answer goes again */
            conn_resend(t, c, now);
        return;
    }
    if (t->open)
        return;
    while (!t->stopping && has_room(t, c))
        conn_queue(t, c, now, now);
    if (c->unsent && !c->want_out)
        conn_flush(t, c, now);
}

/* Read until drained. `hup`: the peer has closed (or failed), so read on to the EOF or the error
 * even past a short read: its FIN may have come in the same recv as the last answer, and no new
 * edge would report it. */
static void on_readable(struct lg_thread *t, struct lg_conn *c, int hup)
{
    int64_t now = 0;
    for (int full = 0;; full++) {
        if (full == LG_READS_PER_EVENT) {
            /* A long body: let the other connections in. Modifying the registration re-checks
             * readiness, so the edge that a drain would have waited for is queued again. */
            struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.ptr = c};
            epoll_ctl(t->epfd, EPOLL_CTL_MOD, c->fd, &ev);
            break;
        }
        ssize_t n = recv(c->fd, t->rbuf, LG_RBUF, 0);
        if (n < 0 && errno == EINTR)
            continue;
        now = lg_now();                /* one clock read stamps every answer in this read */
        if (n > 0) {
            t->res.c.bytes_in += (uint64_t)n;
            if (absorb(t, c, t->rbuf, (size_t)n, now) < 0)
                return;
            if (n < LG_RBUF && !hup)
                break;                 /* short read: drained, the next byte raises a new edge */
            continue;
        }
        if (n == 0) {
            on_eof(t, c, now);
            return;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            break;
        if (errno == ECONNRESET && c->closing) {
            conn_resend(t, c, now);   /* announced close; it reset because requests were unread */
            return;
        }
        conn_fail(t, c, errno == ECONNRESET ? LG_E_RESET : LG_E_READ, now);
        return;
    }
    after_answers(t, c, now);
}

void lg_conn_event(struct lg_thread *t, struct lg_conn *c, uint32_t events)
{
    if (c->state == CS_CONNECTING) {
        int64_t now = lg_now();
        if (events & (EPOLLERR | EPOLLHUP)) {
            conn_fail(t, c, LG_E_CONNECT, now);
            return;
        }
        if (!(events & EPOLLOUT))
            return;
        connected(t, c, now);
    }
    if (c->state == CS_OPEN && (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
        on_readable(t, c, (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0);
    if (c->state == CS_OPEN && (events & EPOLLOUT) && c->want_out) {
        conn_flush(t, c, lg_now());
    }
}

void lg_conn_timer(struct lg_thread *t, struct lg_conn *c, int64_t now)
{
    switch (c->state) {
    case CS_WAIT:
        if (t->stopping && !c->inflight)
            set_state(t, c, CS_DOWN);
        else
            start_connect(t, c, now);
        break;
    case CS_CONNECTING:
        conn_fail(t, c, LG_E_CONNECT_TIMEOUT, now);
        break;
    case CS_OPEN:
        /* While draining nothing times out: what is left at the end is reported as incomplete. */
        if (c->inflight == 0 || t->stopping)
            break;
        int64_t due = c->ring[c->head].sent + (int64_t)(t->o->timeout * LG_NS);
        if (now >= due)
            conn_fail(t, c, LG_E_TIMEOUT, now);
        else
            lg_timer_set(&t->timers, &c->timer, due);
        break;
    }
}

/* End of the run: what is still in flight is incomplete, not lost. */
void lg_conn_finish(struct lg_thread *t, struct lg_conn *c)
{
    t->res.c.incomplete += c->inflight;
    t->inflight -= c->inflight;
    c->inflight = 0;
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    set_state(t, c, CS_DOWN);
}
