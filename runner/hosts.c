/* hosts.c - commands on a host of the config (hosts.h): the prefix of each placement, the ssh
 * master connection, and a command run to its end with its input and output. */
#include "hosts.h"

#include <errno.h>
#include <math.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

const char *host_where(const struct cfg_host *h, char *buf, size_t len)
{
    switch (h->kind) {
    case CFG_HOST_NETNS:
        snprintf(buf, len, "netns %s", h->netns);
        break;
    case CFG_HOST_SSH:
        snprintf(buf, len, "ssh %s", h->ssh);
        break;
    case CFG_HOST_EXEC:
        buf[0] = '\0';
        snprintf(buf, len, "exec");
        for (int i = 0; i < h->nexec; i++)
            snprintf(buf + strlen(buf), len - strlen(buf), " %s", h->exec[i]);
        break;
    default:
        snprintf(buf, len, "local");
    }
    return buf;
}

/* [user@]host[:port] into the ssh destination and port ("" when not given). */
static void ssh_split(const char *target, char *dest, size_t dlen, char *port, size_t plen)
{
    snprintf(dest, dlen, "%s", target);
    port[0] = '\0';
    char *host = strrchr(dest, '@');
    host = host ? host + 1 : dest;
    char *colon = strrchr(host, ':');
    if (colon && !strchr(host, ']')) {
        snprintf(port, plen, "%s", colon + 1);
        *colon = '\0';
    }
}

/* ssh's options for h: batch mode, its config file, the port, the master's socket. */
static void ssh_opts(const struct host_conn *hc, struct spawn_argv *a, int master)
{
    char dest[256], port[16];
    ssh_split(hc->h->ssh, dest, sizeof dest, port, sizeof port);
    spawn_arg(a, "ssh");
    if (hc->h->ssh_config)
        spawn_arg(a, "-F"), spawn_arg(a, "%s", hc->h->ssh_config);
    spawn_arg(a, "-o"), spawn_arg(a, "BatchMode=yes");
    spawn_arg(a, "-o"), spawn_arg(a, "ConnectTimeout=5");
    spawn_arg(a, "-o"), spawn_arg(a, "ServerAliveInterval=5");
    spawn_arg(a, "-o"), spawn_arg(a, "ControlPath=%s", hc->ctl);
    spawn_arg(a, "-o"), spawn_arg(a, "ControlMaster=%s", master ? "yes" : "no");
    if (port[0])
        spawn_arg(a, "-p"), spawn_arg(a, "%s", port);
    if (master)
        spawn_arg(a, "-N");
    spawn_arg(a, "%s", dest);
}

/* arg quoted for a POSIX shell: 'it'\''s'. */
static void quote(struct ut_str *s, const char *arg)
{
    ut_str_add(s, "'");
    for (const char *q = arg; *q; q++)
        ut_str_add(s, *q == '\'' ? "'\\''" : (char[]){*q, '\0'});
    ut_str_add(s, "'");
}

void host_argv(const struct host_conn *hc, char *const cmd[], struct spawn_argv *out)
{
    const struct cfg_host *h = hc->h;
    switch (h->kind) {
    case CFG_HOST_NETNS:
        spawn_arg(out, "/usr/sbin/ip"), spawn_arg(out, "netns"), spawn_arg(out, "exec"), spawn_arg(out, "%s", h->netns);
        break;
    case CFG_HOST_SSH: {
        ssh_opts(hc, out, 0);
        spawn_arg(out, "--");
        struct ut_str line = {0};
        for (int i = 0; cmd[i]; i++) { /* ssh hands the remote shell one line: quote each word */
            if (i)
                ut_str_add(&line, " ");
            quote(&line, cmd[i]);
        }
        spawn_arg(out, "%s", line.s ? line.s : "");
        ut_str_free(&line);
        return;
    }
    case CFG_HOST_EXEC:
        for (int i = 0; i < h->nexec; i++)
            spawn_arg(out, "%s", h->exec[i]);
        break;
    default:
        break;
    }
    for (int i = 0; cmd[i]; i++)
        spawn_arg(out, "%s", cmd[i]);
}

/* execv wants a path: the first word of a prefix looked up on PATH. */
static const char *resolve(const char *prog, char *buf, size_t len)
{
    if (strchr(prog, '/'))
        return prog;
    const char *path = getenv("PATH");
    for (const char *p = path ? path : "/usr/bin:/bin"; *p;) {
        size_t l = strcspn(p, ":");
        snprintf(buf, len, "%.*s/%s", (int)l, p, prog);
        if (access(buf, X_OK) == 0)
            return buf;
        p += l + (p[l] == ':');
    }
    return prog;
}

static void resolve_argv0(struct spawn_argv *a)
{
    char exe[1024];
    const char *r = resolve(a->v[0], exe, sizeof exe);
    if (r != a->v[0]) {
        free(a->v[0]);
        a->v[0] = ut_strdup(r);
    }
}

/* a (argv[0] resolved on PATH) started the way every child is (spawn.c: its own group, signals
 * reset), stdin a pipe whose write end goes to *in, stdout a pipe read at *out (NULL: into the
 * stderr fd), stderr into errw (-1: /dev/null). Returns the pid, or -1 with err. */
static pid_t start_piped(struct spawn_argv *a, int *in, int *out, int errw, char *err, size_t errlen)
{
    resolve_argv0(a);
    struct spawn_opts so = {.stdout_pipe = out != NULL, .log_fd = errw, .stdin_fd = in};
    int dummy;
    pid_t pid = spawn_start(a->v, &so, out ? out : &dummy, err, errlen);
    spawn_argv_free(a);
    return pid;
}

/* The last non-empty line of text, for a one-line reason. */
static void last_line(const char *text, char *buf, size_t len)
{
    const char *end = text + strlen(text);
    while (end > text && (end[-1] == '\n' || end[-1] == '\r'))
        end--;
    const char *start = end;
    while (start > text && start[-1] != '\n')
        start--;
    snprintf(buf, len, "%.*s", (int)(end - start), start);
}

int host_run(const struct host_conn *hc, char *const cmd[], const char *in, size_t inlen, struct ut_str *out,
             double timeout, char *err, size_t errlen)
{
    struct spawn_argv a = {0};
    host_argv(hc, cmd, &a);
    int pin[2] = {-1, -1}, pout[2] = {-1, -1}, perr[2];
    if (pipe2(perr, O_CLOEXEC) < 0) {
        snprintf(err, errlen, "pipe: %s", strerror(errno));
        spawn_argv_free(&a);
        return -1;
    }
    pid_t pid = start_piped(&a, &pin[1], &pout[0], perr[1], err, errlen);
    close(perr[1]);
    if (pid < 0) {
        close(perr[0]);
        return -1;
    }
    fcntl(pin[1], F_SETFL, O_NONBLOCK);
    size_t sent = 0;
    if (inlen == 0)
        close(pin[1]), pin[1] = -1;
    struct ut_str eout = {0};
    int open_fds = 2, timed_out = 0;
    double end = ut_now() + timeout;
    while (open_fds > 0) {
        struct pollfd p[3] = {{.fd = pout[0], .events = POLLIN}, {.fd = perr[0], .events = POLLIN},
                              {.fd = pin[1], .events = POLLOUT}};
        double left = end - ut_now();
        if (left <= 0) {
            timed_out = 1;
            break;
        }
        if (poll(p, 3, (int)(left * 1000) + 1) < 0 && errno != EINTR)
            break;
        for (int k = 0; k < 2; k++) {
            if (p[k].fd < 0 || !(p[k].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            char buf[65536];
            ssize_t n = read(p[k].fd, buf, sizeof buf);
            if (n > 0) {
                struct ut_str *dst = k == 0 ? out : &eout;
                if (dst)
                    ut_str_addn(dst, buf, (size_t)n);
            } else if (n == 0 || errno != EINTR) {
                close(p[k].fd);
                *(k == 0 ? &pout[0] : &perr[0]) = -1;
                open_fds--;
            }
        }
        if (pin[1] >= 0 && (p[2].revents & (POLLOUT | POLLERR | POLLHUP))) {
            ssize_t n = write(pin[1], in + sent, inlen - sent);
            if (n > 0)
                sent += (size_t)n;
            if ((n < 0 && errno != EAGAIN && errno != EINTR) || sent == inlen)
                close(pin[1]), pin[1] = -1;
        }
    }
    if (pin[1] >= 0)
        close(pin[1]);
    if (pout[0] >= 0)
        close(pout[0]);
    if (perr[0] >= 0)
        close(perr[0]);
    if (timed_out)
        kill(-pid, SIGKILL);
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    char line[512];
    last_line(eout.s ? eout.s : "", line, sizeof line);
    ut_str_free(&eout);
    if (timed_out) {
        snprintf(err, errlen, "no answer within %.0f s%s%s", timeout, line[0] ? ": " : "", line);
        return -1;
    }
    int rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    if (rc != 0)
        snprintf(err, errlen, "%s", line[0] ? line : "failed");
    return rc;
}

int host_sh(const struct host_conn *hc, const char *script, const char *in, size_t inlen, struct ut_str *out,
            double timeout, char *err, size_t errlen)
{
    char *const cmd[] = {"sh", "-c", (char *)script, NULL};
    return host_run(hc, cmd, in, inlen, out, timeout, err, errlen);
}

int host_open(struct host_conn *hc, const struct cfg_host *h, const char *dir, char *err, size_t errlen)
{
    char where[512], e[UT_ERRLEN];
    memset(hc, 0, sizeof *hc);
    hc->h = h;
    hc->shares_files = h->kind == CFG_HOST_LOCAL || h->kind == CFG_HOST_NETNS;
    if (h->kind != CFG_HOST_SSH)
        return 0;
    /* The master's socket: short (a sun_path holds 108 bytes), private (the run's directory). */
    snprintf(hc->ctl, sizeof hc->ctl, "%s/ssh-%s", dir, h->name);
    if (strlen(hc->ctl) >= 100) {
        snprintf(err, errlen, "host '%s' (%s): control socket path %s is too long for a socket", h->name,
                 host_where(h, where, sizeof where), hc->ctl);
        return -1;
    }
    unlink(hc->ctl);
    struct spawn_argv a = {0};
    ssh_opts(hc, &a, 1);
    int perr[2];
    if (pipe2(perr, O_CLOEXEC) < 0) {
        snprintf(err, errlen, "pipe: %s", strerror(errno));
        spawn_argv_free(&a);
        return -1;
    }
    pid_t pid = start_piped(&a, NULL, NULL, perr[1], err, errlen); /* -N: it reads nothing */
    close(perr[1]);
    if (pid < 0) {
        close(perr[0]);
        return -1;
    }
    hc->master = pid;
    /* Ready when the socket answers; failed when the master exits first (its stderr says why). */
    struct ut_str msg = {0};
    fcntl(perr[0], F_SETFL, O_NONBLOCK);
    double end = ut_now() + 10;
    int ok = 0;
    while (ut_now() < end) {
        char buf[4096];
        ssize_t n;
        while ((n = read(perr[0], buf, sizeof buf)) > 0)
            ut_str_addn(&msg, buf, (size_t)n);
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            hc->master = 0;
            break;
        }
        struct stat sb;
        if (stat(hc->ctl, &sb) == 0 && S_ISSOCK(sb.st_mode)) {
            ok = 1;
            break;
        }
        usleep(20000);
    }
    close(perr[0]);
    if (!ok) {
        last_line(msg.s ? msg.s : "", e, sizeof e);
        snprintf(err, errlen, "host '%s' (%s): not reachable: %s", h->name, host_where(h, where, sizeof where),
                 e[0] ? e : "no connection within 10 s");
        ut_str_free(&msg);
        host_close(hc);
        return -1;
    }
    ut_str_free(&msg);
    return 0;
}

void host_close(struct host_conn *hc)
{
    if (hc->master > 0) {
        kill(-hc->master, SIGTERM);
        int st;
        for (int i = 0; i < 100 && waitpid(hc->master, &st, WNOHANG) == 0; i++)
            usleep(10000);
        if (waitpid(hc->master, &st, WNOHANG) == 0) {
            kill(-hc->master, SIGKILL);
            waitpid(hc->master, &st, 0);
        }
        hc->master = 0;
    }
    if (hc->ctl[0])
        unlink(hc->ctl);
}

int host_clock(const struct host_conn *hc, int rounds, double *offset, double *error, char *err, size_t errlen)
{
    /* One remote loop answering each line with its clock: the round trip is the channel's alone,
     * not an ssh start per reading. */
    char *const cmd[] = {"sh", "-c", "while read l; do date +%s.%N; done", NULL};
    struct spawn_argv a = {0};
    host_argv(hc, cmd, &a);
    int pin[2] = {-1, -1}, pout[2] = {-1, -1};
    pid_t pid = start_piped(&a, &pin[1], &pout[0], -1, err, errlen);
    if (pid < 0)
        return -1;
    int rc = 0, got = 0;
    double best = HUGE_VAL;
    char line[128];
    size_t have = 0;
    for (int i = 0; rc == 0 && i < rounds + 1; i++) {
        double t0 = ut_wall();
        if (write(pin[1], "t\n", 2) != 2) {
            rc = -1;
            break;
        }
        have = 0;
        double end = ut_now() + 10;
        while (rc == 0 && (have == 0 || line[have - 1] != '\n')) {
            struct pollfd p = {.fd = pout[0], .events = POLLIN};
            if (ut_now() > end || poll(&p, 1, 1000) < 0) {
                rc = -1;
                break;
            }
            if (!p.revents)
                continue;
            ssize_t n = read(pout[0], line + have, sizeof line - 1 - have);
            if (n <= 0)
                rc = -1;
            else
                have += (size_t)n;
        }
        double t1 = ut_wall();
        line[have] = '\0';
        double remote = atof(line);
        if (rc == 0 && i > 0 && remote > 0 && (t1 - t0) / 2 < best) { /* the first wakes the loop up: not counted */
            best = (t1 - t0) / 2;
            *offset = remote - (t0 + t1) / 2;
            *error = best;
            got++;
        }
    }
    close(pin[1]), close(pout[0]);
    if (pid > 0) {
        int st;
        for (int i = 0; i < 200 && waitpid(pid, &st, WNOHANG) == 0; i++)
            usleep(10000);
        if (waitpid(pid, &st, WNOHANG) == 0) {
            kill(-pid, SIGKILL);
            waitpid(pid, &st, 0);
        }
    }
    if (rc < 0 || !got) {
        snprintf(err, errlen, "cannot read its clock (date +%%s.%%N over the channel)");
        return -1;
    }
    return 0;
}
