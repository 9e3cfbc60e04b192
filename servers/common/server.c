/* server.c: shared run-time state of a server: the counters' shared totals, the connection admission
 * count and logging; the stop signal and the fd registry it shuts down are stop.c's. */
#include "server.h"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "server_int.h"

/* Totals shared by every thread and forked process of the server. */
struct totals {
#define TOTAL_FIELD(name) _Atomic uint64_t name;
    SRV_COUNTERS(TOTAL_FIELD)
#undef TOTAL_FIELD
    _Atomic int64_t conns;      /* connections admitted and not yet released */
    _Atomic uint64_t peak_conns;
};

static struct totals *totals;       /* MAP_SHARED: survives fork */
static const char *log_name = "server";

int srv_runtime_init(const char *model_name, int stop_listener, char *err, size_t errlen)
{
    static char name[64];

    snprintf(name, sizeof name, "server-%s", model_name);
    log_name = name;
    totals = mmap(NULL, sizeof *totals, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (totals == MAP_FAILED) {
        snprintf(err, errlen, "mmap: %s", strerror(errno));
        return -1;
    }
    return srv_stop_init(stop_listener, 1, err, errlen);
}

/* ---- counters ---- */

void srv_stats_flush(struct srv_stats *st)
{
#define FLUSH_FIELD(name)                                                                        \
    if (st->name) {                                                                              \
        atomic_fetch_add_explicit(&totals->name, st->name, memory_order_relaxed);                \
        st->name = 0;                                                                            \
    }
    SRV_COUNTERS(FLUSH_FIELD)
#undef FLUSH_FIELD
}

int srv_conn_admit(const struct srv *s, struct srv_stats *st)
{
    st->accepted++;
    int64_t now = atomic_fetch_add_explicit(&totals->conns, 1, memory_order_relaxed) + 1;
    if (s->opt.max_conns && now > (int64_t)s->opt.max_conns) {
        atomic_fetch_sub_explicit(&totals->conns, 1, memory_order_relaxed);
        st->refused_max_conns++;
        return -1;
    }
    uint64_t peak = atomic_load_explicit(&totals->peak_conns, memory_order_relaxed);
    while ((uint64_t)now > peak &&
           !atomic_compare_exchange_weak_explicit(&totals->peak_conns, &peak, (uint64_t)now,
                                                  memory_order_relaxed, memory_order_relaxed))
        ;
    return 0;
}

void srv_conn_release(void)
{
    atomic_fetch_sub_explicit(&totals->conns, 1, memory_order_relaxed);
}

/* Write the --stats JSON object to path, atomically (temporary file, then rename). */
int srv_write_stats(const char *path, const char *model, unsigned flags)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof tmp)
        return -1;
    FILE *f = fopen(tmp, "w");
    if (!f)
        return -1;
#define V(name) (unsigned long long)atomic_load(&totals->name)
    unsigned long long refused = V(refused_max_conns) + V(refused_fd_setsize) + V(refused_emfile);
    fprintf(f, "{\"model\":\"%s\",\"accepted\":%llu,\"refused\":%llu,", model, V(accepted), refused);
    fprintf(f, "\"refused_reasons\":{\"max_conns\":%llu,\"fd_setsize\":%llu,\"emfile\":%llu},",
            V(refused_max_conns), V(refused_fd_setsize), V(refused_emfile));
    fprintf(f, "\"closed\":%llu,\"requests\":%llu,\"bytes_in\":%llu,\"bytes_out\":%llu,", V(closed),
            V(requests), V(bytes_in), V(bytes_out));
    fprintf(f, "\"errors\":%llu,\"timeouts\":%llu,\"peak_conns\":%llu", V(errors), V(timeouts),
            V(peak_conns));
    if (flags & SRV_F_SPAWNS)
        fprintf(f, ",\"spawn_failures\":%llu", V(spawn_failures));
    if (flags & SRV_F_EVENTS)
        fprintf(f, ",\"wait_calls\":%llu,\"events\":%llu,\"eagain\":%llu,\"ctl_calls\":%llu",
                V(wait_calls), V(events), V(eagain), V(ctl_calls));
#undef V
    fprintf(f, "}\n");
    if (fclose(f) != 0 || rename(tmp, path) != 0) {
        int saved = errno;
        unlink(tmp);
        errno = saved;
        return -1;
    }
    return 0;
}

/* ---- time and logging ---- */

int64_t srv_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void vlog(const char *suffix, const char *fmt, va_list ap)
{
    char buf[512];
    int n = snprintf(buf, sizeof buf, "%s: ", log_name);
    if (n < 0 || n >= (int)sizeof buf)
        return;
    int m = vsnprintf(buf + n, sizeof buf - (size_t)n, fmt, ap);
    if (m < 0)
        return;
    size_t len = strlen(buf);
    snprintf(buf + len, sizeof buf - len, "%s\n", suffix);
    /* one write(): lines from several threads or processes do not interleave */
    if (write(STDERR_FILENO, buf, strlen(buf)) < 0)
        return;
}

void srv_log(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog("", fmt, ap);
    va_end(ap);
}

void srv_log_limited(struct srv_ratelimit *rl, int interval, const char *fmt, ...)
{
    int64_t now = srv_now_ns();
    if (rl->last_ns != 0 && now - rl->last_ns < (int64_t)interval * 1000000000) {
        rl->suppressed++;
        return;
    }
    char suffix[64] = "";
    if (rl->suppressed)
        snprintf(suffix, sizeof suffix, " (%u more since the last report)", rl->suppressed);
    rl->last_ns = now;
    rl->suppressed = 0;
    va_list ap;
    va_start(ap, fmt);
    vlog(suffix, fmt, ap);
    va_end(ap);
}

void srv_ready(const struct srv *s)
{
    printf("ready %s port=%d pid=%d\n", s->model->name, s->port, (int)getpid());
    fflush(stdout);
}
