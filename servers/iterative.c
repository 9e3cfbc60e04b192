/* iterative.c: the iterative server. One thread accepts a client and serves it until it leaves; only
 * then is the next client accepted. Others wait in the listen backlog meanwhile. */
#include "common/server.h"

static int listen_fd = -1;

/* The next client waits in the backlog whenever one is there: this server has one worker. */
static int clients_waiting(void)
{
    return srv_listener_pending(listen_fd);
}

static int run(struct srv *s)
{
    struct srv_stats st = { 0 };
    int fd;

    listen_fd = s->listen_fd;
    srv_ready(s);
    while ((fd = srv_accept_blocking(s, &st)) >= 0) {
        srv_serve_blocking(s, fd, &st);
        srv_conn_release();
    }
    srv_stats_flush(&st);
    return 0;
}

const struct srv_model srv_model = {
    .name = "iterative",
    .summary = "Iterative: one client at a time, served to the end before the next is accepted.",
    .flags = SRV_F_BLOCKING,
    .keepalive = { .requests = 1, .yield = 1 }, /* one at a time: a kept connection locks others out */
    .clients_waiting = clients_waiting,
    .run = run,
};
