/* fake-server.c - a stand-in server for the runner's tests: it speaks the server command line
 * contract (docs/DESIGN.md) and echo, and misbehaves on purpose according to the name it is run
 * under (tests link it as bin/.../server-<name>):
 *   fake        single-threaded poll() echo loop (well behaved)
 *   fakefork    one child process per connection, reaped on SIGCHLD (like the fork model)
 *   fakenoready never prints its ready line
 *   fakecrash   exits with status 3 half a second after it is ready
 *   fakestubborn ignores SIGTERM (the runner must SIGKILL its group)
 *   fakeorphan  leaves a child behind, in its group, that ignores SIGTERM
 * --cpus-file F writes the CPUs it may run on to F (as "0 1"), for the tests of pinning.
 * Not a model of anything: just enough to exercise process control and accounting. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop;
static long accepted, requests, bytes_io, work_us;

static void on_term(int s) { stop = 1; }

static void on_chld(int s)
{
    int e = errno;
    while (waitpid(-1, NULL, WNOHANG) > 0)
        ;
    errno = e;
}

static void burn(long us)
{
    struct timespec a, b;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a);
    do
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b);
    while ((b.tv_sec - a.tv_sec) * 1000000L + (b.tv_nsec - a.tv_nsec) / 1000 < us);
}

static void write_stats(const char *path, const char *model)
{
    if (!path)
        return;
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return;
    fprintf(f, "{\"model\":\"%s\",\"accepted\":%ld,\"refused\":0,\"refused_reasons\":{\"max_conns\":0},"
               "\"closed\":%ld,\"requests\":%ld,\"bytes_in\":%ld,\"bytes_out\":%ld,\"errors\":0,\"peak_conns\":0}\n",
            model, accepted, accepted, requests, bytes_io, bytes_io);
    fclose(f);
    rename(tmp, path);
}

/* Blocking echo of one connection (fork mode child). */
static void serve_blocking(int fd)
{
    char buf[65536];
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n <= 0)
            _exit(0);
        if (work_us)
            burn(work_us);
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(fd, buf + off, (size_t)(n - off));
            if (w <= 0)
                _exit(0);
            off += w;
        }
    }
}

int main(int argc, char **argv)
{
    const char *host = "127.0.0.1", *stats = NULL, *name = strrchr(argv[0], '/');
    int port = 0;
    name = name ? name + 1 : argv[0];
    const char *model = strncmp(name, "server-", 7) ? name : name + 7;
    for (int i = 1; i + 1 < argc; i++) {
        if (!strcmp(argv[i], "--host"))
            host = argv[++i];
        else if (!strcmp(argv[i], "--port"))
            port = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--stats"))
            stats = argv[++i];
        else if (!strcmp(argv[i], "--work-us"))
            work_us = atol(argv[++i]);
        else if (!strcmp(argv[i], "--cpus-file")) {
            FILE *f = fopen(argv[++i], "w");
            cpu_set_t set;
            if (f && sched_getaffinity(0, sizeof set, &set) == 0)
                for (int c = 0; c < CPU_SETSIZE; c++)
                    if (CPU_ISSET(c, &set))
                        fprintf(f, "%s%d", ftell(f) ? " " : "", c);
            if (f)
                fclose(f);
        }
    }
    int forking = !strcmp(model, "fakefork");
    struct sigaction sa = {.sa_handler = on_term};
    sigaction(SIGINT, &sa, NULL);
    if (strcmp(model, "fakestubborn"))
        sigaction(SIGTERM, &sa, NULL);
    else
        signal(SIGTERM, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);
    struct sigaction sc = {.sa_handler = on_chld, .sa_flags = SA_RESTART | SA_NOCLDSTOP};
    sigaction(SIGCHLD, &sc, NULL);

    int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, host, &sin.sin_addr);
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(ls, (struct sockaddr *)&sin, sizeof sin) < 0 || listen(ls, 4096) < 0) {
        perror("fake-server: bind/listen");
        return 1;
    }
    socklen_t sl = sizeof sin;
    getsockname(ls, (struct sockaddr *)&sin, &sl);
    if (!strcmp(model, "fakeorphan") && fork() == 0) {
        signal(SIGTERM, SIG_IGN); /* stays in our group, outlives us */
        for (;;)
            pause();
    }
    if (strcmp(model, "fakenoready"))
        printf("ready %s port=%d pid=%d\n", model, ntohs(sin.sin_port), (int)getpid());
    fflush(stdout);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);

    struct pollfd p[4096];
    int n = 1;
    p[0] = (struct pollfd){.fd = ls, .events = POLLIN};
    char buf[65536];
    while (!stop) {
        if (!strcmp(model, "fakecrash")) {
            struct timespec t;
            clock_gettime(CLOCK_MONOTONIC, &t);
            if (t.tv_sec - t0.tv_sec + (t.tv_nsec - t0.tv_nsec) / 1e9 > 0.5)
                exit(3);
        }
        if (poll(p, (nfds_t)n, 100) <= 0)
            continue;
        if (p[0].revents) {
            int c = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
            if (c >= 0) {
                accepted++;
                if (forking) {
                    if (fork() == 0) {
                        close(ls);
                        serve_blocking(c);
                    }
                    close(c);
                } else if (n < 4096) {
                    p[n++] = (struct pollfd){.fd = c, .events = POLLIN};
                } else {
                    close(c);
                }
            }
        }
        for (int i = 1; i < n; i++) {
            if (!p[i].revents)
                continue;
            ssize_t r = read(p[i].fd, buf, sizeof buf);
            if (r <= 0) {
                close(p[i].fd);
                p[i--] = p[--n];
                continue;
            }
            requests++;
            bytes_io += r;
            if (work_us)
                burn(work_us);
            for (ssize_t off = 0; off < r;) { /* blocking socket: a short write only waits */
                ssize_t w = write(p[i].fd, buf + off, (size_t)(r - off));
                if (w <= 0)
                    break;
                off += w;
            }
        }
    }
    if (forking) { /* end the children, then reap them so their rusage reaches ours */
        signal(SIGTERM, SIG_IGN);
        kill(0, SIGTERM);
        while (wait(NULL) > 0 || errno == EINTR)
            ;
    }
    write_stats(stats, model);
    return 0;
}
