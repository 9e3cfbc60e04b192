/* main.c: the common command line and life cycle of every server binary: parse, listen, run the
 * model, write --stats, exit. A model only supplies `srv_model`. */
#include "server.h"
#include "defaults.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server_int.h"

static int cpus_allowed(void);

static void usage(FILE *f)
{
    const struct srv_model *m = &srv_model;
    char workers[96] = "accepted and ignored by this model";
    char ka_timeout[160] = "accepted and ignored by this model (its --idle-timeout applies)";
    char ka_yield[200] = "accepted and ignored by this model (no client waits for a worker)";
    if (m->clients_waiting)
        snprintf(ka_yield, sizeof ka_yield,
                 "1: while a client waits for a worker, every response carries\n"
                 "                      Connection: close, freeing the worker (default %u; 0 = off)",
                 m->keepalive.yield);
    if (m->flags & SRV_F_BLOCKING)
        snprintf(ka_timeout, sizeof ka_timeout,
                 "close a kept-alive connection that waits this long for its next\n"
                 "                      request (default %u; 0 = --idle-timeout applies)",
                 m->keepalive.timeout);
    if (m->flags & SRV_F_WORKERS)
        snprintf(workers, sizeof workers, "number of workers (default %d)",
                 m->default_workers > 0 ? m->default_workers : cpus_allowed());
    fprintf(f,
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
            m->name, m->summary, workers, m->keepalive.requests, m->keepalive.time, ka_timeout, ka_yield,
            m->name,
            (unsigned long long)PROTO_BYTES_MAX);
}

/* Parse a decimal integer in [lo, hi]; exit 2 with a message naming the option otherwise. */
static long parse_num(const char *opt, const char *arg, long lo, long hi)
{
    char *end;
    errno = 0;
    long v = strtol(arg, &end, 10);
    if (errno || end == arg || *end || v < lo || v > hi) {
        fprintf(stderr, "server-%s: --%s wants an integer from %ld to %ld, not '%s'\n",
                srv_model.name, opt, lo, hi, arg);
        exit(2);
    }
    return v;
}

static int cpus_allowed(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
        return CPU_COUNT(&set);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

static void parse_args(int argc, char **argv, struct srv_opts *o)
{
    static const struct option longopts[] = {
        { "host", required_argument, 0, 'H' },     { "port", required_argument, 0, 'p' },
        { "proto", required_argument, 0, 'P' },    { "workers", required_argument, 0, 'w' },
        { "docroot", required_argument, 0, 'd' },  { "work-us", required_argument, 0, 'u' },
        { "wait-us", required_argument, 0, 'W' },  { "idle-timeout", required_argument, 0, 'i' },
        { "max-conns", required_argument, 0, 'm' }, { "backlog", required_argument, 0, 'b' },
        { "stats", required_argument, 0, 's' },    { "help", no_argument, 0, 'h' },
        { "keepalive-requests", required_argument, 0, 'k' },
        { "keepalive-time", required_argument, 0, 'K' },
        { "keepalive-timeout", required_argument, 0, 'T' },
        { "keepalive-yield", required_argument, 0, 'Y' },
        { 0, 0, 0, 0 },
    };
    int c;

    *o = (struct srv_opts){ .host = "127.0.0.1", .port = 8080, .proto = PROTO_HTTP,
                            .idle_timeout = 60, .backlog = SRV_DEFAULT_BACKLOG,
                            .keepalive = srv_model.keepalive };
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 'H': o->host = optarg; break;
        case 'p': o->port = (int)parse_num("port", optarg, 0, 65535); break;
        case 'P':
            if (strcmp(optarg, "echo") == 0)
                o->proto = PROTO_ECHO;
            else if (strcmp(optarg, "http") == 0)
                o->proto = PROTO_HTTP;
            else {
                fprintf(stderr, "server-%s: --proto wants echo or http, not '%s'\n",
                        srv_model.name, optarg);
                exit(2);
            }
            break;
        case 'w': o->workers = (int)parse_num("workers", optarg, 1, 4096); break;
        case 'd': o->docroot = optarg; break;
        case 'u': o->work_us = (unsigned)parse_num("work-us", optarg, 0, 10000000); break;
        case 'W': o->wait_us = (unsigned)parse_num("wait-us", optarg, 0, 10000000); break;
        case 'i': o->idle_timeout = (unsigned)parse_num("idle-timeout", optarg, 0, 86400); break;
        case 'm': o->max_conns = (unsigned)parse_num("max-conns", optarg, 0, INT_MAX); break;
        case 'k':
            o->keepalive.requests = (unsigned)parse_num("keepalive-requests", optarg, 0, INT_MAX);
            break;
        case 'K':
            o->keepalive.time = (unsigned)parse_num("keepalive-time", optarg, 0, 86400 * 365);
            break;
        case 'T':
            o->keepalive.timeout = (unsigned)parse_num("keepalive-timeout", optarg, 0, 86400);
            break;
        case 'Y': o->keepalive.yield = (unsigned)parse_num("keepalive-yield", optarg, 0, 1); break;
        case 'b': o->backlog = (int)parse_num("backlog", optarg, 1, INT_MAX); break;
        case 's': o->stats_path = optarg; break;
        case 'h': usage(stdout); exit(0);
        default: usage(stderr); exit(2);
        }
    }
    if (optind < argc) {
        fprintf(stderr, "server-%s: unexpected argument '%s'\n", srv_model.name, argv[optind]);
        exit(2);
    }
    if (o->workers == 0)
        o->workers = srv_model.default_workers > 0 ? srv_model.default_workers : cpus_allowed();
}

int main(int argc, char **argv)
{
    struct srv s = { .model = &srv_model, .listen_fd = -1 };
    char err[256];

    parse_args(argc, argv, &s.opt);
    s.proto = (struct proto_cfg){ .kind = s.opt.proto, .docroot_fd = -1, .work_us = s.opt.work_us,
                                  .wait_us = s.opt.wait_us,
                                  .keepalive_requests = s.opt.keepalive.requests,
                                  .keepalive_time = s.opt.keepalive.time,
                                  .yield = s.opt.keepalive.yield ? srv_model.clients_waiting : NULL };
    if (s.opt.docroot) {
        s.proto.docroot_fd = open(s.opt.docroot, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (s.proto.docroot_fd < 0) {
            fprintf(stderr, "server-%s: --docroot %s: %s\n", srv_model.name, s.opt.docroot,
                    strerror(errno));
            return 1;
        }
    }
    if (!(srv_model.flags & SRV_F_OWN_LISTENER)) {
        int nb = (srv_model.flags & SRV_F_BLOCKING) ? 0 : SRV_LISTEN_NONBLOCK;
        s.listen_fd = srv_listen(s.opt.host, s.opt.port, s.opt.backlog, nb, err, sizeof err);
        if (s.listen_fd < 0) {
            fprintf(stderr, "server-%s: %s\n", srv_model.name, err);
            return 1;
        }
        s.port = srv_local_port(s.listen_fd);
    }
    int stop_listener = (srv_model.flags & SRV_F_BLOCKING) ? s.listen_fd : -1;
    if (srv_runtime_init(srv_model.name, stop_listener, err, sizeof err) < 0) {
        fprintf(stderr, "server-%s: %s\n", srv_model.name, err);
        return 1;
    }

    int rc = srv_model.run(&s);

    if (s.opt.stats_path && srv_write_stats(s.opt.stats_path, srv_model.name, srv_model.flags) < 0) {
        fprintf(stderr, "server-%s: --stats %s: %s\n", srv_model.name, s.opt.stats_path,
                strerror(errno));
        rc = rc ? rc : 1;
    }
    return rc;
}
