/* blocking.c: the connection loop of the blocking models (iterative, fork, pthread, prefork,
 * threadpool): read, feed the protocol engine, write it all, repeat. One copy here, so those models
 * differ only in who runs this loop: the one thread, a child process, a thread per connection, or a
 * pool member. The loop does its I/O through a `struct srv_io`, so the coroutine model runs this very
 * loop too, with reads and writes that yield to its scheduler instead of blocking the thread.
 *
 * Timeouts: SO_RCVTIMEO and SO_SNDTIMEO make a silent client or a reader that never reads release its
 * worker after --idle-timeout, and a kept-alive client that sends no next request after
 * --keepalive-timeout (Apache's KeepAliveTimeout: a pool worker is not held by an idle client). Stop:
 * the connection is tracked, so the stop handler's shutdown() ends a read or write blocked on it. */
#include "server.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

void srv_backoff(unsigned *step)
{
    unsigned ms = 10u << (*step < 5 ? *step : 5);
    struct timespec ts = { .tv_sec = 0, .tv_nsec = (long)ms * 1000000L };
    if (*step < 5)
        (*step)++;
    nanosleep(&ts, NULL); /* EINTR is fine: the caller rechecks srv_stopping() */
}

int srv_listener_pending(int fd)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };
    return poll(&p, 1, 0) > 0 && (p.revents & POLLIN);
}

int srv_accept_blocking(struct srv *s, struct srv_stats *st)
{
    static __thread struct srv_ratelimit rl_exhausted, rl_other;
    unsigned step = 0;

    while (!srv_stopping()) {
        int fd = srv_accept(s->listen_fd, 0);
        if (fd >= 0) {
            if (srv_conn_admit(s, st) < 0) {
                close(fd);
                continue;
            }
            return fd;
        }
        int err = errno;
        if (srv_accept_transient(err))
            continue;
        switch (err) {
        case EINVAL: /* the listener was shut down: we are stopping */
            return -1;
        default:
            /* Out of fds or memory, or something unexpected: wait and retry; the pending clients
             * stay queued in the backlog and are served once resources are back. */
            if (srv_accept_exhausted(err))
                srv_log_limited(&rl_exhausted, 5, "accept: %s; backing off", strerror(err));
            else
                srv_log_limited(&rl_other, 5, "accept: %s", strerror(err));
            srv_backoff(&step);
        }
    }
    return -1;
}

/* Classify a failed read/write: timeouts and errors are counted apart. */
static void count_failure(int err, struct srv_stats *st)
{
    if (err == EAGAIN || err == EWOULDBLOCK || err == ETIMEDOUT)
        st->timeouts++;
    else if (!srv_stopping())
        st->errors++;
}

/* Write all of buf; 0 on success, -1 when the connection must end. */
static int write_all(const struct srv_io *io, void *ctx, int fd, const char *buf, size_t len,
                     struct srv_stats *st)
{
    while (len > 0) {
        ssize_t n = io->write(ctx, fd, buf, len);
        if (n > 0) {
            buf += n;
            len -= (size_t)n;
            st->bytes_out += (uint64_t)n;
        } else if (n < 0 && errno == EINTR && !srv_stopping()) {
            continue;
        } else {
            count_failure(n < 0 ? errno : EPIPE, st);
            return -1;
        }
    }
    return 0;
}

static void set_timeout(int fd, int opt, unsigned secs)
{
    struct timeval tv = { .tv_sec = (time_t)secs, .tv_usec = 0 };
    if (secs != 0)
        (void)setsockopt(fd, SOL_SOCKET, opt, &tv, sizeof tv);
}

/* A timed-out read: 1 to read again, 0 when the connection has waited long enough. *waited: seconds
 * of timed-out reads in a row. A connection waiting for its next request gets --keepalive-timeout
 * (when set), one in the middle of a request --idle-timeout (0: forever). */
static int wait_more(const struct srv *s, const struct proto_conn *pc, size_t inlen, unsigned period,
                     unsigned *waited)
{
    unsigned ka = s->opt.keepalive.timeout;
    unsigned limit = ka && inlen == 0 && proto_awaits_request(pc) ? ka : s->opt.idle_timeout;
    *waited += period;
    return limit == 0 || *waited < limit;
}

void srv_serve_io(struct srv *s, int fd, struct srv_stats *st, const struct srv_io *io, void *ctx,
                  unsigned read_timeout)
{
    unsigned waited = 0; /* seconds of timed-out reads in a row */
    char *in = malloc(SRV_IN_CAP + SRV_OUT_CAP);
    struct proto_conn pc;
    size_t inlen = 0;
    int64_t stall_since = 0; /* when an unfinished request stopped making progress, or 0 */
    const int64_t stall_ns = (int64_t)s->opt.idle_timeout * 1000000000;

    if (!in) {
        st->errors++;
        return;
    }
    struct proto_out out = { .buf = in + SRV_IN_CAP, .len = 0, .cap = SRV_OUT_CAP };
    proto_init(&pc, &s->proto);

    for (;;) {
        size_t used;
        enum proto_result r = proto_step(&pc, in, inlen, &used, &out);
        st->requests += proto_take_requests(&pc);
        int wrote = out.len > 0;
        if (used > 0) {
            inlen -= used;
            if (inlen > 0)
                memmove(in, in + used, inlen); /* a partial pipelined request: rare and small */
        }
        if (out.len > 0) {
            if (write_all(io, ctx, fd, out.buf, out.len, st) < 0)
                break;
            out.len = 0;
        }
        if (r == PROTO_CLOSE)
            break;
        if (r == PROTO_NEED_ROOM)
            continue;
        if (inlen == SRV_IN_CAP)
            break; /* cannot happen: the engine answers before PROTO_IN_MIN bytes are pending */
        if (used > 0 || wrote)
            stall_since = 0;
        else if (inlen > 0 && stall_ns > 0) {
            /* An unfinished request and the last read took it no further. The socket timeout restarts
             * at every byte, so a client trickling a header byte now and then (slowloris) would hold
             * this connection forever: give a request --idle-timeout to make progress. */
            int64_t now = srv_now_ns();
            if (stall_since == 0)
                stall_since = now;
            else if (now - stall_since > stall_ns) {
                st->timeouts++;
                break;
            }
        }
        ssize_t n = io->read(ctx, fd, in + inlen, SRV_IN_CAP - inlen);
        if (n > 0) {
            inlen += (size_t)n;
            st->bytes_in += (uint64_t)n;
            waited = 0;
        } else if (n == 0) {
            break; /* the peer is done (or half-closed): everything it sent is answered */
        } else if ((errno == EAGAIN || errno == ETIMEDOUT) && !srv_stopping() &&
                   wait_more(s, &pc, inlen, read_timeout, &waited)) {
            continue; /* one read period, shorter than this state's timeout: wait on */
        } else if (errno != EINTR || srv_stopping()) {
            count_failure(errno, st);
            break;
        }
    }
    proto_fini(&pc);
    free(in);
}

static ssize_t sys_read(void *ctx, int fd, void *buf, size_t n)
{
    (void)ctx;
    return read(fd, buf, n);
}

static ssize_t sys_write(void *ctx, int fd, const void *buf, size_t n)
{
    (void)ctx;
    return write(fd, buf, n);
}

static const struct srv_io blocking_io = {
    .name = "blocking",
    .read = sys_read,
    .write = sys_write,
};

void srv_serve_blocking(struct srv *s, int fd, struct srv_stats *st)
{
    srv_track(fd);
    /* Reads time out after the shorter of the two timeouts; wait_more() tells them apart (the
     * longer one is then served in whole periods of the shorter, rounded up). */
    unsigned idle = s->opt.idle_timeout, ka = s->opt.keepalive.timeout;
    unsigned period = ka && (idle == 0 || ka < idle) ? ka : idle;
    set_timeout(fd, SO_RCVTIMEO, period);
    set_timeout(fd, SO_SNDTIMEO, idle);
    srv_serve_io(s, fd, st, &blocking_io, NULL, period);
    srv_untrack(fd);
    close(fd);
    st->closed++;
    srv_stats_flush(st);
}
