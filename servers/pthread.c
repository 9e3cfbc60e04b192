/* pthread.c: a thread per connection. The main thread accepts; each connection gets a detached thread
 * with a small stack that serves it and exits. If pthread_create() fails the connection is closed and
 * counted, and the acceptor backs off. On stop the framework shuts every connection down, and the
 * main thread waits (bounded) for the threads to finish. */
#include "common/server.h"
#include "common/threads.h"

#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static struct srv *server;
static atomic_int nthreads; /* connection threads still running */

static void *conn_thread(void *arg)
{
    struct srv_stats st = { 0 };
    srv_serve_blocking(server, (int)(intptr_t)arg, &st);
    srv_conn_release();
    atomic_fetch_sub(&nthreads, 1);
    return NULL;
}

static int run(struct srv *s)
{
    struct srv_stats st = { 0 };
    struct srv_ratelimit rl = { 0 };
    struct timespec tick = { 0, 2000000 };
    pthread_attr_t attr;
    unsigned step = 0;
    int fd, err;

    server = s;
    if ((err = srv_thread_attr(&attr, SRV_THREAD_STACK, 1)) != 0) {
        srv_log("pthread attributes: %s", strerror(err));
        return 1;
    }
    srv_ready(s);
    while ((fd = srv_accept_blocking(s, &st)) >= 0) {
        pthread_t t;
        atomic_fetch_add(&nthreads, 1);
        if ((err = pthread_create(&t, &attr, conn_thread, (void *)(intptr_t)fd)) != 0) {
            atomic_fetch_sub(&nthreads, 1);
            close(fd);
            srv_conn_release();
            st.spawn_failures++;
            srv_log_limited(&rl, 5, "pthread_create: %s; connection closed, backing off",
                            strerror(err));
            srv_backoff(&step);
            continue;
        }
        step = 0;
    }
    srv_stats_flush(&st);
    int64_t deadline = srv_now_ns() + 800000000;
    while (atomic_load(&nthreads) > 0 && srv_now_ns() < deadline)
        nanosleep(&tick, NULL);
    pthread_attr_destroy(&attr);
    return 0;
}

const struct srv_model srv_model = {
    .name = "pthread",
    .summary = "Pthread: one detached thread per connection, small stacks.",
    .flags = SRV_F_BLOCKING | SRV_F_SPAWNS,
    .keepalive = SRV_KEEPALIVE_APACHE,
    .run = run,
};
