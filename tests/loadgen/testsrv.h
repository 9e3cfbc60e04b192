/* testsrv.h - what the loadgen's test servers (echod.c, closer.c) share: the project's server
 * conventions (a listener on --port, 0 for a free one; SIGTERM/SIGINT stop; a `ready NAME port=N
 * pid=P` line) and the --stats file written atomically. */
#ifndef TESTSRV_H
#define TESTSRV_H

#include <signal.h>
#include <stdint.h>

extern volatile sig_atomic_t testsrv_stop;     /* set by SIGTERM or SIGINT */

/* Listen on addr:port (addr in host order, e.g. INADDR_LOOPBACK), register the listener (epoll
 * data.fd = its fd, level-triggered EPOLLIN) in a new epoll set, install the signal handlers
 * (SIGPIPE ignored) and print the ready line. Returns the epoll fd and sets *listener, or -1
 * after a message on stderr. */
int testsrv_start(const char *name, uint32_t addr, int port, int *listener);

/* Accept every pending connection on ls: non-blocking, TCP_NODELAY, registered in ep for `events`
 * (data.fd = its fd). Returns how many were accepted. */
unsigned testsrv_accept(int ep, int ls, uint32_t events);

/* Write the JSON text to path through a temporary file and a rename, as the servers do. */
void testsrv_stats(const char *path, const char *json);

#endif
