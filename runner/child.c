/* child.c - process control of a row: signals, the port, the ready wait, stopping and killing.
 * The loop (runloop.c) reaps and samples while these wait; nothing here is called back by it. */
#include "child.h"
#include "extsrv.h"
#include "runloop.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

int child_signals_init(char *err, size_t errlen)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    /* Blocked and read from a signalfd: no handler runs in the middle of the runner's work. */
    if (sigprocmask(SIG_BLOCK, &set, NULL) < 0) {
        snprintf(err, errlen, "sigprocmask: %s", strerror(errno));
        return -1;
    }
    signal(SIGPIPE, SIG_IGN);
    /* Orphans of a server (children it did not wait for) are reparented to us, not to init, so
     * they are reaped here, their rusage counted and none is left behind. */
    if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
        ut_log(UT_WARN, "PR_SET_CHILD_SUBREAPER: %s (orphans of a server go to init)", strerror(errno));
    int fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (fd < 0)
        snprintf(err, errlen, "signalfd: %s", strerror(errno));
    return fd;
}

/* Can a listener bind host:port now? (SO_REUSEADDR, as servers set it: TIME_WAIT is no obstacle.) */
static int port_free(const char *host, int port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
        return 1; /* not IPv4: cannot check, do not block the run */
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
    if (fd < 0)
        return 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    int ok = bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0 || errno != EADDRINUSE;
    close(fd);
    return ok;
}

int child_wait_port(struct run *r, int port, double seconds)
{
    double end = ut_now() + seconds;
    while (!port_free(r->e->c->d.host, port)) {
        if (ut_now() >= end || r->e->interrupted)
            return -1;
        rl_pump(r, ut_now() + 0.1);
    }
    return 0;
}

const char *child_await_ready(struct run *r, int external, char *why, size_t len)
{
    double end = ut_now() + r->e->c->d.ready_timeout;
    while (!r->ready && r->srv.alive && !r->e->interrupted && ut_now() < end) {
        if (external && ext_accepts(r->e->c->d.host, r->port)) {
            r->ready = 1;
            break;
        }
        rl_pump(r, external ? ut_now() + 0.02 : end);
    }
    if (r->ready || r->e->interrupted)
        return NULL;
    char st[64];
    if (!r->srv.alive)
        snprintf(why, len, "server exited (%s) before %s", rl_status_str(r->srv.status, st, sizeof st),
                 external ? "accepting connections (its stderr is in the log)" : "its ready line");
    else if (external)
        snprintf(why, len, "the server did not accept connections on %s:%d within %g s", r->e->c->d.host, r->port,
                 r->e->c->d.ready_timeout);
    else
        snprintf(why, len, "no ready line from the server within %g s", r->e->c->d.ready_timeout);
    return why;
}

static int group_alive(pid_t pg)
{
    return pg > 0 && (kill(-pg, 0) == 0 || errno != ESRCH);
}

static int lg_groups_alive(const struct run *r)
{
    for (int k = 0; k < r->nlg; k++)
        if (group_alive(r->lg[k].pid))
            return 1;
    return 0;
}

void child_sweep_loadgen(struct run *r, const char *name)
{
    double t = ut_now();
    while (lg_groups_alive(r) && ut_now() < t + 0.5 && !r->e->interrupted)
        rl_pump(r, t + 0.5);
    for (int k = 0; k < r->nlg; k++)
        if (r->lg[k].pid && kill(-r->lg[k].pid, SIGKILL) == 0)
            rl_note(r, "the %s left processes behind: killed", name);
}

/* No process of the server's tree (cgroup or group) and of the loadgens' groups is left. */
static int tree_empty(struct run *r)
{
    if (r->srv.alive || run_lg_alive(r) || group_alive(r->srv.pid) || lg_groups_alive(r))
        return 0;
    return !r->acct_on || acct_nmembers(&r->acct) == 0;
}

void child_kill_all(struct run *r, double grace)
{
    double t = ut_now();
    for (int k = 0; k < r->nlg; k++) {
        if (r->lg_stdin[k] >= 0) /* a remote agent's cmb-run stops its load generator at EOF */
            close(r->lg_stdin[k]), r->lg_stdin[k] = -1;
        if (r->lg[k].alive)
            kill(-r->lg[k].pid, SIGTERM);
    }
    if (r->srv.alive)
        kill(r->srv.pid, SIGTERM);
    while ((run_lg_alive(r) || r->srv.alive) && ut_now() < t + grace)
        rl_pump(r, t + grace);
    for (int k = 0; k < r->nlg; k++)
        if (r->lg[k].pid)
            kill(-r->lg[k].pid, SIGKILL);
    if (r->acct_on)
        acct_kill(&r->acct, SIGKILL);
    else if (r->srv.pid)
        kill(-r->srv.pid, SIGKILL);
    t = ut_now();
    while (!tree_empty(r) && ut_now() < t + 1.0)
        rl_pump(r, t + 1.0);
}

/* SIGTERM, the configured grace, SIGKILL for the group; then children that outlived it. */
static void stop_server(struct run *r)
{
    double grace = r->e->c->d.stop_grace, t = ut_now();
    if (r->srv.alive) {
        kill(r->srv.pid, SIGTERM);
        while (r->srv.alive && ut_now() < t + grace && !(r->e->interrupted && ut_now() > t + 0.6))
            rl_pump(r, t + grace);
        if (r->srv.alive) {
            rl_note(r, "server still running %.1f s after SIGTERM: killed", ut_now() - t);
            acct_kill(&r->acct, SIGKILL);
        }
    }
    t = ut_now();
    while (!tree_empty(r) && ut_now() < t + 0.5)
        rl_pump(r, t + 0.5);
    if (!tree_empty(r)) {
        int n = acct_kill(&r->acct, SIGKILL);
        rl_note(r, "%d process(es) outlived the server: killed", n);
        t = ut_now();
        while (!tree_empty(r) && ut_now() < t + 2)
            rl_pump(r, t + 2);
        if (!tree_empty(r))
            ut_log(UT_ERROR, "%s: processes of the server survive SIGKILL (uninterruptible?)", r->pr->key);
    }
}

int child_stop(struct run *r)
{
    if (r->e->interrupted) {
        child_kill_all(r, 0.6);
        return -1;
    }
    r->sampling = 0;
    if (r->srv.pid)
        stop_server(r);
    if (r->e->interrupted) { /* Ctrl-C while stopping: the row is discarded like any other */
        child_kill_all(r, 0.3);
        return -1;
    }
    return 0;
}
