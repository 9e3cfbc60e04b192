/* echod.c - a tiny epoll echo server for the load generator's tests: every byte read is written
 * back. It speaks the project's server conventions where the tests need them (testsrv.c): `--port 0`, a
 * `ready echod port=N pid=P` line, SIGTERM writes `--stats FILE` ({"requests": read batches,
 * "bytes_in", "bytes_out", "accepted"}) and exits. `--corrupt N` flips a byte of every Nth read
 * batch (to test mismatch detection). Not a benchmark subject: kept simple. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "testsrv.h"

struct pend {                   /* bytes the client did not take yet (its receive window was full) */
    char *buf;
    size_t len, off;
};

int main(int argc, char **argv)
{
    int port = 0, corrupt = 0;
    const char *stats = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--port") && i + 1 < argc)
            port = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--stats") && i + 1 < argc)
            stats = argv[++i];
        else if (!strcmp(argv[i], "--corrupt") && i + 1 < argc)
            corrupt = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--proto") && i + 1 < argc)
            i++;                /* echo is all it speaks */
        else {
            fprintf(stderr, "usage: echod [--port N] [--stats FILE] [--corrupt N]\n");
            return 1;
        }
    }
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    int ls, ep = testsrv_start("echod", INADDR_ANY, port, &ls);
    if (ep < 0)
        return 1;
    size_t cap = (size_t)rl.rlim_cur + 16;
    struct pend *pend = calloc(cap, sizeof *pend);

    unsigned long long requests = 0, bytes_in = 0, bytes_out = 0, accepted = 0;
    static char buf[65536];
    struct epoll_event evs[256];
    while (!testsrv_stop) {
        int n = epoll_wait(ep, evs, 256, 200);
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            if (fd == ls) {
                accepted += testsrv_accept(ep, ls, EPOLLIN | EPOLLOUT | EPOLLET);
                continue;
            }
            struct pend *p = &pend[fd];
            int dead = 0;
            for (;;) {
                while (p->len > p->off) {       /* flush what is owed first, in order */
                    ssize_t w = write(fd, p->buf + p->off, p->len - p->off);
                    if (w < 0) {
                        dead = errno != EAGAIN;
                        break;
                    }
                    bytes_out += (unsigned long long)w;
                    p->off += (size_t)w;
                }
                if (dead || p->len > p->off)
                    break;               /* still owed: wait for EPOLLOUT before reading more */
                p->len = p->off = 0;
                ssize_t r = read(fd, buf, sizeof buf);
                if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
                    dead = 1;
                    break;
                }
                if (r < 0)
                    break;
                requests++;
                bytes_in += (unsigned long long)r;
                if (corrupt > 0 && requests % (unsigned long long)corrupt == 0)
                    buf[0] ^= 0x20;
                ssize_t w = write(fd, buf, (size_t)r);
                if (w < 0 && errno != EAGAIN) {
                    dead = 1;
                    break;
                }
                if (w < 0)
                    w = 0;
                bytes_out += (unsigned long long)w;
                if (w < r) {
                    p->buf = realloc(p->buf, (size_t)(r - w));
                    memcpy(p->buf, buf + w, (size_t)(r - w));
                    p->len = (size_t)(r - w);
                    p->off = 0;
                }
            }
            if (dead) {
                free(p->buf);
                memset(p, 0, sizeof *p);
                close(fd);
            }
        }
    }
    if (stats) {
        char json[512];
        snprintf(json, sizeof json, "{\"model\":\"echod\",\"accepted\":%llu,\"requests\":%llu,"
                 "\"bytes_in\":%llu,\"bytes_out\":%llu}\n", accepted, requests, bytes_in, bytes_out);
        testsrv_stats(stats, json);
    }
    return 0;
}
