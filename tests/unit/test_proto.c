/* test_proto.c: unit tests of the protocol engine (servers/common/proto.c, static.c).
 *
 * Every request is fed whole, split in two at every byte, and one byte at a time, the way a server
 * feeds it (unconsumed bytes kept and offered again with more behind them); all three must give the
 * same output. Input is placed right against a PROT_NONE page and the output buffer ends at one, so an
 * over-read or over-write crashes instead of passing quietly. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../../servers/common/proto.h"
#include "tap.h"

#define ARENA (256u * 1024u)
#define OUT_MAX (4u << 20)

static char *in_guard, *out_guard; /* first byte of the PROT_NONE page after each arena */

static char *guarded_end(size_t size)
{
    size_t pg = (size_t)sysconf(_SC_PAGESIZE), len = (size + pg - 1) / pg * pg;
    char *p = mmap(NULL, len + pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED || mprotect(p + len, pg, PROT_NONE) != 0) {
        perror("mmap");
        exit(2);
    }
    return p + len;
}

struct run {
    char *out;          /* everything the engine produced, in order */
    size_t outlen;
    int closed;         /* PROTO_CLOSE was returned */
    unsigned requests;
    size_t pending_max; /* most unconsumed input the caller had to keep */
    int stuck;          /* NEED_ROOM without progress: a bug */
};

/* Feed req[0..n) in pieces of `chunk` bytes (0: at once) with an output buffer of outcap bytes. */
static void drive(const struct proto_cfg *cfg, const char *req, size_t n, size_t chunk,
                  size_t outcap, struct run *r)
{
    static char pend[ARENA];
    struct proto_conn c;
    size_t plen = 0, fed = 0;

    r->outlen = 0;
    r->closed = r->stuck = 0;
    r->requests = 0;
    r->pending_max = 0;
    proto_init(&c, cfg);
    do {
        size_t k = chunk && chunk < n - fed ? chunk : n - fed;
        memcpy(pend + plen, req + fed, k);
        plen += k;
        fed += k;
        for (int spins = 0;; spins++) {
            char *in = in_guard - plen;
            memcpy(in, pend, plen);
            struct proto_out out = { .buf = out_guard - outcap, .len = 0, .cap = outcap };
            size_t used;
            enum proto_result res = proto_step(&c, in, plen, &used, &out);
            r->requests += proto_take_requests(&c);
            if (r->outlen + out.len <= OUT_MAX)
                memcpy(r->out + r->outlen, out.buf, out.len);
            r->outlen += out.len;
            memmove(pend, pend + used, plen - used);
            plen -= used;
            if (plen > r->pending_max)
                r->pending_max = plen;
            if (res == PROTO_CLOSE) {
                r->closed = 1;
                goto end;
            }
            if (res == PROTO_NEED_INPUT)
                break;
            if (used == 0 && out.len == 0 && spins > 2) {
                r->stuck = 1;
                goto end;
            }
        }
    } while (fed < n);
end:
    proto_fini(&c);
}

/* Output with every Date value blanked, so runs a second apart compare equal. */
static size_t normalize(char *s, size_t n)
{
    for (size_t i = 0; i + 6 < n; i++)
        if (memcmp(s + i, "Date: ", 6) == 0 && i + 6 + 29 <= n)
            memset(s + i + 6, 'X', 29);
    return n;
}

static int first_status(const struct run *r)
{
    const char *p = r->out;
    size_t n = r->outlen;
    if (n >= 25 && memcmp(p, "HTTP/1.1 100 Continue\r\n\r\n", 25) == 0)
        p += 25, n -= 25;
    return n >= 12 && memcmp(p, "HTTP/1.1 ", 9) == 0 ? atoi(p + 9) : -1;
}

static int contains(const struct run *r, const char *needle)
{
    return memmem(r->out, r->outlen, needle, strlen(needle)) != NULL;
}

static struct run whole, part;

/* Run a request whole, split at every byte, and byte by byte; all must agree. Leaves `whole` set. */
static int check_splits(const struct proto_cfg *cfg, const char *name, const char *req, size_t n)
{
    int same = 1;
    drive(cfg, req, n, 0, PROTO_OUT_MIN * 4, &whole);
    normalize(whole.out, whole.outlen);
    for (size_t k = 1; k <= n && same; k++) {
        /* k < n: pieces of k bytes (the first split is at k); k == n: one byte at a time */
        drive(cfg, req, n, k == n ? 1 : k, PROTO_OUT_MIN * 4, &part);
        normalize(part.out, part.outlen);
        same = part.outlen == whole.outlen && memcmp(part.out, whole.out, whole.outlen) == 0 &&
               part.closed == whole.closed && part.requests == whole.requests && !part.stuck;
        if (!same)
            diag("%s: differs when fed in pieces of %zu", name, k == n ? (size_t)1 : k);
    }
    return ok(same && !whole.stuck, "%s: same answer whole, in pieces of every size, byte by byte",
              name);
}

struct status_case {
    const char *name, *req;
    int status;   /* of the first response */
    int closes;   /* the engine must close after it */
    unsigned requests;
};

static const struct status_case cases[] = {
    { "GET /", "GET / HTTP/1.1\r\nHost: a\r\n\r\n", 200, 0, 1 },
    { "query ignored", "GET /?x=1 HTTP/1.1\r\nHost: a\r\n\r\n", 200, 0, 1 },
    { "HTTP/1.0 closes", "GET / HTTP/1.0\r\n\r\n", 200, 1, 1 },
    { "HTTP/1.0 keep-alive", "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", 200, 0, 1 },
    { "Connection: close", "GET / HTTP/1.1\r\nHost: a\r\nConnection: Close\r\n\r\n", 200, 1, 1 },
    { "token list close", "GET / HTTP/1.1\r\nHost: a\r\nConnection: foo, close\r\n\r\n", 200, 1, 1 },
    { "HEAD", "HEAD / HTTP/1.1\r\nHost: a\r\n\r\n", 200, 0, 1 },
    { "leading CRLF ignored", "\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", 200, 0, 1 },
    { "/bytes/10", "GET /bytes/10 HTTP/1.1\r\nHost: a\r\n\r\n", 200, 0, 1 },
    { "GET with a body", "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello", 200, 0, 1 },
    { "pipelined three", "GET / HTTP/1.1\r\nHost: a\r\n\r\nGET /bytes/3 HTTP/1.1\r\nHost: a\r\n\r\n"
      "HEAD / HTTP/1.1\r\nHost: a\r\n\r\n", 200, 0, 3 },
    { "body then pipelined", "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc"
      "GET / HTTP/1.1\r\nHost: a\r\n\r\n", 200, 0, 2 },
    { "no Host in 1.0 is fine", "GET / HTTP/1.0\r\nUser-Agent: x\r\n\r\n", 200, 1, 1 },
    { "POST: 405", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n", 405, 1, 1 },
    { "DELETE: 501", "DELETE /x HTTP/1.1\r\nHost: a\r\n\r\n", 501, 1, 1 },
    { "junk: 400", "GARBAGE\r\n\r\n", 400, 1, 1 },
    { "junk before method: 400", "\x01GET / HTTP/1.1\r\nHost: a\r\n\r\n", 400, 1, 1 },
    { "missing version: 400", "GET /\r\n\r\n", 400, 1, 1 },
    { "HTTP/1: 400", "GET / HTTP/1\r\nHost: a\r\n\r\n", 400, 1, 1 },
    { "lower-case version: 400", "GET / http/1.1\r\nHost: a\r\n\r\n", 400, 1, 1 },
    { "HTTP/9.9: 505", "GET / HTTP/9.9\r\nHost: a\r\n\r\n", 505, 1, 1 },
    { "HTTP/2.0: 505", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505, 1, 1 },
    { "two spaces: 400", "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400, 1, 1 },
    { "absolute-form", "GET http://a/ HTTP/1.1\r\nHost: a\r\n\r\n", 200, 0, 1 },
    { "fragment: 400", "GET /#x HTTP/1.1\r\nHost: a\r\n\r\n", 400, 1, 1 },
    { "no Host: 400", "GET / HTTP/1.1\r\n\r\n", 400, 1, 1 },
    { "two Host: 400", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, 1, 1 },
    { "bare LF: 400", "GET / HTTP/1.1\nHost: a\n\n", 400, 1, 1 },
    { "bare CR in value: 400", "GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n", 400, 1, 1 },
    { "bare CR in request line: 400", "GET / HTTP/1.1\rXHost: a\r\n\r\n", 400, 1, 1 },
    { "bare CR in target: 400", "GET /a\rb HTTP/1.1\r\nHost: a\r\n\r\n", 400, 1, 1 },
    { "CTL in value: 400", "GET / HTTP/1.1\r\nHost: a\x01\r\n\r\n", 400, 1, 1 },
    { "space before colon: 400", "GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400, 1, 1 },
    { "obs-fold: 400", "GET / HTTP/1.1\r\nHost: a\r\nX: b\r\n c\r\n\r\n", 400, 1, 1 },
    { "no colon: 400", "GET / HTTP/1.1\r\nHost: a\r\nnocolon\r\n\r\n", 400, 1, 1 },
    { "TE gzip, chunked: 501", "GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
      501, 1, 1 },
    { "TE and CL: 400", "GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
      "Content-Length: 3\r\n\r\nabc", 400, 1, 1 },
    { "negative CL: 400", "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", 400, 1, 1 },
    { "non-numeric CL: 400", "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1x\r\n\r\n", 400, 1, 1 },
    { "30-digit CL: 400", "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: "
      "123456789012345678901234567890\r\n\r\n", 400, 1, 1 },
    { "duplicate CL: 400", "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n"
      "Content-Length: 1\r\n\r\nx", 400, 1, 1 },
    { "CL over the cap: 413", "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 2000000\r\n\r\n", 413,
      1, 1 },
    { "/bytes/ too big: 400", "GET /bytes/2000000000 HTTP/1.1\r\nHost: a\r\n\r\n", 400, 1, 1 },
    { "/bytes/x: 400", "GET /bytes/1x HTTP/1.1\r\nHost: a\r\n\r\n", 400, 1, 1 },
    { "no docroot: 404", "GET /index.html HTTP/1.1\r\nHost: a\r\n\r\n", 404, 1, 1 },
    { "request after close ignored", "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
      "GET / HTTP/1.1\r\nHost: a\r\n\r\n", 200, 1, 1 },
};

static void test_statuses(const struct proto_cfg *cfg)
{
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct status_case *c = &cases[i];
        size_t n = strlen(c->req);
        check_splits(cfg, c->name, c->req, n);
        ok(first_status(&whole) == c->status && whole.closed == c->closes &&
               whole.requests == c->requests,
           "%s: status %d, %s, %u request(s) (got %d, %s, %u)", c->name, c->status,
           c->closes ? "closes" : "stays open", c->requests, first_status(&whole),
           whole.closed ? "closes" : "stays open", whole.requests);
    }
    static const char nul[] = "GET / HTTP/1.1\r\nHost: a\0b\r\n\r\n";
    check_splits(cfg, "NUL in value", nul, sizeof nul - 1);
    ok(first_status(&whole) == 400 && whole.closed, "NUL in value: 400 and close");
}

static void test_bodies(const struct proto_cfg *cfg)
{
    const char *get = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
    drive(cfg, get, strlen(get), 0, PROTO_OUT_MIN, &whole);
    ok(whole.outlen > 13 && memcmp(whole.out + whole.outlen - 13, "Hello, World!", 13) == 0 &&
           contains(&whole, "Content-Length: 13\r\n") && contains(&whole, "Server: cmb\r\n") &&
           contains(&whole, "Content-Type: text/plain\r\n") && contains(&whole, " GMT\r\n"),
       "GET /: Hello, World! with Content-Length, Server, Content-Type and Date");

    const char *head = "HEAD / HTTP/1.1\r\nHost: a\r\n\r\n";
    drive(cfg, head, strlen(head), 0, PROTO_OUT_MIN, &whole);
    ok(contains(&whole, "Content-Length: 13\r\n") &&
           memcmp(whole.out + whole.outlen - 4, "\r\n\r\n", 4) == 0,
       "HEAD /: GET's Content-Length, no body");

    const char *ka = "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n";
    drive(cfg, ka, strlen(ka), 0, PROTO_OUT_MIN, &whole);
    ok(contains(&whole, "Connection: keep-alive\r\n"), "HTTP/1.0 keep-alive is confirmed");

    const char *e405 = "POST / HTTP/1.1\r\nHost: a\r\n\r\n";
    drive(cfg, e405, strlen(e405), 0, PROTO_OUT_MIN, &whole);
    ok(contains(&whole, "Allow: GET, HEAD, OPTIONS\r\n") && contains(&whole, "Connection: close\r\n"),
       "405 names the allowed methods and closes");

    const char *cont = "GET / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 2\r\n"
                       "\r\nhi";
    drive(cfg, cont, strlen(cont), 0, PROTO_OUT_MIN, &whole);
    ok(whole.outlen > 25 && memcmp(whole.out, "HTTP/1.1 100 Continue\r\n\r\n", 25) == 0 &&
           first_status(&whole) == 200 && !whole.closed,
       "Expect: 100-continue gets 100 Continue, then the response");

    /* A large generated body through a minimal output buffer: NEED_ROOM many times. */
    const char *big = "GET /bytes/1000000 HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n";
    drive(cfg, big, strlen(big), 0, PROTO_OUT_MIN, &whole);
    const char *body = memmem(whole.out, whole.outlen, "\r\n\r\n", 4);
    int pattern_ok = body != NULL;
    for (size_t i = 0; pattern_ok && i < 1000000; i++)
        pattern_ok = body[4 + i] == (char)('a' + i % 26);
    ok(pattern_ok && whole.requests == 2 &&
           memcmp(whole.out + whole.outlen - 13, "Hello, World!", 13) == 0,
       "/bytes/1000000 through a %u-byte output buffer: pattern intact, next request answered",
       PROTO_OUT_MIN);
}

/* Limits: the verdict comes before the caller must keep more than PROTO_IN_MIN bytes. */
static void test_limits(const struct proto_cfg *cfg)
{
    static char req[64 * 1024];
    size_t n;

    n = (size_t)snprintf(req, sizeof req, "GET /");
    memset(req + n, 'a', 9000);
    n += 9000;
    n += (size_t)snprintf(req + n, sizeof req - n, " HTTP/1.1\r\nHost: a\r\n\r\n");
    drive(cfg, req, n, 0, PROTO_OUT_MIN, &whole);
    ok(first_status(&whole) == 414 && whole.closed, "9 KiB target: 414 (complete request)");
    drive(cfg, req, 9000, 512, PROTO_OUT_MIN, &whole);
    ok(first_status(&whole) == 414 && whole.pending_max <= PROTO_IN_MIN,
       "9 KiB target still arriving: 414 before %u bytes are pending (max %zu)", PROTO_IN_MIN,
       whole.pending_max);

    /* A long request line that comes with its LF in one piece, headers behind it and no end yet:
     * the verdict must not wait for a header section that would overflow the caller's buffer. */
    n = (size_t)snprintf(req, sizeof req, "GET /");
    memset(req + n, 'a', 16000);
    n += 16000;
    n += (size_t)snprintf(req + n, sizeof req - n, " HTTP/1.1\r\nHost: a\r\nX-A: ");
    memset(req + n, 'b', 300);
    n += 300;
    drive(cfg, req, n, 0, PROTO_OUT_MIN, &whole);
    ok(first_status(&whole) == 414 && whole.closed && n < PROTO_IN_MIN,
       "16000-byte request line with its LF and a partial header in one piece: 414 (got %d)",
       first_status(&whole));

    n = (size_t)snprintf(req, sizeof req, "GET / HTTP/1.1\r\nHost: a\r\nX-Big: ");
    memset(req + n, 'b', 9 * 1024);
    n += 9 * 1024;
    n += (size_t)snprintf(req + n, sizeof req - n, "\r\n\r\n");
    drive(cfg, req, n, 0, PROTO_OUT_MIN, &whole);
    ok(first_status(&whole) == 431 && whole.closed, "9 KiB header line: 431");
    drive(cfg, req, n - 4, 100, PROTO_OUT_MIN, &whole);
    ok(first_status(&whole) == 431 && whole.pending_max <= PROTO_IN_MIN,
       "header section still arriving: 431 before %u bytes are pending (max %zu)", PROTO_IN_MIN,
       whole.pending_max);

    n = (size_t)snprintf(req, sizeof req, "GET / HTTP/1.1\r\nHost: a\r\n");
    for (int i = 0; i < 200; i++)
        n += (size_t)snprintf(req + n, sizeof req - n, "X-%d: v\r\n", i);
    n += (size_t)snprintf(req + n, sizeof req - n, "\r\n");
    drive(cfg, req, n, 0, PROTO_OUT_MIN, &whole);
    ok(first_status(&whole) == 431, "200 header fields: 431");

    n = (size_t)snprintf(req, sizeof req, "GET / HTTP/1.1\r\nHost: a\r\n");
    for (int i = 0; i < 90; i++)
        n += (size_t)snprintf(req + n, sizeof req - n, "X-%d: v\r\n", i);
    n += (size_t)snprintf(req + n, sizeof req - n, "\r\n");
    drive(cfg, req, n, 0, PROTO_OUT_MIN, &whole);
    ok(first_status(&whole) == 200, "90 header fields: accepted");

    /* A body at the cap is read and discarded, and the next request is still parsed. */
    n = (size_t)snprintf(req, sizeof req, "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: %u\r\n\r\n",
                         PROTO_BODY_MAX);
    static char body[PROTO_BODY_MAX + 256];
    memcpy(body, req, n);
    memset(body + n, 'z', PROTO_BODY_MAX);
    size_t m = n + PROTO_BODY_MAX;
    m += (size_t)snprintf(body + m, sizeof body - m, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    drive(cfg, body, m, 4096, PROTO_OUT_MIN, &whole);
    ok(whole.requests == 2 && !whole.closed && whole.pending_max <= PROTO_IN_MIN,
       "a 1 MiB body is discarded in pieces and the next request answered");
}

/* ---- Host, target forms, methods, chunked bodies ---- */

struct answer_case {
    const char *name, *req;
    int status;         /* of the first response */
    int closes;         /* the engine must close after the last */
    unsigned requests;
    const char *needle; /* must appear in the output, or NULL */
};

#define GH "GET / HTTP/1.1\r\nHost: a\r\n"
#define TE_CHUNKED "Transfer-Encoding: chunked\r\n\r\n"
#define CHUNKED GH TE_CHUNKED
#define ECHO_CHUNKED "POST /echo HTTP/1.1\r\nHost: a\r\n" TE_CHUNKED
#define NEXT "GET /bytes/3 HTTP/1.1\r\nHost: a\r\n\r\n" /* a pipelined request: its answer ends "abc" */

static const struct answer_case answers[] = {
    /* Host (RFC 9112 3.2, RFC 9110 7.2): one valid uri-host [":" port] */
    { "Host user@host: 400", "GET / HTTP/1.1\r\nHost: user@a\r\n\r\n", 400, 1, 1, NULL },
    { "Host with a path: 400", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400, 1, 1, NULL },
    { "empty Host: 400", "GET / HTTP/1.1\r\nHost:\r\n\r\n", 400, 1, 1, NULL },
    { "Host of spaces: 400", "GET / HTTP/1.1\r\nHost:   \r\n\r\n", 400, 1, 1, NULL },
    { "Host a, b: 400", "GET / HTTP/1.1\r\nHost: a, b\r\n\r\n", 400, 1, 1, NULL },
    { "Host a,b: 400", "GET / HTTP/1.1\r\nHost: a,b\r\n\r\n", 400, 1, 1, NULL },
    { "Host a b: 400", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400, 1, 1, NULL },
    { "Host a<TAB>b: 400", "GET / HTTP/1.1\r\nHost: a\tb\r\n\r\n", 400, 1, 1, NULL },
    { "Host :80: 400", "GET / HTTP/1.1\r\nHost: :80\r\n\r\n", 400, 1, 1, NULL },
    { "Host port 65536: 400", "GET / HTTP/1.1\r\nHost: a:65536\r\n\r\n", 400, 1, 1, NULL },
    { "Host port 8x: 400", "GET / HTTP/1.1\r\nHost: a:8x\r\n\r\n", 400, 1, 1, NULL },
    { "Host two ports: 400", "GET / HTTP/1.1\r\nHost: a:1:2\r\n\r\n", 400, 1, 1, NULL },
    { "Host [::1: 400", "GET / HTTP/1.1\r\nHost: [::1\r\n\r\n", 400, 1, 1, NULL },
    { "Host [12345::]: 400", "GET / HTTP/1.1\r\nHost: [12345::]\r\n\r\n", 400, 1, 1, NULL },
    { "Host [::1]x: 400", "GET / HTTP/1.1\r\nHost: [::1]x\r\n\r\n", 400, 1, 1, NULL },
    { "Host [v1]: 400", "GET / HTTP/1.1\r\nHost: [v1]\r\n\r\n", 400, 1, 1, NULL },
    { "Host a%2: 400", "GET / HTTP/1.1\r\nHost: a%2\r\n\r\n", 400, 1, 1, NULL },
    { "Host a%zz: 400", "GET / HTTP/1.1\r\nHost: a%zz\r\n\r\n", 400, 1, 1, NULL },
    { "Host with a port", "GET / HTTP/1.1\r\nHost: a.example:8080\r\n\r\n", 200, 0, 1, NULL },
    { "Host with an empty port", "GET / HTTP/1.1\r\nHost: a:\r\n\r\n", 200, 0, 1, NULL },
    { "Host IPv4", "GET / HTTP/1.1\r\nHost: 127.0.0.1:80\r\n\r\n", 200, 0, 1, NULL },
    { "Host IPv6", "GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n", 200, 0, 1, NULL },
    { "Host IPv4-mapped IPv6", "GET / HTTP/1.1\r\nHost: [::ffff:10.0.0.1]\r\n\r\n", 200, 0, 1,
      NULL },
    { "Host IPvFuture", "GET / HTTP/1.1\r\nHost: [v1.fe80::a+en1]\r\n\r\n", 200, 0, 1, NULL },
    { "Host pct-encoded and sub-delims", "GET / HTTP/1.1\r\nHost: a%2Db!$&'()*+;=~_\r\n\r\n", 200,
      0, 1, NULL },
    { "Host OWS trimmed", "GET / HTTP/1.1\r\nHost: \t a \t\r\n\r\n", 200, 0, 1, NULL },
    { "invalid Host in HTTP/1.0: 400", "GET / HTTP/1.0\r\nHost: a b\r\n\r\n", 400, 1, 1, NULL },
    { "empty Host in HTTP/1.0: 400", "GET / HTTP/1.0\r\nHost:\r\n\r\n", 400, 1, 1, NULL },
    { "Host after other fields", "GET / HTTP/1.1\r\nX: y\r\nhOsT: a\r\n\r\n", 200, 0, 1, NULL },
    /* request-target forms (RFC 9112 3.2) */
    { "absolute-form: its authority wins over Host", "GET http://b/bytes/3 HTTP/1.1\r\nHost: a\r\n\r\n",
      200, 0, 1, "\r\n\r\nabc" },
    { "absolute-form with an empty Host", "GET http://a HTTP/1.1\r\nHost:\r\n\r\n", 200, 0, 1,
      "Hello, World!" },
    { "absolute-form HTTPS://A:443?q", "GET HTTPS://A:443?q HTTP/1.1\r\nHost: a\r\n\r\n", 200, 0, 1,
      "Hello, World!" },
    { "absolute-form without Host: 400", "GET http://a/ HTTP/1.1\r\n\r\n", 400, 1, 1, NULL },
    { "absolute-form with an invalid Host: 400", "GET http://a/ HTTP/1.1\r\nHost: a b\r\n\r\n", 400,
      1, 1, NULL },
    { "absolute-form with userinfo: 400", "GET http://u@a/ HTTP/1.1\r\nHost: a\r\n\r\n", 400, 1, 1,
      NULL },
    { "absolute-form with an empty host: 400", "GET http:///x HTTP/1.1\r\nHost: a\r\n\r\n", 400, 1,
      1, NULL },
    { "absolute-form ftp: 400", "GET ftp://a/ HTTP/1.1\r\nHost: a\r\n\r\n", 400, 1, 1, NULL },
    { "authority-form: 400", "CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n", 400, 1, 1, NULL },
    { "GET *: 400", "GET * HTTP/1.1\r\nHost: a\r\n\r\n", 400, 1, 1, NULL },
    /* methods: OPTIONS, POST /echo, 405 with Allow, 501 */
    { "OPTIONS *", "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n" NEXT, 200, 0, 2,
      "Content-Length: 0\r\nAllow: GET, HEAD, POST, OPTIONS\r\n\r\n" },
    { "OPTIONS /", "OPTIONS / HTTP/1.1\r\nHost: a\r\n\r\n", 200, 0, 1,
      "Content-Length: 0\r\nAllow: GET, HEAD, OPTIONS\r\n\r\n" },
    { "OPTIONS /echo", "OPTIONS /echo HTTP/1.1\r\nHost: a\r\n\r\n", 200, 0, 1,
      "Allow: POST, OPTIONS\r\n\r\n" },
    { "OPTIONS /bytes/7", "OPTIONS /bytes/7 HTTP/1.1\r\nHost: a\r\n\r\n", 200, 0, 1,
      "Content-Length: 0\r\nAllow: GET, HEAD, OPTIONS\r\n\r\n" },
    { "OPTIONS /bytes/x: 400", "OPTIONS /bytes/x HTTP/1.1\r\nHost: a\r\n\r\n", 400, 1, 1, NULL },
    { "OPTIONS /nope: 404", "OPTIONS /nope HTTP/1.1\r\nHost: a\r\n\r\n", 404, 1, 1, NULL },
    { "OPTIONS with a body", "OPTIONS / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nxyz" NEXT,
      200, 0, 2, "\r\n\r\nabc" },
    { "POST /echo", "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello" NEXT, 200, 0,
      2, "Content-Type: application/octet-stream\r\nContent-Length: 5\r\n\r\nhelloHTTP/1.1 200" },
    { "POST /echo?q without a body", "POST /echo?q HTTP/1.1\r\nHost: a\r\n\r\n" NEXT, 200, 0, 2,
      "Content-Length: 0\r\n\r\nHTTP/1.1 200" },
    { "POST /echo, Connection: close", "POST /echo HTTP/1.1\r\nHost: a\r\nConnection: close\r\n"
      "Content-Length: 3\r\n\r\nabc" NEXT, 200, 1, 1, "Connection: close\r\n\r\nabc" },
    { "POST /echo in HTTP/1.0", "POST /echo HTTP/1.0\r\nContent-Length: 2\r\n\r\nhi", 200, 1, 1,
      "Connection: close\r\n\r\nhi" },
    { "POST /echo, 100-continue", "POST /echo HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n"
      "Content-Length: 2\r\n\r\nhi", 200, 0, 1, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK" },
    { "POST /echo chunked", ECHO_CHUNKED "5\r\nhello\r\n6;x=y\r\n world\r\n0\r\n\r\n" NEXT, 200,
      0, 2, "Content-Length: 11\r\n\r\nhello worldHTTP/1.1 200" },
    { "POST /echo chunked, empty", ECHO_CHUNKED "0\r\n\r\n" NEXT, 200, 0, 2,
      "Content-Length: 0\r\n\r\nHTTP/1.1 200" },
    { "POST /echo chunked, Connection: close", "POST /echo HTTP/1.1\r\nHost: a\r\n"
      "Connection: close\r\n" TE_CHUNKED "3\r\nabc\r\n0\r\n\r\n" NEXT, 200, 1, 1,
      "Connection: close\r\n\r\nabc" },
    { "POST /echo chunked, 100-continue", "POST /echo HTTP/1.1\r\nHost: a\r\n"
      "Expect: 100-continue\r\n" TE_CHUNKED "2\r\nhi\r\n0\r\n\r\n", 200, 0, 1,
      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK" },
    { "POST /echo chunked, malformed: 400", ECHO_CHUNKED "2\r\nhi\r\nz\r\n\r\n", 400, 1, 1, NULL },
    { "POST /: 405", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n\r\nx", 405, 1, 1,
      "Allow: GET, HEAD, OPTIONS\r\n" },
    { "POST /bytes/3: 405", "POST /bytes/3 HTTP/1.1\r\nHost: a\r\n\r\n", 405, 1, 1,
      "Allow: GET, HEAD, OPTIONS\r\n" },
    { "GET /echo: 405", "GET /echo HTTP/1.1\r\nHost: a\r\n\r\n", 405, 1, 1,
      "Allow: POST, OPTIONS\r\n" },
    { "HEAD /echo: 405", "HEAD /echo HTTP/1.1\r\nHost: a\r\n\r\n", 405, 1, 1,
      "Allow: POST, OPTIONS\r\n" },
    { "POST /nope: 404", "POST /nope HTTP/1.1\r\nHost: a\r\n\r\n", 404, 1, 1, NULL },
    { "PUT: 501", "PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n\r\nx", 501, 1, 1, NULL },
    { "lower-case get: 501", "get / HTTP/1.1\r\nHost: a\r\n\r\n", 501, 1, 1, NULL },
    { "8-character method: 501", "PROPFIND / HTTP/1.1\r\nHost: a\r\n\r\n", 501, 1, 1, NULL },
    /* valid chunked bodies, read and discarded, then the next request */
    { "chunked body", CHUNKED "5\r\nhello\r\n0\r\n\r\n" NEXT, 200, 0, 2, "\r\n\r\nabc" },
    { "chunked: the answer waits for the body", CHUNKED "5\r\nhel", -1, 0, 0, NULL },
    { "chunked: hex digits of both cases", CHUNKED "a\r\n0123456789\r\nA\r\n0123456789\r\n"
      "0\r\n\r\n" NEXT, 200, 0, 2, "\r\n\r\nabc" },
    { "chunked: leading zeros", CHUNKED "0005\r\nhello\r\n000\r\n\r\n" NEXT, 200, 0, 2,
      "\r\n\r\nabc" },
    { "chunked: extensions", CHUNKED "5;a\r\nhello\r\n5;a=b;c=\"d;\\\"e\"\r\nhello\r\n0;last\r\n"
      "\r\n" NEXT, 200, 0, 2, "\r\n\r\nabc" },
    { "chunked: BWS in extensions", CHUNKED "5 ;\ta = b ; c=\"\"\r\nhello\r\n0\r\n\r\n" NEXT, 200,
      0, 2, "\r\n\r\nabc" },
    { "chunked: trailers discarded", CHUNKED "5\r\nhello\r\n0\r\nX-T: v\r\nContent-Length: 99\r\n"
      "Host: x y\r\nTransfer-Encoding: gzip\r\n\r\n" NEXT, 200, 0, 2, "\r\n\r\nabc" },
    { "chunked: Chunked, empty list elements", GH "Transfer-Encoding: , Chunked,\r\n\r\n0\r\n\r\n"
      NEXT, 200, 0, 2, "\r\n\r\nabc" },
    { "chunked: HEAD", "HEAD / HTTP/1.1\r\nHost: a\r\n" TE_CHUNKED "1\r\nx\r\n0\r\n\r\n" NEXT, 200,
      0, 2, "Content-Length: 13\r\n\r\nHTTP/1.1 200" },
    { "chunked: Connection: close", GH "Connection: close\r\n" TE_CHUNKED "0\r\n\r\n" NEXT, 200, 1,
      1, "Hello, World!" },
    { "chunked: 100-continue", GH "Expect: 100-continue\r\n" TE_CHUNKED "0\r\n\r\n", 200, 0, 1,
      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK" },
    /* malformed chunked bodies: 400 and close */
    { "chunk size -5: 400", CHUNKED "-5\r\nhello\r\n0\r\n\r\n", 400, 1, 1, NULL },
    { "chunk size +5: 400", CHUNKED "+5\r\nhello\r\n0\r\n\r\n", 400, 1, 1, NULL },
    { "chunk size 0x5: 400", CHUNKED "0x5\r\nhello\r\n0\r\n\r\n", 400, 1, 1, NULL },
    { "chunk size 1_0: 400", CHUNKED "1_0\r\n0123456789abcdef\r\n0\r\n\r\n", 400, 1, 1, NULL },
    { "chunk size _5: 400", CHUNKED "_5\r\nhello\r\n0\r\n\r\n", 400, 1, 1, NULL },
    { "space before the chunk size: 400", CHUNKED " 5\r\nhello\r\n0\r\n\r\n", 400, 1, 1, NULL },
    { "space after the chunk size: 400", CHUNKED "5 \r\nhello\r\n0\r\n\r\n", 400, 1, 1, NULL },
    { "tab after the chunk size: 400", CHUNKED "5\t\r\nhello\r\n0\r\n\r\n", 400, 1, 1, NULL },
    { "space after the last chunk's size: 400", CHUNKED "0 \r\n\r\n", 400, 1, 1, NULL },
    { "chunk size over 64 bits: 400", CHUNKED "10000000000000000\r\nx\r\n", 400, 1, 1, NULL },
    { "empty chunk size: 400", CHUNKED "\r\nhello\r\n0\r\n\r\n", 400, 1, 1, NULL },
    { "no chunk size, an extension: 400", CHUNKED ";a\r\n0\r\n\r\n", 400, 1, 1, NULL },
    { "extension without a name: 400", CHUNKED "5;\r\nhello\r\n0\r\n\r\n", 400, 1, 1, NULL },
    { "extension =x: 400", CHUNKED "5;=x\r\nhello\r\n0\r\n\r\n", 400, 1, 1, NULL },
    { "extension a=: 400", CHUNKED "5;a=\r\nhello\r\n0\r\n\r\n", 400, 1, 1, NULL },
    { "extension a b: 400", CHUNKED "5;a b\r\nhello\r\n0\r\n\r\n", 400, 1, 1, NULL },
    { "extension a=b c: 400", CHUNKED "5;a=b c\r\nhello\r\n0\r\n\r\n", 400, 1, 1, NULL },
    { "extension a=b then space: 400", CHUNKED "5;a=b \r\nhello\r\n0\r\n\r\n", 400, 1, 1, NULL },
    { "extension a@b: 400", CHUNKED "5;a@b\r\nhello\r\n0\r\n\r\n", 400, 1, 1, NULL },
    { "extension unterminated quote: 400", CHUNKED "5;a=\"b\r\nhello\r\n0\r\n\r\n", 400, 1, 1,
      NULL },
    { "extension quoted CTL: 400", CHUNKED "5;a=\"\x01\"\r\nhello\r\n0\r\n\r\n", 400, 1, 1, NULL },
    { "extension quoted-pair CTL: 400", CHUNKED "5;a=\"\\\x01\"\r\nhello\r\n0\r\n\r\n", 400, 1, 1,
      NULL },
    { "extension \"b\"c: 400", CHUNKED "5;a=\"b\"c\r\nhello\r\n0\r\n\r\n", 400, 1, 1, NULL },
    { "bare LF after the chunk size: 400", CHUNKED "5\nhello\r\n0\r\n\r\n", 400, 1, 1, NULL },
    { "bare CR after the chunk size: 400", CHUNKED "5\rhello\r\n0\r\n\r\n", 400, 1, 1, NULL },
    { "bare LF after chunk data: 400", CHUNKED "5\r\nhello\n0\r\n\r\n", 400, 1, 1, NULL },
    { "bare CR after chunk data: 400", CHUNKED "5\r\nhello\r0\r\n\r\n", 400, 1, 1, NULL },
    { "chunk longer than its size: 400", CHUNKED "3\r\nhello\r\n0\r\n\r\n", 400, 1, 1, NULL },
    { "missing final chunk: 400", CHUNKED "5\r\nhello\r\n" NEXT, 400, 1, 1, NULL },
    { "bare LF as the final line end: 400", CHUNKED "0\r\n\n" NEXT, 400, 1, 1, NULL },
    { "bare LF in a trailer: 400", CHUNKED "0\r\nX: a\n\r\n", 400, 1, 1, NULL },
    { "bare CR in a trailer: 400", CHUNKED "0\r\nX: a\rb\r\n\r\n", 400, 1, 1, NULL },
    { "obs-fold in the trailers: 400", CHUNKED "0\r\nX: a\r\n b\r\n\r\n", 400, 1, 1, NULL },
    { "trailer without a colon: 400", CHUNKED "0\r\nX a\r\n\r\n", 400, 1, 1, NULL },
    { "trailer without a name: 400", CHUNKED "0\r\n: a\r\n\r\n", 400, 1, 1, NULL },
    { "trailer with a CTL: 400", CHUNKED "0\r\nX: \x01\r\n\r\n", 400, 1, 1, NULL },
    { "chunk over the body cap: 413", CHUNKED "100001\r\n", 413, 1, 1, NULL },
    /* Transfer-Encoding (RFC 9112 6.1, 6.3) */
    { "TE chunked, gzip: 400", GH "Transfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n", 400, 1, 1,
      NULL },
    { "TE gzip: 400", GH "Transfer-Encoding: gzip\r\n\r\n", 400, 1, 1, NULL },
    { "TE identity: 400", GH "Transfer-Encoding: identity\r\n\r\n", 400, 1, 1, NULL },
    { "TE chunked twice: 400", GH "Transfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n", 400, 1,
      1, NULL },
    { "TE empty: 400", GH "Transfer-Encoding:\r\n\r\n", 400, 1, 1, NULL },
    { "TE chunked;a=b: 400", GH "Transfer-Encoding: chunked;a=b\r\n\r\n0\r\n\r\n", 400, 1, 1,
      NULL },
    { "TE chunked x: 400", GH "Transfer-Encoding: chunked x\r\n\r\n0\r\n\r\n", 400, 1, 1, NULL },
    { "TE quoted: 400", GH "Transfer-Encoding: \"chunked\"\r\n\r\n0\r\n\r\n", 400, 1, 1, NULL },
    { "TE in HTTP/1.0: 400", "GET / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400,
      1, 1, NULL },
    { "TE gzip then chunked lines: 501", GH "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked"
      "\r\n\r\n0\r\n\r\n", 501, 1, 1, NULL },
    { "TE chunked then gzip lines: 400", GH "Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip"
      "\r\n\r\n0\r\n\r\n", 400, 1, 1, NULL },
    { "TE gzip;q=1, chunked: 501", GH "Transfer-Encoding: gzip;q=1, chunked\r\n\r\n", 501, 1, 1,
      NULL },
    { "TE gzip , chunked (OWS before the commas): 501", GH "Transfer-Encoding: gzip , chunked ,"
      "\r\n\r\n", 501, 1, 1, NULL },
    { "TE chunked with OWS before a comma", GH "Transfer-Encoding: chunked ,\r\n\r\n0\r\n\r\n" NEXT,
      200, 0, 2, "\r\n\r\nabc" },
    { "TE ;x: 400", GH "Transfer-Encoding: ;x, chunked\r\n\r\n0\r\n\r\n", 400, 1, 1, NULL },
    { "TE chunked and Content-Length 0: 400", GH "Transfer-Encoding: chunked\r\n"
      "Content-Length: 0\r\n\r\n", 400, 1, 1, NULL },
};

static void test_answers(const struct proto_cfg *cfg)
{
    for (size_t i = 0; i < sizeof answers / sizeof answers[0]; i++) {
        const struct answer_case *c = &answers[i];
        check_splits(cfg, c->name, c->req, strlen(c->req));
        ok(first_status(&whole) == c->status && whole.closed == c->closes &&
               whole.requests == c->requests && (!c->needle || contains(&whole, c->needle)),
           "%s: status %d, %s, %u request(s)%s (got %d, %s, %u)", c->name, c->status,
           c->closes ? "closes" : "stays open", c->requests, c->needle ? ", as expected" : "",
           first_status(&whole), whole.closed ? "closes" : "stays open", whole.requests);
    }
}

/* Append a chunked encoding of `total` bytes of 'a' + i % 26 in chunks of `size` to req[*n..). */
static void put_chunks(char *req, size_t *n, size_t cap, size_t total, size_t size)
{
    for (size_t off = 0; off < total; off += size) {
        size_t k = total - off < size ? total - off : size;
        *n += (size_t)snprintf(req + *n, cap - *n, "%zx\r\n", k);
        for (size_t i = 0; i < k; i++)
            req[(*n)++] = (char)('a' + (off + i) % 26);
        *n += (size_t)snprintf(req + *n, cap - *n, "\r\n");
    }
    *n += (size_t)snprintf(req + *n, cap - *n, "0\r\n\r\n");
}

/* The first response's body is `total` bytes of 'a' + i % 26. */
static int body_is_pattern(const struct run *r, size_t total)
{
    const char *body = memmem(r->out, r->outlen, "\r\n\r\n", 4);
    char want[40];
    snprintf(want, sizeof want, "Content-Length: %zu\r\n", total);
    if (!body || !contains(r, want) || (size_t)(r->out + r->outlen - body - 4) < total)
        return 0;
    for (size_t i = 0; i < total; i++)
        if (body[4 + i] != (char)('a' + i % 26))
            return 0;
    return 1;
}

/* Bodies at and past their caps, method and chunk-line limits. */
static void test_body_limits(const struct proto_cfg *cfg)
{
    static char req[3u << 20];
    size_t n, base;

    /* a 100 KB method is a method we do not implement, not a long URI */
    memset(req, 'A', 100000);
    n = 100000 + (size_t)snprintf(req + 100000, 64, " / HTTP/1.1\r\nHost: a\r\n\r\n");
    drive(cfg, req, n, 0, PROTO_OUT_MIN, &whole);
    ok(first_status(&whole) == 501 && whole.closed, "100 KB method, whole: 501 (got %d)",
       first_status(&whole));
    drive(cfg, req, n, 512, PROTO_OUT_MIN, &whole);
    ok(first_status(&whole) == 501 && whole.pending_max <= PROTO_IN_MIN,
       "100 KB method arriving: 501 before %u bytes are pending (got %d, max %zu)", PROTO_IN_MIN,
       first_status(&whole), whole.pending_max);

    /* a chunked body of exactly the cap is discarded in pieces; one byte more is 413 */
    base = n = (size_t)snprintf(req, sizeof req, CHUNKED);
    put_chunks(req, &n, sizeof req, PROTO_BODY_MAX, 1000);
    n += (size_t)snprintf(req + n, sizeof req - n, NEXT);
    drive(cfg, req, n, 4096, PROTO_OUT_MIN, &whole);
    ok(first_status(&whole) == 200 && whole.requests == 2 && !whole.closed &&
           whole.pending_max <= PROTO_IN_MIN && contains(&whole, "Hello, World!HTTP/1.1 200"),
       "a 1 MiB chunked body is discarded in pieces and the next request answered");
    n = base;
    put_chunks(req, &n, sizeof req, PROTO_BODY_MAX + 1, 1000);
    drive(cfg, req, n, 4096, PROTO_OUT_MIN, &whole);
    ok(first_status(&whole) == 413 && whole.closed && whole.requests == 1,
       "a chunked body of 1 MiB + 1 byte: 413 (got %d)", first_status(&whole));

    /* extensions and trailers are bounded too */
    n = (size_t)snprintf(req, sizeof req, CHUNKED "1;x=");
    memset(req + n, 'v', PROTO_CHUNK_LINE_MAX);
    n += PROTO_CHUNK_LINE_MAX;
    n += (size_t)snprintf(req + n, sizeof req - n, "\r\nx\r\n0\r\n\r\n");
    drive(cfg, req, n, 0, PROTO_OUT_MIN, &whole);
    ok(first_status(&whole) == 413 && whole.closed, "a chunk line over %u bytes: 413",
       PROTO_CHUNK_LINE_MAX);
    n = (size_t)snprintf(req, sizeof req, CHUNKED "0\r\nX: ");
    memset(req + n, 'v', PROTO_HEADERS_MAX);
    n += PROTO_HEADERS_MAX;
    n += (size_t)snprintf(req + n, sizeof req - n, "\r\n\r\n");
    drive(cfg, req, n, 0, PROTO_OUT_MIN, &whole);
    ok(first_status(&whole) == 431 && whole.closed, "a trailer section over %u bytes: 431",
       PROTO_HEADERS_MAX);
    n = (size_t)snprintf(req, sizeof req, CHUNKED "0\r\n");
    for (unsigned i = 0; i <= PROTO_FIELDS_MAX; i++)
        n += (size_t)snprintf(req + n, sizeof req - n, "X-%u: v\r\n", i);
    n += (size_t)snprintf(req + n, sizeof req - n, "\r\n");
    drive(cfg, req, n, 0, PROTO_OUT_MIN, &whole);
    ok(first_status(&whole) == 431 && whole.closed, "%u trailer fields: 431", PROTO_FIELDS_MAX + 1);

    /* POST /echo with Content-Length: up to the body cap, streamed through a small output buffer */
    n = (size_t)snprintf(req, sizeof req, "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: %u\r\n"
                         "\r\n", PROTO_BODY_MAX);
    for (size_t i = 0; i < PROTO_BODY_MAX; i++)
        req[n++] = (char)('a' + i % 26);
    n += (size_t)snprintf(req + n, sizeof req - n, GH "\r\n");
    drive(cfg, req, n, 4096, PROTO_OUT_MIN, &whole);
    ok(body_is_pattern(&whole, PROTO_BODY_MAX) && whole.requests == 2 && !whole.closed &&
           whole.pending_max <= PROTO_IN_MIN && contains(&whole, "Hello, World!"),
       "POST /echo of 1 MiB through a %u-byte output buffer: intact, next request answered",
       PROTO_OUT_MIN);
    n = (size_t)snprintf(req, sizeof req, "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: %u\r\n"
                         "\r\n", PROTO_BODY_MAX + 1);
    drive(cfg, req, n, 0, PROTO_OUT_MIN, &whole);
    ok(first_status(&whole) == 413 && whole.closed, "POST /echo over the body cap: 413");

    /* POST /echo chunked: the body waits in the caller's buffer, so it may take up to
     * PROTO_ECHO_HELD_MAX bytes as sent; 16 chunks of 1000 bytes fit, 17 do not */
    base = n = (size_t)snprintf(req, sizeof req, ECHO_CHUNKED);
    put_chunks(req, &n, sizeof req, 16000, 1000);
    n += (size_t)snprintf(req + n, sizeof req - n, GH "\r\n");
    drive(cfg, req, n, 1000, PROTO_OUT_MIN, &whole);
    ok(body_is_pattern(&whole, 16000) && whole.requests == 2 && !whole.closed &&
           whole.pending_max <= PROTO_IN_MIN && contains(&whole, "Hello, World!"),
       "POST /echo chunked, 16000 bytes in pieces through a %u-byte output buffer: intact",
       PROTO_OUT_MIN);
    n = base;
    put_chunks(req, &n, sizeof req, 17000, 1000);
    drive(cfg, req, n, 1000, PROTO_OUT_MIN, &whole);
    ok(first_status(&whole) == 413 && whole.closed && whole.pending_max <= PROTO_IN_MIN,
       "POST /echo chunked, past %u bytes as sent: 413 (got %d)", PROTO_ECHO_HELD_MAX,
       first_status(&whole));
}

static void test_echo(void)
{
    struct proto_cfg cfg = { .kind = PROTO_ECHO, .docroot_fd = -1 };
    static char data[200000];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (char)(i * 7 + (i >> 9));
    drive(&cfg, data, sizeof data, 3000, PROTO_OUT_MIN, &whole);
    ok(whole.outlen == sizeof data && memcmp(whole.out, data, sizeof data) == 0 && !whole.closed &&
           whole.pending_max < 3000,
       "echo: 200000 bytes through a %u-byte output buffer come back in order", PROTO_OUT_MIN);
    drive(&cfg, data, 1, 0, PROTO_OUT_MIN, &whole);
    ok(whole.outlen == 1 && whole.out[0] == data[0] && whole.requests == 1, "echo: one byte");
}

/* ---- static files ---- */

static char tmpdir[] = "/tmp/cmb-proto-XXXXXX";

static void write_file(const char *rel, const char *content)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", tmpdir, rel);
    FILE *f = fopen(path, "w");
    if (!f || fputs(content, f) < 0 || fclose(f) != 0) {
        perror(path);
        exit(2);
    }
}

static void sub(char *buf, size_t len, const char *rel)
{
    snprintf(buf, len, "%s/%s", tmpdir, rel);
}

static int get_status(const struct proto_cfg *cfg, const char *target, size_t tlen, int *leak)
{
    char req[1024];
    size_t n = (size_t)snprintf(req, sizeof req, "GET ");
    memcpy(req + n, target, tlen);
    n += tlen;
    n += (size_t)snprintf(req + n, sizeof req - n, " HTTP/1.1\r\nHost: a\r\n\r\n");
    drive(cfg, req, n, 0, PROTO_OUT_MIN, &whole);
    *leak = contains(&whole, "SECRET");
    return first_status(&whole);
}

static void test_static(void)
{
    char p[512], q[512];
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        exit(2);
    }
    sub(p, sizeof p, "www");
    mkdir(p, 0755);
    sub(p, sizeof p, "www2");
    mkdir(p, 0755);
    sub(p, sizeof p, "www/sub");
    mkdir(p, 0755);
    write_file("secret.txt", "SECRET outside\n");
    write_file("www2/x.txt", "SECRET sibling\n");
    write_file("www/hello.txt", "hello file\n");
    write_file("www/sub/page.html", "<p>page</p>\n");
    write_file("www/%2e%2e", "literal name\n");
    sub(p, sizeof p, "www/out");
    symlink("../secret.txt", p);
    sub(p, sizeof p, "www/in");
    symlink("hello.txt", p);
    sub(p, sizeof p, "www/fifo");
    mkfifo(p, 0644);
    sub(p, sizeof p, "www");
    struct proto_cfg cfg = { .kind = PROTO_HTTP, .docroot_fd = open(p, O_PATH | O_DIRECTORY) };
    int leak, st;

    st = get_status(&cfg, "/hello.txt", 10, &leak);
    ok(st == 200 && contains(&whole, "hello file\n") && contains(&whole, "text/plain"),
       "static: regular file served with its type");
    st = get_status(&cfg, "/sub/page.html", 14, &leak);
    ok(st == 200 && contains(&whole, "text/html"), "static: file in a subdirectory");
    st = get_status(&cfg, "/in", 3, &leak);
    ok(st == 200 && contains(&whole, "hello file\n"), "static: symlink staying inside the root");
    st = get_status(&cfg, "/%252e%252e", 11, &leak);
    ok(st == 200 && contains(&whole, "literal name"), "static: %%252e decodes once, to a plain name");

    static const struct { const char *t; size_t n; } bad[] = {
        { "/../secret.txt", 14 },      { "/%2e%2e/secret.txt", 18 }, { "/..%2fsecret.txt", 16 },
        { "/%2E%2E%2Fsecret.txt", 20 }, { "/sub/../../secret.txt", 21 }, { "/./hello.txt", 12 },
        { "/../www2/x.txt", 14 },      { "/out", 4 },                { "/%00", 4 },
        { "/hello.txt%00", 13 },       { "/fifo", 5 },               { "/sub", 4 },
        { "/sub/", 5 },                { "//etc/passwd", 12 },       { "/%2fetc/passwd", 14 },
        { "/missing", 8 },             { "/%zz", 4 },                { "/%4", 3 },
        { "/hello.txt/", 11 },         { "/a\0b", 4 },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        st = get_status(&cfg, bad[i].t, bad[i].n, &leak);
        snprintf(q, sizeof q, "%.*s", (int)bad[i].n, bad[i].t);
        for (char *c = q; *c; c++)
            if (*c < 0x20)
                *c = '?';
        ok(st >= 400 && st < 500 && !leak, "static: %s refused with %d, nothing leaked", q, st);
    }
    close(cfg.docroot_fd);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        diag("could not remove %s", tmpdir);
}

/* --work-us and --wait-us: the request is still answered; the wait is a sleep (a blocking call), so it
 * lasts at least its length of wall time and costs next to no CPU, while the work is CPU time. These
 * are lower bounds a correct implementation always meets, not speed checks. */
static void test_modelled_work(void)
{
    struct proto_cfg cfg = { .kind = PROTO_HTTP, .docroot_fd = -1, .work_us = 3000, .wait_us = 20000 };
    struct timespec w0, w1, c0, c1;
    clock_gettime(CLOCK_MONOTONIC, &w0);
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
    static const char req[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    drive(&cfg, req, sizeof req - 1, 0, PROTO_OUT_MIN * 4, &whole);
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
    clock_gettime(CLOCK_MONOTONIC, &w1);
    long wall = (w1.tv_sec - w0.tv_sec) * 1000000L + (w1.tv_nsec - w0.tv_nsec) / 1000;
    long cpu = (c1.tv_sec - c0.tv_sec) * 1000000L + (c1.tv_nsec - c0.tv_nsec) / 1000;
    ok(first_status(&whole) == 200 && whole.requests == 1, "work and wait: the request is answered");
    ok(cpu >= 3000, "--work-us 3000 burned at least 3000 us of CPU (%ld)", cpu);
    ok(wall >= 23000, "--work-us 3000 + --wait-us 20000 took at least 23000 us (%ld)", wall);
    ok(cpu < wall, "the wait is not CPU: CPU %ld us < wall %ld us", cpu, wall);
}

int main(void)
{
    struct proto_cfg http = { .kind = PROTO_HTTP, .docroot_fd = -1 };
    in_guard = guarded_end(ARENA);
    out_guard = guarded_end(64 * 1024);
    whole.out = malloc(OUT_MAX);
    part.out = malloc(OUT_MAX);
    if (!whole.out || !part.out)
        return 2;

    test_statuses(&http);
    test_bodies(&http);
    test_limits(&http);
    test_answers(&http);
    test_body_limits(&http);
    test_echo();
    test_static();
    test_modelled_work();
    return done_testing();
}
