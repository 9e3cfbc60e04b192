/* test_keepalive.c: unit tests of the engine's connection-level keep-alive limits (proto.c):
 * --keepalive-requests and --keepalive-time, and proto_awaits_request(), which --keepalive-timeout
 * relies on.
 *
 * The contract under test (proto.h, struct proto_cfg): the response that is a connection's
 * keepalive_requests-th, whatever its method or status, or that answers a request whose header block
 * completes once the connection is keepalive_time seconds old, carries Connection: close; the engine
 * then returns PROTO_CLOSE and answers nothing behind it, pipelined or not. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../servers/common/proto.h"
#include "tap.h"

#define GET  "GET / HTTP/1.1\r\nHost: a\r\n\r\n"
#define HEAD "HEAD / HTTP/1.1\r\nHost: a\r\n\r\n"
#define GET10 "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
#define BAD  "GET /nope HTTP/1.1\r\nHost: a\r\n\r\n" /* 404 */

static char outbuf[1 << 16];

struct answer {
    unsigned responses; /* status lines produced */
    unsigned closes;    /* of which carry Connection: close */
    int last_closes;    /* the last one carries it */
    int closed;         /* the engine returned PROTO_CLOSE */
    size_t used;        /* input consumed */
    size_t outlen;      /* bytes of output, from outbuf[0] */
};

static unsigned count(const char *p, size_t n, const char *needle, const char **last)
{
    unsigned k = 0;
    size_t len = strlen(needle);
    for (const char *q = p; (q = memmem(q, n - (size_t)(q - p), needle, len)) != NULL; q += len) {
        k++;
        if (last)
            *last = q;
    }
    return k;
}

/* Feed in[0..n) to c, as a server would, until the engine wants input it does not have or closes. */
static struct answer feed(struct proto_conn *c, const char *in, size_t n)
{
    struct answer a = { 0 };
    size_t total = 0;
    for (;;) {
        struct proto_out out = { .buf = outbuf + total, .len = 0, .cap = sizeof outbuf - total };
        size_t used = 0;
        enum proto_result r = proto_step(c, in + a.used, n - a.used, &used, &out);
        a.used += used;
        total += out.len;
        if (r == PROTO_CLOSE) {
            a.closed = 1;
            break;
        }
        if (r == PROTO_NEED_INPUT)
            break;
    }
    const char *last_status = NULL, *last_close = NULL;
    a.responses = count(outbuf, total, "HTTP/1.1 ", &last_status);
    a.closes = count(outbuf, total, "\r\nConnection: close\r\n", &last_close);
    a.last_closes = last_status && last_close > last_status;
    a.outlen = total;
    return a;
}

static struct answer once(const struct proto_cfg *cfg, const char *in)
{
    struct proto_conn c;
    proto_init(&c, cfg);
    struct answer a = feed(&c, in, strlen(in));
    proto_fini(&c);
    return a;
}

static void test_requests(void)
{
    struct proto_cfg cfg = { .kind = PROTO_HTTP, .docroot_fd = -1, .keepalive_requests = 3 };
    struct answer a = once(&cfg, GET GET GET GET GET);
    ok(a.responses == 3 && a.closes == 1 && a.last_closes && a.closed && a.used == 5 * strlen(GET),
       "--keepalive-requests 3: five pipelined GETs get three answers, the third with "
       "Connection: close, then the close (%u answers, %u close)", a.responses, a.closes);

    struct proto_conn c;
    proto_init(&c, &cfg);
    struct answer a1 = feed(&c, GET, strlen(GET));
    struct answer a2 = feed(&c, GET, strlen(GET));
    ok(a1.responses == 1 && !a1.closes && !a1.closed && a2.responses == 1 && !a2.closes && !a2.closed,
       "--keepalive-requests 3: the first and second answers keep the connection");
    struct answer a3 = feed(&c, GET, strlen(GET));
    ok(a3.responses == 1 && a3.last_closes && a3.closed,
       "--keepalive-requests 3: the third, sent after the others were answered, closes");
    struct answer a4 = feed(&c, GET, strlen(GET));
    ok(a4.responses == 0 && a4.closed, "after the close the engine answers nothing");
    proto_fini(&c);

    a = once(&cfg, HEAD GET HEAD GET);
    ok(a.responses == 3 && a.closes == 1 && a.last_closes && a.closed,
       "HEAD counts like GET: the third answer (a HEAD) closes");
    a = once(&cfg, GET10 GET10 GET10 GET10);
    ok(a.responses == 3 && a.closes == 1 && a.last_closes && a.closed &&
           count(outbuf, a.outlen, "Connection: keep-alive", NULL) == 2,
       "HTTP/1.0 keep-alive: two answers say keep-alive, the third says close");

    cfg.keepalive_requests = 1;
    a = once(&cfg, GET GET);
    ok(a.responses == 1 && a.last_closes && a.closed, "--keepalive-requests 1: one answer, closing");
    a = once(&cfg, BAD GET);
    ok(a.responses == 1 && a.last_closes && a.closed && memcmp(outbuf, "HTTP/1.1 404", 12) == 0,
       "an error response is an answer like any other: the first and last");

    cfg.keepalive_requests = 2;
    a = once(&cfg, GET BAD GET);
    ok(a.responses == 2 && a.last_closes && a.closed && count(outbuf, a.outlen, " 404 ", NULL) == 1,
       "--keepalive-requests 2: GET then an error: two answers, the error closes");

    cfg.keepalive_requests = 0;
    char many[40 * sizeof GET];
    many[0] = '\0';
    for (int i = 0; i < 40; i++)
        strcat(many, GET);
    a = once(&cfg, many);
    ok(a.responses == 40 && a.closes == 0 && !a.closed, "--keepalive-requests 0: no limit (40 kept)");
}

static void test_time(void)
{
    struct proto_cfg cfg = { .kind = PROTO_HTTP, .docroot_fd = -1, .keepalive_time = 10 };
    struct proto_conn c;

    proto_init(&c, &cfg);
    struct answer a = feed(&c, GET GET, 2 * strlen(GET));
    ok(a.responses == 2 && a.closes == 0 && !a.closed,
       "--keepalive-time 10: a young connection is kept alive");
    c.born_ns -= 10 * 1000000000LL; /* the connection is now 10 s old */
    a = feed(&c, GET GET, 2 * strlen(GET));
    ok(a.responses == 1 && a.last_closes && a.closed,
       "a request started once the connection is 10 s old is answered with Connection: close, and "
       "the one pipelined behind it is not answered");
    proto_fini(&c);

    proto_init(&c, &cfg);
    c.born_ns -= 9 * 1000000000LL;
    a = feed(&c, GET, strlen(GET));
    ok(a.responses == 1 && !a.closes && !a.closed, "at 9 s of 10 the connection is kept");
    proto_fini(&c);

    cfg.keepalive_time = 0;
    proto_init(&c, &cfg);
    c.born_ns -= 1000000 * 1000000000LL;
    a = feed(&c, GET, strlen(GET));
    ok(a.responses == 1 && !a.closes && !a.closed, "--keepalive-time 0: no age limit");
    proto_fini(&c);

    struct proto_cfg echo = { .kind = PROTO_ECHO, .docroot_fd = -1, .keepalive_requests = 1,
                              .keepalive_time = 1 };
    proto_init(&c, &echo);
    c.born_ns -= 5 * 1000000000LL;
    size_t used;
    struct proto_out out = { .buf = outbuf, .len = 0, .cap = sizeof outbuf };
    enum proto_result r = proto_step(&c, "abc", 3, &used, &out);
    r = r == PROTO_NEED_INPUT ? proto_step(&c, "def", 3, &used, &out) : r;
    ok(r == PROTO_NEED_INPUT && out.len == 6, "echo ignores the keep-alive limits (HTTP only)");
    proto_fini(&c);
}

static void test_awaits_request(void)
{
    struct proto_cfg cfg = { .kind = PROTO_HTTP, .docroot_fd = -1 };
    struct proto_conn c;
    static const char partial[] = "GET / HT";
    static const char with_body[] = "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nab";

    proto_init(&c, &cfg);
    ok(!proto_awaits_request(&c), "a new connection is not yet waiting for a *next* request");
    feed(&c, GET, strlen(GET));
    ok(proto_awaits_request(&c), "after an answer it waits for the next request");
    struct answer a = feed(&c, partial, sizeof partial - 1);
    ok(a.used == 0 && !proto_awaits_request(&c), "part of a request head seen: not waiting");
    proto_fini(&c);

    proto_init(&c, &cfg);
    a = feed(&c, with_body, sizeof with_body - 1);
    ok(a.responses == 1 && !proto_awaits_request(&c),
       "answered, but 3 bytes of its body are still to come: not waiting");
    feed(&c, "cde", 3);
    ok(proto_awaits_request(&c), "the body is in: waiting for the next request");
    proto_fini(&c);
}

/* --keepalive-yield: the model says whether a client waits for a worker; the engine asks it for
 * every answer it makes. */
static int waiting_now;
static int waiting_calls;
static int clients_waiting(void)
{
    waiting_calls++;
    return waiting_now;
}

static void test_yield(void)
{
    struct proto_cfg cfg = { .kind = PROTO_HTTP, .docroot_fd = -1, .keepalive_requests = 100,
                             .yield = clients_waiting };
    struct proto_conn c;
    proto_init(&c, &cfg);
    waiting_now = 0;
    struct answer a = feed(&c, GET GET, 2 * strlen(GET));
    ok(a.responses == 2 && a.closes == 0 && !a.closed && waiting_calls == 2,
       "--keepalive-yield: nobody waiting, two answers kept alive (asked %d times)", waiting_calls);
    waiting_now = 1;
    a = feed(&c, GET GET, 2 * strlen(GET));
    ok(a.responses == 1 && a.last_closes && a.closed,
       "--keepalive-yield: a client waits, the next answer carries Connection: close and closes");
    proto_fini(&c);

    cfg.yield = NULL;
    a = once(&cfg, GET GET);
    ok(a.responses == 2 && a.closes == 0 && !a.closed, "without the yield a waiting client changes nothing");
}

int main(void)
{
    test_requests();
    test_time();
    test_yield();
    test_awaits_request();
    return done_testing();
}
