/* hresp_test.c - unit tests of loadgen/hresp.c (TAP). Every input is fed whole, split at every
 * byte into two reads, and one byte at a time; each read sits right before a PROT_NONE page so an
 * over-read crashes instead of passing. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../loadgen/hresp.h"
#include "../unit/tap.h"

static char *page;              /* one readable page followed by a PROT_NONE one */
static size_t pagesz;

/* Copy a piece against the guard page and feed it; pieces are fed in order. */
struct run {
    struct hresp p;
    int done, error;            /* responses completed; an error seen */
    int status[8], close[8];
};

static void feed(struct run *r, const char *s, size_t n)
{
    while (n > 0 && !r->error) {
        char *at = page + pagesz - n;
        memcpy(at, s, n);
        size_t used = 0;
        int x = hresp_feed(&r->p, at, n, &used);
        if (x == HRESP_ERROR) {
            r->error = 1;
            return;
        }
        if (x == HRESP_MORE) {
            if (used != n)
                r->error = 2;   /* contract: MORE consumes everything */
            return;
        }
        if (r->done < 8) {
            r->status[r->done] = r->p.status;
            r->close[r->done] = r->p.close;
        }
        r->done++;
        hresp_reset(&r->p);
        s += used;
        n -= used;
    }
}

static void finish(struct run *r)
{
    if (r->error)
        return;
    int x = hresp_eof(&r->p);
    if (x == HRESP_DONE) {
        if (r->done < 8) {
            r->status[r->done] = r->p.status;
            r->close[r->done] = 1;
        }
        r->done++;
    } else if (x == HRESP_ERROR) {
        r->error = 1;
    }
}

struct expect {
    const char *name;
    const char *text;
    int responses;              /* complete responses expected (-1: an error) */
    int status;                 /* of the first */
    int close;                  /* of the last */
};

/* Compare one way of feeding with the expectation; returns 1 when it matches. */
static int matches(const struct run *r, const struct expect *e)
{
    if (e->responses < 0)
        return r->error == 1;
    return !r->error && r->done == e->responses && r->status[0] == e->status &&
           r->close[(r->done < 8 ? r->done : 8) - 1] == e->close;
}

static void check(const struct expect *e)
{
    size_t n = strlen(e->text);
    struct run r;
    memset(&r, 0, sizeof r);
    hresp_reset(&r.p);
    feed(&r, e->text, n);
    finish(&r);
    ok(matches(&r, e), "%s: whole (got %d responses, status %d, error %d)", e->name, r.done,
       r.status[0], r.error);
    int all = 1;
    size_t bad_at = 0;
    for (size_t cut = 1; cut < n; cut++) {
        memset(&r, 0, sizeof r);
        hresp_reset(&r.p);
        feed(&r, e->text, cut);
        feed(&r, e->text + cut, n - cut);
        finish(&r);
        if (!matches(&r, e) && all)
            all = 0, bad_at = cut;
    }
    ok(all, "%s: split at every byte%s%zu", e->name, all ? "" : ", first failure at ", all ? (size_t)n : bad_at);
    memset(&r, 0, sizeof r);
    hresp_reset(&r.p);
    for (size_t i = 0; i < n; i++)
        feed(&r, e->text + i, 1);
    finish(&r);
    ok(matches(&r, e), "%s: one byte at a time", e->name);
}

#define OK200 "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, World!"

static const struct expect cases[] = {
    {"content-length", OK200, 1, 200, 0},
    {"nginx-like headers", "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Sat, 22 Nov 2025 05:11:04 GMT\r\n"
     "Content-Type: text/plain\r\nContent-Length: 13\r\nConnection: keep-alive\r\n\r\nHello, World!", 1, 200, 0},
    {"pipelined three", OK200 OK200 "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nConnection: close\r\n\r\n",
     3, 200, 1},
    {"chunked with extension and trailer", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
     "5;x=y\r\nHello\r\n8\r\n, World!\r\n0\r\nX-Trailer: 1\r\n\r\n", 1, 200, 0},
    {"chunked then pipelined", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
     "a\r\n0123456789\r\n0\r\n\r\n" OK200, 2, 200, 0},
    {"close-delimited body", "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end", 1, 200, 1},
    {"http/1.0 closes", "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nhi", 1, 200, 1},
    {"http/1.0 keep-alive", "HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 2\r\n\r\nhi",
     1, 200, 0},
    {"connection close", "HTTP/1.1 503 Busy\r\nConnection: close\r\nContent-Length: 4\r\n\r\nbusy", 1, 503, 1},
    {"interim 100 skipped", "HTTP/1.1 100 Continue\r\n\r\n" OK200, 1, 200, 0},
    {"204 and 304 have no body", "HTTP/1.1 204 No Content\r\nContent-Length: 9\r\n\r\n"
     "HTTP/1.1 304 Not Modified\r\n\r\n", 2, 204, 0},
    {"bare LF line ends", "HTTP/1.1 200 OK\nContent-Length: 3\n\nabc", 1, 200, 0},
    {"status without reason", "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n", 1, 200, 0},
    {"long unrelated header", "HTTP/1.1 200 OK\r\nX-Long: "
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "\r\nContent-Length: 1\r\n\r\nx", 1, 200, 0},
    {"bad status line", "HTTX/1.1 200 OK\r\n\r\n", -1, 0, 0},
    {"bad status code", "HTTP/1.1 2x0 OK\r\n\r\n", -1, 0, 0},
    {"bad content-length", "HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n", -1, 0, 0},
    {"conflicting content-length", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
     -1, 0, 0},
    {"unknown transfer-encoding", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", -1, 0, 0},
    {"bad chunk size", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", -1, 0, 0},
    {"chunk without CRLF", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabXY0\r\n\r\n",
     -1, 0, 0},
    {"truncated by close", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", -1, 0, 0},
    {"garbage", "\x01\x02\x03\r\n", -1, 0, 0},
};

int main(void)
{
    pagesz = (size_t)sysconf(_SC_PAGESIZE);
    page = mmap(NULL, 2 * pagesz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED || mprotect(page + pagesz, pagesz, PROT_NONE) < 0) {
        perror("mmap");
        return 1;
    }
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        check(&cases[i]);

    /* A response with a body bigger than any read: skipped without being looked at. */
    struct run r;
    memset(&r, 0, sizeof r);
    hresp_reset(&r.p);
    const char *head = "HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n";
    feed(&r, head, strlen(head));
    static char body[4000];
    memset(body, 'x', sizeof body);
    for (int i = 0; i < 250; i++)
        feed(&r, body, sizeof body);
    ok(r.done == 1 && !r.error, "large body skipped across 250 reads");

    /* A header block that never ends is refused once it passes the cap. */
    memset(&r, 0, sizeof r);
    hresp_reset(&r.p);
    feed(&r, "HTTP/1.1 200 OK\r\n", 17);
    for (int i = 0; i < 2000 && !r.error; i++)
        feed(&r, "X-Filler: 0123456789012345678901234567890123456789\r\n", 52);
    ok(r.error == 1, "endless headers refused past %d bytes", HRESP_HEAD_MAX);

    /* EOF on a fresh parser is an idle close, not an error. */
    hresp_reset(&r.p);
    ok(hresp_eof(&r.p) == HRESP_MORE, "eof before any byte is not an error");
    return done_testing();
}
