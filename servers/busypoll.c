/* busypoll.c: the readiness loop with no wait at all. Every socket is non-blocking and simply tried:
 * the "backend" reports each watched fd as ready for what it is watched for, and the read or write that
 * follows finds out, mostly with EAGAIN (counted). wait_calls stays 0; events counts the fds tried.
 *
 * It spins whether or not there is work, which is the point of the model: CPU time for latency. Two
 * courtesies keep it usable: the watched fds are tried in slices of maxev, round robin, with the
 * listener and the stop flag checked between slices (loop.c does that for LOOP_BE_SPIN), so a new
 * client or a SIGTERM is noticed after at most one slice, not one sweep over 10k sockets; and a turn
 * that found nothing yields the CPU to other runnable threads (it still never sleeps). */
#include "common/loop.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct spin {
    struct loop_event *watched; /* dense: watched[0..n) with their interest */
    int n, cap;
    int *slot;                  /* slot[fd]: index of fd in watched */
    int nslot;
    int next;                   /* where the next slice starts */
    int maxev;
    struct loop_event *fired;   /* the slice handed to the loop */
};

static void *create(int maxev, char *err, size_t errlen)
{
    struct spin *s = calloc(1, sizeof *s);
    if (!s || !(s->fired = calloc((size_t)maxev, sizeof *s->fired))) {
        free(s);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->maxev = maxev;
    return s;
}

static void spin_free(void *st)
{
    struct spin *s = st;
    free(s->watched);
    free(s->slot);
    free(s->fired);
    free(s);
}

static int add(void *st, int fd, unsigned mask)
{
    struct spin *s = st;
    if (s->n == s->cap) {
        int cap = s->cap ? s->cap * 2 : 1024;
        struct loop_event *w = realloc(s->watched, (size_t)cap * sizeof *w);
        if (!w)
            goto nomem;
        s->watched = w;
        s->cap = cap;
    }
    if (fd >= s->nslot) {
        int n = s->nslot ? s->nslot : 1024;
        while (n <= fd)
            n *= 2;
        int *p = realloc(s->slot, (size_t)n * sizeof *p);
        if (!p)
            goto nomem;
        s->slot = p;
        s->nslot = n;
    }
    s->watched[s->n] = (struct loop_event){ .fd = fd, .mask = mask };
    s->slot[fd] = s->n++;
    return 0;
nomem:
    errno = ENOMEM;
    return -1;
}

static int modify(void *st, int fd, unsigned old, unsigned mask)
{
    struct spin *s = st;
    s->watched[s->slot[fd]].mask = mask;
    return 0;
}

static void del(void *st, int fd, unsigned old)
{
    struct spin *s = st;
    int i = s->slot[fd];
    s->watched[i] = s->watched[--s->n];
    s->slot[s->watched[i].fd] = i;
}

/* No system call: the next slice of the watched fds, each "ready" for what it is watched for. */
static int wait_ready(void *st, int timeout_ms, struct loop_event **out)
{
    struct spin *s = st;
    int k = 0;
    for (int tried = 0; tried < s->n && k < s->maxev; tried++) {
        if (s->next >= s->n)
            s->next = 0;
        const struct loop_event *w = &s->watched[s->next++];
        if (w->mask)
            s->fired[k++] = *w;
    }
    *out = s->fired;
    return k;
}

static const struct loop_backend backend = {
    .name = "busypoll",
    .flags = LOOP_BE_SPIN,
    .create = create,
    .free = spin_free,
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
    .name = "busypoll",
    .summary = "Busy polling: non-blocking sockets tried in a spin, no wait call (burns a CPU).",
    .flags = SRV_F_EVENTS,
    .keepalive = SRV_KEEPALIVE_NGINX,
    .run = run,
};
