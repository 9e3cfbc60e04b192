/* cmb-run - runs a program on a host for bin/bench, and stops it when bench goes away: the
 * program runs in its own process group, and when cmb-run's stdin ends (bench closed it, or the
 * ssh connection it came over is gone) or cmb-run gets SIGTERM, SIGHUP or SIGINT, the whole group
 * gets SIGTERM, then SIGKILL after the grace. Nothing of a run outlives it on the host.
 *
 *   cmb-run [--grace SECONDS] [--sample FILE] PROGRAM [ARG...]
 *
 * --sample: account the program's whole process tree there with bench's own code (runner/acct*.c:
 * a cgroup where one can be made, else /proc), every 100 ms a line into FILE --
 * "s WALL CPU USER SYS RSS_KB MEM_KB THREADS PROCS FDS" -- and at the end one line
 * "end RSS_PEAK MEM_PEAK THREADS_PEAK PROCS_PEAK FDS_PEAK VCSW IVCSW". cmb-run is then a child
 * subreaper, so the program's orphans are reaped and counted too.
 *
 * Exit status: the program's, 128+N when a signal N ended it, 127 when it could not run. */
#include "../acct.h"
#include "../spawn.h"
#include "../util.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static struct acct tree;
static int accounting;
static FILE *samples;

static int status_of(int st)
{
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void sample(void)
{
    if (!accounting)
        return;
    struct acct_sample s;
    acct_sample(&tree, &s, ut_now() + 0.05);
    fprintf(samples, "s %.6f %.6f %.6f %.6f %ld %ld %d %d %d\n", ut_wall(), s.cpu_s, s.cpu_user_s, s.cpu_sys_s,
            s.rss_kb, s.mem_kb, s.threads, s.procs, s.fds);
    fflush(samples);
}

/* Reap what exited: the program (its status into *st, returns 1) and orphans of its tree. */
static int reap(pid_t pid, int *st)
{
    int done = 0, s;
    struct rusage ru;
    pid_t w;
    while ((w = wait4(-1, &s, WNOHANG, &ru)) > 0) {
        if (accounting)
            acct_reaped(&tree, &ru, w == pid);
        if (w == pid)
            *st = s, done = 1;
    }
    return done;
}

/* The end: what is left of the group killed, the last sample and the peaks written. */
static int finish(pid_t pid, int st)
{
    kill(-pid, SIGKILL);
    if (accounting) {
        sample();
        long long vcsw, ivcsw;
        acct_ctxsw(&tree, &vcsw, &ivcsw);
        fprintf(samples, "end %ld %ld %d %d %d %lld %lld\n", tree.rss_peak_kb, acct_mem_peak_kb(&tree),
                acct_threads_peak(&tree), acct_procs_peak(&tree), tree.fds_peak, vcsw, ivcsw);
        fclose(samples);
        for (int i = 0; i < 100 && acct_close(&tree) < 0; i++) {
            struct timespec ts = {0, 10 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
    }
    return status_of(st);
}

/* SIGTERM to the group, SIGKILL after grace seconds; returns the program's status. */
static int stop(pid_t pid, double grace)
{
    int st = 0;
    kill(-pid, SIGTERM);
    for (double end = ut_now() + grace; ut_now() < end;) {
        if (reap(pid, &st))
            return finish(pid, st);
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    kill(-pid, SIGKILL);
    while (!reap(pid, &st)) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return finish(pid, st);
}

int main(int argc, char **argv)
{
    double grace = 1;
    const char *sample_path = NULL;
    int a = 1;
    for (; a + 1 < argc && !strncmp(argv[a], "--", 2); a += 2) {
        if (!strcmp(argv[a], "--grace"))
            grace = atof(argv[a + 1]);
        else if (!strcmp(argv[a], "--sample"))
            sample_path = argv[a + 1];
        else
            break;
    }
    if (a >= argc) {
        fputs("usage: cmb-run [--grace SECONDS] [--sample FILE] PROGRAM [ARG...]\n", stderr);
        return 127;
    }
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGCHLD), sigaddset(&mask, SIGTERM), sigaddset(&mask, SIGHUP), sigaddset(&mask, SIGINT);
    sigprocmask(SIG_BLOCK, &mask, NULL);
    int sfd = signalfd(-1, &mask, SFD_CLOEXEC);
    char err[UT_ERRLEN];
    if (sample_path) {
        if (!(samples = fopen(sample_path, "we"))) {
            fprintf(stderr, "cmb-run: %s: %s\n", sample_path, strerror(errno));
            return 127;
        }
        prctl(PR_SET_CHILD_SUBREAPER, 1);
        if (acct_open(&tree, "agent", 1, err, sizeof err) < 0) {
            fprintf(stderr, "cmb-run: accounting: %s\n", err);
            return 127;
        }
        accounting = 1;
    }
    /* stdout stays the channel's (the server's ready line goes to bench), stderr too. */
    struct spawn_opts so = {.log_fd = 2, .stdout_path = "/proc/self/fd/1", .acct = accounting ? &tree : NULL};
    int dummy;
    char path[4096];
    const char *prog = argv[a];
    if (!strchr(prog, '/')) { /* spawn_start execs a path: look the program up on PATH */
        const char *p = getenv("PATH");
        for (p = p ? p : "/usr/bin:/bin"; *p;) {
            size_t l = strcspn(p, ":");
            snprintf(path, sizeof path, "%.*s/%s", (int)l, p, prog);
            if (access(path, X_OK) == 0) {
                argv[a] = path;
                break;
            }
            p += l + (p[l] == ':');
        }
    }
    pid_t pid = spawn_start(argv + a, &so, &dummy, err, sizeof err);
    if (pid < 0) {
        fprintf(stderr, "cmb-run: %s\n", err);
        return 127;
    }
    sample();
    double next = ut_now() + 0.1;
    for (;;) {
        struct pollfd p[2] = {{.fd = 0, .events = POLLIN}, {.fd = sfd, .events = POLLIN}};
        int ms = accounting ? (int)((next - ut_now()) * 1000) : -1;
        if (poll(p, 2, accounting && ms < 0 ? 0 : ms) < 0 && errno != EINTR)
            return stop(pid, grace);
        if (accounting && ut_now() >= next) {
            sample();
            next = ut_now() + 0.1;
        }
        if (p[0].revents) {
            char buf[512];
            ssize_t n = read(0, buf, sizeof buf);
            if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
                return stop(pid, grace); /* bench, or the connection, is gone */
        }
        if (p[1].revents) {
            struct signalfd_siginfo si;
            if (read(sfd, &si, sizeof si) != sizeof si)
                continue;
            if (si.ssi_signo != SIGCHLD) {
                stop(pid, grace);
                return 128 + (int)si.ssi_signo;
            }
            int st;
            if (reap(pid, &st))
                return finish(pid, st);
        }
    }
}
