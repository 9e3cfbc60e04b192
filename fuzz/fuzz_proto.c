/* fuzz_proto.c: libFuzzer harness for the protocol engine (servers/common/proto.c and static.c).
 *
 * An input is a small header and a byte stream a client might send:
 *
 *     byte 0      mode: bits 0-1 what the stream is (0 HTTP, 1 echo, 2 HTTP with a docroot, 3 the
 *                 body of a POST /echo, see below), bits 2-3 output buffer size (PROTO_OUT_MIN,
 *                 1500, 4096, 65536), bits 4-7 how the stream is split (0: as large pieces as the
 *                 input buffer takes; else pieces of 1..2^k bytes at random)
 *     bytes 1-2   seed of the split sizes (and of the POST /echo encoding)
 *     bytes 3..   the stream
 *
 * The stream is fed the way a server feeds it: into an input buffer of exactly PROTO_IN_MIN bytes,
 * unconsumed bytes kept at its front, the output buffer written out (here: collected) before each
 * step. It is fed twice, once in the largest pieces with a 64 KiB output buffer and once split as the
 * header says with the output buffer it says, and these must hold:
 *
 *   - used <= offered; after NEED_INPUT the unconsumed bytes leave room to read more (< PROTO_IN_MIN);
 *     asked again with nothing new, the engine consumes and produces nothing;
 *   - NEED_ROOM makes progress (consumes or produces) every time it is returned for an empty buffer;
 *   - after CLOSE nothing more is consumed or produced;
 *   - echo: the output is the input, byte for byte, and the engine never closes;
 *   - HTTP: the output is a sequence of well-formed responses (status line, the known headers,
 *     Content-Length exactly once, a body of that length unless it answers HEAD -- or, for the last,
 *     an echo still waiting for the rest of its request body), one per request counted, an error
 *     status or Connection: close only as the last one and then CLOSE;
 *   - both feedings give the same output (but for Date values) and the same verdict;
 *   - no byte of a file outside the docroot ever appears in the output;
 *   - POST /echo (mode 3): the harness encodes the stream itself -- Content-Length, or chunked with
 *     chunk sizes, hex case, leading zeros, extensions and trailers drawn from the seed -- with a
 *     GET / behind it, and the engine must answer the stream back exactly, then the GET (or 413 for
 *     a chunked body past PROTO_ECHO_HELD_MAX as sent), the same in both feedings.
 *
 * Any violation prints what happened and aborts, which libFuzzer reports as a crash. The same file,
 * linked with fuzz/replay.c instead of libFuzzer, replays the seed corpus in `make test`. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../servers/common/proto.h"

#define OUT_TOTAL_MAX (256u * 1024u) /* output collected per feeding; past it the "client" leaves */
#define SECRET "FUZZ-SECRET-OUTSIDE"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static struct proto_cfg cfg_echo = { .kind = PROTO_ECHO, .docroot_fd = -1 };
static struct proto_cfg cfg_http = { .kind = PROTO_HTTP, .docroot_fd = -1 };
static struct proto_cfg cfg_files = { .kind = PROTO_HTTP, .docroot_fd = -1 };

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_proto: invariant violated: " __VA_ARGS__);                       \
            fprintf(stderr, "\n");                                                                 \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* ---- a docroot with a secret beside it ---------------------------------------------------------- */

static void put_file(const char *dir, const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
        perror(path);
        exit(2);
    }
}

static const char *docroot_top;

static void remove_docroot(void)
{
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", docroot_top);
    if (system(cmd) != 0)
        fprintf(stderr, "fuzz_proto: could not remove %s\n", docroot_top);
}

static void make_docroot(void)
{
    static char top[] = "/tmp/cmb-fuzz-XXXXXX";
    char www[600], path[700];
    if (!mkdtemp(top)) {
        perror("mkdtemp");
        exit(2);
    }
    snprintf(www, sizeof www, "%s/www", top);
    put_file(top, "secret.txt", SECRET " top\n");
    snprintf(path, sizeof path, "%s/www-private", top);
    mkdir(path, 0755);
    put_file(path, "secret.txt", SECRET " sibling\n");
    mkdir(www, 0755);
    put_file(www, "a.txt", "fuzz a\n");
    put_file(www, "index.html", "<p>fuzz</p>\n");
    snprintf(path, sizeof path, "%s/sub", www);
    mkdir(path, 0755);
    put_file(path, "b.css", "b{}\n");
    snprintf(path, sizeof path, "%s/in", www);
    if (symlink("a.txt", path) != 0)
        perror(path);
    snprintf(path, sizeof path, "%s/out", www);
    if (symlink("../secret.txt", path) != 0)
        perror(path);
    snprintf(path, sizeof path, "%s/sib", www);
    if (symlink("../www-private/secret.txt", path) != 0)
        perror(path);
    snprintf(path, sizeof path, "%s/fifo", www);
    mkfifo(path, 0644);
    cfg_files.docroot_fd = open(www, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (cfg_files.docroot_fd < 0) {
        perror(www);
        exit(2);
    }
    docroot_top = top;
    atexit(remove_docroot);
}

/* ---- feeding -------------------------------------------------------------------------------------- */

struct feed {
    char *out;         /* everything produced, up to OUT_TOTAL_MAX (then capped) */
    size_t outlen;
    unsigned requests; /* proto_take_requests() summed */
    int closed;        /* CLOSE was returned */
    int capped;        /* the output cap ended the feeding early */
};

static uint32_t rng_next(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

static void collect(struct feed *f, const struct proto_out *o)
{
    size_t room = OUT_TOTAL_MAX - f->outlen;
    size_t k = o->len < room ? o->len : room;
    memcpy(f->out + f->outlen, o->buf, k);
    f->outlen += k;
    if (k < o->len)
        f->capped = 1;
}

/* The input buffer, and a way to make the bytes past the pending ones unreadable for ASan, so that an
 * engine read beyond what it was offered is caught without copying the input for every step. */
static char pend[PROTO_IN_MIN];
#if defined(__SANITIZE_ADDRESS__)
#define HAVE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HAVE_ASAN 1
#endif
#endif
#ifdef HAVE_ASAN
#include <sanitizer/asan_interface.h>
#define HIDE(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define SHOW(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define HIDE(p, n) ((void)(p), (void)(n))
#define SHOW(p, n) ((void)(p), (void)(n))
#endif

/* One step on the pending bytes, everything past them hidden, with an empty output buffer. */
static enum proto_result step(struct proto_conn *c, size_t plen, size_t *used, struct proto_out *o)
{
    HIDE(pend + plen, sizeof pend - plen);
    o->len = 0;
    enum proto_result r = proto_step(c, pend, plen, used, o);
    SHOW(pend + plen, sizeof pend - plen);
    CHECK(*used <= plen, "consumed %zu of %zu bytes offered", *used, plen);
    CHECK(o->len <= o->cap, "output %zu past its capacity %zu", o->len, o->cap);
    return r;
}

static void feed(const struct proto_cfg *cfg, const uint8_t *s, size_t n, size_t outcap,
                 unsigned split_bits, uint32_t seed, struct feed *f)
{
    struct proto_conn c;
    struct proto_out o = { .buf = malloc(outcap), .len = 0, .cap = outcap };
    size_t plen = 0, pos = 0, used;
    uint32_t rng = seed * 2654435761u + 1;
    enum proto_result r = PROTO_NEED_INPUT;

    if (!o.buf)
        abort();
    f->outlen = f->requests = 0;
    f->closed = f->capped = 0;
    proto_init(&c, cfg);
    while (!f->capped) {
        /* read: as much as the input buffer takes, or a random piece of it */
        size_t room = sizeof pend - plen, k = n - pos < room ? n - pos : room;
        if (split_bits) {
            size_t piece = 1 + rng_next(&rng) % (1u << split_bits);
            k = k < piece ? k : piece;
        }
        if (k == 0 && pos == n)
            break; /* the client has nothing more to say */
        CHECK(k > 0, "the engine wants input but the %u-byte input buffer is full",
              (unsigned)sizeof pend);
        memcpy(pend + plen, s + pos, k);
        plen += k;
        pos += k;
        /* step until the engine needs input or closes */
        for (;;) {
            r = step(&c, plen, &used, &o);
            f->requests += proto_take_requests(&c);
            memmove(pend, pend + used, plen - used);
            plen -= used;
            collect(f, &o);
            if (f->capped || r == PROTO_CLOSE)
                break;
            if (r == PROTO_NEED_ROOM) {
                CHECK(used > 0 || o.len > 0, "NEED_ROOM without progress (output buffer %zu)",
                      outcap);
                continue;
            }
            /* NEED_INPUT: asked again with nothing new, nothing may happen */
            CHECK(plen < sizeof pend, "NEED_INPUT with a full input buffer");
            r = step(&c, plen, &used, &o);
            CHECK(r == PROTO_NEED_INPUT && used == 0 && o.len == 0,
                  "NEED_INPUT, then asked again with nothing new: result %d, used %zu, output %zu",
                  (int)r, used, o.len);
            break;
        }
        if (r == PROTO_CLOSE) {
            f->closed = 1;
            r = step(&c, plen, &used, &o);
            CHECK(r == PROTO_CLOSE && used == 0 && o.len == 0,
                  "after CLOSE: result %d, used %zu, output %zu", (int)r, used, o.len);
            break;
        }
    }
    proto_fini(&c);
    free(o.buf);
}

/* ---- the output must be well-formed responses --------------------------------------------------- */

/* a[0..n) and b[0..n) are the same but for Date values (the two feedings may straddle a second).
 * Nothing is blanked in place: an echoed body may hold "\r\nDate: " too, and blanking it could run
 * into the next response's head. */
static int same_but_dates(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (a[i] == b[i])
            continue;
        int in_date = 0; /* the bytes before i are the same in both: look in a */
        for (size_t j = i >= 8 + 28 ? i - 8 - 28 : 0; j + 8 <= i && !in_date; j++)
            in_date = memcmp(a + j, "\r\nDate: ", 8) == 0;
        if (!in_date)
            return 0;
    }
    return 1;
}

static int known_status(int st)
{
    static const int known[] = { 200, 400, 404, 405, 413, 414, 431, 501, 505 };
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (st == known[i])
            return 1;
    return 0;
}

struct walk {
    unsigned count;     /* responses (100 Continue not counted) */
    size_t last_start;  /* offset of the last response */
    int last_status;
};

/* The walk's state and its first failure. A response to HEAD has no body; the walker cannot tell
 * which responses answer HEAD, so where both readings fit (no body, or Content-Length bytes of it:
 * an echo's body may itself look like a response) it tries one and, if the rest does not walk,
 * the other, within a budget of response heads parsed per output. */
struct walker {
    const char *out;
    size_t n;
    const struct feed *f;
    int maybe_head;
    int maybe_echo; /* the input mentions /echo: the last answer may wait for more of its body */
    unsigned budget;
    char why[200];
};

#define FAIL(wk, ...)                                                                              \
    do {                                                                                           \
        snprintf((wk)->why, sizeof (wk)->why, __VA_ARGS__);                                        \
        return -1;                                                                                 \
    } while (0)

static int response_at(const struct walker *wk, size_t pos)
{
    return pos == wk->n || (wk->n - pos >= 9 && memcmp(wk->out + pos, "HTTP/1.1 ", 9) == 0);
}

/* Walk the responses from out[pos..), the previous one closing or not. Returns 0 when they are well
 * formed, their number (when the output is complete) the requests counted and the last one closes
 * exactly when the engine closed; 1 when the budget ran out (unchecked); -1 with wk->why set. */
static int walk_from(struct walker *wk, size_t pos, int last_closes, struct walk *w)
{
    static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
    const char *out = wk->out;
    size_t n = wk->n;
    int cut = 0; /* the last response is cut short */

    while (pos < n) {
        const char *p = out + pos;
        size_t left = n - pos;
        if (left >= sizeof cont - 1 && memcmp(p, cont, sizeof cont - 1) == 0) {
            pos += sizeof cont - 1;
            continue;
        }
        if (wk->budget == 0)
            return 1;
        wk->budget--;
        if (last_closes)
            FAIL(wk, "a response after one that closes, at output byte %zu", pos);
        const char *end = memmem(p, left, "\r\n\r\n", 4);
        if (!end && wk->f->capped)
            break; /* cut by the cap */
        if (end == NULL)
            FAIL(wk, "response head without its end at output byte %zu", pos);
        if (left < 13 || memcmp(p, "HTTP/1.1 ", 9) != 0 || p[12] != ' ')
            FAIL(wk, "bad status line at output byte %zu: %.20s", pos, p);
        int status = atoi(p + 9);
        if (!known_status(status))
            FAIL(wk, "unexpected status %d", status);
        const char *line = memchr(p, '\n', (size_t)(end - p)) + 1;
        long clen = -1;
        int conn_close = 0, dates = 0;
        while (line < end + 2) {
            const char *eol = memchr(line, '\r', (size_t)(end + 2 - line));
            const char *colon = memchr(line, ':', (size_t)(eol - line));
            if (!colon || colon[1] != ' ')
                FAIL(wk, "bad header line %.30s", line);
            size_t kn = (size_t)(colon - line);
#define IS(name) (kn == sizeof(name) - 1 && memcmp(line, name, kn) == 0)
            if (IS("Content-Length")) {
                if (clen >= 0)
                    FAIL(wk, "two Content-Length headers");
                clen = atol(colon + 2);
            } else if (IS("Connection")) {
                conn_close = memcmp(colon + 2, "close", 5) == 0;
            } else if (IS("Date")) {
                dates++;
                if (eol - colon - 2 != 29)
                    FAIL(wk, "Date value of %d bytes", (int)(eol - colon - 2));
            } else if (!(IS("Server") || IS("Content-Type") || IS("Allow"))) {
                FAIL(wk, "unknown header %.*s", (int)kn, line);
            }
#undef IS
            line = eol + 2;
        }
        if (clen < 0 || dates != 1)
            FAIL(wk, "Content-Length %ld, %d Date headers", clen, dates);
        if (status >= 400 && !conn_close)
            FAIL(wk, "error %d without Connection: close", status);
        w->last_start = pos;
        w->last_status = status;
        pos = (size_t)(end + 4 - out);
        w->count++;
        last_closes = conn_close;
        if ((size_t)clen > n - pos) {
            if (wk->maybe_head && response_at(wk, pos))
                continue; /* only the bodiless reading fits */
            if (!wk->f->capped && !(wk->maybe_echo && !wk->f->closed))
                FAIL(wk, "body of %ld bytes, %zu produced (response %u)", clen, n - pos, w->count);
            cut = 1; /* its Connection: close comes true once the body is complete */
            pos = n;
            break;
        }
        if (wk->maybe_head && clen > 0 && response_at(wk, pos)) {
            if (!response_at(wk, pos + (size_t)clen))
                continue; /* only the bodiless reading fits */
            struct walk saved = *w;
            int r = walk_from(wk, pos, last_closes, w); /* bodiless first, then with its body */
            if (r >= 0)
                return r;
            *w = saved;
        }
        pos += (size_t)clen;
    }
    if (!wk->f->capped) {
        if (last_closes != wk->f->closed && !cut)
            FAIL(wk, "the last response %s but the engine %s", last_closes ? "closes" : "keeps alive",
                 wk->f->closed ? "closed" : "did not close");
        if (w->count != wk->f->requests)
            FAIL(wk, "%u responses for %u requests counted", w->count, wk->f->requests);
    }
    return 0;
}

/* Walk the responses in out[0..n). maybe_head: the input mentions HEAD, so a response may come
 * without its body. */
static struct walk check_responses(const char *out, size_t n, const struct feed *f, int maybe_head,
                                   int maybe_echo)
{
    struct walker wk = { out, n, f, maybe_head, maybe_echo, 4096, "" };
    struct walk w = { 0, 0, 0 };
    CHECK(walk_from(&wk, 0, 0, &w) >= 0, "%s", wk.why);
    return w;
}

/* ---- the entry point -------------------------------------------------------------------------------- */

static struct feed ref, alt;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    make_docroot();
    ref.out = malloc(OUT_TOTAL_MAX);
    alt.out = malloc(OUT_TOTAL_MAX);
    if (!ref.out || !alt.out)
        abort();
    return 0;
}

/* ---- POST /echo against an encoder of our own ----------------------------------------------------- */

#define ORACLE_BODY_MAX 20000u /* echo bodies the oracle builds: on both sides of the held limit */

/* Valid chunk extensions, BWS included (RFC 9112 7.1.1). */
static const char *const exts[] = {
    "", ";a", ";a=b", " ;a = b", ";a=\"q\\\"s;t\"", ";x;y=\"\"", "\t; n=v\t;m",
};

static size_t put_str(char *d, const char *s)
{
    size_t k = strlen(s);
    memcpy(d, s, k);
    return k;
}

/* Build POST /echo with body b[0..n), Content-Length or chunked (chunk sizes, hex case, leading
 * zeros, extensions and trailers drawn from rng), then a pipelined GET /. Returns the length; sets
 * *wire to the size of the body as sent. */
static size_t build_echo(char *req, const uint8_t *b, size_t n, uint32_t *rng, int chunked,
                         int expect, size_t *wire)
{
    size_t k = put_str(req, "POST /echo HTTP/1.1\r\nHost: a\r\n");
    if (expect)
        k += put_str(req + k, "Expect: 100-continue\r\n");
    if (!chunked) {
        k += (size_t)sprintf(req + k, "Content-Length: %zu\r\n\r\n", n);
        memcpy(req + k, b, n);
        k += n;
        *wire = n;
    } else {
        k += put_str(req + k, "Transfer-Encoding: chunked\r\n\r\n");
        size_t start = k;
        for (size_t off = 0;; ) {
            uint32_t r = rng_next(rng);
            size_t piece = n - off, most = 1 + (r >> 8) % (1u << (1 + (r >> 4) % 14));
            if ((r & 1) && piece > most)
                piece = most; /* else the rest in one chunk */
            for (unsigned z = (r >> 1) & 3; z > 0 && (r & 8); z--)
                req[k++] = '0';
            k += (size_t)sprintf(req + k, (r & 64) ? "%zX" : "%zx", piece);
            k += put_str(req + k, exts[(r >> 24) % (sizeof exts / sizeof exts[0])]);
            k += put_str(req + k, "\r\n");
            if (piece == 0)
                break;
            memcpy(req + k, b + off, piece);
            k += piece;
            k += put_str(req + k, "\r\n");
            off += piece;
        }
        if (rng_next(rng) & 1)
            k += put_str(req + k, "X-Trailer: v\r\nContent-Length: 1\r\n");
        k += put_str(req + k, "\r\n");
        *wire = k - start;
    }
    return k + put_str(req + k, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
}

/* The echo must come back exactly, Content-Length framed, and the next request be answered -- or,
 * for a chunked body past PROTO_ECHO_HELD_MAX as sent, a 413 and a close. */
static void check_echo(const struct feed *f, const uint8_t *b, size_t n, int expect, int too_big)
{
    static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
    const char *p = f->out;
    size_t left = f->outlen;
    if (expect && left >= sizeof cont - 1 && memcmp(p, cont, sizeof cont - 1) == 0) {
        p += sizeof cont - 1;
        left -= sizeof cont - 1;
    }
    if (too_big) {
        CHECK(left > 12 && memcmp(p, "HTTP/1.1 413", 12) == 0 && f->closed && f->requests == 1,
              "chunked echo past the held limit: not a 413 and a close");
        return;
    }
    const char *end = memmem(p, left, "\r\n\r\n", 4);
    char want[48];
    snprintf(want, sizeof want, "\r\nContent-Length: %zu\r\n", n);
    CHECK(end && left > 12 && memcmp(p, "HTTP/1.1 200", 12) == 0 &&
              memmem(p, (size_t)(end + 2 - p), want, strlen(want)),
          "echo of %zu bytes: not a 200 with its Content-Length", n);
    size_t body = (size_t)(end + 4 - p);
    CHECK(left - body >= n && memcmp(p + body, b, n) == 0, "echo of %zu bytes differs", n);
    static const char hello[] = "Hello, World!";
    CHECK(left - body - n > 12 && memcmp(p + body + n, "HTTP/1.1 200", 12) == 0 &&
              memcmp(f->out + f->outlen - 13, hello, 13) == 0 && !f->closed && f->requests == 2,
          "the request after an echo was not answered");
}

static void echo_oracle(const uint8_t *s, size_t n, unsigned mode, uint32_t seed, size_t outcap,
                        unsigned split_bits)
{
    static char req[ORACLE_BODY_MAX * 40 + 4096];
    uint32_t rng = seed * 2246822519u + 7;
    n = n < ORACLE_BODY_MAX ? n : ORACLE_BODY_MAX;
    int chunked = !(seed & 1), expect = (seed & 2) != 0;
    size_t wire, len = build_echo(req, s, n, &rng, chunked, expect, &wire);
    int too_big = chunked && wire > PROTO_ECHO_HELD_MAX;

    feed(&cfg_http, (const uint8_t *)req, len, 65536, 0, seed, &ref);
    feed(&cfg_http, (const uint8_t *)req, len, outcap, split_bits, seed, &alt);
    check_echo(&ref, s, n, expect, too_big);
    check_echo(&alt, s, n, expect, too_big);
    check_responses(ref.out, ref.outlen, &ref, 0, 0);
    check_responses(alt.out, alt.outlen, &alt, 0, 0);
    CHECK(ref.outlen == alt.outlen && same_but_dates(ref.out, alt.out, ref.outlen) &&
              ref.requests == alt.requests && ref.closed == alt.closed,
          "echo answered differently when split (mode %#x)", mode);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const size_t outcaps[] = { PROTO_OUT_MIN, 1500, 4096, 65536 };
    if (size < 3)
        return 0;
    if (!ref.out)
        LLVMFuzzerInitialize(NULL, NULL);
    unsigned mode = data[0];
    uint32_t seed = (uint32_t)data[1] << 8 | data[2];
    const uint8_t *s = data + 3;
    size_t n = size - 3;
    const struct proto_cfg *cfg = (mode & 1) ? &cfg_echo : (mode & 2) ? &cfg_files : &cfg_http;
    size_t outcap = outcaps[(mode >> 2) & 3];
    unsigned split_bits = (mode >> 4) & 15;

    if ((mode & 3) == 3) {
        echo_oracle(s, n, mode, seed, outcap, split_bits);
        return 0;
    }

    feed(cfg, s, n, 65536, 0, seed, &ref);
    feed(cfg, s, n, outcap, split_bits, seed, &alt);

    if (cfg->kind == PROTO_ECHO) {
        CHECK(!ref.closed && !alt.closed, "echo closed");
        CHECK(ref.outlen == (ref.capped ? OUT_TOTAL_MAX : n) && memcmp(ref.out, s, ref.outlen) == 0,
              "echo output differs from its input");
        CHECK(alt.outlen == ref.outlen && memcmp(alt.out, s, alt.outlen) == 0,
              "echo output differs from its input when split");
        return 0;
    }

    int maybe_head = memmem(s, n, "HEAD", 4) != NULL, maybe_echo = memmem(s, n, "/echo", 5) != NULL;
    struct walk wr = check_responses(ref.out, ref.outlen, &ref, maybe_head, maybe_echo);
    struct walk wa = check_responses(alt.out, alt.outlen, &alt, maybe_head, maybe_echo);
    if (ref.capped || alt.capped) {
        size_t common = ref.outlen < alt.outlen ? ref.outlen : alt.outlen;
        CHECK(same_but_dates(ref.out, alt.out, common), "output differs when split (mode %#x)", mode);
    } else if (wr.last_status >= 400 && wa.last_status >= 400) {
        /* A request still arriving can be refused for its size (414, 431) before a complete one
         * would have been refused for its content: which error ends it may depend on the split;
         * everything before it may not. */
        CHECK(wr.last_start == wa.last_start && same_but_dates(ref.out, alt.out, wr.last_start) &&
                  ref.requests == alt.requests && ref.closed && alt.closed,
              "split feeding differs before the final error (%d/%d)", wr.last_status,
              wa.last_status);
    } else {
        CHECK(ref.outlen == alt.outlen && same_but_dates(ref.out, alt.out, ref.outlen) &&
                  ref.closed == alt.closed && ref.requests == alt.requests,
              "split feeding differs: %zu/%zu bytes, closed %d/%d, requests %u/%u (mode %#x)",
              ref.outlen, alt.outlen, ref.closed, alt.closed, ref.requests, alt.requests, mode);
    }
    CHECK(!memmem(ref.out, ref.outlen, SECRET, sizeof SECRET - 1) &&
              !memmem(alt.out, alt.outlen, SECRET, sizeof SECRET - 1),
          "a file from outside the docroot was served");
    return 0;
}
