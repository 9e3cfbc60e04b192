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
    char text[4096];
    srv_usage(text, sizeof text, m->name, m->summary, m->flags,
              m->default_workers > 0 ? m->default_workers : cpus_allowed(), m->keepalive.requests,
              m->keepalive.time, m->keepalive.timeout, m->keepalive.yield, m->clients_waiting != NULL);
    fputs(text, f);
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
