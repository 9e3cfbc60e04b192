/* closer.c - an HTTP test server that ends every keep-alive connection after its Nth response, for
 * the load generator's reconnect tests. Each GET is answered `200 Hello, World!`; after the Nth
 * response of a connection the server closes it, announced or not (--mode):
 *   header  the Nth response carries `Connection: close`
 *   http10  the Nth response is `HTTP/1.0` without keep-alive (which means close)
 *   bare    the Nth response looks like any other; the close itself is the only sign
 *   cut     the Nth response stops in the middle of its body (a failure the client must count)
 * Requests that arrive after the Nth response are read and dropped, never answered. The close is
 * a lingering one (shutdown for writing, read until the client closes), so the client sees a clean
 * EOF and never a reset, whatever it had pipelined. Project conventions: `--port 0`, a
 * `ready closer port=N pid=P` line, SIGTERM writes `--stats FILE` ({"accepted", "responses",
 * "closed": connections it ended after the Nth response}) and exits. Not a benchmark subject. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "testsrv.h"

struct cl {
    unsigned answered;          /* responses on this connection */
    unsigned match;             /* bytes of "\r\n\r\n" matched at the end of the last read */
    int lingering;              /* the Nth response went: discard until the client closes */
};

static const char ka[] = "HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\nHello, World!";
static const char hdr_close[] =
    "HTTP/1.1 200 OK\r\nContent-Length: 13\r\nConnection: close\r\n\r\nHello, World!";
static const char v10[] = "HTTP/1.0 200 OK\r\nContent-Length: 13\r\n\r\nHello, World!";
static const char cut[] = "HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\nHello";

/* Write all of it; the responses are tiny, so a full socket buffer is waited out briefly. */
static int write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EAGAIN) {
            struct pollfd pf = {.fd = fd, .events = POLLOUT};
            if (poll(&pf, 1, 1000) <= 0)
                return -1;
            continue;
        }
        if (w < 0 && errno != EINTR)
            return -1;
        if (w > 0)
            p += w, n -= (size_t)w;
    }
    return 0;
}

int main(int argc, char **argv)
{
    int port = 0;
    unsigned every = 3;
    const char *stats = NULL, *mode = "header";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--port") && i + 1 < argc)
            port = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--stats") && i + 1 < argc)
            stats = argv[++i];
        else if (!strcmp(argv[i], "--every") && i + 1 < argc)
            every = (unsigned)atoi(argv[++i]);
        else if (!strcmp(argv[i], "--mode") && i + 1 < argc)
            mode = argv[++i];
        else {
            fprintf(stderr, "usage: closer [--port N] [--stats FILE] [--every N] "
                            "[--mode header|http10|bare|cut]\n");
            return 1;
        }
    }
    static const struct { const char *mode, *resp; } modes[] = {
        {"header", hdr_close}, {"http10", v10}, {"bare", ka}, {"cut", cut},
    };
    const char *last = NULL;
    for (size_t m = 0; m < sizeof modes / sizeof *modes; m++)
        if (!strcmp(mode, modes[m].mode))
            last = modes[m].resp;
    if (every < 1 || !last) {
        fprintf(stderr, "closer: bad --every or --mode\n");
        return 1;
    }
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);          /* every fd is below the soft limit */
    size_t cap = rl.rlim_cur < (1u << 20) ? (size_t)rl.rlim_cur + 16 : (1u << 20);
    struct cl *cls = calloc(cap, sizeof *cls);
    int ls, ep = testsrv_start("closer", INADDR_LOOPBACK, port, &ls);
    if (ep < 0 || !cls)
        return 1;

    unsigned long long accepted = 0, responses = 0, closed = 0;
    static char buf[65536];
    struct epoll_event evs[256];
    while (!testsrv_stop) {
        int n = epoll_wait(ep, evs, 256, 200);
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            if (fd == ls) {
                accepted += testsrv_accept(ep, ls, EPOLLIN);
                continue;
            }
            struct cl *s = &cls[fd];
            ssize_t r = read(fd, buf, sizeof buf);
            if (r < 0 && (errno == EAGAIN || errno == EINTR))
                continue;
            int dead = r <= 0;
            /* A request ends at its blank line (GET, no body); count them across reads. */
            for (ssize_t k = 0; k < r && !s->lingering && !dead; k++) {
                char ch = buf[k];
                s->match = ch == "\r\n\r\n"[s->match] ? s->match + 1 : ch == '\r' ? 1 : 0;
                if (s->match < 4)
                    continue;
                s->match = 0;
                int nth = ++s->answered % every == 0;
                const char *resp = nth ? last : ka;
                if (write_all(fd, resp, strlen(resp)) < 0) {
                    dead = 1;
                    break;
                }
                responses++;
                if (nth) {          /* what follows is dropped; the client sees EOF after this */
                    closed++;
                    s->lingering = 1;
                    shutdown(fd, SHUT_WR);
                }
            }
            if (dead) {
                memset(s, 0, sizeof *s);    /* ready for the next connection on this fd */
                close(fd);          /* also leaves the epoll set */
            }
        }
    }
    if (stats) {
        char json[256];
        snprintf(json, sizeof json, "{\"model\":\"closer\",\"accepted\":%llu,\"responses\":%llu,"
                 "\"closed\":%llu}\n", accepted, responses, closed);
        testsrv_stats(stats, json);
    }
    return 0;
}
