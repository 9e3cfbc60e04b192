/* threadpool.c: N threads started at once and a bounded queue of accepted connections between the
 * accepting main thread and them. A pool thread takes a connection and serves it to the end. When
 * the queue is full the acceptor waits, so excess clients wait in the kernel's listen backlog instead
 * of in our memory. On stop the queue is closed, the threads are joined (bounded), and connections
 * still queued are closed unserved. */
#include "common/server.h"
#include "common/threads.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define QUEUE_CAP 256u

static struct {
    pthread_mutex_t lock;
    pthread_cond_t nonempty, nonfull;
    int fds[QUEUE_CAP];
    unsigned head, count;
    unsigned idle; /* pool threads waiting in pop() for a connection */
    int closed;
} q = { .lock = PTHREAD_MUTEX_INITIALIZER, .nonempty = PTHREAD_COND_INITIALIZER,
        .nonfull = PTHREAD_COND_INITIALIZER };

static struct srv *server;
static _Atomic int spare; /* idle threads not yet claimed by a queued connection (--keepalive-yield) */

/* Under the lock, after the queue or the idle count changed. */
static void note_waiting(void)
{
    atomic_store_explicit(&spare, (int)q.idle - (int)q.count, memory_order_relaxed);
}

/* Read by every pool thread per response, without the lock. A client waits for a pool thread when
 * the queue holds more connections than there are threads idle to take them (a full queue also
 * means the kernel's backlog holds more), and also, with no idle thread to spare, when one is still
 * in the backlog: the acceptor has not taken it yet, and a keep-alive answer given meanwhile holds
 * this thread, so that client waits for the idle timeout if this connection then goes quiet. One
 * inside the acceptor's accept() -- off the kernel's queue, not yet in ours -- is not seen. */
static int clients_waiting(void)
{
    int n = atomic_load_explicit(&spare, memory_order_relaxed);
    return n < 0 || (n == 0 && srv_listener_pending(server->listen_fd));
}

/* Queue fd; waits while full. Returns -1 (fd not queued) when the server stops meanwhile. */
static int push(int fd)
{
    struct timespec tick;
    pthread_mutex_lock(&q.lock);
    while (q.count == QUEUE_CAP && !srv_stopping()) {
        /* timed: a signal cannot wake a condition variable, so look at the stop flag now and then */
        clock_gettime(CLOCK_REALTIME, &tick);
        tick.tv_nsec += 50000000;
        if (tick.tv_nsec >= 1000000000) {
            tick.tv_sec++;
            tick.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&q.nonfull, &q.lock, &tick);
    }
    int ok = q.count < QUEUE_CAP;
    if (ok) {
        q.fds[(q.head + q.count++) % QUEUE_CAP] = fd;
        note_waiting();
        pthread_cond_signal(&q.nonempty);
    }
    pthread_mutex_unlock(&q.lock);
    return ok ? 0 : -1;
}

/* Next fd to serve, or -1 once the queue is closed. */
static int pop(void)
{
    int fd = -1;
    pthread_mutex_lock(&q.lock);
    q.idle++;
    while (q.count == 0 && !q.closed)
        pthread_cond_wait(&q.nonempty, &q.lock);
    q.idle--;
    if (!q.closed) {
        fd = q.fds[q.head];
        q.head = (q.head + 1) % QUEUE_CAP;
        q.count--;
        note_waiting();
        pthread_cond_signal(&q.nonfull);
    }
    pthread_mutex_unlock(&q.lock);
    return fd;
}

static void *pool_thread(void *arg)
{
    struct srv_stats st = { 0 };
    int fd;
    (void)arg;
    while ((fd = pop()) >= 0) {
        srv_serve_blocking(server, fd, &st);
        srv_conn_release();
    }
    return NULL;
}

static int run(struct srv *s)
{
    struct srv_stats st = { 0 };
    int n = s->opt.workers, started = 0, fd, err;
    pthread_t *tids = calloc((size_t)n, sizeof *tids);
    pthread_attr_t attr;

    server = s;
    if (!tids || (err = srv_thread_attr(&attr, SRV_THREAD_STACK, 0)) != 0) {
        srv_log("threadpool setup failed");
        return 1;
    }
    for (int i = 0; i < n; i++) {
        if ((err = pthread_create(&tids[started], &attr, pool_thread, NULL)) != 0) {
            st.spawn_failures++;
            srv_log("pthread_create (pool thread %d): %s", i, strerror(err));
            continue;
        }
        started++;
    }
    pthread_attr_destroy(&attr);
    if (started == 0) {
        srv_log("no pool thread could be started");
        return 1;
    }
    srv_ready(s);
    while ((fd = srv_accept_blocking(s, &st)) >= 0) {
        if (push(fd) < 0) {
            close(fd);
            srv_conn_release();
        }
    }
    srv_stats_flush(&st);

    pthread_mutex_lock(&q.lock);
    q.closed = 1;
    pthread_cond_broadcast(&q.nonempty);
    pthread_mutex_unlock(&q.lock);
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_nsec += 800000000;
    if (deadline.tv_nsec >= 1000000000) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000;
    }
    for (int i = 0; i < started; i++)
        if (pthread_timedjoin_np(tids[i], NULL, &deadline) != 0)
            srv_log("pool thread %d did not finish in time", i);
    for (; q.count > 0; q.count--, q.head = (q.head + 1) % QUEUE_CAP) {
        close(q.fds[q.head]); /* accepted but never served */
        srv_conn_release();
    }
    free(tids);
    return 0;
}

const struct srv_model srv_model = {
    .name = "threadpool",
    .summary = "Threadpool: N threads started at once, fed accepted connections over a bounded queue.",
    .flags = SRV_F_BLOCKING | SRV_F_SPAWNS | SRV_F_WORKERS,
    .default_workers = 16,
    .keepalive = { .requests = 100, .timeout = 5, .yield = 1 }, /* Apache worker MPM; Tomcat */
    .clients_waiting = clients_waiting,
    .run = run,
};
