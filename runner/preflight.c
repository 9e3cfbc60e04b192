/* preflight.c - limits checked before the first run, and the load generator split they force. */
#include "preflight.h"
#include "loader.h"
#include "util.h"

#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

/* Fds a loadgen process needs besides its connections: stdio, epoll and timer fds per thread,
 * output files. Generous, because running out mid-run costs a whole row. */
#define PF_FD_RESERVE 128

static long read_long(const char *path, long dflt)
{
    long long v;
    return ut_read_ll(path, &v) == 0 ? (long)v : dflt;
}

void pf_read(const struct cfg *c, struct pf_sys *s)
{
    memset(s, 0, sizeof *s);
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        if (rl.rlim_cur < rl.rlim_max) {
            rl.rlim_cur = rl.rlim_max;
            setrlimit(RLIMIT_NOFILE, &rl); /* failure leaves the old limit, which we then report */
            getrlimit(RLIMIT_NOFILE, &rl);
        }
        s->nofile_soft = (long)rl.rlim_cur;
        s->nofile_hard = (long)rl.rlim_max;
    }
    char buf[64];
    s->port_lo = 32768, s->port_hi = 60999;
    if (ut_read_small("/proc/sys/net/ipv4/ip_local_port_range", buf, sizeof buf) > 0)
        sscanf(buf, "%ld %ld", &s->port_lo, &s->port_hi);
    s->somaxconn = read_long("/proc/sys/net/core/somaxconn", 4096);
    s->tw_reuse = read_long("/proc/sys/net/ipv4/tcp_tw_reuse", 0);
    s->pid_max = read_long("/proc/sys/kernel/pid_max", 32768);
    s->threads_max = read_long("/proc/sys/kernel/threads-max", 0);
    s->ncpu = (int)sysconf(_SC_NPROCESSORS_ONLN);
    cpu_set_t set;
    s->server_ncpu = ut_parse_cpus(c->d.server_cpus, &set);
    s->loadgen_ncpu = ut_parse_cpus(c->d.loadgen_cpus, &set);
}

long pf_fds_per_proc(const struct pf_sys *s)
{
    return s->nofile_soft > 2 * PF_FD_RESERVE ? s->nofile_soft - PF_FD_RESERVE : s->nofile_soft / 2;
}

long pf_ports_per_ip(const struct pf_sys *s)
{
    /* 90%: other programs on the machine take ports from the same range. */
    return (s->port_hi - s->port_lo + 1) * 9 / 10;
}

static long ceil_div(long a, long b)
{
    return b > 0 ? (a + b - 1) / b : a;
}

/* Log a decision or a warning the first time its text appears, not once per row. */
static void once(enum ut_level lvl, char seen[][256], int *nseen, const char *msg)
{
    for (int i = 0; i < *nseen; i++)
        if (!strcmp(seen[i], msg))
            return;
    if (*nseen < 64)
        snprintf(seen[(*nseen)++], 256, "%s", msg);
    ut_log(lvl, "preflight: %s", msg);
}

int pf_apply(const struct cfg *c, const struct pf_sys *s, struct plan *p, char *err, size_t errlen)
{
    static char seen[64][256];
    int nseen = 0;
    char msg[256];
    long per_proc = pf_fds_per_proc(s), per_ip = pf_ports_per_ip(s);
    for (int i = 0; i < p->n; i++) {
        struct plan_row *r = &p->rows[i];
        const char *model = c->srv[r->srv].model;
        long total = r->ax[CFG_CONNECTIONS] + r->ax[CFG_IDLE];
        long need_procs = ceil_div(total, per_proc), need_ips = ceil_div(total, per_ip);
        r->lg_procs = (int)(c->d.loadgen_procs ? c->d.loadgen_procs : need_procs);
        if (!c->d.loadgen_procs && need_procs > 1) {
            snprintf(msg, sizeof msg, "%ld connections (incl. idle) exceed one loadgen process's open-file limit "
                     "(%ld usable of %ld): using --procs %ld", total, per_proc, s->nofile_soft, need_procs);
            once(UT_INFO, seen, &nseen, msg);
        } else if (c->d.loadgen_procs && c->d.loadgen_procs < need_procs) {
            snprintf(msg, sizeof msg, "loadgen_procs %ld cannot hold %ld connections (open-file limit %ld each)",
                     c->d.loadgen_procs, total, s->nofile_soft);
            once(UT_WARN, seen, &nseen, msg);
        }
        /* Threads over all processes (loadgen --threads is a total): the configured count, else
         * one per loadgen CPU; at least one per process, at most one per connection. */
        long threads = c->d.loadgen_threads ? c->d.loadgen_threads : s->loadgen_ncpu;
        if (threads < r->lg_procs)
            threads = r->lg_procs;
        if (threads > r->ax[CFG_CONNECTIONS])
            threads = r->ax[CFG_CONNECTIONS] > r->lg_procs ? r->ax[CFG_CONNECTIONS] : r->lg_procs;
        r->lg_threads = (int)threads;
        r->source_ips = (int)(c->d.source_ips ? c->d.source_ips : need_ips);
        if (r->source_ips > 250) {
            snprintf(err, errlen, "%ld connections need %d source addresses (%ld ports each): too many", total,
                     r->source_ips, per_ip);
            return -1;
        }
        if (r->ax[CFG_LOADER] != CFG_LOADGEN && (r->lg_procs > 1 || r->source_ips > 1)) {
            snprintf(err, errlen, "%s cannot hold %ld connections: that takes %d processes and %d source addresses, "
                     "which only our loadgen can split into", loader_of(r)->name, total, r->lg_procs, r->source_ips);
            return -1;
        }
        if (!c->d.source_ips && need_ips > 1) {
            snprintf(msg, sizeof msg, "%ld connections exceed one source address's %ld local ports (range %ld-%ld): "
                     "using --source-ips 127.0.0.1-127.0.0.%ld", total, per_ip, s->port_lo, s->port_hi, need_ips);
            once(UT_INFO, seen, &nseen, msg);
        }
        /* The server holds every connection in one process unless it forks per connection. */
        int per_conn_proc = !strcmp(model, "fork") || !strcmp(model, "prefork");
        if (!per_conn_proc && total + 32 > s->nofile_soft) {
            snprintf(msg, sizeof msg, "%s at %ld connections: the open-file limit %ld caps the server, expect refusals",
                     model, total, s->nofile_soft);
            once(UT_WARN, seen, &nseen, msg);
        }
        if ((!strcmp(model, "fork") || !strcmp(model, "pthread")) && total + 2000 > s->pid_max) {
            snprintf(msg, sizeof msg, "%s at %ld connections: one task per connection against pid_max %ld",
                     model, total, s->pid_max);
            once(UT_WARN, seen, &nseen, msg);
        }
        if (r->ax[CFG_CONNECTIONS] > s->somaxconn) {
            snprintf(msg, sizeof msg, "%ld connections against an accept queue of at most %ld (somaxconn): a connect "
                     "burst can overflow it and a dropped SYN costs a 1 s retry", r->ax[CFG_CONNECTIONS], s->somaxconn);
            once(UT_INFO, seen, &nseen, msg);
        }
        if (r->ax[CFG_CONN_MODE] != CFG_KEEPALIVE && s->tw_reuse == 0) {
            snprintf(msg, sizeof msg, "connection churn with net.ipv4.tcp_tw_reuse=0: closed client ports stay in "
                     "TIME_WAIT for 60 s and the port range may run out");
            once(UT_WARN, seen, &nseen, msg);
        }
    }
    if (s->loadgen_ncpu > 0 && s->server_ncpu > 0) {
        cpu_set_t a, b, both;
        ut_parse_cpus(c->d.server_cpus, &a);
        ut_parse_cpus(c->d.loadgen_cpus, &b);
        CPU_AND(&both, &a, &b);
        if (CPU_COUNT(&both)) {
            snprintf(msg, sizeof msg, "server_cpus %s and loadgen_cpus %s overlap: they compete for the same CPU",
                     c->d.server_cpus, c->d.loadgen_cpus);
            once(UT_WARN, seen, &nseen, msg);
        }
    }
    return 0;
}
