/* floor.c - the cheapest possible closed-loop HTTP client, for measuring the load generator
 * against it: 100 keep-alive connections, epoll edge-triggered, one recv and one send per answer,
 * no parsing, no timing, no accounting (it assumes each recv is one small answer). Whatever CPU
 * it spends per request is the kernel's floor for this design; tests/bench/loadgen-floor.sh
 * compares bin/loadgen with it.  usage: loadgen-floor PORT SECONDS [CONNECTIONS] */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: loadgen-floor PORT SECONDS [CONNECTIONS]\n");
        return 1;
    }
    int port = atoi(argv[1]), secs = atoi(argv[2]), n = argc > 3 ? atoi(argv[3]) : 100, one = 1;
    char req[128];
    int rl = snprintf(req, sizeof req, "GET / HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n", port);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    for (int i = 0; i < n; i++) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);   /* blocking connect: setup only */
        if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
            perror("loadgen-floor: connect");
            return 1;
        }
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        struct epoll_event ev = {.events = EPOLLIN | EPOLLET, .data.fd = fd};
        epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
        send(fd, req, (size_t)rl, MSG_DONTWAIT);
    }
    static char buf[65536];
    struct epoll_event evs[256];
    long count = 0;
    time_t end = time(NULL) + secs;
    while (time(NULL) < end) {
        int k = epoll_wait(ep, evs, 256, 100);
        for (int i = 0; i < k; i++)
            if (recv(evs[i].data.fd, buf, sizeof buf, MSG_DONTWAIT) > 0) {
                count++;
                send(evs[i].data.fd, req, (size_t)rl, MSG_DONTWAIT | MSG_NOSIGNAL);
            }
    }
    printf("%ld\n", count);
    return 0;
}
