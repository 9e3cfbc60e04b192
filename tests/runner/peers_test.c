/* peers_test.c - unit tests (TAP) of what the runner needs to use real peers: the readers of wrk's
 * and h2load's output (runner/peerout.c) on outputs captured from the real tools (tests/peers/),
 * and the nginx config and command (runner/extsrv.c).
 *
 *   peers-test SAMPLES-DIR            the tests
 *   peers-test nginx DIR PORT         write the nginx preset's config for 127.0.0.1:PORT into DIR
 *                                     and print its command line (tests/runner-peers.t runs it) */
#include "../../runner/extsrv.h"
#include "../../runner/json.h"
#include "../../runner/peerout.h"
#include "../unit/tap.h"

#include <math.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


/* --- the readers ------------------------------------------------------------------------------ */

static struct json *parsed(const char *dir, const char *file,
                           int (*read)(const char *, struct ut_str *, char *, size_t), char *err, size_t errlen)
{
    char path[1024], *text;
    struct ut_str j = {0};
    snprintf(path, sizeof path, "%s/%s", dir, file);
    if (ut_read_file(path, &text) < 0) {
        snprintf(err, errlen, "cannot read %.200s", path);
        return NULL;
    }
    struct json *o = NULL;
    if (read(text, &j, err, errlen) == 0 && !(o = json_parse(j.s, err, errlen)))
        printf("# not JSON: %s\n", j.s);
    free(text);
    ut_str_free(&j);
    return o;
}

/* The number at path is want (to 0.01); want NAN: the key is absent. */
static void num(const struct json *o, const char *file, const char *path, double want)
{
    double v = NAN;
    int have = json_num(o, path, &v) == 0;
    if (isnan(want))
        ok(!have, "%s: %s absent (not measured)%s", file, path, have ? ", but it is there" : "");
    else
        ok(have && fabs(v - want) < 0.01, "%s: %s = %g (got %s%g)", file, path, want, have ? "" : "nothing, ", v);
}

struct want {
    const char *path;
    double v;
};

static void sample(const char *dir, const char *file, int (*read)(const char *, struct ut_str *, char *, size_t),
                   const char *loader, const struct want *w)
{
    char err[256] = "";
    struct json *o = parsed(dir, file, read, err, sizeof err);
    ok(o != NULL, "%s: read%s%s", file, o ? "" : ": ", o ? "" : err);
    if (!o)
        return;
    const char *l = json_str(o, "loader");
    ok(l && !strcmp(l, loader), "%s: loader is %s", file, loader);
    for (; w->path; w++)
        num(o, file, w->path, w->v);
    json_free(o);
}

static void refused(const char *dir, const char *file, int (*read)(const char *, struct ut_str *, char *, size_t))
{
    char err[256] = "";
    struct json *o = parsed(dir, file, read, err, sizeof err);
    ok(!o && strstr(err, "no summary"), "%s: an output without a summary is an error (%s)", file, err);
    json_free(o);
}

static void readers(const char *dir)
{
    ok(peer_time_us("720.09us") == 720.09 && peer_time_us("1.40ms") == 1400 && peer_time_us("2s") == 2e6 &&
           peer_time_us("1.5m") == 90e6 && peer_time_us("x") < 0 && peer_time_us("3kg") < 0,
       "times: us, ms, s, m; anything else is not a time");
    const struct want wrk_ok[] = {
        {"requests", 57707}, {"throughput_rps", 57604.64}, {"duration_s", 1},
        {"latency_us.mean", 720.09}, {"latency_us.stdev", 1400}, {"latency_us.max", 11080},
        {"latency_us.p50", 77}, {"latency_us.p75", 536}, {"latency_us.p90", 2760}, {"latency_us.p99", 6470},
        {"latency_us.p999", NAN}, {"latency_us.min", NAN}, {"errors.connect", 0}, {"errors.status_4xx_5xx", 0},
        {"errors.status_4xx", NAN}, {"errors_total", 0}, {"incomplete", NAN}, {"connect_us.p50", NAN},
        {"latency_uncorrected_us.p50", NAN}, {NULL, 0}};
    sample(dir, "wrk-nginx.txt", peer_wrk_json, "wrk", wrk_ok);
    const struct want wrk_404[] = {{"requests", 99052}, {"errors.status_4xx_5xx", 99052}, {"errors_total", 99052},
                                   {"latency_us.p50", 67}, {NULL, 0}};
    sample(dir, "wrk-404.txt", peer_wrk_json, "wrk", wrk_404);
    const struct want wrk_killed[] = {{"requests", 84742}, {"throughput_rps", 42353.13}, {"duration_s", 2},
                                      {"errors.read", 4}, {"errors.write", 37369}, {"errors.timeout", 0},
                                      {"errors_total", 37373}, {NULL, 0}};
    sample(dir, "wrk-killed.txt", peer_wrk_json, "wrk", wrk_killed);
    /* A frozen server: nothing answered, and wrk's zeros are not latencies. */
    const struct want wrk_none[] = {{"requests", 0}, {"throughput_rps", 0}, {"latency_us.p50", NAN},
                                    {"latency_us.mean", NAN}, {"errors_total", 0}, {NULL, 0}};
    sample(dir, "wrk-stopped.txt", peer_wrk_json, "wrk", wrk_none);
    refused(dir, "wrk-refused.txt", peer_wrk_json);

    const struct want h2_ok[] = {
        {"requests", 58614}, {"throughput_rps", 58614}, {"latency_us.min", 40}, {"latency_us.max", 9260},
        {"latency_us.mean", 170}, {"latency_us.stdev", 701}, {"latency_us.p50", NAN}, {"latency_us.p90", NAN},
        {"latency_us.p99", NAN}, {"errors.timeout", 0}, {"errors.status_4xx", 0}, {"errors_total", 0},
        {"incomplete", NAN}, {"errors.connect", NAN}, {NULL, 0}};
    sample(dir, "h2load-epoll.txt", peer_h2load_json, "h2load", h2_ok);
    const struct want h2_404[] = {{"requests", 63006}, {"throughput_rps", 63006}, {"errors.status_4xx", 63006},
                                  {"errors.status_5xx", 0}, {"errors_total", 63006}, {NULL, 0}};
    sample(dir, "h2load-404.txt", peer_h2load_json, "h2load", h2_404);
    const struct want h2_killed[] = {{"requests", 61009}, {"throughput_rps", 30504.5}, {"latency_us.max", 8430},
                                     {NULL, 0}};
    sample(dir, "h2load-killed.txt", peer_h2load_json, "h2load", h2_killed);
    /* Connection refused: h2load prints a summary of nothing (and counts no error). */
    const struct want h2_none[] = {{"requests", 0}, {"latency_us.mean", NAN}, {"errors_total", 0}, {NULL, 0}};
    sample(dir, "h2load-refused.txt", peer_h2load_json, "h2load", h2_none);
    refused(dir, "wrk-refused.txt", peer_h2load_json);
}

/* --- templates and the nginx preset ------------------------------------------------------------ */

static int has(const char *text, const char *line)
{
    return strstr(text, line) != NULL;
}

static void templates(void)
{
    struct ext_vars v = {.host = "127.0.0.1", .port = 12345, .dir = "/tmp/x y", .config = "/tmp/x y/server.conf",
                         .workers = 1, .connections = 100, .max_conns = 164, .nofile = 20000,
                         .idle_timeout = 42, .backlog = 4096};
    struct ut_str o = {0};
    char err[256] = "";
    ut_str_add(&o, "");
    /* Expanded first: o.s moves when it grows, and an argument of ok() may be read before another
     * argument's call has run (C leaves their order open). */
    int rc = ext_expand("a {port} { c } x{2} {Port} {host}:{port}{dir} }{", &v, &o, err, sizeof err);
    ok(rc == 0 &&
           !strcmp(o.s, "a 12345 { c } x{2} {Port} 127.0.0.1:12345/tmp/x y }{"),
       "placeholders are substituted, other braces are text (got '%s')", o.s);
    o.len = 0;
    ok(ext_expand("listen {prot};", &v, &o, err, sizeof err) < 0 && strstr(err, "{prot}"),
       "an unknown placeholder is an error naming it (%s)", err);

    const struct ext_preset *p = ext_preset("nginx");
    ok(p && p->http_only && !ext_preset("apache"), "nginx is a preset (HTTP only); apache is not");
    if (!p)
        return;
    o.len = 0;
    ok(ext_expand(p->config, &v, &o, err, sizeof err) == 0, "the nginx config expands");
    const char *c = o.s;
    /* One worker under a master that stays in the foreground, where the runner can stop it. */
    ok(has(c, "\nworker_processes 1;\n") && has(c, "\nmaster_process on;\n") && has(c, "\ndaemon off;\n"),
       "nginx: one worker, master in the foreground");
    ok(has(c, "listen 127.0.0.1:12345 backlog=4096;"), "nginx: listens on the run's host and port, our backlog");
    ok(has(c, "location = / {") && has(c, "default_type text/plain;") && has(c, "return 200 \"Hello, World!\";"),
       "nginx: / answers 200 text/plain 'Hello, World!' as servers/common/proto.c does");
    ok(has(c, "access_log off;") && has(c, "error_log stderr warn;"), "nginx: no access log, errors to stderr");
    ok(has(c, "keepalive_requests 1000;") && has(c, "keepalive_time 1h;") && has(c, "keepalive_timeout 42s;"),
       "nginx: keep-alive limited as our event loops by default, idle timeout as ours");
    ok(has(c, "worker_connections 164;") && has(c, "worker_rlimit_nofile 20000;"),
       "nginx: connections and open files from the point and the limit");
    /* Every file it may write is inside the private directory. */
    const char *paths[] = {"pid ", "client_body_temp_path ", "proxy_temp_path ", "fastcgi_temp_path ",
                           "uwsgi_temp_path ", "scgi_temp_path "};
    int inside = 1;
    for (size_t i = 0; i < sizeof paths / sizeof *paths; i++) {
        char want[128];
        snprintf(want, sizeof want, "%s\"/tmp/x y/", paths[i]);
        if (!has(c, want))
            inside = 0, printf("# missing: %s...\n", want);
    }
    ok(inside, "nginx: pid and temp paths are in the private directory, quoted");
    ok(has(c, "location / {\n            return 404;"), "nginx: any other path is 404, read from no file");
    regex_t re;
    regcomp(&re, "[{][a-z_]+[}]", REG_EXTENDED | REG_NOSUB);
    ok(regexec(&re, c, 0, NULL, 0) != 0, "nginx: no placeholder left");
    regfree(&re);
    ok(!has(c, "/etc/") && !has(c, "/var/"), "nginx: nothing under /etc or /var");
    int args = 0;
    for (const char *const *a = p->command; *a; a++)
        args += !strcmp(*a, "{config}") || !strcmp(*a, "{dir}") || !strcmp(*a, "stderr");
    ok(!strcmp(p->command[0], "nginx") && args == 3, "nginx command: -p {dir} -c {config} -e stderr");
    ut_str_free(&o);
}

/* `peers-test nginx DIR PORT`: the preset's files as the runner writes them, and its argv. */
static int write_nginx(const char *dir, int port)
{
    const struct ext_preset *p = ext_preset("nginx");
    struct cfg_server s = {.name = "nginx", .model = "nginx", .config = (char *)p->config, .http_only = 1};
    char *cmd[16];
    int n = 0;
    for (; p->command[n] && n < 15; n++)
        cmd[n] = (char *)p->command[n];
    cmd[n] = NULL;
    s.command = cmd, s.ncommand = n;
    struct ext_vars v = {.host = "127.0.0.1", .port = port, .dir = dir, .workers = 1, .connections = 10,
                         .max_conns = 74, .nofile = 1024, .idle_timeout = 30, .backlog = 4096};
    snprintf(v.config, sizeof v.config, "%s/server.conf", dir);
    struct spawn_argv a = {0};
    char err[UT_ERRLEN];
    if (ext_prepare(&s, &v, &a, err, sizeof err) < 0) {
        fprintf(stderr, "peers-test: %s\n", err);
        return 1;
    }
    for (int i = 0; i < a.n; i++)
        printf("%s%s", i ? " " : "", a.v[i]);
    printf("\n");
    spawn_argv_free(&a);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 4 && !strcmp(argv[1], "nginx"))
        return write_nginx(argv[2], atoi(argv[3]));
    if (argc != 2) {
        fprintf(stderr, "usage: peers-test SAMPLES-DIR | peers-test nginx DIR PORT\n");
        return 2;
    }
    readers(argv[1]);
    templates();
    return done_testing();
}
