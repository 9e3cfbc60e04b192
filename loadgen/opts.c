/* opts.c - command line of bin/loadgen: parse, validate, resolve the target and source addresses. */
#include "lg.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void lg_usage(FILE *f)
{
    fputs(
"usage: loadgen --target HOST:PORT [options]\n"
"\n"
"Load:\n"
"  --proto echo|http        protocol (http)\n"
"  --path PATH              http request target (/)\n"
"  -c, --connections N      active connections (10; 0 with --idle: hold idle ones only)\n"
"  --idle N                 extra connections held open and silent (0)\n"
"  -t, --threads N          threads over all processes, each with its own epoll loop (1)\n"
"  --procs P                worker processes, each with its own fd limit; results merged (1)\n"
"  -d, --duration T         measured time: 10, 10s, 500ms, 2m (10s)\n"
"  --warmup T               run first but do not count (0)\n"
"  --rate R                 0 = closed loop; else open loop at R requests/s in total (0)\n"
"  --arrival constant|poisson  open-loop arrivals (constant)\n"
"  --size N                 echo message bytes (64)\n"
"  --pipeline D             requests in flight per connection, a sliding window (1)\n"
"  --conn-mode M            keepalive | close | reqs=N (new connection every N requests)\n"
"  --timeout T              connect and answer timeout; also the drain at the end (2s)\n"
"  --source-ips LIST        source addresses, e.g. 127.0.0.1-127.0.0.16,127.0.1.1\n"
"  --connect-rate R         new connections per second in total (unlimited)\n"
"  --start-at T             open the measured window at wall-clock time T (seconds since the\n"
"                           epoch, e.g. 1764659215.250): the start waits until T - warmup\n"
"\n"
"Output:\n"
"  --json FILE              one JSON object (keys in docs/DESIGN.md)\n"
"  --csv FILE               append one row; a header when the file is new\n"
"  --timeseries FILE        one CSV row per second\n"
"  --hist FILE              latency percentile spectrum (HdrHistogram text, microseconds)\n"
"  --hlog FILE              HdrHistogram interval log of the window, one interval a second,\n"
"                           tags corrected and uncorrected, values in nanoseconds (bin/hlog)\n"
"  --max-errors N           exit 2 when more than N errors were counted\n"
"  -q, --quiet              no summary on stdout\n"
"  -h, --help               this text\n"
"\n"
"Latency is measured from the intended send time (open loop) and also reported uncorrected.\n"
"The run ends by warmup + duration + timeout + 1 s whatever the server does; requests still\n"
"unanswered then are reported as incomplete. A progress line goes to stderr when it is a tty.\n"
"Exit: 0 ok, 1 usage or setup failure, 2 more errors than --max-errors.\n", f);
}

/* Seconds from "10", "10s", "250ms", "2m", "1.5". */
static int parse_time(const char *s, double *out)
{
    char *e;
    errno = 0;
    double v = strtod(s, &e);
    if (e == s || errno || v < 0 || !isfinite(v))
        return -1;
    if (!strcmp(e, "ms"))
        v /= 1000;
    else if (!strcmp(e, "us"))
        v /= 1e6;
    else if (!strcmp(e, "m"))
        v *= 60;
    else if (*e && strcmp(e, "s"))
        return -1;
    *out = v;
    return 0;
}

/* Seconds since the epoch with up to 9 decimals, into nanoseconds without rounding through a double. */
static int parse_epoch(const char *s, int64_t *out)
{
    int64_t sec = 0, frac = 0, scale = 100000000;
    const char *p = s;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (sec > 9000000000LL)
            return -1;
        sec = sec * 10 + (*p - '0');
    }
    if (p == s)
        return -1;
    if (*p == '.')
        for (p++; *p >= '0' && *p <= '9'; p++, scale /= 10)
            frac += (*p - '0') * scale;
    if (*p || (sec == 0 && frac == 0))
        return -1;
    *out = sec * LG_NS + frac;
    return 0;
}

/* A count or rate, with an optional k or M suffix. */
static int parse_num(const char *s, double *out)
{
    char *e;
    errno = 0;
    double v = strtod(s, &e);
    if (e == s || errno || v < 0 || !isfinite(v))
        return -1;
    if (*e == 'k' || *e == 'K')
        v *= 1e3, e++;
    else if (*e == 'M')
        v *= 1e6, e++;
    if (*e)
        return -1;
    *out = v;
    return 0;
}

static int parse_u32(const char *s, uint32_t *out, uint32_t lo, uint32_t hi)
{
    double v;
    if (parse_num(s, &v) < 0 || v != floor(v) || v < lo || v > hi)
        return -1;
    *out = (uint32_t)v;
    return 0;
}

static int resolve_target(struct lg_opts *o, const char *target, char *err, size_t errlen)
{
    char host[300];
    const char *colon = strrchr(target, ':');
    if (!colon || colon == target || !colon[1] || (size_t)(colon - target) >= sizeof host) {
        snprintf(err, errlen, "--target wants HOST:PORT, got '%s'", target);
        return -1;
    }
    memcpy(host, target, (size_t)(colon - target));
    host[colon - target] = 0;
    if (host[0] == '[' && host[strlen(host) - 1] == ']') {   /* [::1]:8080 */
        memmove(host, host + 1, strlen(host));
        host[strlen(host) - 1] = 0;
    }
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai;
    int r = getaddrinfo(host, colon + 1, &hints, &ai);
    if (r) {
        snprintf(err, errlen, "--target %s: %s", target, gai_strerror(r));
        return -1;
    }
    /* "localhost" may list ::1 first; test servers listen on 127.0.0.1, so IPv4 wins. */
    struct addrinfo *pick = ai;
    for (struct addrinfo *p = ai; p; p = p->ai_next)
        if (p->ai_family == AF_INET) {
            pick = p;
            break;
        }
    memcpy(&o->addr, pick->ai_addr, pick->ai_addrlen);
    o->addrlen = pick->ai_addrlen;
    freeaddrinfo(ai);
    snprintf(o->target, sizeof o->target, "%s", target);
    snprintf(o->host, sizeof o->host, "%s", target);
    return 0;
}

/* "A", "A-B" (IPv4 ranges), comma separated; the family must match the target's. */
static int parse_sources(struct lg_opts *o, const char *list, char *err, size_t errlen)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", list);
    for (char *save, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *dash = strchr(tok, '-');
        if (dash)
            *dash++ = 0;
        if (o->addr.ss_family == AF_INET6) {
            struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&o->src[o->nsrc];
            if (dash || inet_pton(AF_INET6, tok, &s6->sin6_addr) != 1 || o->nsrc >= LG_MAX_SRC)
                goto bad;
            s6->sin6_family = AF_INET6;
            o->nsrc++;
            continue;
        }
        struct in_addr a, b;
        if (inet_pton(AF_INET, tok, &a) != 1 || (dash && inet_pton(AF_INET, dash, &b) != 1))
            goto bad;
        uint32_t lo = ntohl(a.s_addr), hi = dash ? ntohl(b.s_addr) : lo;
        if (hi < lo || hi - lo >= LG_MAX_SRC)
            goto bad;
        for (uint64_t x = lo; x <= hi; x++) {
            if (o->nsrc >= LG_MAX_SRC)
                goto bad;
            struct sockaddr_in *s4 = (struct sockaddr_in *)&o->src[o->nsrc++];
            s4->sin_family = AF_INET;
            s4->sin_addr.s_addr = htonl((uint32_t)x);
        }
    }
    if (o->nsrc)
        return 0;
bad:
    snprintf(err, errlen, "--source-ips: bad list '%s' (addresses of the target's family, "
             "IPv4 ranges A-B, at most %d)", list, LG_MAX_SRC);
    return -1;
}

enum { O_PROTO = 256, O_PATH, O_IDLE, O_PROCS, O_WARMUP, O_RATE, O_ARRIVAL, O_SIZE, O_PIPELINE,
       O_CONNMODE, O_TIMEOUT, O_SOURCES, O_CRATE, O_MAXERR, O_CSV, O_JSON, O_TS, O_HIST, O_TARGET,
       O_HLOG, O_START_AT };

static const struct option longopts[] = {
    {"target", required_argument, 0, O_TARGET},   {"proto", required_argument, 0, O_PROTO},
    {"path", required_argument, 0, O_PATH},       {"connections", required_argument, 0, 'c'},
    {"idle", required_argument, 0, O_IDLE},       {"threads", required_argument, 0, 't'},
    {"procs", required_argument, 0, O_PROCS},     {"duration", required_argument, 0, 'd'},
    {"warmup", required_argument, 0, O_WARMUP},   {"rate", required_argument, 0, O_RATE},
    {"arrival", required_argument, 0, O_ARRIVAL}, {"size", required_argument, 0, O_SIZE},
    {"pipeline", required_argument, 0, O_PIPELINE}, {"conn-mode", required_argument, 0, O_CONNMODE},
    {"timeout", required_argument, 0, O_TIMEOUT}, {"source-ips", required_argument, 0, O_SOURCES},
    {"connect-rate", required_argument, 0, O_CRATE}, {"max-errors", required_argument, 0, O_MAXERR},
    {"csv", required_argument, 0, O_CSV},         {"json", required_argument, 0, O_JSON},
    {"timeseries", required_argument, 0, O_TS},   {"hist", required_argument, 0, O_HIST},
    {"hlog", required_argument, 0, O_HLOG},       {"start-at", required_argument, 0, O_START_AT},
    {"quiet", no_argument, 0, 'q'},               {"help", no_argument, 0, 'h'},
    {0, 0, 0, 0},
};

/* Returns 0 to run, 1 when --help was printed, -1 with err filled. */
int lg_parse_opts(struct lg_opts *o, int argc, char **argv, char *err, size_t errlen)
{
    memset(o, 0, sizeof *o);
    o->proto = LG_HTTP;
    snprintf(o->path, sizeof o->path, "/");
    o->connections = 10;
    o->threads = 1;
    o->procs = 1;
    o->duration = 10;
    o->size = 64;
    o->pipeline = 1;
    o->timeout = 2;
    o->max_errors = -1;
    const char *target = NULL, *sources = NULL, *bad = NULL;
    double v;
    int c;
    optind = 1;
    opterr = 0;
    while (!bad && (c = getopt_long(argc, argv, "c:t:d:qh", longopts, NULL)) != -1) {
        switch (c) {
        case O_TARGET: target = optarg; break;
        case O_PROTO:
            if (!strcmp(optarg, "echo")) o->proto = LG_ECHO;
            else if (!strcmp(optarg, "http")) o->proto = LG_HTTP;
            else bad = "--proto";
            break;
        case O_PATH:
            if (optarg[0] != '/' || strlen(optarg) >= sizeof o->path || strpbrk(optarg, " \r\n"))
                bad = "--path";
            else
                snprintf(o->path, sizeof o->path, "%s", optarg);
            break;
        case 'c': if (parse_u32(optarg, &o->connections, 0, 10000000)) bad = "--connections"; break;
        case O_IDLE: if (parse_u32(optarg, &o->idle, 0, 10000000)) bad = "--idle"; break;
        case 't': if (parse_u32(optarg, &o->threads, 1, LG_MAX_THREADS)) bad = "--threads"; break;
        case O_PROCS: if (parse_u32(optarg, &o->procs, 1, 64)) bad = "--procs"; break;
        case 'd': if (parse_time(optarg, &o->duration) || o->duration <= 0) bad = "--duration"; break;
        case O_WARMUP: if (parse_time(optarg, &o->warmup)) bad = "--warmup"; break;
        case O_RATE: if (parse_num(optarg, &o->rate)) bad = "--rate"; break;
        case O_ARRIVAL:
            if (!strcmp(optarg, "constant")) o->arrival = LG_CONSTANT;
            else if (!strcmp(optarg, "poisson")) o->arrival = LG_POISSON;
            else bad = "--arrival";
            break;
        case O_SIZE: if (parse_u32(optarg, &o->size, 1, 64u << 20)) bad = "--size"; break;
        case O_PIPELINE: if (parse_u32(optarg, &o->pipeline, 1, 1024)) bad = "--pipeline"; break;
        case O_CONNMODE:
            if (!strcmp(optarg, "keepalive")) o->reqs_per_conn = 0;
            else if (!strcmp(optarg, "close")) o->reqs_per_conn = 1;
            else if (strncmp(optarg, "reqs=", 5) || parse_u32(optarg + 5, &o->reqs_per_conn, 1, 1u << 30))
                bad = "--conn-mode";
            break;
        case O_TIMEOUT: if (parse_time(optarg, &o->timeout) || o->timeout <= 0) bad = "--timeout"; break;
        case O_SOURCES: sources = optarg; break;
        case O_CRATE: if (parse_num(optarg, &o->connect_rate)) bad = "--connect-rate"; break;
        case O_MAXERR:
            if (parse_num(optarg, &v) || v != floor(v)) bad = "--max-errors";
            else o->max_errors = (long long)v;
            break;
        case O_CSV: o->csv = optarg; break;
        case O_JSON: o->json = optarg; break;
        case O_TS: o->timeseries = optarg; break;
        case O_HIST: o->hist = optarg; break;
        case O_HLOG: o->hlog = optarg; break;
        case O_START_AT: if (parse_epoch(optarg, &o->start_at)) bad = "--start-at"; break;
        case 'q': o->quiet = 1; break;
        case 'h': lg_usage(stdout); return 1;
        default:
            snprintf(err, errlen, "unknown or incomplete option '%s'", argv[optind - 1]);
            return -1;
        }
    }
    if (bad) {
        snprintf(err, errlen, "bad value for %s: '%s'", bad, optarg);
        return -1;
    }
    if (optind < argc) {
        snprintf(err, errlen, "unexpected argument '%s'", argv[optind]);
        return -1;
    }
    if (!target) {
        snprintf(err, errlen, "--target HOST:PORT is required");
        return -1;
    }
    if (resolve_target(o, target, err, errlen) < 0)
        return -1;
    if (sources && parse_sources(o, sources, err, errlen) < 0)
        return -1;
    /* Only idle connections (the idle-connection experiments) is a closed-loop run of nothing. */
    uint32_t share = o->connections ? o->connections : o->idle;
    if (share == 0 || (o->connections == 0 && o->rate > 0)) {
        snprintf(err, errlen, "--connections must be at least 1 (0 only with --idle and no --rate)");
        return -1;
    }
    /* Every thread needs at least one connection; every process at least one thread. */
    if (o->threads > share)
        o->threads = share;
    if (o->procs > o->threads)
        o->threads = o->procs;
    if (o->procs > share) {
        snprintf(err, errlen, "--procs %u needs at least as many connections", o->procs);
        return -1;
    }
    return 0;
}
