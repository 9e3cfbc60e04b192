/* epoll-et.c: the readiness loop on epoll, edge-triggered (EPOLLET). A readiness change is reported
 * once, so reads, writes and accepts are repeated until EAGAIN; what the per-turn budget leaves undone
 * is finished on the loop's CONN_MORE queue, since no new edge would announce it. */
#include "common/loop.h"

static int run(struct srv *s)
{
    return loop_serve(s, &loop_epoll_et);
}

const struct srv_model srv_model = {
    .name = "epoll-et",
    .summary = "Event loop on epoll, edge-triggered: reads, writes and accepts drained to EAGAIN.",
    .flags = SRV_F_EVENTS,
    .keepalive = SRV_KEEPALIVE_NGINX,
    .run = run,
};
