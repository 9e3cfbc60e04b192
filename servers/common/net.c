/* net.c: listener and accept helpers shared by every model. */
#include "server.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int srv_listen(const char *host, int port, int backlog, int flags, char *err, size_t errlen)
{
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                              .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
    struct addrinfo *res, *ai;
    char portstr[16];
    int fd = -1, one = 1, saved = 0, gai;

    snprintf(portstr, sizeof portstr, "%d", port);
    if ((gai = getaddrinfo(host, portstr, &hints, &res)) != 0) {
        snprintf(err, errlen, "cannot resolve %s: %s", host, gai_strerror(gai));
        return -1;
    }
    for (ai = res; ai; ai = ai->ai_next) {
        int type = ai->ai_socktype | SOCK_CLOEXEC | ((flags & SRV_LISTEN_NONBLOCK) ? SOCK_NONBLOCK : 0);
        fd = socket(ai->ai_family, type, ai->ai_protocol);
        if (fd < 0) {
            saved = errno;
            continue;
        }
        if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
            ((flags & SRV_LISTEN_REUSEPORT) &&
             setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0) ||
            bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, backlog) < 0) {
            saved = errno;
            close(fd);
            fd = -1;
            continue;
        }
        break;
    }
    freeaddrinfo(res);
    if (fd < 0)
        snprintf(err, errlen, "cannot listen on %s:%d: %s", host, port, strerror(saved));
    return fd;
}

int srv_local_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
        return -1;
    if (ss.ss_family == AF_INET)
        return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    if (ss.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return -1;
}

int srv_accept(int lfd, int nonblock)
{
    int one = 1;
    int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0));
    if (fd >= 0) {
        /* Responses go out in one write; Nagle would only add delay to pipelined or partial ones. */
        (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    return fd;
}

int srv_accept_exhausted(int err)
{
    return err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM;
}

int srv_accept_transient(int err)
{
    return err == EINTR || err == ECONNABORTED || err == EPROTO || err == EPERM;
}
