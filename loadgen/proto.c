/* proto.c - the two protocols: echo (patterned messages, every byte checked) and HTTP/1.1 GET.
 * Request bytes are built once before the threads start and are read-only afterwards, so a request
 * costs no copy and no allocation: it is a pointer into these buffers. */
#include "lg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- echo ---------------------------------------------------------------------------------- */

/* Message m on connection c is size bytes where byte i is 'a' + (c*7 + m*13 + i) % 26
 * (docs/DESIGN.md). Every message is therefore a window into one repeating alphabet. */
static char *echo_pat;
static uint32_t echo_size;

static int echo_setup(const struct lg_opts *o, char *err, size_t errlen)
{
    echo_size = o->size;
    free(echo_pat);
    if (!(echo_pat = malloc((size_t)o->size + 26))) {
        snprintf(err, errlen, "echo: no memory for %u-byte messages", o->size);
        return -1;
    }
    for (size_t i = 0; i < (size_t)o->size + 26; i++)
        echo_pat[i] = (char)('a' + i % 26);
    return 0;
}

static size_t echo_offset(uint32_t id, uint64_t seq)
{
    return (size_t)(((uint64_t)id * 7 + seq * 13) % 26);
}

static struct iovec echo_request(uint32_t id, uint64_t seq, unsigned pos, int last)
{
    return (struct iovec){.iov_base = echo_pat + echo_offset(id, seq), .iov_len = echo_size};
}

static int echo_parse(struct lg_pstate *ps, uint32_t id, uint64_t seq, const char *buf, size_t len,
                      size_t *used)
{
    size_t want = echo_size - ps->got;
    size_t n = len < want ? len : want;
    if (memcmp(buf, echo_pat + echo_offset(id, seq) + ps->got, n) != 0)
        return LG_P_MISMATCH;
    *used = n;
    ps->got += n;
    if (ps->got < echo_size)
        return LG_P_MORE;
    ps->got = 0;
    return LG_P_DONE;
}

static int echo_eof(struct lg_pstate *ps)
{
    return ps->got ? LG_P_BAD : LG_P_MORE;
}

static void echo_reset(struct lg_pstate *ps)
{
    ps->got = 0;
}

const struct lg_proto lg_proto_echo = {
    .name = "echo",
    .setup = echo_setup,
    .request = echo_request,
    .parse = echo_parse,
    .eof = echo_eof,
    .reset = echo_reset,
};

/* ---- http ---------------------------------------------------------------------------------- */

/* http_reqs holds `pipeline` copies of the request back to back, so a window of pipelined
 * requests leaves in one contiguous send; http_last is the variant that asks for a close. */
static char *http_reqs, *http_last;
static size_t http_len, http_last_len;
static unsigned http_copies;

static int http_setup(const struct lg_opts *o, char *err, size_t errlen)
{
    char one[2048];
    int n = snprintf(one, sizeof one, "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", o->path, o->host);
    int m = snprintf(NULL, 0, "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", o->path,
                     o->host);
    if (n < 0 || (size_t)n >= sizeof one) {
        snprintf(err, errlen, "http: request line too long");
        return -1;
    }
    http_len = (size_t)n;
    http_last_len = (size_t)m;
    http_copies = o->pipeline ? o->pipeline : 1;
    free(http_reqs);
    free(http_last);
    http_reqs = malloc(http_len * http_copies);
    http_last = malloc(http_last_len + 1);
    if (!http_reqs || !http_last) {
        snprintf(err, errlen, "http: no memory");
        return -1;
    }
    for (unsigned i = 0; i < http_copies; i++)
        memcpy(http_reqs + i * http_len, one, http_len);
    snprintf(http_last, http_last_len + 1, "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n",
             o->path, o->host);
    return 0;
}

static struct iovec http_request(uint32_t id, uint64_t seq, unsigned pos, int last)
{
    if (last)
        return (struct iovec){.iov_base = http_last, .iov_len = http_last_len};
    return (struct iovec){.iov_base = http_reqs + (pos % http_copies) * http_len, .iov_len = http_len};
}

static int http_parse(struct lg_pstate *ps, uint32_t id, uint64_t seq, const char *buf, size_t len,
                      size_t *used)
{
    int r = hresp_feed(&ps->http, buf, len, used);
    if (r == HRESP_ERROR)
        return LG_P_BAD;
    if (r == HRESP_MORE)
        return LG_P_MORE;
    ps->status = ps->http.status;
    ps->close = ps->http.close;
    hresp_reset(&ps->http);
    return LG_P_DONE;
}

static int http_eof(struct lg_pstate *ps)
{
    int r = hresp_eof(&ps->http);
    if (r == HRESP_DONE) {
        ps->status = ps->http.status;
        ps->close = 1;
        hresp_reset(&ps->http);
        return LG_P_DONE;
    }
    return r == HRESP_MORE ? LG_P_MORE : LG_P_BAD;
}

static void http_reset(struct lg_pstate *ps)
{
    hresp_reset(&ps->http);
    ps->status = 0;
    ps->close = 0;
}

const struct lg_proto lg_proto_http = {
    .name = "http",
    .setup = http_setup,
    .request = http_request,
    .parse = http_parse,
    .eof = http_eof,
    .reset = http_reset,
};
