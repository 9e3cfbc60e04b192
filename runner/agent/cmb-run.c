/* cmb-run - runs a program on a host for bin/bench, and stops it when bench goes away: the
 * program runs in its own process group, and when cmb-run's stdin ends (bench closed it, or the
 * ssh connection it came over is gone) or cmb-run gets SIGTERM, SIGHUP or SIGINT, the whole group
 * gets SIGTERM, then SIGKILL a second later. Nothing of a run outlives it on the host.
 *
 *   cmb-run PROGRAM [ARG...]
 *
 * Exit status: the program's, 128+N when a signal N ended it, 127 when it could not run. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int status_of(int st)
{
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* SIGTERM to the group, SIGKILL after a second; returns the program's status. */
static int stop(pid_t pid)
{
    int st = 0;
    kill(-pid, SIGTERM);
    for (int i = 0; i < 100; i++) {
        if (waitpid(pid, &st, WNOHANG) == pid) {
            kill(-pid, SIGKILL); /* what it left in its group */
            return status_of(st);
        }
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    kill(-pid, SIGKILL);
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    return status_of(st);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs("usage: cmb-run PROGRAM [ARG...]\n", stderr);
        return 127;
    }
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGCHLD), sigaddset(&mask, SIGTERM), sigaddset(&mask, SIGHUP), sigaddset(&mask, SIGINT);
    sigprocmask(SIG_BLOCK, &mask, NULL);
    int sfd = signalfd(-1, &mask, SFD_CLOEXEC);
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "cmb-run: fork: %s\n", strerror(errno));
        return 127;
    }
    if (pid == 0) {
        setpgid(0, 0);
        sigprocmask(SIG_UNBLOCK, &mask, NULL);
        execvp(argv[1], argv + 1);
        fprintf(stderr, "cmb-run: cannot run %s: %s\n", argv[1], strerror(errno));
        _exit(127);
    }
    setpgid(pid, pid);
    for (;;) {
        struct pollfd p[2] = {{.fd = 0, .events = POLLIN}, {.fd = sfd, .events = POLLIN}};
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            return stop(pid);
        }
        if (p[0].revents) {
            char buf[512];
            ssize_t n = read(0, buf, sizeof buf);
            if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
                return stop(pid); /* bench, or the connection, is gone */
        }
        if (p[1].revents) {
            struct signalfd_siginfo si;
            if (read(sfd, &si, sizeof si) != sizeof si)
                continue;
            if (si.ssi_signo != SIGCHLD) {
                stop(pid);
                return 128 + (int)si.ssi_signo;
            }
            int st;
            if (waitpid(pid, &st, WNOHANG) == pid) {
                kill(-pid, SIGKILL); /* anything it left running in its group */
                return status_of(st);
            }
        }
    }
}
