/* reuseport.c: the multi-reactor. N workers, each with its own SO_REUSEPORT listener on the same port
 * and its own edge-triggered epoll loop (the readiness loop of loop.c, exactly as in epoll-et). The
 * kernel spreads new connections over the listeners by a hash of their addresses, so workers share no
 * accept lock, no queue and no connection: with --workers 1 this is the epoll-et server.
 *
 * Workers are threads, not processes. loop.c keeps all of a loop's state in its own struct, so a loop
 * per thread needs nothing more; the request path of a worker touches no memory another worker writes
 * (its counters are its own, flushed at the end; the shared connection count is touched once per
 * connection). Threads keep one process for the stop signal, the --stats file and the runner's
 * accounting, and SAN=thread can check them. Processes would buy isolation (a crash takes one worker)
 * and separate heaps, neither of which a benchmark server needs; the kernel's SO_REUSEPORT spreading
 * is the same for both.
 *
 * The trade-off of SO_REUSEPORT against one shared listener: a connection is bound to the worker its
 * hash picked, even while another worker idles. Every listener is opened and every thread started
 * before the ready line; a worker whose thread cannot start has its listener closed at once, so that
 * no connection is hashed to a listener nobody serves. The main thread is worker 0 (it also takes the
 * stop signal: srv_thread_attr blocks signals in the others); every loop watches the stop eventfd. */
#include "common/loop.h"
#include "common/server.h"
#include "common/threads.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define WORKER_STACK (8u << 20) /* as the main thread has: workers 1..N-1 run what worker 0 runs on it */

struct worker {
    pthread_t tid;
    int listen_fd;
    int started;      /* its thread runs (worker 0: the main thread) */
    struct loop *loop;
    int rc;           /* loop_run's result */
};

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    w->rc = loop_run(w->loop);
    return NULL;
}

/* Open worker i's listener and loop; the first listener fixes the port when --port is 0. */
static int worker_open(struct srv *s, struct worker *w, int i, char *err, size_t errlen)
{
    int port = i == 0 ? s->opt.port : s->port;
    w->listen_fd = srv_listen(s->opt.host, port, s->opt.backlog,
                              SRV_LISTEN_NONBLOCK | SRV_LISTEN_REUSEPORT, err, errlen);
    if (w->listen_fd < 0)
        return -1;
    if (i == 0)
        s->port = srv_local_port(w->listen_fd);
    w->loop = loop_new(s, &loop_epoll_et, w->listen_fd, err, errlen);
    return w->loop ? 0 : -1;
}

static void worker_close(struct worker *w)
{
    loop_free(w->loop);
    w->loop = NULL;
    if (w->listen_fd >= 0)
        close(w->listen_fd);
    w->listen_fd = -1;
}

static int run(struct srv *s)
{
    int n = s->opt.workers, rc = 0, err;
    struct worker *ws = calloc((size_t)n, sizeof *ws);
    struct srv_stats st = { 0 };
    pthread_attr_t attr;
    char msg[256];

    if (!ws || (err = srv_thread_attr(&attr, WORKER_STACK, 0)) != 0) {
        srv_log("reuseport setup: %s", ws ? strerror(err) : "out of memory");
        free(ws);
        return 1;
    }
    for (int i = 0; i < n; i++)
        ws[i].listen_fd = -1;
    for (int i = 0; i < n; i++) {
        if (worker_open(s, &ws[i], i, msg, sizeof msg) < 0) {
            srv_log("worker %d: %s", i, msg);
            rc = 1;
            goto out;
        }
    }
    ws[0].started = 1;
    for (int i = 1; i < n; i++) {
        if ((err = pthread_create(&ws[i].tid, &attr, worker_main, &ws[i])) != 0) {
            st.spawn_failures++;
            srv_log("worker %d: pthread_create: %s; its listener is closed", i, strerror(err));
            worker_close(&ws[i]);
            continue;
        }
        ws[i].started = 1;
    }
    srv_ready(s);
    ws[0].rc = loop_run(ws[0].loop);
    for (int i = 0; i < n; i++) {
        if (i > 0 && ws[i].started)
            pthread_join(ws[i].tid, NULL); /* every loop sees the stop eventfd: they end promptly */
        if (ws[i].rc < 0)
            rc = 1;
    }
out:
    for (int i = 0; i < n; i++)
        worker_close(&ws[i]);
    pthread_attr_destroy(&attr);
    srv_stats_flush(&st);
    free(ws);
    return rc;
}

const struct srv_model srv_model = {
    .name = "reuseport",
    .summary = "Reuseport: N threads, each an epoll-et loop on its own SO_REUSEPORT listener.",
    .flags = SRV_F_EVENTS | SRV_F_SPAWNS | SRV_F_WORKERS | SRV_F_OWN_LISTENER,
    .default_workers = 0,
    .keepalive = SRV_KEEPALIVE_NGINX,
    .run = run,
};
