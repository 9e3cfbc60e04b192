/* poll.c: the readiness loop on poll(2). No FD_SETSIZE limit, but the whole pollfd array crosses into
 * the kernel and is scanned on every call, so a wait costs O(watched fds) even when one is ready: the
 * cost that grows with idle connections. */
#include "common/loop.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pl {
    struct pollfd *fds;       /* dense: fds[0..n) are watched */
    int n, cap;
    int *slot;                /* slot[fd]: index of fd in fds */
    int nslot;
    struct loop_event *fired; /* what the last wait found, nfired entries of room: grown by the wait */
    int nfired;               /* only, never while the loop dispatches those found */
};

static void *create(int maxev, char *err, size_t errlen)
{
    struct pl *p = calloc(1, sizeof *p);
    if (!p)
        snprintf(err, errlen, "out of memory");
    return p;
}

static void pl_free(void *st)
{
    struct pl *p = st;
    free(p->fds);
    free(p->slot);
    free(p->fired);
    free(p);
}

static short events_of(unsigned mask)
{
    return (short)(((mask & CONN_READ) ? POLLIN : 0) | ((mask & CONN_WRITE) ? POLLOUT : 0));
}

/* Make room for one more fd, and for slot[fd]. */
static int reserve(struct pl *p, int fd)
{
    if (p->n == p->cap) {
        int cap = p->cap ? p->cap * 2 : 1024;
        struct pollfd *f = realloc(p->fds, (size_t)cap * sizeof *f);
        if (!f)
            return -1;
        p->fds = f;
        p->cap = cap;
    }
    if (fd >= p->nslot) {
        int n = p->nslot ? p->nslot : 1024;
        while (n <= fd)
            n *= 2;
        int *s = realloc(p->slot, (size_t)n * sizeof *s);
        if (!s)
            return -1;
        p->slot = s;
        p->nslot = n;
    }
    return 0;
}

static int add(void *st, int fd, unsigned mask)
{
    struct pl *p = st;
    if (reserve(p, fd) < 0) {
        errno = ENOMEM;
        return -1;
    }
    p->fds[p->n] = (struct pollfd){ .fd = fd, .events = events_of(mask) };
    p->slot[fd] = p->n++;
    return 0;
}

/* An update is bookkeeping in our array, no system call: poll() hands the kernel the whole array each
 * time, which is exactly the cost epoll avoids. */
static int modify(void *st, int fd, unsigned old, unsigned mask)
{
    struct pl *p = st;
    p->fds[p->slot[fd]].events = events_of(mask);
    return 0;
}

static void del(void *st, int fd, unsigned old)
{
    struct pl *p = st;
    int i = p->slot[fd];
    p->fds[i] = p->fds[--p->n]; /* the last entry fills the hole: the array stays dense */
    p->slot[p->fds[i].fd] = i;
}

static int wait_ready(void *st, int timeout_ms, struct loop_event **out)
{
    struct pl *p = st;
    /* POLLHUP and POLLERR come even for an entry with events 0 (a connection with only queued work):
     * harmless, the connection's turn finds the error or does its work. */
    /* The loop adds connections while it dispatches what a wait found (accepting): the array it
     * reads must not move under it, so it grows here, before the next wait fills it. */
    if (p->nfired < p->n) {
        struct loop_event *e = realloc(p->fired, (size_t)p->cap * sizeof *e);
        if (e)
            p->fired = e, p->nfired = p->cap;
    }
    int n = poll(p->fds, (nfds_t)p->n, timeout_ms);
    if (n <= 0)
        return n;
    int k = 0; /* out of memory for more: the rest stay ready, and the next wait reports them */
    for (int i = 0; i < p->n && k < n && k < p->nfired; i++) { /* the result is found by scanning every entry */
        short r = p->fds[i].revents;
        if (!r)
            continue;
        unsigned mask = 0;
        if (r & (POLLIN | POLLERR | POLLHUP | POLLNVAL))
            mask |= CONN_READ; /* errors and hangups: the read or write that follows reports them */
        if (r & (POLLOUT | POLLERR | POLLHUP | POLLNVAL))
            mask |= CONN_WRITE;
        p->fired[k].fd = p->fds[i].fd;
        p->fired[k++].mask = mask;
    }
    *out = p->fired;
    return k;
}

static const struct loop_backend backend = {
    .name = "poll",
    .create = create,
    .free = pl_free,
    .add = add,
    .modify = modify,
    .del = del,
    .wait = wait_ready,
};

static int run(struct srv *s)
{
    return loop_serve(s, &backend);
}

const struct srv_model srv_model = {
    .name = "poll",
    .summary = "Event loop on poll(2): no fd limit, but every wait passes and scans all watched fds.",
    .flags = SRV_F_EVENTS,
    .keepalive = SRV_KEEPALIVE_NGINX,
    .run = run,
};
