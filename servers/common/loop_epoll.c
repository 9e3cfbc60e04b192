/* loop_epoll.c: the epoll wait backends of the readiness loop, level- and edge-triggered. They live in
 * common/ because three models use them: epoll-lt, epoll-et and each worker loop of reuseport.
 *
 * The kernel keeps the interest set, so a wait costs O(ready fds), not O(watched fds): the property the
 * select/poll comparison is about. Edge-triggered differs only by EPOLLET on every registration; the
 * draining it requires is conn.c's and loop.c's (LOOP_BE_EDGE). */
#include "loop.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

struct ep {
    int epfd;
    uint32_t mode;              /* 0, or EPOLLET */
    int maxev;
    struct epoll_event *evs;    /* what epoll_wait fills */
    struct loop_event *fired;   /* what the loop reads */
};

static void *create(uint32_t mode, int maxev, char *err, size_t errlen)
{
    struct ep *e = calloc(1, sizeof *e);
    if (!e || !(e->evs = calloc((size_t)maxev, sizeof *e->evs)) ||
        !(e->fired = calloc((size_t)maxev, sizeof *e->fired))) {
        snprintf(err, errlen, "out of memory");
        goto error;
    }
    e->mode = mode;
    e->maxev = maxev;
    if ((e->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0) {
        snprintf(err, errlen, "epoll_create1: %s", strerror(errno));
        goto error;
    }
    return e;
error:
    if (e) {
        free(e->evs);
        free(e->fired);
    }
    free(e);
    return NULL;
}

static void *create_lt(int maxev, char *err, size_t errlen)
{
    return create(0, maxev, err, errlen);
}

static void *create_et(int maxev, char *err, size_t errlen)
{
    return create(EPOLLET, maxev, err, errlen);
}

static void ep_free(void *st)
{
    struct ep *e = st;
    close(e->epfd);
    free(e->evs);
    free(e->fired);
    free(e);
}

static int ctl(struct ep *e, int op, int fd, unsigned mask)
{
    struct epoll_event ev = { .data.fd = fd, .events = e->mode };
    if (mask & CONN_READ)
        ev.events |= EPOLLIN;
    if (mask & CONN_WRITE)
        ev.events |= EPOLLOUT;
    /* EPOLL_CTL_MOD re-checks readiness, so with EPOLLET an fd that became readable while it was not
     * watched for reading is still reported: no wakeup is lost across interest changes. */
    return epoll_ctl(e->epfd, op, fd, &ev);
}

static int add(void *st, int fd, unsigned mask)
{
    return ctl(st, EPOLL_CTL_ADD, fd, mask);
}

static int modify(void *st, int fd, unsigned old, unsigned mask)
{
    return ctl(st, EPOLL_CTL_MOD, fd, mask);
}

static void del(void *st, int fd, unsigned old)
{
    struct ep *e = st;
    (void)epoll_ctl(e->epfd, EPOLL_CTL_DEL, fd, NULL);
}

static int wait_ready(void *st, int timeout_ms, struct loop_event **out)
{
    struct ep *e = st;
    int n = epoll_wait(e->epfd, e->evs, e->maxev, timeout_ms);
    for (int i = 0; i < n; i++) {
        uint32_t r = e->evs[i].events;
        e->fired[i].fd = e->evs[i].data.fd;
        e->fired[i].mask = 0;
        /* An error or hangup is both: the read or the write that follows reports it. */
        if (r & (EPOLLIN | EPOLLERR | EPOLLHUP))
            e->fired[i].mask |= CONN_READ;
        if (r & (EPOLLOUT | EPOLLERR | EPOLLHUP))
            e->fired[i].mask |= CONN_WRITE;
    }
    *out = e->fired;
    return n;
}

const struct loop_backend loop_epoll_lt = {
    .name = "epoll-lt",
    .create = create_lt,
    .free = ep_free,
    .add = add,
    .modify = modify,
    .del = del,
    .wait = wait_ready,
};

const struct loop_backend loop_epoll_et = {
    .name = "epoll-et",
    .flags = LOOP_BE_EDGE,
    .create = create_et,
    .free = ep_free,
    .add = add,
    .modify = modify,
    .del = del,
    .wait = wait_ready,
};
