/* testsrv.c - the listener, signals, ready line and stats file of the loadgen's test servers. */
#include "testsrv.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

volatile sig_atomic_t testsrv_stop;

static void on_term(int sig)
{
    testsrv_stop = 1;
}

int testsrv_start(const char *name, uint32_t addr, int port, int *listener)
{
    struct sigaction sa = {.sa_handler = on_term};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    int one = 1, ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(addr)};
    socklen_t al = sizeof a;
    if (ls >= 0)
        setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (ls < 0 || bind(ls, (struct sockaddr *)&a, sizeof a) < 0 || listen(ls, 4096) < 0 ||
        getsockname(ls, (struct sockaddr *)&a, &al) < 0) {
        fprintf(stderr, "%s: listen: ", name);
        perror(NULL);
        return -1;
    }
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = ls};
    if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev) < 0) {
        perror("epoll");
        return -1;
    }
    *listener = ls;
    printf("ready %s port=%d pid=%d\n", name, ntohs(a.sin_port), (int)getpid());
    fflush(stdout);
    return ep;
}

unsigned testsrv_accept(int ep, int ls, uint32_t events)
{
    unsigned n = 0;
    int one = 1, c;
    while ((c = accept4(ls, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
        n++;
        setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        struct epoll_event ce = {.events = events, .data.fd = c};
        epoll_ctl(ep, EPOLL_CTL_ADD, c, &ce);
    }
    return n;
}

void testsrv_stats(const char *path, const char *json)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return;
    fputs(json, f);
    if (fclose(f) == 0)
        rename(tmp, path);
}
