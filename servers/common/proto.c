/* proto.c: the shared protocol engine: echo, and minimal strict HTTP/1.1 (RFC 9110/9112 subset).
 *
 * The HTTP side parses a whole header block at once, copy-free, once its end ("\r\n\r\n") is in the
 * caller's buffer; until then it only remembers how far it has searched, so a request that arrives one
 * byte at a time costs O(n), not O(n^2). Limits are checked while the block is still incomplete, so a
 * peer can never make the caller buffer more than PROTO_IN_MIN bytes. Each request's answer is
 * planned when its head is parsed and written at once -- or, after a chunked body, once the body is
 * read, so that a malformed one still gets its 400. Static files live in static.c, the chunked decoder
 * in chunked.c, the Host check in authority.c. */
#include "proto.h"
#include "proto_int.h"

#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define RESP_ROOM 512u /* room a response head (or an error response) needs in out */

/* Case-insensitive compare of p[0..n) with a lower-case literal. */
static int eq_nocase(const char *p, size_t n, const char *lit)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (lit[i] == '\0' || ((unsigned char)p[i] | 0x20) != (unsigned char)lit[i])
            return 0;
    return lit[i] == '\0';
}

/* ---- output helpers ----------------------------------------------------------------------------- */

static char *put(char *d, const char *s, size_t n)
{
    memcpy(d, s, n);
    return d + n;
}
#define PUTS(d, lit) put((d), (lit), sizeof(lit) - 1)

static char *put_u64(char *d, uint64_t v)
{
    char tmp[20];
    int n = 0;
    do
        tmp[n++] = (char)('0' + v % 10);
    while ((v /= 10) != 0);
    while (n > 0)
        *d++ = tmp[--n];
    return d;
}

/* IMF-fixdate of the current second, formatted at most once a second per thread. */
static const char *http_date(void)
{
    static __thread time_t cached = -1;
    static __thread char buf[32];
    static const char days[] = "SunMonTueWedThuFriSat";
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    time_t now = time(NULL);
    struct tm tm;

    if (now == cached)
        return buf;
    gmtime_r(&now, &tm);
    char *d = buf;
    d = put(d, days + 3 * tm.tm_wday, 3);
    d = PUTS(d, ", ");
    *d++ = (char)('0' + tm.tm_mday / 10);
    *d++ = (char)('0' + tm.tm_mday % 10);
    *d++ = ' ';
    d = put(d, months + 3 * tm.tm_mon, 3);
    *d++ = ' ';
    d = put_u64(d, (uint64_t)tm.tm_year + 1900);
    *d++ = ' ';
    for (int v = 0, part = 0; part < 3; part++) {
        v = part == 0 ? tm.tm_hour : part == 1 ? tm.tm_min : tm.tm_sec;
        *d++ = (char)('0' + v / 10);
        *d++ = (char)('0' + v % 10);
        *d++ = part < 2 ? ':' : ' ';
    }
    d = PUTS(d, "GMT");
    *d = '\0';
    cached = now;
    return buf;
}

/* Append a response head. `conn` is CONN_NONE, CONN_CLOSE or CONN_KEEPALIVE. The caller made sure
 * RESP_ROOM bytes are free. */
enum { CONN_NONE, CONN_CLOSE, CONN_KEEPALIVE };

static void put_head(struct proto_out *out, int status, const char *ctype, uint64_t clen, int conn,
                     const char *allow)
{
    char *d = out->buf + out->len;
    d = PUTS(d, "HTTP/1.1 ");
    d = put_u64(d, (uint64_t)status);
    *d++ = ' ';
    const char *reason = proto_reason(status);
    d = put(d, reason, strlen(reason));
    d = PUTS(d, "\r\nServer: cmb\r\nDate: ");
    const char *date = http_date();
    d = put(d, date, 29);
    if (ctype) {
        d = PUTS(d, "\r\nContent-Type: ");
        d = put(d, ctype, strlen(ctype));
    }
    d = PUTS(d, "\r\nContent-Length: ");
    d = put_u64(d, clen);
    if (allow) {
        d = PUTS(d, "\r\nAllow: ");
        d = put(d, allow, strlen(allow));
    }
    if (conn == CONN_CLOSE)
        d = PUTS(d, "\r\nConnection: close");
    else if (conn == CONN_KEEPALIVE)
        d = PUTS(d, "\r\nConnection: keep-alive");
    d = PUTS(d, "\r\n\r\n");
    out->len = (size_t)(d - out->buf);
}

const char *proto_reason(int status)
{
    switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
    }
}

/* An error response: always closes. Its body is the status line text (none for HEAD). A 405 names
 * the methods the target allows (RFC 9110 15.5.6). */
static void http_error(struct proto_conn *c, struct proto_out *out, int status, int head,
                       const char *allow)
{
    const char *reason = proto_reason(status);
    size_t blen = 4 + strlen(reason) + 1; /* "404 Not Found\n" */
    put_head(out, status, "text/plain", blen, CONN_CLOSE, status == 405 ? allow : NULL);
    if (!head) {
        char *d = out->buf + out->len;
        d = put_u64(d, (uint64_t)status);
        *d++ = ' ';
        d = put(d, reason, strlen(reason));
        *d++ = '\n';
        out->len = (size_t)(d - out->buf);
    }
    c->close_after = 1;
    c->requests++;
}

/* ---- response bodies ------------------------------------------------------------------------------ */

/* 'a' + i % 26 for i in [0, sizeof): copying from offset (off % 26) yields the /bytes/N pattern. */
static char pattern[4096 + 26];

__attribute__((constructor)) static void pattern_init(void)
{
    for (size_t i = 0; i < sizeof pattern; i++)
        pattern[i] = (char)('a' + i % 26);
}

/* Move response body bytes into out. Returns 1 when the body is complete, 0 when out is full, -1 when
 * the file could not be read (the head is already out: the only honest move left is to close). */
static int fill_body(struct proto_conn *c, struct proto_out *out)
{
    while (c->resp_left > 0) {
        size_t room = out->cap - out->len;
        size_t k = c->resp_left < room ? (size_t)c->resp_left : room;
        if (k == 0)
            return 0;
        if (c->file_fd >= 0) {
            ssize_t r = proto_file_read(c->file_fd, out->buf + out->len, k, c->resp_off);
            if (r <= 0)
                return -1;
            k = (size_t)r;
        } else {
            size_t done = 0;
            while (done < k) {
                size_t chunk = k - done < 4096 ? k - done : 4096;
                memcpy(out->buf + out->len + done, pattern + (c->resp_off + done) % 26, chunk);
                done += chunk;
            }
        }
        out->len += k;
        c->resp_off += k;
        c->resp_left -= k;
    }
    proto_file_close(&c->file_fd);
    return 1;
}

/* ---- request parsing -------------------------------------------------------------------------------- */

enum { M_OTHER, M_GET, M_HEAD, M_POST, M_OPTIONS };    /* methods; M_OTHER: not implemented (501) */
enum { FORM_ORIGIN, FORM_ABSOLUTE, FORM_ASTERISK };    /* request-target forms (RFC 9112 3.2) */

struct req {
    const char *target; /* request-target's path, without the query */
    size_t target_len;
    const char *host;   /* the Host field value */
    size_t host_len;
    int method, form;
    int head;           /* HEAD rather than GET */
    int minor;          /* HTTP/1.minor */
    int conn_close, conn_keepalive, expect_continue;
    int hosts, clens, te;
    int te_chunked, te_last_chunked, te_other, te_bad; /* the Transfer-Encoding list, see parse_te */
    uint64_t clen;
};

/* Parse "1*18DIGIT"; -1 when not a plain decimal number that fits. */
static int parse_digits(const char *p, size_t n, uint64_t *v)
{
    if (n == 0 || n > 18)
        return -1;
    *v = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        *v = *v * 10 + (uint64_t)(p[i] - '0');
    }
    return 0;
}

/* Connection: a comma-separated token list; we act on close and keep-alive. */
static void parse_connection(struct req *r, const char *v, size_t n)
{
    size_t i = 0;
    while (i < n) {
        while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
            i++;
        size_t s = i;
        while (i < n && v[i] != ',' && v[i] != ' ' && v[i] != '\t')
            i++;
        if (eq_nocase(v + s, i - s, "close"))
            r->conn_close = 1;
        else if (eq_nocase(v + s, i - s, "keep-alive"))
            r->conn_keepalive = 1;
    }
}

/* Transfer-Encoding: a list of codings over all its field lines, in order (RFC 9112 6.1). We note
 * how often chunked appears, whether it is last, whether another coding appears (we implement none:
 * 501), and anything that is not a plain coding name with optional parameters (400). Empty list
 * elements are ignored (RFC 9110 5.6.1); a quote anywhere is refused rather than parsed, so a comma
 * inside a quoted parameter can never make a "chunked" appear last. */
static void parse_te(struct req *r, const char *v, size_t n)
{
    if (memchr(v, '"', n))
        r->te_bad = 1;
    for (size_t i = 0; i < n;) {
        while (i < n && (v[i] == ' ' || v[i] == '\t'))
            i++;
        size_t s = i;
        while (i < n && proto_is_tchar((unsigned char)v[i]))
            i++;
        size_t e = i;
        while (i < n && (v[i] == ' ' || v[i] == '\t'))
            i++;
        int params = i < n && v[i] == ';';
        int junk = i < n && v[i] != ',' && !params; /* after the name, before the comma */
        while (i < n && v[i] != ',')
            i++;
        if (s == e) {
            r->te_bad |= params || junk; /* an element that is not empty and has no name */
        } else if (eq_nocase(v + s, e - s, "chunked")) {
            r->te_chunked++;
            r->te_last_chunked = 1;
            r->te_bad |= params || junk; /* chunked has no parameters */
        } else {
            r->te_other = 1;
            r->te_last_chunked = 0;
            r->te_bad |= junk;
        }
        i++; /* the comma */
    }
}

/* Parse one header line p[0..n) (no CRLF). Returns 0 or an HTTP status. */
static int parse_field(struct req *r, const char *p, size_t n)
{
    if (p[0] == ' ' || p[0] == '\t')
        return 400; /* obs-fold: RFC 9112 5.2 lets a server reject it, and we do */
    size_t k = 0;
    while (k < n && proto_is_tchar((unsigned char)p[k]))
        k++;
    if (k == 0 || k == n || p[k] != ':')
        return 400; /* empty name, no colon, or whitespace before the colon (RFC 9112 5.1) */
    size_t vs = k + 1, ve = n;
    while (vs < ve && (p[vs] == ' ' || p[vs] == '\t'))
        vs++;
    while (ve > vs && (p[ve - 1] == ' ' || p[ve - 1] == '\t'))
        ve--;
    for (size_t i = vs; i < ve; i++)
        if (!proto_is_field_char((unsigned char)p[i]))
            return 400; /* bare CR, NUL, control characters */
    const char *v = p + vs;
    size_t vn = ve - vs;
    switch (p[0] | 0x20) {
    case 'h':
        if (eq_nocase(p, k, "host")) {
            r->hosts++;
            r->host = v;
            r->host_len = vn;
        }
        break;
    case 'c':
        if (eq_nocase(p, k, "content-length")) {
            if (++r->clens > 1 || parse_digits(v, vn, &r->clen) < 0)
                return 400; /* duplicates are refused outright: no smuggling games */
        } else if (eq_nocase(p, k, "connection"))
            parse_connection(r, v, vn);
        break;
    case 't':
        if (eq_nocase(p, k, "transfer-encoding")) {
            r->te = 1;
            parse_te(r, v, vn);
        }
        break;
    case 'e':
        if (eq_nocase(p, k, "expect") && eq_nocase(v, vn, "100-continue"))
            r->expect_continue = 1;
        break;
    }
    return 0;
}

static int method_of(const char *p, size_t m)
{
    static const struct { const char *name; int method; } known[] = {
        { "GET", M_GET }, { "HEAD", M_HEAD }, { "POST", M_POST }, { "OPTIONS", M_OPTIONS },
    };
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strlen(known[i].name) == m && memcmp(p, known[i].name, m) == 0)
            return known[i].method;
    return M_OTHER;
}

/* The request-target t[0..n) (RFC 9112 3.2): origin-form; absolute-form (which a server MUST accept,
 * 3.2.2) with an http or https scheme and a valid authority; asterisk-form for OPTIONS only. Sets the
 * path to route (absolute-form: what follows the authority, "/" when empty). Returns 0 or 400. */
static int parse_target(struct req *r, const char *t, size_t n)
{
    if (n == 1 && t[0] == '*') {
        r->form = FORM_ASTERISK;
        r->target = t;
        r->target_len = 1;
        return r->method == M_OPTIONS ? 0 : 400;
    }
    if (t[0] != '/') {
        size_t s = n > 7 && eq_nocase(t, 7, "http://") ? 7 : n > 8 && eq_nocase(t, 8, "https://") ? 8 : 0;
        size_t e = s;
        while (e < n && t[e] != '/' && t[e] != '?')
            e++;
        if (s == 0 || !proto_authority_valid(t + s, e - s))
            return 400; /* authority-form, a relative path, another scheme, a bad authority */
        r->form = FORM_ABSOLUTE;
        t += e;
        n -= e;
        if (n == 0 || t[0] == '?') {
            r->target = "/";
            r->target_len = 1;
            return 0;
        }
    }
    r->target = t;
    const char *q = memchr(t, '?', n);
    r->target_len = q ? (size_t)(q - t) : n;
    return 0;
}

/* Request line p[0..n) (no CRLF). Returns 0 or an HTTP status. */
static int parse_request_line(struct req *r, const char *p, size_t n)
{
    size_t m = 0;
    while (m < n && proto_is_tchar((unsigned char)p[m]))
        m++;
    if (m > PROTO_METHOD_MAX)
        return 501; /* RFC 9112 3: a method longer than any we implement; not a long URI (414) */
    if (m == 0 || m == n || p[m] != ' ')
        return 400;
    r->method = method_of(p, m);
    r->head = r->method == M_HEAD;
    size_t t0 = m + 1, t1 = t0;
    while (t1 < n && p[t1] != ' ') {
        unsigned char ch = (unsigned char)p[t1];
        if (ch <= 0x20 || ch >= 0x7f || ch == '#')
            return 400;
        t1++;
    }
    if (t1 - t0 > PROTO_TARGET_MAX)
        return 414;
    if (t1 == t0 || t1 == n)
        return 400;
    const char *v = p + t1 + 1;
    if (n - t1 - 1 != 8 || memcmp(v, "HTTP/", 5) != 0 || v[5] < '0' || v[5] > '9' || v[6] != '.' ||
        v[7] < '0' || v[7] > '9')
        return 400;
    if (v[5] != '1')
        return 505;
    r->minor = v[7] - '0';
    return parse_target(r, p + t0, t1 - t0);
}

/* The Host field (RFC 9112 3.2): exactly one in HTTP/1.1, at most one in 1.0, and a valid
 * uri-host [":" port]. Empty is valid grammar (a target URI without authority), but an http URI
 * needs a host (RFC 9110 4.2.1), and for origin- and asterisk-form the URI's authority is Host's
 * value (RFC 9112 3.3, which lets a server reject an empty one): 400. An absolute-form target
 * brings its own authority and a server MUST ignore Host then (RFC 9112 3.2.2): it must still be
 * present and valid (or empty), but may name another host. Returns 0 or 400. */
static int check_host(const struct req *r)
{
    if (r->minor >= 1 ? r->hosts != 1 : r->hosts > 1)
        return 400;
    if (r->hosts == 0 || (r->form == FORM_ABSOLUTE && r->host_len == 0))
        return 0;
    return proto_authority_valid(r->host, r->host_len) ? 0 : 400;
}

/* Message framing (RFC 9112 6.1, 6.3). Returns 0 or an HTTP status. */
static int check_framing(const struct req *r)
{
    if (!r->te)
        return r->clen > PROTO_BODY_MAX ? 413 : 0;
    if (r->clens)
        return 400; /* both framings: refuse (smuggling) -- 6.1 lets a server reject it */
    if (r->minor == 0)
        return 400; /* 6.1: Transfer-Encoding in HTTP/1.0 MUST be treated as faulty framing */
    if (r->te_bad || r->te_chunked != 1 || !r->te_last_chunked)
        return 400; /* 6.3: chunked not final (or twice): the length cannot be determined, MUST 400 */
    return r->te_other ? 501 : 0; /* 6.1: a coding before chunked we do not implement (SHOULD 501) */
}

/* ---- routing --------------------------------------------------------------------------------------- */

enum { SRC_NONE, SRC_HELLO, SRC_PATTERN, SRC_FILE, SRC_ECHO }; /* where a response body comes from */
enum { BODY_DISCARD, BODY_ECHO, BODY_CHUNKED, BODY_CHUNKED_HELD, BODY_CHUNKED_ECHO };

static const char hello[] = "Hello, World!";
static const char allow_all[] = "GET, HEAD, POST, OPTIONS";
static const char allow_get[] = "GET, HEAD, OPTIONS";
static const char allow_echo[] = "POST, OPTIONS";

/* Find the target's resource and plan the answer to r's method in c->plan. Returns 0, or an error
 * status: 400 or 404 from the resource, 405 (with *allow the methods it does allow) from the method.
 * Implemented methods: GET and HEAD of /, /bytes/N and files; POST of /echo; OPTIONS of all. */
static int route(struct proto_conn *c, const struct req *r, const char **allow)
{
    const char *t = r->target;
    size_t n = r->target_len;
    struct proto_plan *pl = &c->plan;
    int status;

    memset(pl, 0, sizeof *pl);
    *allow = allow_get;
    if (r->form == FORM_ASTERISK) {
        *allow = allow_all; /* the server as a whole (RFC 9110 9.3.7) */
    } else if (n == 1) {
        pl->src = SRC_HELLO;
        pl->ctype = "text/plain";
        pl->len = sizeof hello - 1;
    } else if (n == 5 && memcmp(t, "/echo", 5) == 0) {
        *allow = allow_echo;
        pl->src = SRC_ECHO;
        pl->ctype = "application/octet-stream";
    } else if (n > 7 && memcmp(t, "/bytes/", 7) == 0) {
        if (parse_digits(t + 7, n - 7, &pl->len) < 0 || pl->len > PROTO_BYTES_MAX)
            return 400;
        pl->src = SRC_PATTERN;
        pl->ctype = "application/octet-stream";
    } else if (c->cfg->docroot_fd < 0) {
        return 404;
    } else if ((status = proto_file_open(c->cfg->docroot_fd, t, n, &c->file_fd, &pl->len,
                                         &pl->ctype)) != 200) {
        return status;
    } else {
        pl->src = SRC_FILE;
    }
    if (r->method == M_OPTIONS) { /* 200, no content, Allow (RFC 9110 9.3.7) */
        proto_file_close(&c->file_fd);
        memset(pl, 0, sizeof *pl);
        pl->allow = *allow;
        return 0;
    }
    if ((r->method == M_POST) != (pl->src == SRC_ECHO)) {
        proto_file_close(&c->file_fd);
        return 405;
    }
    pl->head = r->head;
    return 0;
}

/* Write the planned response head (and the short body of /). The caller made sure RESP_ROOM bytes
 * are free. An echo closes (if it must) once the request body has been echoed, the rest at once. */
static void emit(struct proto_conn *c, struct proto_out *out)
{
    struct proto_plan *pl = &c->plan;
    put_head(out, 200, pl->ctype, pl->len, pl->conn, pl->allow);
    if (pl->src == SRC_HELLO && !pl->head)
        out->len = (size_t)(put(out->buf + out->len, hello, sizeof hello - 1) - out->buf);
    if (pl->src == SRC_PATTERN || pl->src == SRC_FILE) {
        c->resp_left = pl->head ? 0 : pl->len;
        c->resp_off = 0;
        if (c->resp_left == 0)
            proto_file_close(&c->file_fd);
    }
    if (pl->src != SRC_ECHO || pl->len == 0)
        c->close_after = pl->conn == CONN_CLOSE;
    pl->pending = 0;
    c->requests++;
}

/* The modelled work of one request: --work-us of CPU, then --wait-us of blocking. */
static void request_work(const struct proto_cfg *cfg)
{
    if (cfg->work_us)
        proto_burn_cpu(cfg->work_us);
    if (cfg->wait_us)
        proto_block(cfg->wait_us);
}

/* The header block p[0..end) is complete: parse, check, plan the answer; write its head unless a
 * chunked body must be read first. Returns 0 or an error status (*head and *allow for its answer). */
static int http_request(struct proto_conn *c, const char *p, size_t end, struct proto_out *out,
                        int *head, const char **allow)
{
    struct req r = { 0 };
    int status;
    const char *line = p, *stop = p + end - 2; /* stop: the final empty line's CRLF */
    /* The request line ends at the first LF (every LF here follows a CR), not at the first CR: a
     * bare CR inside it must reach parse_request_line and be refused, not end the line early and let
     * what follows it ("GET / HTTP/1.1\rXHost: a") pass for a header. */
    const char *eol = (const char *)memchr(line, '\n', (size_t)(stop + 2 - line)) - 1;

    if ((status = parse_request_line(&r, line, (size_t)(eol - line))) != 0)
        return status;
    *head = r.head;
    if ((size_t)(stop - eol) > PROTO_HEADERS_MAX + 2)
        return 431;
    unsigned fields = 0;
    for (line = eol + 2; line < stop; line = eol + 2) {
        eol = memchr(line, '\n', (size_t)(stop + 2 - line)) - 1; /* every LF here follows a CR */
        if (++fields > PROTO_FIELDS_MAX)
            return 431;
        if ((status = parse_field(&r, line, (size_t)(eol - line))) != 0)
            return status;
    }
    if ((status = check_host(&r)) != 0 || (status = check_framing(&r)) != 0)
        return status;
    if (r.method == M_OTHER)
        return 501; /* RFC 9110 9.1: a method not implemented (for any resource) SHOULD get 501 */

    int keep = r.minor >= 1 ? !r.conn_close : (r.conn_keepalive && !r.conn_close);
    keep = keep && !c->close_after; /* a keep-alive limit makes this response the last */
    int conn = !keep ? CONN_CLOSE : r.minor == 0 ? CONN_KEEPALIVE : CONN_NONE;
    request_work(c->cfg);
    if ((status = route(c, &r, allow)) != 0)
        return status;
    c->plan.conn = (uint8_t)conn;
    if (r.expect_continue && (r.clen > 0 || r.te) && r.minor >= 1)
        out->len = (size_t)(PUTS(out->buf + out->len, "HTTP/1.1 100 Continue\r\n\r\n") - out->buf);
    int echo = c->plan.src == SRC_ECHO;
    if (r.te) {
        /* The answer waits for the body: a malformed one must still get its 400, and an echo's
         * Content-Length is the body's decoded size. An echo's body is checked where it lies, in
         * the caller's buffer, and copied out once its size is known. */
        proto_chunked_init(&c->chunked);
        c->body = echo ? BODY_CHUNKED_HELD : BODY_CHUNKED;
        c->held = 0;
        return 0;
    }
    c->body = echo && r.clen > 0 ? BODY_ECHO : BODY_DISCARD;
    c->body_left = r.clen;
    if (echo)
        c->plan.len = r.clen;
    emit(c, out);
    return 0;
}

/* Look for the end of the header block in p[0..n), resuming at c->scan. Returns the block length, 0 if
 * it is not complete yet, or -status when the input is already known to be bad or too large. */
static long find_block_end(struct proto_conn *c, const char *p, size_t n)
{
    size_t i = c->scan;
    const char *lf;

    while (i < n && (lf = memchr(p + i, '\n', n - i)) != NULL) {
        size_t j = (size_t)(lf - p);
        if (j == 0 || p[j - 1] != '\r')
            return -400; /* bare LF */
        if (j >= 3 && p[j - 2] == '\n')
            return (long)j + 1;
        i = j + 1;
    }
    c->scan = (uint32_t)n;
    /* Incomplete: refuse now if it is already past a limit (cheap: only for long inputs). The
     * request line is checked whether or not its LF has come: a long line that arrives with its LF
     * in the same read would otherwise leave room for 8 KiB of headers behind it, more than
     * PROTO_IN_MIN in all, and the caller's buffer would fill with no verdict. A long run of
     * method characters is a method we do not implement, not a long target. */
    if (n > PROTO_TARGET_MAX + 32) {
        size_t m = 0;
        while (m <= PROTO_METHOD_MAX && proto_is_tchar((unsigned char)p[m]))
            m++;
        if (m > PROTO_METHOD_MAX)
            return -501;
        lf = memchr(p, '\n', n);
        if (lf == NULL || (size_t)(lf - p) > PROTO_TARGET_MAX + 32)
            return -414;
        if (n - (size_t)(lf - p) - 1 > PROTO_HEADERS_MAX)
            return -431;
    }
    return 0;
}

/* ---- connection-level keep-alive limits ------------------------------------------------------------- */

static int64_t coarse_now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &t); /* vDSO, a few ns: the limit is in whole seconds */
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* A complete request is about to be answered (whatever its status): count it, and say whether
 * --keepalive-requests or --keepalive-time makes its response the connection's last. */
static int keepalive_spent(struct proto_conn *c)
{
    const struct proto_cfg *cfg = c->cfg;
    c->responses++;
    if (cfg->keepalive_requests && c->responses >= cfg->keepalive_requests)
        return 1;
    if (cfg->yield && cfg->yield())
        return 1;
    return cfg->keepalive_time &&
           coarse_now_ns() - c->born_ns >= (int64_t)cfg->keepalive_time * 1000000000;
}

/* ---- the step function ------------------------------------------------------------------------------ */

static enum proto_result echo_step(struct proto_conn *c, const char *in, size_t n, size_t *used,
                                   struct proto_out *out)
{
    size_t room = out->cap - out->len;
    size_t k = n < room ? n : room;
    if (k > 0) {
        request_work(c->cfg);
        memcpy(out->buf + out->len, in, k);
        out->len += k;
        c->requests++;
    }
    *used = k;
    return k < n ? PROTO_NEED_ROOM : PROTO_NEED_INPUT;
}

static enum proto_result close_now(struct proto_conn *c, size_t *used, size_t pos)
{
    c->closed = 1;
    proto_fini(c);
    *used = pos;
    return PROTO_CLOSE;
}

/* Read a Content-Length body from in[*pos..n): dropped, or echoed into out as far as it has room.
 * Returns 1 when the body is complete, 0 when more input is needed, -1 when out is full. */
static int cl_body(struct proto_conn *c, const char *in, size_t n, size_t *pos, struct proto_out *out)
{
    size_t k = n - *pos < c->body_left ? n - *pos : (size_t)c->body_left;
    if (c->body == BODY_ECHO) {
        size_t room = out->cap - out->len;
        k = k < room ? k : room;
        memcpy(out->buf + out->len, in + *pos, k);
        out->len += k;
    }
    *pos += k;
    c->body_left -= k;
    if (c->body_left > 0)
        return *pos < n ? -1 : 0;
    if (c->body == BODY_ECHO)
        c->close_after = c->plan.conn == CONN_CLOSE;
    c->body = BODY_DISCARD;
    return 1;
}

/* Read a chunked body from in[*pos..n). Returns 1 when it is complete (its answer planned or, for an
 * echo, its copy done), 0 when more input is needed, -1 when out is full, or an error status. A held
 * body (to /echo) is only checked and stays in the caller's buffer; once complete, the echo's head is
 * planned and the body decoded again, this time into out and consumed. */
static int chunked_body(struct proto_conn *c, const char *in, size_t n, size_t *pos,
                        struct proto_out *out)
{
    int verdict;
    if (c->body == BODY_CHUNKED_HELD) {
        size_t avail = n - *pos - c->held, lim = PROTO_ECHO_HELD_MAX - c->held;
        c->held += (uint32_t)proto_chunked_run(&c->chunked, in + *pos + c->held,
                                               avail < lim ? avail : lim, NULL, &verdict);
        if (verdict == 0)
            return c->held == PROTO_ECHO_HELD_MAX ? 413 : 0;
        if (verdict != PROTO_CHUNKED_DONE)
            return verdict;
        c->plan.len = c->chunked.total;
        c->plan.pending = 1;
        c->body = BODY_CHUNKED_ECHO;
        proto_chunked_init(&c->chunked);
        return 1;
    }
    int echo = c->body == BODY_CHUNKED_ECHO;
    *pos += proto_chunked_run(&c->chunked, in + *pos, n - *pos, echo ? out : NULL, &verdict);
    if (verdict == 0)
        return *pos < n ? -1 : 0;
    if (verdict != PROTO_CHUNKED_DONE)
        return verdict; /* never for an echo: its body was checked while held */
    if (echo)
        c->close_after = c->plan.conn == CONN_CLOSE;
    else
        c->plan.pending = 1;
    c->body = BODY_DISCARD;
    return 1;
}

enum proto_result proto_step(struct proto_conn *c, const char *in, size_t n, size_t *used,
                             struct proto_out *out)
{
    size_t pos = 0;
    int status, head;
    const char *allow;

    if (c->closed) {
        *used = 0;
        return PROTO_CLOSE;
    }
    if (c->cfg->kind == PROTO_ECHO)
        return echo_step(c, in, n, used, out);

    for (;;) {
        if (c->plan.pending) {
            if (out->cap - out->len < RESP_ROOM) {
                *used = pos;
                return PROTO_NEED_ROOM;
            }
            emit(c, out);
        }
        if (c->resp_left > 0) {
            int r = fill_body(c, out);
            if (r < 0)
                return close_now(c, used, n); /* the head promised bytes we cannot deliver */
            if (r == 0) {
                *used = pos;
                return PROTO_NEED_ROOM;
            }
        }
        if (c->close_after)
            return close_now(c, used, n); /* nothing after this response is for us */
        if (c->body >= BODY_CHUNKED) {
            /* room for the answer (or an error) first, unless the head is out already */
            if (c->body != BODY_CHUNKED_ECHO && out->cap - out->len < RESP_ROOM) {
                *used = pos;
                return PROTO_NEED_ROOM;
            }
            status = chunked_body(c, in, n, &pos, out);
            if (status > 1) {
                http_error(c, out, status, c->plan.head, NULL);
                return close_now(c, used, n);
            }
        } else {
            status = c->body_left > 0 ? cl_body(c, in, n, &pos, out) : 1;
        }
        if (status == 0)
            break;
        if (status < 0) {
            *used = pos;
            return PROTO_NEED_ROOM;
        }
        if (c->plan.pending || c->close_after || c->body != BODY_DISCARD)
            continue;
        if (pos == n)
            break;
        if (out->cap - out->len < RESP_ROOM) {
            *used = pos;
            return PROTO_NEED_ROOM;
        }
        if (n - pos >= 2 && in[pos] == '\r' && in[pos + 1] == '\n') {
            pos += 2; /* RFC 9112 2.2: ignore empty lines before a request line */
            c->scan = 0;
            continue;
        }
        long end = find_block_end(c, in + pos, n - pos);
        if (end == 0)
            break;
        c->close_after = keepalive_spent(c);
        head = 0;
        allow = NULL;
        status = end < 0 ? (int)-end : 0;
        if (status == 0 && (status = http_request(c, in + pos, (size_t)end, out, &head, &allow)) == 0) {
            pos += (size_t)end;
            c->scan = 0;
            continue;
        }
        http_error(c, out, status, head, allow);
        return close_now(c, used, n);
    }
    *used = pos;
    return PROTO_NEED_INPUT;
}

void proto_init(struct proto_conn *c, const struct proto_cfg *cfg)
{
    memset(c, 0, sizeof *c);
    c->cfg = cfg;
    c->file_fd = -1;
    if (cfg->keepalive_time)
        c->born_ns = coarse_now_ns();
}

void proto_fini(struct proto_conn *c)
{
    proto_file_close(&c->file_fd);
    c->resp_left = 0;
}

void proto_block(unsigned us)
{
    /* An absolute deadline, so a signal (SIGCHLD in the fork server) does not lengthen the wait. */
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    t.tv_sec += (time_t)(us / 1000000);
    t.tv_nsec += (long)(us % 1000000) * 1000;
    if (t.tv_nsec >= 1000000000L)
        t.tv_sec++, t.tv_nsec -= 1000000000L;
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL) == EINTR)
        ;
}

void proto_burn_cpu(unsigned us)
{
    struct timespec t0, t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
    /* Burn CPU time, not wall time: a preempted thread must not get its work done for free. The clock
     * is a system call, so it is read only every few microseconds of arithmetic. */
    for (volatile unsigned spin;;) {
        for (spin = 0; spin < 2000; spin++)
            ;
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
        long el = (t.tv_sec - t0.tv_sec) * 1000000L + (t.tv_nsec - t0.tv_nsec) / 1000;
        if (el >= (long)us)
            return;
    }
}
