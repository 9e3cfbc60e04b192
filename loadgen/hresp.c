/* hresp.c - HTTP/1.x response framing: line-oriented with memchr, bodies skipped in O(1) per read.
 * Only lines split across reads are copied (their first HRESP_LINE_KEEP bytes). */
#include "hresp.h"

#include <string.h>
#include <strings.h>

enum {
    ST_STATUS,          /* expecting the status line */
    ST_HEADER,          /* header lines until the empty line */
    ST_BODY,            /* skipping `remaining` body bytes */
    ST_EOF_BODY,        /* body runs until the peer closes */
    ST_CHUNK_SIZE,      /* expecting a chunk-size line */
    ST_CHUNK_DATA,      /* skipping `remaining` chunk bytes */
    ST_CHUNK_END,       /* expecting the empty line after chunk data */
    ST_TRAILER,         /* trailer lines until the empty line */
};

void hresp_reset(struct hresp *p)
{
    p->state = ST_STATUS;
    p->chunked = p->close = p->have_len = p->line_trunc = 0;
    p->status = 0;
    p->line_len = 0;
    p->head_bytes = 0;
    p->remaining = p->content_length = 0;
}

/* The value of a header line whose name ends at colon, trimmed of blanks. */
static const char *header_value(const char *s, size_t n, size_t colon, size_t *vlen)
{
    const char *v = s + colon + 1, *e = s + n;
    while (v < e && (*v == ' ' || *v == '\t'))
        v++;
    while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
        e--;
    *vlen = (size_t)(e - v);
    return v;
}

/* Does the comma-separated list contain token (case-insensitive)? */
static int has_token(const char *v, size_t n, const char *token)
{
    size_t k = strlen(token);
    for (size_t i = 0; i + k <= n; i++) {
        if ((i == 0 || v[i - 1] == ',' || v[i - 1] == ' ') && strncasecmp(v + i, token, k) == 0 &&
            (i + k == n || v[i + k] == ',' || v[i + k] == ' ' || v[i + k] == ';'))
            return 1;
    }
    return 0;
}

static int status_line(struct hresp *p, const char *s, size_t n)
{
    /* "HTTP/1.x SSS" then a space or the end of the line. */
    if (n < 12 || memcmp(s, "HTTP/1.", 7) != 0 || (s[7] != '0' && s[7] != '1') || s[8] != ' ')
        return HRESP_ERROR;
    for (int i = 9; i < 12; i++)
        if (s[i] < '0' || s[i] > '9')
            return HRESP_ERROR;
    if (n > 12 && s[12] != ' ')
        return HRESP_ERROR;
    p->status = (uint16_t)((s[9] - '0') * 100 + (s[10] - '0') * 10 + (s[11] - '0'));
    if (p->status < 100)
        return HRESP_ERROR;
    p->close = s[7] == '0';      /* HTTP/1.0 closes unless it says keep-alive */
    p->state = ST_HEADER;
    return HRESP_MORE;
}

/* Name length k if s is "<k bytes>:..." for one of the lengths that matter, else 0. */
static size_t name_len(const char *s, size_t n)
{
    if (n > 10 && s[10] == ':')
        return 10;
    if (n > 14 && s[14] == ':')
        return 14;
    if (n > 17 && s[17] == ':')
        return 17;
    return 0;
}

/* Only three headers matter: Connection, Content-Length, Transfer-Encoding. They begin with c or t
 * and their names have distinct lengths, so any other header costs two byte tests. */
static int header_line(struct hresp *p, const char *s, size_t n)
{
    const char *v;
    size_t k, vl;
    char c0 = (char)(s[0] | 0x20);
    if (s[0] == ' ' || s[0] == '\t')
        return HRESP_ERROR;      /* obsolete line folding */
    if ((c0 != 'c' && c0 != 't') || !(k = name_len(s, n)))
        return HRESP_MORE;
    if (k == 14 && strncasecmp(s, "content-length", 14) == 0) {
        uint64_t x = 0;
        v = header_value(s, n, k, &vl);
        if (vl == 0 || p->line_trunc)
            return HRESP_ERROR;
        for (size_t i = 0; i < vl; i++) {
            if (v[i] < '0' || v[i] > '9' || x > (UINT64_MAX - 9) / 10)
                return HRESP_ERROR;
            x = x * 10 + (uint64_t)(v[i] - '0');
        }
        if (p->have_len && x != p->content_length)
            return HRESP_ERROR;  /* conflicting lengths: framing cannot be trusted */
        p->have_len = 1;
        p->content_length = x;
    } else if (k == 17 && strncasecmp(s, "transfer-encoding", 17) == 0) {
        v = header_value(s, n, k, &vl);
        if (p->line_trunc)
            return HRESP_ERROR;
        p->chunked = has_token(v, vl, "chunked");
        if (!p->chunked)
            return HRESP_ERROR;  /* an unknown coding leaves no way to find the end */
    } else if (k == 10 && strncasecmp(s, "connection", 10) == 0) {
        v = header_value(s, n, k, &vl);
        if (vl == 10 && strncasecmp(v, "keep-alive", 10) == 0)
            p->close = 0;        /* the usual value, without the token scan */
        else if (has_token(v, vl, "close"))
            p->close = 1;
        else if (has_token(v, vl, "keep-alive"))
            p->close = 0;
    }
    return HRESP_MORE;
}

/* The empty line after the headers: decide how the body is framed. */
static int end_of_head(struct hresp *p)
{
    if (p->status < 200 && p->status != 101) {
        hresp_reset(p);          /* interim 1xx: the real response follows */
        return HRESP_MORE;
    }
    if (p->status == 204 || p->status == 304 || p->status == 101)
        return HRESP_DONE;
    if (p->chunked) {
        p->state = ST_CHUNK_SIZE;
        return HRESP_MORE;
    }
    if (p->have_len) {
        if (p->content_length == 0)
            return HRESP_DONE;
        p->remaining = p->content_length;
        p->state = ST_BODY;
        return HRESP_MORE;
    }
    p->close = 1;
    p->state = ST_EOF_BODY;
    return HRESP_MORE;
}

static int chunk_size_line(struct hresp *p, const char *s, size_t n)
{
    uint64_t x = 0;
    size_t i = 0;
    for (; i < n; i++) {
        char c = s[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
              : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0)
            break;
        if (x >> 59)
            return HRESP_ERROR;
        x = x * 16 + (uint64_t)d;
    }
    if (i == 0 || (i < n && s[i] != ';' && s[i] != ' ' && s[i] != '\t'))
        return HRESP_ERROR;
    if (x == 0) {
        p->state = ST_TRAILER;
    } else {
        p->remaining = x;
        p->state = ST_CHUNK_DATA;
    }
    return HRESP_MORE;
}

/* One complete line (without its CR LF) in the current state. */
static int on_line(struct hresp *p, const char *s, size_t n)
{
    switch (p->state) {
    case ST_STATUS:
        return status_line(p, s, n);
    case ST_HEADER:
        return n == 0 ? end_of_head(p) : header_line(p, s, n);
    case ST_CHUNK_SIZE:
        return chunk_size_line(p, s, n);
    case ST_CHUNK_END:
        if (n != 0)
            return HRESP_ERROR;
        p->state = ST_CHUNK_SIZE;
        return HRESP_MORE;
    case ST_TRAILER:
        return n == 0 ? HRESP_DONE : HRESP_MORE;
    }
    return HRESP_ERROR;
}

/* Keep the head of a line that continues in the next read. */
static void keep(struct hresp *p, const char *s, size_t n)
{
    size_t room = HRESP_LINE_KEEP - p->line_len;
    if (n > room) {
        n = room;
        p->line_trunc = 1;
    }
    memcpy(p->line + p->line_len, s, n);
    p->line_len = (uint16_t)(p->line_len + n);
}

int hresp_feed(struct hresp *p, const char *buf, size_t len, size_t *used)
{
    size_t pos = 0;
    while (pos < len) {
        if (p->state == ST_BODY || p->state == ST_CHUNK_DATA) {
            size_t take = len - pos;
            if (take > p->remaining)
                take = (size_t)p->remaining;
            pos += take;
            p->remaining -= take;
            if (p->remaining)
                continue;
            if (p->state == ST_BODY) {
                *used = pos;
                return HRESP_DONE;
            }
            p->state = ST_CHUNK_END;
            continue;
        }
        if (p->state == ST_EOF_BODY) {
            pos = len;
            break;
        }
        const char *nl = memchr(buf + pos, '\n', len - pos);
        size_t n = (size_t)((nl ? nl : buf + len) - (buf + pos));
        if (p->state <= ST_HEADER || p->state == ST_TRAILER) {
            p->head_bytes += (uint32_t)(n < HRESP_HEAD_MAX ? n + 1 : HRESP_HEAD_MAX);
            if (p->head_bytes > HRESP_HEAD_MAX)
                return HRESP_ERROR;
        }
        if (!nl) {
            keep(p, buf + pos, n);
            pos = len;
            break;
        }
        const char *s = buf + pos;
        if (p->line_len) {           /* the line began in an earlier read */
            keep(p, s, n);
            s = p->line;
            n = p->line_len;
        }
        pos += (size_t)(nl - (buf + pos)) + 1;
        if (n > 0 && s[n - 1] == '\r')
            n--;
        int r = on_line(p, s, n);
        p->line_len = 0;
        p->line_trunc = 0;
        if (r == HRESP_ERROR)
            return r;
        if (r == HRESP_DONE) {
            *used = pos;
            return r;
        }
    }
    *used = pos;
    return HRESP_MORE;
}

int hresp_eof(struct hresp *p)
{
    if (p->state == ST_EOF_BODY)
        return HRESP_DONE;
    if (p->state == ST_STATUS && p->line_len == 0 && p->head_bytes == 0)
        return HRESP_MORE;
    return HRESP_ERROR;
}
