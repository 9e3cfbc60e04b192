/* select.c: the readiness loop on select(2). The backend is here, not in common/, so that this file is
 * built with -O2 -D_FORTIFY_SOURCE=2 (mk/servers.mk): an FD_SET past FD_SETSIZE aborts instead of
 * silently writing past the fd_set.
 *
 * Two costs the course measures live here: the interest sets are handed to the kernel and scanned on
 * every call (O(highest fd), however few are ready), and no fd >= FD_SETSIZE (1024) can be watched. The
 * loop refuses such connections at accept (fd_limit, counted as refused fd_setsize); add() checks again
 * so that nothing else can slip one in. */
#include "common/loop.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>

struct sel {
    fd_set rd, wr;            /* the interest sets; select() gets copies */
    int maxfd;                /* highest fd in either set, or -1 */
    struct loop_event fired[FD_SETSIZE];
};

static void *create(int maxev, char *err, size_t errlen)
{
    struct sel *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    FD_ZERO(&s->rd);
    FD_ZERO(&s->wr);
    s->maxfd = -1;
    return s;
}

static void sel_free(void *st)
{
    free(st);
}

static int modify(void *st, int fd, unsigned old, unsigned mask)
{
    struct sel *s = st;
    if (fd < 0 || fd >= FD_SETSIZE) {
        errno = EINVAL; /* the fd_set has no bit for it */
        return -1;
    }
    if (mask & CONN_READ)
        FD_SET(fd, &s->rd);
    else
        FD_CLR(fd, &s->rd);
    if (mask & CONN_WRITE)
        FD_SET(fd, &s->wr);
    else
        FD_CLR(fd, &s->wr);
    if (fd > s->maxfd)
        s->maxfd = fd;
    return 0;
}

static int add(void *st, int fd, unsigned mask)
{
    return modify(st, fd, 0, mask);
}

static void del(void *st, int fd, unsigned old)
{
    struct sel *s = st;
    if (fd < 0 || fd >= FD_SETSIZE)
        return;
    FD_CLR(fd, &s->rd);
    FD_CLR(fd, &s->wr);
    /* As Redis's ae.c does: the next highest fd still watched bounds the next scans. */
    while (s->maxfd >= 0 && !FD_ISSET(s->maxfd, &s->rd) && !FD_ISSET(s->maxfd, &s->wr))
        s->maxfd--;
}

static int wait_ready(void *st, int timeout_ms, struct loop_event **out)
{
    struct sel *s = st;
    fd_set rd = s->rd, wr = s->wr; /* select() overwrites its sets with the result */
    struct timeval tv = { .tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000 };
    int n = select(s->maxfd + 1, &rd, &wr, NULL, timeout_ms < 0 ? NULL : &tv);
    if (n <= 0)
        return n;
    /* The result is a bitmap too: finding the ready fds costs a scan up to maxfd. */
    int k = 0;
    for (int fd = 0; fd <= s->maxfd && k < n; fd++) {
        unsigned mask = (FD_ISSET(fd, &rd) ? CONN_READ : 0) | (FD_ISSET(fd, &wr) ? CONN_WRITE : 0);
        if (mask) {
            s->fired[k].fd = fd;
            s->fired[k++].mask = mask;
        }
    }
    *out = s->fired;
    return k;
}

static const struct loop_backend backend = {
    .name = "select",
    .fd_limit = FD_SETSIZE,
    .create = create,
    .free = sel_free,
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
    .name = "select",
    .summary = "Event loop on select(2): fds >= FD_SETSIZE are refused (counted as fd_setsize).",
    .flags = SRV_F_EVENTS,
    .keepalive = SRV_KEEPALIVE_NGINX,
    .run = run,
};
