/* epoll-lt.c: the readiness loop on epoll, level-triggered. One read per readiness report, as Redis
 * does: data left in the socket is simply reported again by the next epoll_wait. The backend is
 * common/loop_epoll.c (shared with epoll-et and reuseport). */
#include "common/loop.h"

static int run(struct srv *s)
{
    return loop_serve(s, &loop_epoll_lt);
}

const struct srv_model srv_model = {
    .name = "epoll-lt",
    .summary = "Event loop on epoll, level-triggered: one read per readiness report.",
    .flags = SRV_F_EVENTS,
    .keepalive = SRV_KEEPALIVE_NGINX,
    .run = run,
};
