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
    { "DELETE: 405", "DELETE /x HTTP/1.1\r\nHost: a\r\n\r\n", 405, 1, 1 },
    { "junk: 400", "GARBAGE\r\n\r\n", 400, 1, 1 },
    { "junk before method: 400", "\x01GET / HTTP/1.1\r\nHost: a\r\n\r\n", 400, 1, 1 },
    { "missing version: 400", "GET /\r\n\r\n", 400, 1, 1 },
    { "HTTP/1: 400", "GET / HTTP/1\r\nHost: a\r\n\r\n", 400, 1, 1 },
    { "lower-case version: 400", "GET / http/1.1\r\nHost: a\r\n\r\n", 400, 1, 1 },
    { "HTTP/9.9: 505", "GET / HTTP/9.9\r\nHost: a\r\n\r\n", 505, 1, 1 },
    { "HTTP/2.0: 505", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505, 1, 1 },
    { "two spaces: 400", "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400, 1, 1 },
    { "absolute-form: 400", "GET http://a/ HTTP/1.1\r\nHost: a\r\n\r\n", 400, 1, 1 },
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
    { "TE: 501", "GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", 501, 1, 1 },
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

    const char *e405 = "PUT / HTTP/1.1\r\nHost: a\r\n\r\n";
    drive(cfg, e405, strlen(e405), 0, PROTO_OUT_MIN, &whole);
    ok(contains(&whole, "Allow: GET, HEAD\r\n") && contains(&whole, "Connection: close\r\n"),
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
    test_echo();
    test_static();
    test_modelled_work();
    return done_testing();
}
