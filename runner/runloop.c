/* runloop.c - signalfd, reaping (the server, the loadgen, and orphans of either, which come to us
 * because the runner is a child subreaper: child_signals_init), server output and the sampling
 * clock. */
#include "runloop.h"
#include "acct_proc.h"
#include "progress.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#define SAMPLE_S 0.1 /* the sampling clock's period, stretched on a big tree (rl_sample) */

const char *rl_status_str(int status, char *buf, size_t len)
{
    if (WIFEXITED(status))
        snprintf(buf, len, "exit %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(buf, len, "signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
    else
        snprintf(buf, len, "status 0x%x", status);
    return buf;
}

void rl_note(struct run *r, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (r->notes.len)
        ut_str_add(&r->notes, "; ");
    ut_str_add(&r->notes, msg);
    ut_log(UT_WARN, "%s: %s", r->pr ? r->pr->key : "bench", msg);
}

static double ru_cpu(const struct rusage *ru)
{
    return ru->ru_utime.tv_sec + ru->ru_utime.tv_usec / 1e6 + ru->ru_stime.tv_sec + ru->ru_stime.tv_usec / 1e6;
}

/* The load generator whose pid (or process group) this is, or -1. */
static int lg_of(const struct run *r, pid_t pid)
{
    for (int k = 0; k < r->nlg; k++)
        if (r->lg[k].pid && r->lg[k].pid == pid)
            return k;
    return -1;
}

/* Reap every exited child. An orphan is told apart by its process group, read from its zombie
 * before the wait releases it. */
static void reap(struct run *r)
{
    for (;;) {
        siginfo_t si;
        memset(&si, 0, sizeof si);
        if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) < 0 || si.si_pid == 0)
            return;
        pid_t pid = si.si_pid;
        int k;
        struct acct_pstat ps;
        pid_t pg = acct_proc_stat(pid, &ps) == 0 ? ps.pgrp : 0;
        int st;
        struct rusage ru;
        pid_t w;
        while ((w = wait4(pid, &st, 0, &ru)) < 0 && errno == EINTR)
            ;
        if (w < 0)
            return;
        double now = ut_now();
        if (r->srv.pid && pid == r->srv.pid) {
            r->srv.alive = 0, r->srv.status = st, r->srv.t_exit = now, r->srv.cpu_s += ru_cpu(&ru);
            if (r->acct_on)
                acct_reaped(&r->acct, &ru, 1);
        } else if ((k = lg_of(r, pid)) >= 0) {
            r->lg[k].alive = 0, r->lg[k].status = st, r->lg[k].t_exit = now, r->lg[k].cpu_s += ru_cpu(&ru);
        } else if (r->srv.pid && pg == r->srv.pid) {
            if (r->acct_on)
                acct_reaped(&r->acct, &ru, 0);
        } else if ((k = lg_of(r, pg)) >= 0) {
            r->lg[k].cpu_s += ru_cpu(&ru);
        } else {
            char sbuf[64];
            ut_log(UT_DEBUG, "reaped stray process %d (%s)", (int)pid, rl_status_str(st, sbuf, sizeof sbuf));
        }
    }
}

static void on_signals(struct run *r)
{
    struct signalfd_siginfo si;
    ssize_t n;
    int child = 0;
    while ((n = read(r->e->sigfd, &si, sizeof si)) == (ssize_t)sizeof si) {
        if (si.ssi_signo == SIGCHLD) {
            child = 1;
        } else if (!r->e->interrupted) {
            r->e->interrupted = (int)si.ssi_signo;
            ut_log(UT_WARN, "%s: stopping (the current run is discarded, complete rows are kept)",
                   strsignal((int)si.ssi_signo));
        }
    }
    /* SIGCHLDs coalesce: always reap in a loop, whatever the count. */
    if (child)
        reap(r);
}

static void on_line(struct run *r, char *line)
{
    char model[64];
    int port, pid;
    if (!r->ready && sscanf(line, "ready %63s port=%d pid=%d", model, &port, &pid) == 3) {
        r->ready = 1;
        r->port = port;
        if (pid != r->srv.pid && !r->remote)
            ut_log(UT_WARN, "server says pid=%d, we started %d (a wrapper?)", pid, (int)r->srv.pid);
        return;
    }
    ut_log(UT_DEBUG, "server stdout: %s", line);
}

static void on_output(struct run *r)
{
    ssize_t n;
    do
        n = read(r->out_fd, r->line + r->linelen, sizeof r->line - 1 - r->linelen);
    while (n < 0 && errno == EINTR);
    if (n <= 0) {
        close(r->out_fd);
        r->out_fd = -1;
        return;
    }
    r->linelen += (size_t)n;
    r->line[r->linelen] = '\0';
    char *nl;
    while ((nl = strchr(r->line, '\n'))) {
        *nl = '\0';
        on_line(r, r->line);
        r->linelen -= (size_t)(nl + 1 - r->line);
        memmove(r->line, nl + 1, r->linelen + 1);
    }
    if (r->linelen == sizeof r->line - 1) /* a line too long to be the ready line: drop it */
        r->linelen = 0;
}

/* Busy and total seconds of the CPUs in set, from /proc/stat (cumulative since boot). */
static void cpu_busy(const cpu_set_t *set, double *busy, double *total)
{
    static long tck;
    char buf[16384];
    *busy = *total = 0;
    if (!tck)
        tck = sysconf(_SC_CLK_TCK);
    if (ut_read_small("/proc/stat", buf, sizeof buf) <= 0)
        return;
    for (char *l = strstr(buf, "\ncpu"); l; l = strstr(l + 1, "\ncpu")) {
        int cpu;
        unsigned long long v[8] = {0};
        if (sscanf(l + 4, "%d %llu %llu %llu %llu %llu %llu %llu %llu", &cpu, &v[0], &v[1], &v[2], &v[3], &v[4],
                   &v[5], &v[6], &v[7]) < 5 || cpu < 0 || cpu >= CPU_SETSIZE || !CPU_ISSET(cpu, set))
            continue;
        /* user nice system idle iowait irq softirq steal: idle and iowait are not busy. */
        double b = (double)(v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / tck;
        *busy += b;
        *total += b + (double)(v[3] + v[4]) / tck;
    }
}

int rl_sample(struct run *r, double deadline)
{
    if (!r->acct_on)
        return -1;
    if (r->nsmp == r->capsmp)
        r->smp = ut_realloc(r->smp, (size_t)(r->capsmp = r->capsmp ? r->capsmp * 2 : 256) * sizeof *r->smp);
    struct acct_sample *s = &r->smp[r->nsmp];
    acct_sample(&r->acct, s, deadline);
    cpu_busy(&r->server_cpus, &s->host_busy_s, &s->host_total_s);
    /* Sampling a big tree (10k processes) is not free: keep its CPU cost under a tenth of a
     * CPU by stretching the interval. CPU time, not wall time: on a loaded machine a sample
     * waits for a CPU without costing anything, and should not make sampling sparse. */
    r->interval = s->cost_s * 10 > SAMPLE_S ? s->cost_s * 10 : SAMPLE_S;
    r->next_sample = s->t + r->interval;
    return r->nsmp++;
}

/* Samples due now: a window edge (counters only, at its exact time) or the regular one, whose
 * scan gives way to the next edge and never holds the loop longer than a quarter second (a
 * Ctrl-C must be seen promptly). */
static void sample_due(struct run *r)
{
    double now = ut_now();
    if (r->next_edge < r->nedges && now >= r->edge[r->next_edge]) {
        r->edge_sample[r->next_edge++] = rl_sample(r, 0);
        return;
    }
    if (!r->sampling || now < r->next_sample)
        return;
    double deadline = now + 0.25;
    if (r->next_edge < r->nedges && r->edge[r->next_edge] < deadline)
        deadline = r->edge[r->next_edge];
    rl_sample(r, deadline);
}

void rl_pump(struct run *r, double until)
{
    double now = ut_now(), wake = until;
    if (r->sampling && r->next_sample < wake)
        wake = r->next_sample;
    if (r->next_edge < r->nedges && r->edge[r->next_edge] < wake)
        wake = r->edge[r->next_edge];
    int ms = wake > now ? (int)((wake - now) * 1000) + 1 : 0;
    if (ms > 250)
        ms = 250; /* keep the progress line moving */
    struct pollfd p[2] = {{.fd = r->e->sigfd, .events = POLLIN}, {.fd = r->out_fd, .events = POLLIN}};
    int n = poll(p, r->out_fd >= 0 ? 2 : 1, ms);
    if (n > 0 && p[0].revents)
        on_signals(r);
    if (n > 0 && r->out_fd >= 0 && p[1].revents)
        on_output(r);
    sample_due(r);
    prog_tick();
}
