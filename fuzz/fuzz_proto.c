/* fuzz_proto.c: libFuzzer harness for the protocol engine (servers/common/proto.c and static.c).
 *
 * An input is a small header and a byte stream a client might send:
 *
 *     byte 0      mode: bit 0 echo (else HTTP), bit 1 with a docroot, bits 2-3 output buffer size
 *                 (PROTO_OUT_MIN, 1500, 4096, 65536), bits 4-7 how the stream is split (0: as
 *                 large pieces as the input buffer takes; else pieces of 1..2^k bytes at random)
 *     bytes 1-2   seed of the split sizes
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
 *     Content-Length exactly once, a body of that length unless it answers HEAD), one per request
 *     counted, an error status or Connection: close only as the last one and then CLOSE;
 *   - both feedings give the same output (Date values blanked) and the same verdict;
 *   - no byte of a file outside the docroot ever appears in the output.
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

static void blank_dates(char *s, size_t n)
{
    for (size_t i = 0; i + 6 + 29 <= n; i++)
        if (memcmp(s + i, "\r\nDate: ", 8) == 0 && i + 8 + 29 <= n)
            memset(s + i + 8, 'X', 29);
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

/* Walk the responses in out[0..n). maybe_head: the input mentions HEAD, so a response may come
 * without its body. */
static struct walk check_responses(const char *out, size_t n, const struct feed *f, int maybe_head)
{
    size_t pos = 0;
    struct walk w = { 0, 0, 0 };
    int last_closes = 0;

    while (pos < n) {
        const char *p = out + pos;
        size_t left = n - pos;
        static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
        if (left >= sizeof cont - 1 && memcmp(p, cont, sizeof cont - 1) == 0) {
            pos += sizeof cont - 1;
            continue;
        }
        CHECK(!last_closes, "a response after one that closes, at output byte %zu", pos);
        const char *end = memmem(p, left, "\r\n\r\n", 4);
        if (!end && f->capped)
            break; /* cut by the cap */
        CHECK(end != NULL, "response head without its end at output byte %zu", pos);
        CHECK(left >= 13 && memcmp(p, "HTTP/1.1 ", 9) == 0 && p[12] == ' ',
              "bad status line at output byte %zu: %.20s", pos, p);
        int status = atoi(p + 9);
        CHECK(known_status(status), "unexpected status %d", status);
        const char *line = memchr(p, '\n', (size_t)(end - p)) + 1;
        long clen = -1;
        int conn_close = 0, dates = 0;
        while (line < end + 2) {
            const char *eol = memchr(line, '\r', (size_t)(end + 2 - line));
            const char *colon = memchr(line, ':', (size_t)(eol - line));
            CHECK(colon && colon[1] == ' ', "bad header line %.30s", line);
            size_t kn = (size_t)(colon - line);
#define IS(name) (kn == sizeof(name) - 1 && memcmp(line, name, kn) == 0)
            if (IS("Content-Length")) {
                CHECK(clen < 0, "two Content-Length headers");
                clen = atol(colon + 2);
            } else if (IS("Connection")) {
                conn_close = memcmp(colon + 2, "close", 5) == 0;
            } else if (IS("Date")) {
                dates++;
                CHECK(eol - colon - 2 == 29, "Date value of %d bytes", (int)(eol - colon - 2));
            } else {
                CHECK(IS("Server") || IS("Content-Type") || IS("Allow"), "unknown header %.*s",
                      (int)kn, line);
            }
#undef IS
            line = eol + 2;
        }
        CHECK(clen >= 0 && dates == 1, "Content-Length %ld, %d Date headers", clen, dates);
        CHECK(status < 400 || conn_close, "error %d without Connection: close", status);
        w.last_start = pos;
        w.last_status = status;
        pos = (size_t)(end + 4 - out);
        w.count++;
        last_closes = conn_close;
        /* the body: absent for HEAD (the next response starts at once, or nothing follows) */
        int bodiless = maybe_head && clen > 0 &&
                       (pos == n || (n - pos >= 9 && memcmp(out + pos, "HTTP/1.1 ", 9) == 0));
        if (!bodiless) {
            if ((size_t)clen > n - pos) {
                CHECK(f->capped, "body of %ld bytes, %zu produced (response %u)", clen, n - pos,
                      w.count);
                pos = n;
                break;
            }
            pos += (size_t)clen;
        }
    }
    if (!f->capped)
        CHECK(last_closes == f->closed, "the last response %s but the engine %s",
              last_closes ? "closes" : "keeps alive", f->closed ? "closed" : "did not close");
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

    int maybe_head = memmem(s, n, "HEAD", 4) != NULL;
    blank_dates(ref.out, ref.outlen);
    blank_dates(alt.out, alt.outlen);
    struct walk wr = check_responses(ref.out, ref.outlen, &ref, maybe_head);
    struct walk wa = check_responses(alt.out, alt.outlen, &alt, maybe_head);
    if (!ref.capped)
        CHECK(wr.count == ref.requests, "%u responses for %u requests counted", wr.count,
              ref.requests);
    if (ref.capped || alt.capped) {
        size_t common = ref.outlen < alt.outlen ? ref.outlen : alt.outlen;
        CHECK(memcmp(ref.out, alt.out, common) == 0, "output differs when split (mode %#x)", mode);
    } else if (wr.last_status >= 400 && wa.last_status >= 400) {
        /* A request still arriving can be refused for its size (414, 431) before a complete one
         * would have been refused for its content: which error ends it may depend on the split;
         * everything before it may not. */
        CHECK(wr.last_start == wa.last_start && memcmp(ref.out, alt.out, wr.last_start) == 0 &&
                  ref.requests == alt.requests && ref.closed && alt.closed,
              "split feeding differs before the final error (%d/%d)", wr.last_status,
              wa.last_status);
    } else {
        CHECK(ref.outlen == alt.outlen && memcmp(ref.out, alt.out, ref.outlen) == 0 &&
                  ref.closed == alt.closed && ref.requests == alt.requests,
              "split feeding differs: %zu/%zu bytes, closed %d/%d, requests %u/%u (mode %#x)",
              ref.outlen, alt.outlen, ref.closed, alt.closed, ref.requests, alt.requests, mode);
    }
    CHECK(!memmem(ref.out, ref.outlen, SECRET, sizeof SECRET - 1) &&
              !memmem(alt.out, alt.outlen, SECRET, sizeof SECRET - 1),
          "a file from outside the docroot was served");
    return 0;
}
