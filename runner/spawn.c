/* spawn.c - fork/exec with a start gate: the child waits on a pipe until the parent has put it in
 * its cgroup, so not one page or tick of the program escapes the accounting. */
#include "spawn.h"
#include "acct.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int spawn_nice;

void spawn_cmdline(char *const argv[], char *buf, size_t len)
{
    size_t off = 0;
    buf[0] = '\0';
    for (int i = 0; argv[i] && off + 1 < len; i++)
        off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? " " : "", argv[i]);
}

void spawn_arg(struct spawn_argv *a, const char *fmt, ...)
{
    char buf[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (a->n < (int)(sizeof a->v / sizeof *a->v) - 1)
        a->v[a->n++] = ut_strdup(buf);
}

void spawn_argv_free(struct spawn_argv *a)
{
    for (int i = 0; i < a->n; i++)
        free(a->v[i]);
    a->n = 0;
}

/* In the child, between fork and exec: only async-signal-safe calls. Reports errno through the
 * error pipe and exits on failure. */
static void child(char *const argv[], const struct spawn_opts *o, int gate, int outw, int errw, int inr)
{
    char go;
    setpgid(0, 0);
    /* The runner blocks the signals it reads through signalfd and ignores SIGPIPE; a new
     * program must start with neither, or it would never see SIGTERM. */
    sigset_t all;
    sigemptyset(&all);
    sigprocmask(SIG_SETMASK, &all, NULL);
    struct sigaction dfl = {.sa_handler = SIG_DFL};
    for (int s = 1; s < NSIG; s++)
        if (s != SIGKILL && s != SIGSTOP)
            sigaction(s, &dfl, NULL);
    while (read(gate, &go, 1) < 0 && errno == EINTR)
        ;
    setpriority(PRIO_PROCESS, 0, spawn_nice); /* not the runner's raised priority */
    if (o->cpus && sched_setaffinity(0, sizeof *o->cpus, o->cpus) < 0)
        goto fail;
    int devnull = open("/dev/null", O_RDWR | O_CLOEXEC); /* dup2 copies drop CLOEXEC: no leak */
    int logfd = o->log_fd >= 0 ? o->log_fd : devnull;
    if (o->stdout_path && outw < 0 &&
        (outw = open(o->stdout_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0)
        goto fail;
    if (devnull < 0 || dup2(inr >= 0 ? inr : devnull, 0) < 0 || dup2(outw >= 0 ? outw : logfd, 1) < 0 ||
        dup2(logfd, 2) < 0)
        goto fail;
    execv(argv[0], argv);
fail:;
    int e = errno;
    while (write(errw, &e, sizeof e) < 0 && errno == EINTR)
        ;
    _exit(127);
}

pid_t spawn_start(char *const argv[], const struct spawn_opts *o, int *out_fd, char *err, size_t errlen)
{
    int gate[2], errp[2], outp[2] = {-1, -1}, inp[2] = {-1, -1};
    *out_fd = -1;
    if (pipe2(gate, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0 ||
        (o->stdout_pipe && pipe2(outp, O_CLOEXEC) < 0) || (o->stdin_fd && pipe2(inp, O_CLOEXEC) < 0)) {
        snprintf(err, errlen, "pipe: %s", strerror(errno));
        return -1;
    }
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(err, errlen, "fork: %s", strerror(errno));
        close(gate[0]), close(gate[1]), close(errp[0]), close(errp[1]);
        if (outp[0] >= 0)
            close(outp[0]), close(outp[1]);
        if (inp[0] >= 0)
            close(inp[0]), close(inp[1]);
        return -1;
    }
    if (pid == 0)
        child(argv, o, gate[0], outp[1], errp[1], inp[0]);
    /* Both sides set the group, so neither a kill(-pid) nor the child's exec can race it. */
    setpgid(pid, pid);
    close(gate[0]);
    close(errp[1]);
    if (outp[1] >= 0)
        close(outp[1]);
    if (inp[0] >= 0)
        close(inp[0]);
    char aerr[UT_ERRLEN] = "";
    if (o->acct)
        acct_attach(o->acct, pid, aerr, sizeof aerr); /* falls back to /proc itself on failure */
    while (write(gate[1], "g", 1) < 0 && errno == EINTR)
        ;
    close(gate[1]);
    /* EOF on the error pipe: exec succeeded (the pipe was close-on-exec). */
    int e = 0;
    ssize_t r;
    do
        r = read(errp[0], &e, sizeof e);
    while (r < 0 && errno == EINTR);
    close(errp[0]);
    if (r > 0) {
        snprintf(err, errlen, "cannot run %s: %s", argv[0], strerror(e));
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
            ;
        if (outp[0] >= 0)
            close(outp[0]);
        if (inp[1] >= 0)
            close(inp[1]);
        return -1;
    }
    *out_fd = outp[0];
    if (o->stdin_fd)
        *o->stdin_fd = inp[1];
    return pid;
}
