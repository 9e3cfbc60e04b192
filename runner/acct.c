/* acct.c - sampling a server's process tree: per-process /proc reads, peaks, context switches,
 * and the choice between the cgroup and /proc backends. */
#include "acct.h"
#include "acct_proc.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int read_ctxsw(pid_t pid, long long *vol, long long *invol)
{
    char path[64], buf[4096];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    if (ut_read_small(path, buf, sizeof buf) <= 0)
        return -1;
    char *v = strstr(buf, "\nvoluntary_ctxt_switches:"), *i = strstr(buf, "\nnonvoluntary_ctxt_switches:");
    if (!v || !i)
        return -1;
    *vol = strtoll(strchr(v, ':') + 1, NULL, 10);
    *invol = strtoll(strchr(i, ':') + 1, NULL, 10);
    return 0;
}

/* Exact CPU time of a task in seconds from /proc/<pid>/schedstat (ns), or -1. For a
 * single-threaded process this is the process; stat's utime/stime are truncated to whole ticks
 * per process, which loses half a tick on average per process: much with a hundred children. */
static double read_runtime(pid_t pid)
{
    char path[64], buf[128];
    snprintf(path, sizeof path, "/proc/%d/schedstat", (int)pid);
    if (ut_read_small(path, buf, sizeof buf) <= 0)
        return -1;
    char *end;
    unsigned long long ns = strtoull(buf, &end, 10);
    return end == buf ? -1 : ns / 1e9;
}

static int count_fds(pid_t pid)
{
    char path[64];
    struct stat st;
    snprintf(path, sizeof path, "/proc/%d/fd", (int)pid);
    /* Since Linux 6.2 the size of /proc/<pid>/fd is the number of open fds: 1 us instead of a
     * 10 ms readdir at 10,000 fds. Older kernels say 0: count the entries then. */
    if (stat(path, &st) == 0 && st.st_size > 0)
        return (int)st.st_size;
    DIR *d = opendir(path);
    if (!d)
        return 0;
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

int acct_open(struct acct *a, const char *tag, int want_cgroup, char *err, size_t errlen)
{
    memset(a, 0, sizeof *a);
    long long pid_max = 32768;
    ut_read_ll("/proc/sys/kernel/pid_max", &pid_max);
    a->nseen = (long)pid_max + 1;
    a->seen = ut_calloc((size_t)a->nseen, sizeof *a->seen);
    a->ops = want_cgroup ? &acct_cgroup_ops : &acct_proc_ops;
    if (a->ops->open(a, tag, err, errlen) == 0)
        return 0;
    static int warned;
    if (!warned++)
        ut_log(UT_WARN, "cgroups unavailable (%s): accounting by walking /proc instead", err);
    a->ops = &acct_proc_ops;
    return a->ops->open(a, tag, err, errlen);
}

int acct_attach(struct acct *a, pid_t pid, char *err, size_t errlen)
{
    a->leader = a->pgid = pid;
    if (a->ops->attach(a, pid, err, errlen) == 0)
        return 0;
    ut_log(UT_WARN, "cannot put the server in its cgroup (%s): accounting by walking /proc", err);
    a->ops->close(a);
    a->ops = &acct_proc_ops;
    a->ops->open(a, "", err, errlen);
    return a->ops->attach(a, pid, err, errlen);
}

void acct_sample(struct acct *a, struct acct_sample *s, double deadline)
{
    static long tck, page_kb;
    if (!tck)
        tck = sysconf(_SC_CLK_TCK), page_kb = sysconf(_SC_PAGESIZE) / 1024;
    double t0 = ut_cputime();
    memset(s, 0, sizeof *s);
    s->mem_kb = -1;
    /* Tree-wide counters first, stamped as they are read: the /proc scan below can take a while
     * on a big tree or a busy machine, and a counter read late against an early timestamp would
     * show more CPU than the interval holds. */
    long tasks_peak = 0, mem_peak = 0;
    struct acct_sample tot = {.mem_kb = -1};
    int have_cpu = a->ops->totals(a, &tot, &tasks_peak, &mem_peak);
    s->t = ut_now();
    s->mem_kb = tot.mem_kb;
    pid_t *pids = NULL;
    int n = a->ops->members(a, &pids);
    unsigned long long user = 0, sys = 0;
    double exact = 0; /* /proc backend: CPU with single-threaded processes read exactly */
    /* Without tree-wide CPU counters the scan is the CPU number: it must be complete, and it is
     * not atomic. A child the leader reaps during the scan moves its CPU into the leader's
     * cutime. So the leader is read last, and a child read earlier that no longer exists by then
     * is dropped (its CPU is in that cutime): counted once, whenever the reap happened. */
    int from = n ? a->scan_from % n : 0;
    double *part = NULL;
    if (!have_cpu) {
        deadline = 1e300;
        from = 0;
        for (int i = 0; i + 1 < n; i++)
            if (pids[i] == a->leader)
                pids[i] = pids[n - 1], pids[n - 1] = a->leader;
        part = ut_calloc((size_t)n + 1, sizeof *part);
    }
    for (int k = 0; k < n; k++) {
        int i = (from + k) % n;
        /* A big tree takes a while to scan: give way when a sample is due at an exact time
         * (the edges of the measured window). What was scanned is a lower bound, still safe
         * for the peaks; the next scan starts where this one stopped. */
        if ((k & 63) == 0 && (ut_now() >= deadline || ut_stop_pending())) {
            s->partial = 1;
            a->scan_from = i;
            break;
        }
        struct acct_pstat ps;
        if (acct_proc_stat(pids[i], &ps) < 0)
            continue; /* gone between the listing and the read */
        s->threads += ps.threads;
        s->rss_kb += ps.rss_pages * page_kb;
        s->fds += count_fds(pids[i]);
        /* cutime/cstime: children this process has reaped, so the CPU of an exited child
         * stays in the sum once its parent waited for it. */
        user += ps.utime + ps.cutime;
        sys += ps.stime + ps.cstime;
        if (part) {
            double rt = ps.threads == 1 ? read_runtime(pids[i]) : -1;
            part[i] = (rt >= 0 ? rt : (double)(ps.utime + ps.stime) / tck) + (double)(ps.cutime + ps.cstime) / tck;
        }
        long long v, iv;
        if (pids[i] < a->nseen && read_ctxsw(pids[i], &v, &iv) == 0) {
            struct acct_pid *e = &a->seen[pids[i]];
            if (e->start && e->start != ps.start) { /* pid reused: bank the old process */
                a->gone_vcsw += e->vcsw;
                a->gone_ivcsw += e->ivcsw;
            }
            e->start = ps.start, e->vcsw = v, e->ivcsw = iv;
        }
    }
    for (int i = 0; part && i < n; i++)
        if (pids[i] == a->leader || kill(pids[i], 0) == 0 || errno != ESRCH)
            exact += part[i];
    free(part);
    free(pids);
    /* Counts need no scan: the member list is exact even when the scan was cut short, and so is
     * the pids controller's task count. */
    s->procs = n;
    if (tot.threads > s->threads)
        s->threads = tot.threads;
    if (s->threads > s->procs && !s->partial)
        a->multithreaded = 1;
    if (have_cpu) {
        s->cpu_s = tot.cpu_s;
        s->cpu_user_s = tot.cpu_user_s;
        s->cpu_sys_s = tot.cpu_sys_s;
    } else {
        /* ticks give the user/sys ratio, the exact sum the total (see acct_cpu_between) */
        s->cpu_user_s = (double)user / tck;
        s->cpu_sys_s = (double)sys / tck;
        s->cpu_s = exact + a->scan_cpu_reaped_s;
        if (s->cpu_s < a->scan_cpu_last_s) /* a child gone between reads: CPU only grows */
            s->cpu_s = a->scan_cpu_last_s;
        a->scan_cpu_last_s = s->cpu_s;
    }
    if (tasks_peak > a->tasks_peak)
        a->tasks_peak = tasks_peak;
    if (mem_peak > a->mem_peak_kb)
        a->mem_peak_kb = mem_peak;
    if (s->mem_kb > a->mem_peak_kb)
        a->mem_peak_kb = s->mem_kb;
    if (s->rss_kb > a->rss_peak_kb)
        a->rss_peak_kb = s->rss_kb;
    if (s->threads > a->threads_peak)
        a->threads_peak = s->threads;
    if (s->procs > a->procs_peak)
        a->procs_peak = s->procs;
    if (s->fds > a->fds_peak)
        a->fds_peak = s->fds;
    s->cost_s = ut_cputime() - t0;
}

void acct_cpu_between(const struct acct_sample *a, const struct acct_sample *b, double *user, double *sys)
{
    double cpu = b->cpu_s - a->cpu_s, du = b->cpu_user_s - a->cpu_user_s, ds = b->cpu_sys_s - a->cpu_sys_s;
    if (cpu < 0)
        cpu = 0;
    double share = du + ds > 0 ? du / (du + ds) : 0.5;
    *user = cpu * share;
    *sys = cpu - *user;
}

void acct_reaped(struct acct *a, const struct rusage *ru, int leader)
{
    double u = ru->ru_utime.tv_sec + ru->ru_utime.tv_usec / 1e6;
    double s = ru->ru_stime.tv_sec + ru->ru_stime.tv_usec / 1e6;
    a->ru_user_s += u;
    a->ru_sys_s += s;
    a->ru_vcsw += ru->ru_nvcsw;
    a->ru_ivcsw += ru->ru_nivcsw;
    if (!leader)
        a->scan_cpu_reaped_s += u + s; /* an orphan's CPU leaves the /proc sums when it goes */
}

int acct_kill(struct acct *a, int sig)
{
    pid_t *pids = NULL;
    int n = a->ops->members(a, &pids), hit = 0;
    for (int i = 0; i < n; i++)
        hit += kill(pids[i], sig) == 0;
    free(pids);
    /* The group as well: a member that left the cgroup is still in the group we created. Not
     * counted: its members were mostly just signalled above. */
    if (a->pgid > 0 && kill(-a->pgid, sig) == 0 && !hit)
        hit = 1;
    return hit;
}

int acct_nmembers(struct acct *a)
{
    pid_t *pids = NULL;
    int n = a->ops->members(a, &pids);
    free(pids);
    return n;
}

long acct_mem_peak_kb(const struct acct *a)
{
    return a->ops->flags & ACCT_MEM ? a->mem_peak_kb : -1;
}

int acct_threads_peak(const struct acct *a)
{
    if (a->ops->flags & ACCT_TASKS && a->tasks_peak > a->threads_peak)
        return (int)a->tasks_peak;
    return a->threads_peak;
}

int acct_procs_peak(const struct acct *a)
{
    if (a->ops->flags & ACCT_TASKS && !a->multithreaded && a->tasks_peak > a->procs_peak)
        return (int)a->tasks_peak;
    return a->procs_peak;
}

void acct_ctxsw(const struct acct *a, long long *vol, long long *invol)
{
    long long v = a->gone_vcsw, iv = a->gone_ivcsw;
    for (long p = 0; p < a->nseen; p++)
        v += a->seen[p].vcsw, iv += a->seen[p].ivcsw;
    *vol = a->ru_vcsw > v ? a->ru_vcsw : v;
    *invol = a->ru_ivcsw > iv ? a->ru_ivcsw : iv;
}

int acct_close(struct acct *a)
{
    int rc = -1;
    /* A cgroup is busy until the last zombie in it is reaped: give the kernel a moment. */
    for (int i = 0; i < 40 && (rc = a->ops->close(a)) < 0; i++)
        ut_sleep(0.05);
    free(a->seen);
    a->seen = NULL;
    return rc;
}
