/* usage.c: the --help text of every server binary, the C ones (main.c) and the Python ones, which
 * call it through bin/libcmbproto.so: one text, so the two families cannot drift apart. */
#include "server.h"
#include "defaults.h"

#include <stdio.h>

#include "server_int.h"

size_t srv_usage(char *buf, size_t len, const char *name, const char *summary, unsigned flags,
                 int workers, unsigned ka_requests, unsigned ka_time, unsigned ka_timeout,
                 unsigned ka_yield, int yields)
{
    char wk[96] = "accepted and ignored by this model";
    char ka_to[160] = "accepted and ignored by this model (its --idle-timeout applies)";
    char ka_y[200] = "accepted and ignored by this model (no client waits for a worker)";
    if (yields)
        snprintf(ka_y, sizeof ka_y,
                 "1: while a client waits for a worker, every response carries\n"
                 "                      Connection: close, freeing the worker (default %u; 0 = off)",
                 ka_yield);
    if (flags & SRV_F_BLOCKING)
        snprintf(ka_to, sizeof ka_to,
                 "close a kept-alive connection that waits this long for its next\n"
                 "                      request (default %u; 0 = --idle-timeout applies)",
                 ka_timeout);
    if (flags & SRV_F_WORKERS)
        snprintf(wk, sizeof wk, "number of workers (default %d)", workers);
    int n = snprintf(buf, len,
            "usage: server-%s [options]\n"
            "%s\n\n"
            "  --host ADDR         address to listen on (default 127.0.0.1)\n"
            "  --port N            port (default 8080; 0 picks a free one, shown on the ready line)\n"
            "  --proto echo|http   protocol (default http)\n"
            "  --workers N         %s\n"
            "  --docroot DIR       serve files under DIR (http); without it only / and /bytes/N exist\n"
            "  --work-us N         burn N microseconds of CPU per request (echo: per read batch)\n"
            "  --wait-us N         then sleep N microseconds, as a blocking call would (an event\n"
            "                      loop stalls for every connection meanwhile)\n"
            "  --idle-timeout SEC  close a connection that makes no progress this long (default 60;\n"
            "                      0 = never); bytes of an unfinished request are not progress\n"
            "  --keepalive-requests N\n"
            "                      HTTP: a connection's Nth response carries Connection: close, then\n"
            "                      the close (default for this model %u; 0 = no limit)\n"
            "  --keepalive-time SEC\n"
            "                      HTTP: a request started on a connection SEC seconds old is its last,\n"
            "                      answered with Connection: close (default %u; 0 = no limit)\n"
            "  --keepalive-timeout SEC\n"
            "                      HTTP: %s\n"
            "  --keepalive-yield 0|1\n"
            "                      HTTP: %s\n"
            "  --max-conns N       refuse connections beyond N open ones (default 0 = no limit)\n"
            "  --backlog N         listen backlog (default " SRV_STR(SRV_DEFAULT_BACKLOG) ")\n"
            "  --stats FILE        write counters as JSON to FILE at exit\n"
            "  --help              this text\n\n"
            "Prints 'ready %s port=<port> pid=<pid>' once it accepts connections; SIGTERM or SIGINT\n"
            "stop it (exit 0). HTTP: GET/HEAD of /, /bytes/N (N <= %llu) and --docroot files.\n",
            name, summary, wk, ka_requests, ka_time, ka_to, ka_y, name,
            (unsigned long long)PROTO_BYTES_MAX);
    return n < 0 ? 0 : (size_t)n;
}
