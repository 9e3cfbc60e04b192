/* hlog.c - HdrHistogram interval logs: the V2 compressed histogram encoding (encode, decode), the
 * log's writer and a reader of logs written by us or by the Java library, and exact addition. */
#include "hlog.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

/* Cookies: the base identifies the encoding, bits 4..7 carry the word size (0x10: LEB128 words);
 * readers compare the base only, as the Java library does. */
#define V2_COOKIE            0x1c849313
#define V2_COMPRESSED_COOKIE 0x1c849314
#define COOKIE_BASE(c)       ((c) & ~0xf0u)
#define V2_HEADER            40          /* cookie .. integerToDoubleValueConversionRatio */
#define MAX_INFLATED         (256u << 20) /* a bound on what one histogram may inflate to */

/* ---- base64 (RFC 4648, with padding, as java.util.Base64) --------------------------------- */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static char *b64_encode(const unsigned char *p, size_t n)
{
    char *out = malloc((n + 2) / 3 * 4 + 1), *o = out;
    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0) |
                     (i + 2 < n ? p[i + 2] : 0);
        *o++ = b64[v >> 18];
        *o++ = b64[v >> 12 & 63];
        *o++ = i + 1 < n ? b64[v >> 6 & 63] : '=';
        *o++ = i + 2 < n ? b64[v & 63] : '=';
    }
    *o = 0;
    return out;
}

static int b64_value(char c)
{
    const char *p = c ? strchr(b64, c) : NULL;
    return p ? (int)(p - b64) : -1;
}

/* Decoded length in *outlen; -1 on a character outside the alphabet or a bad length. */
static unsigned char *b64_decode(const char *s, size_t n, size_t *outlen)
{
    while (n && s[n - 1] == '=')
        n--;
    if (n % 4 == 1)
        return NULL;
    unsigned char *out = malloc(n / 4 * 3 + 3), *o = out;
    if (!out)
        return NULL;
    uint32_t acc = 0;
    for (size_t i = 0; i < n; i++) {
        int v = b64_value(s[i]);
        if (v < 0) {
            free(out);
            return NULL;
        }
        acc = acc << 6 | (uint32_t)v;
        if (i % 4 == 3) {
            *o++ = (unsigned char)(acc >> 16);
            *o++ = (unsigned char)(acc >> 8);
            *o++ = (unsigned char)acc;
        }
    }
    if (n % 4 == 2)
        *o++ = (unsigned char)(acc >> 4);
    else if (n % 4 == 3) {
        *o++ = (unsigned char)(acc >> 10);
        *o++ = (unsigned char)(acc >> 2);
    }
    *outlen = (size_t)(o - out);
    return out;
}

/* ---- big-endian fields and ZigZag LEB128 words -------------------------------------------- */

static void put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24), p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8), p[3] = (unsigned char)v;
}

static void put64(unsigned char *p, uint64_t v)
{
    put32(p, (uint32_t)(v >> 32));
    put32(p + 4, (uint32_t)v);
}

static uint32_t get32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t get64(const unsigned char *p)
{
    return (uint64_t)get32(p) << 32 | get32(p + 4);
}

/* The Java library's ZigZagEncoding: 7 bits a byte for at most 8 bytes, then a 9th byte with the
 * last 8 bits, so every 64-bit value fits in 9. Returns the bytes written. */
static size_t put_word(unsigned char *p, int64_t value)
{
    uint64_t v = ((uint64_t)value << 1) ^ (uint64_t)(value >> 63);
    size_t n = 0;
    while (n < 8 && v >> 7) {
        p[n++] = (unsigned char)(v & 0x7f) | 0x80;
        v >>= 7;
    }
    p[n++] = (unsigned char)v;
    return n;
}

/* Returns the bytes read, 0 when the word runs past end. */
static size_t get_word(const unsigned char *p, const unsigned char *end, int64_t *value)
{
    uint64_t v = 0;
    size_t n = 0;
    for (;;) {
        if (p + n >= end)
            return 0;
        unsigned char b = p[n];
        if (n == 8) {
            v |= (uint64_t)b << 56;
            n++;
            break;
        }
        v |= (uint64_t)(b & 0x7f) << (7 * n);
        n++;
        if (!(b & 0x80))
            break;
    }
    *value = (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
    return n;
}

/* ---- the histogram encoding --------------------------------------------------------------- */

char *hlog_encode(const struct hist *h)
{
    int limit = 0;                      /* counters up to the last non-empty one; at least one */
    for (int i = 0; i < h->counts_len; i++)
        if (h->counts[i])
            limit = i;
    limit++;
    unsigned char *raw = malloc(V2_HEADER + (size_t)limit * 9);
    if (!raw)
        return NULL;
    size_t n = V2_HEADER;
    for (int i = 0; i < limit;) {
        if (h->counts[i]) {
            n += put_word(raw + n, (int64_t)h->counts[i++]);
            continue;
        }
        int64_t zeros = 0;
        while (i < limit && !h->counts[i])
            zeros++, i++;
        n += put_word(raw + n, zeros > 1 ? -zeros : 0);   /* one empty counter is a plain 0 */
    }
    double ratio = 1.0;                 /* integerToDoubleValueConversionRatio: integer values */
    uint64_t ratio_bits;
    memcpy(&ratio_bits, &ratio, sizeof ratio_bits);
    put32(raw, V2_COOKIE);
    put32(raw + 4, (uint32_t)(n - V2_HEADER));
    put32(raw + 8, 0);                  /* normalizingIndexOffset */
    put32(raw + 12, (uint32_t)h->sig);
    put64(raw + 16, (uint64_t)h->lowest);
    put64(raw + 24, (uint64_t)h->highest);
    put64(raw + 32, ratio_bits);
    uLongf zlen = compressBound((uLong)n);
    unsigned char *z = malloc(8 + zlen);
    char *text = NULL;
    if (z && compress2(z + 8, &zlen, raw, (uLong)n, Z_DEFAULT_COMPRESSION) == Z_OK) {
        put32(z, V2_COMPRESSED_COOKIE);
        put32(z + 4, (uint32_t)zlen);
        text = b64_encode(z, 8 + zlen);
    }
    free(z);
    free(raw);
    return text;
}

/* Inflate a zlib stream of unknown inflated size; *outlen bytes, malloc'd. */
static unsigned char *inflate_all(const unsigned char *in, size_t inlen, size_t *outlen)
{
    z_stream zs = {.next_in = (unsigned char *)in, .avail_in = (uInt)inlen};
    size_t cap = 4096;
    unsigned char *out = malloc(cap);
    if (!out || inflateInit(&zs) != Z_OK) {
        free(out);
        return NULL;
    }
    for (;;) {
        zs.next_out = out + zs.total_out;
        zs.avail_out = (uInt)(cap - zs.total_out);
        int r = inflate(&zs, Z_NO_FLUSH);
        if (r == Z_STREAM_END)
            break;
        if ((r != Z_OK && r != Z_BUF_ERROR) || (zs.avail_out && !zs.avail_in) || cap >= MAX_INFLATED)
            goto bad;                   /* corrupt, truncated, or absurdly large */
        if (!zs.avail_out) {
            unsigned char *grown = realloc(out, cap * 2);
            if (!grown)
                goto bad;
            out = grown, cap *= 2;
        }
    }
    *outlen = zs.total_out;
    inflateEnd(&zs);
    return out;
bad:
    inflateEnd(&zs);
    free(out);
    return NULL;
}

/* The V2 (uncompressed) encoding into a new histogram. */
static int decode_v2(const unsigned char *p, size_t n, struct hist *h, char *err, size_t errlen)
{
    if (n < V2_HEADER || COOKIE_BASE(get32(p)) != COOKIE_BASE(V2_COOKIE)) {
        snprintf(err, errlen, "not a V2 histogram encoding (cookie 0x%08x)", n >= 4 ? get32(p) : 0);
        return -1;
    }
    uint32_t payload = get32(p + 4), offset = get32(p + 8), sig = get32(p + 12);
    int64_t lowest = (int64_t)get64(p + 16), highest = (int64_t)get64(p + 24);
    if (payload > n - V2_HEADER || offset != 0) {
        snprintf(err, errlen, "bad V2 header (payload %u of %zu bytes, normalizing offset %u)",
                 payload, n - V2_HEADER, offset);
        return -1;
    }
    if (hist_init(h, lowest, highest, (int)sig) < 0) {
        snprintf(err, errlen, "unsupported histogram: lowest %lld, highest %lld, %u digits",
                 (long long)lowest, (long long)highest, sig);
        return -1;
    }
    const unsigned char *q = p + V2_HEADER, *end = q + payload;
    int64_t idx = 0, w;
    while (q < end) {
        size_t used = get_word(q, end, &w);
        if (!used || (w >= 0 && idx >= h->counts_len) ||
            (w < 0 && (w < -(int64_t)h->counts_len || -w > h->counts_len - idx))) {
            snprintf(err, errlen, "counts run past the histogram's %d counters", h->counts_len);
            hist_free(h);
            return -1;
        }
        q += used;
        if (w < 0)
            idx += -w;                  /* a run of empty counters */
        else
            h->counts[idx++] = (uint64_t)w;
    }
    hist_recount(h);
    return 0;
}

int hlog_decode(const char *text, size_t len, struct hist *h, char *err, size_t errlen)
{
    size_t n, rawlen;
    unsigned char *z = b64_decode(text, len, &n), *raw = NULL;
    int rc = -1;
    if (!z)
        snprintf(err, errlen, "not base64");
    else if (n < 8 || COOKIE_BASE(get32(z)) != COOKIE_BASE(V2_COMPRESSED_COOKIE))
        snprintf(err, errlen, "not a V2 compressed histogram (cookie 0x%08x)", n >= 4 ? get32(z) : 0);
    else if (get32(z + 4) > n - 8)
        snprintf(err, errlen, "compressed length %u past the %zu bytes given", get32(z + 4), n - 8);
    else if (!(raw = inflate_all(z + 8, get32(z + 4), &rawlen)))
        snprintf(err, errlen, "the compressed histogram does not inflate");
    else
        rc = decode_v2(raw, rawlen, h, err, errlen);
    free(raw);
    free(z);
    return rc;
}

/* ---- the log ------------------------------------------------------------------------------ */

void hlog_write_header(FILE *f, const char *const *comments, int ncomments, double start_unix,
                       double base_unix)
{
    char date[64];
    time_t t = (time_t)start_unix;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(date, sizeof date, "%a %b %d %H:%M:%S UTC %Y", &tm);   /* java.util.Date's form */
    for (int i = 0; i < ncomments; i++)
        fprintf(f, "#%s\n", comments[i]);
    fputs("#[Histogram log format version 1.3]\n", f);
    fprintf(f, "#[StartTime: %.3f (seconds since epoch), %s]\n", start_unix, date);
    fprintf(f, "#[BaseTime: %.3f (seconds since epoch)]\n", base_unix);
    fputs("\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\",\"Interval_Compressed_Histogram\"\n", f);
}

int hlog_write_interval(FILE *f, const char *tag, double start, double length, double max_column,
                        const struct hist *h)
{
    char *text = hlog_encode(h);
    if (!text)
        return -1;
    if (tag && *tag)
        fprintf(f, "Tag=%s,", tag);
    fprintf(f, "%.3f,%.3f,%.3f,%s\n", start, length, max_column, text);
    free(text);
    return ferror(f) ? -1 : 0;
}

void hlog_reader_init(struct hlog_reader *r, FILE *f, const char *name)
{
    memset(r, 0, sizeof *r);
    r->f = f;
    r->name = name;
}

void hlog_reader_free(struct hlog_reader *r)
{
    free(r->buf);
    r->buf = NULL;
}

/* "#[StartTime: 1764659215.123 (...)]": the number after the prefix. */
static int header_time(const char *line, const char *prefix, double *out)
{
    size_t n = strlen(prefix);
    if (strncmp(line, prefix, n))
        return 0;
    char *e;
    double v = strtod(line + n, &e);
    if (e == line + n)
        return 0;
    *out = v;
    return 1;
}

/* strtod of one comma-terminated field; moves *p past the comma. */
static int field(char **p, double *out)
{
    char *e;
    *out = strtod(*p, &e);
    if (e == *p || *e != ',')
        return -1;
    *p = e + 1;
    return 0;
}

int hlog_reader_next(struct hlog_reader *r, struct hlog_interval *iv, char *err, size_t errlen)
{
    ssize_t len;
    while ((len = getline(&r->buf, &r->cap, r->f)) >= 0) {
        char *s = r->buf;
        r->line++;
        while (len && (s[len - 1] == '\n' || s[len - 1] == '\r' || s[len - 1] == ' '))
            s[--len] = 0;
        if (!len || !strncmp(s, "\"StartTimestamp\"", 16))
            continue;
        if (s[0] == '#') {
            if (header_time(s, "#[StartTime: ", &r->start_time))
                r->have_start = 1;
            else if (header_time(s, "#[BaseTime: ", &r->base_time))
                r->have_base = 1;
            else if (r->on_comment)
                r->on_comment(r->arg, s + 1);
            continue;
        }
        memset(iv, 0, sizeof *iv);
        if (!strncmp(s, "Tag=", 4)) {
            char *comma = strchr(s, ',');
            if (!comma || (size_t)(comma - s - 4) >= sizeof iv->tag) {
                snprintf(err, errlen, "%s:%u: a tag without a comma or too long", r->name, r->line);
                return -1;
            }
            memcpy(iv->tag, s + 4, (size_t)(comma - s - 4));
            s = comma + 1;
        }
        double start;
        if (field(&s, &start) < 0 || field(&s, &iv->length) < 0 || field(&s, &iv->max_column) < 0) {
            snprintf(err, errlen, "%s:%u: not an interval line", r->name, r->line);
            return -1;
        }
        /* The Java reader's rule: the first interval stands in for a missing StartTime, and
         * without a BaseTime, timestamps over a year before StartTime are relative to it. */
        if (!r->have_start)
            r->start_time = start, r->have_start = 1;
        if (!r->have_base) {
            r->base_time = start < r->start_time - 365 * 24 * 3600.0 ? r->start_time : 0;
            r->have_base = 1;
        }
        iv->start = start + r->base_time;
        char e[200];
        if (hlog_decode(s, strlen(s), &iv->h, e, sizeof e) < 0) {
            snprintf(err, errlen, "%s:%u: %s", r->name, r->line, e);
            return -1;
        }
        return 1;
    }
    if (ferror(r->f)) {
        snprintf(err, errlen, "%s: read error", r->name);
        return -1;
    }
    return 0;
}

/* ---- arithmetic --------------------------------------------------------------------------- */

int hlog_add(struct hist *dst, const struct hist *src, char *err, size_t errlen)
{
    if (dst->unit_mag != src->unit_mag || dst->sub_half_mag != src->sub_half_mag) {
        snprintf(err, errlen, "histograms of different resolution (lowest %lld, %d digits against "
                 "lowest %lld, %d digits) do not add exactly", (long long)dst->lowest, dst->sig,
                 (long long)src->lowest, src->sig);
        return -1;
    }
    if (hist_grow(dst, src->highest) < 0 || hist_add(dst, src) < 0) {
        snprintf(err, errlen, "no memory to add histograms");
        return -1;
    }
    return 0;
}

int64_t hlog_percentile(const struct hist *h, double p)
{
    if (h->total == 0)
        return 0;
    double q = fmin(fmax(nextafter(p, -INFINITY), 0), 100);
    double rank = ceil(q * (double)h->total / 100);
    if (p == 0)
        return h->min;                  /* the Java library: the lowest equivalent value */
    return hist_value_at_rank(h, rank < 1 ? 1 : (uint64_t)rank);
}
