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
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAXFD 65536

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
    stop = 1;
}

struct cl {
    unsigned answered;          /* responses on this connection */
    unsigned match;             /* bytes of "\r\n\r\n" matched at the end of the last read */
    int lingering;              /* the Nth response went: discard until the client closes */
};

static const char ka[] = "HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\nHello, World!";
static const char hdr_close[] = "HTTP/1.1 200 OK\r\nContent-Length: 13\r\nConnection: close\r\n\r\nHello, World!";
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
            fprintf(stderr, "usage: closer [--port N] [--stats FILE] [--every N] [--mode header|http10|bare|cut]\n");
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
    struct sigaction sa = {.sa_handler = on_term};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    int one = 1, ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    socklen_t al = sizeof a;
    if (ls < 0 || bind(ls, (struct sockaddr *)&a, sizeof a) < 0 || listen(ls, 4096) < 0 ||
        getsockname(ls, (struct sockaddr *)&a, &al) < 0) {
        perror("closer: listen");
        return 1;
    }
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = ls};
    epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
    static struct cl cls[MAXFD];
    printf("ready closer port=%d pid=%d\n", ntohs(a.sin_port), (int)getpid());
    fflush(stdout);

    unsigned long long accepted = 0, responses = 0, closed = 0;
    static char buf[65536];
    struct epoll_event evs[256];
    while (!stop) {
        int n = epoll_wait(ep, evs, 256, 200);
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            if (fd == ls) {
                int c;
                while ((c = accept4(ls, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
                    if (c >= MAXFD) {
                        close(c);
                        continue;
                    }
                    accepted++;
                    memset(&cls[c], 0, sizeof cls[c]);
                    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    struct epoll_event ce = {.events = EPOLLIN, .data.fd = c};
                    epoll_ctl(ep, EPOLL_CTL_ADD, c, &ce);
                }
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
            if (dead)
                close(fd);          /* also leaves the epoll set */
        }
    }
    if (stats) {
        char tmp[4096];
        snprintf(tmp, sizeof tmp, "%s.tmp", stats);
        FILE *f = fopen(tmp, "w");
        if (f) {
            fprintf(f, "{\"model\":\"closer\",\"accepted\":%llu,\"responses\":%llu,\"closed\":%llu}\n",
                    accepted, responses, closed);
            fclose(f);
            rename(tmp, stats);
        }
    }
    return 0;
}
