/* chunked.c: the protocol engine's decoder of chunked request bodies (RFC 9112 7.1).
 *
 *     chunked-body = *chunk last-chunk trailer-section CRLF
 *     chunk        = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
 *     chunk-ext    = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
 *
 * A byte-at-a-time state machine (chunk data goes through in runs), so the body may arrive split at
 * any byte and nothing is buffered or copied except the data a sink asks for. It is strict: hex
 * digits only (no sign, "0x", "_" or whitespace around the size), extensions validated as token or
 * quoted-string and then ignored, every line end a CRLF (a bare CR or LF is an error), data followed
 * by CRLF (a chunk longer than its size is an error), trailer fields checked like header fields and
 * discarded -- a trailer never sets Content-Length, Host or anything else. Whitespace is accepted
 * only where the grammar has BWS: before ";" and around "=" in an extension. */
#include "proto_int.h"

enum {
    CH_SIZE,        /* chunk-size digits (d->count of them so far) */
    CH_SIZE_WS,     /* BWS after the size: only ";" may follow */
    CH_EXT_NAME0,   /* after ";": BWS, then the first character of a name */
    CH_EXT_NAME,
    CH_EXT_NAME_WS, /* BWS after a name: "=" or ";" must follow */
    CH_EXT_VAL0,    /* after "=": BWS, then a token or a quoted-string */
    CH_EXT_TOKEN,
    CH_EXT_QUOTED,
    CH_EXT_QPAIR,   /* after a backslash in a quoted-string */
    CH_EXT_VAL_END, /* after a value: BWS ";", or the line's CR */
    CH_EXT_VAL_WS,  /* BWS after a value: ";" must follow */
    CH_LINE_LF,     /* the CR of a chunk line seen */
    CH_DATA,
    CH_DATA_CR,
    CH_DATA_LF,
    CH_TRAILER,     /* start of a trailer field line, or the body's final CRLF */
    CH_TR_NAME,
    CH_TR_VALUE,
    CH_TR_LF,
    CH_END_LF,
};

void proto_chunked_init(struct proto_chunked *d)
{
    memset(d, 0, sizeof *d);
    d->state = CH_SIZE;
}

static int is_ws(unsigned char ch)
{
    return ch == ' ' || ch == '\t';
}

/* The end of a chunk line (its LF): the last chunk starts the trailers, any other its data. */
static int line_end(struct proto_chunked *d)
{
    d->count = 0;
    if (d->left == 0) {
        d->state = CH_TRAILER;
        return 0;
    }
    if (d->left > PROTO_BODY_MAX - d->total)
        return 413; /* the body cap counts decoded data */
    d->state = CH_DATA;
    return 0;
}

/* One byte of a chunk line. Returns 0 or an HTTP status. */
static int chunk_line(struct proto_chunked *d, unsigned char ch)
{
    if (d->state != CH_LINE_LF && ++d->count > PROTO_CHUNK_LINE_MAX)
        return 413; /* a size or extensions this long are not framing we will spend time on */
    switch (d->state) {
    case CH_SIZE: {
        int h = proto_hexval(ch);
        if (h >= 0) {
            if (d->left >> 60)
                return 400; /* more than 64 bits of size */
            d->left = d->left << 4 | (uint64_t)h;
            return 0;
        }
        if (d->count == 1)
            return 400; /* no digit: a sign, whitespace, an empty line, ... */
        d->state = ch == ';' ? CH_EXT_NAME0 : is_ws(ch) ? CH_SIZE_WS : ch == '\r' ? CH_LINE_LF : 0xff;
        break;
    }
    case CH_SIZE_WS:
    case CH_EXT_VAL_WS:
        d->state = is_ws(ch) ? d->state : ch == ';' ? CH_EXT_NAME0 : 0xff;
        break;
    case CH_EXT_NAME0:
        d->state = is_ws(ch) ? CH_EXT_NAME0 : proto_is_tchar(ch) ? CH_EXT_NAME : 0xff;
        break;
    case CH_EXT_NAME:
        if (proto_is_tchar(ch))
            return 0;
        /* fall through */
    case CH_EXT_NAME_WS:
        d->state = is_ws(ch)    ? CH_EXT_NAME_WS
                   : ch == '=' ? CH_EXT_VAL0
                   : ch == ';' ? CH_EXT_NAME0
                   : ch == '\r' && d->state == CH_EXT_NAME ? CH_LINE_LF
                               : 0xff;
        break;
    case CH_EXT_VAL0:
        d->state = is_ws(ch) ? CH_EXT_VAL0 : ch == '"' ? CH_EXT_QUOTED
                   : proto_is_tchar(ch) ? CH_EXT_TOKEN : 0xff;
        break;
    case CH_EXT_QUOTED:
        /* qdtext is a field character other than DQUOTE and backslash */
        d->state = ch == '"' ? CH_EXT_VAL_END : ch == '\\' ? CH_EXT_QPAIR
                   : proto_is_field_char(ch) ? CH_EXT_QUOTED : 0xff;
        break;
    case CH_EXT_QPAIR:
        d->state = proto_is_field_char(ch) ? CH_EXT_QUOTED : 0xff;
        break;
    case CH_EXT_TOKEN:
        if (proto_is_tchar(ch))
            return 0;
        /* fall through */
    case CH_EXT_VAL_END:
        d->state = is_ws(ch) ? CH_EXT_VAL_WS : ch == ';' ? CH_EXT_NAME0
                   : ch == '\r' ? CH_LINE_LF : 0xff;
        break;
    case CH_LINE_LF:
        if (ch != '\n')
            return 400; /* a bare CR */
        return line_end(d);
    }
    return d->state == 0xff ? 400 : 0;
}

/* One byte after the data: its CRLF, the trailer section, the final CRLF. Returns 0,
 * PROTO_CHUNKED_DONE or an HTTP status. */
static int framing(struct proto_chunked *d, unsigned char ch)
{
    if (d->state >= CH_TRAILER && ++d->count > PROTO_HEADERS_MAX)
        return 431;
    switch (d->state) {
    case CH_DATA_CR:
        d->state = ch == '\r' ? CH_DATA_LF : 0xff; /* else the chunk is longer than its size */
        break;
    case CH_DATA_LF:
        d->state = ch == '\n' ? CH_SIZE : 0xff;
        d->left = 0;
        break;
    case CH_TRAILER:
        if (ch == '\r') {
            d->state = CH_END_LF;
        } else if (proto_is_tchar(ch)) {
            if (++d->fields > PROTO_FIELDS_MAX)
                return 431;
            d->state = CH_TR_NAME;
        } else {
            return 400; /* an empty name, or whitespace first (obs-fold) */
        }
        break;
    case CH_TR_NAME:
        d->state = proto_is_tchar(ch) ? CH_TR_NAME : ch == ':' ? CH_TR_VALUE : 0xff;
        break;
    case CH_TR_VALUE:
        d->state = ch == '\r' ? CH_TR_LF : proto_is_field_char(ch) ? CH_TR_VALUE : 0xff;
        break;
    case CH_TR_LF:
        d->state = ch == '\n' ? CH_TRAILER : 0xff;
        break;
    case CH_END_LF:
        return ch == '\n' ? PROTO_CHUNKED_DONE : 400;
    }
    return d->state == 0xff ? 400 : 0;
}

size_t proto_chunked_run(struct proto_chunked *d, const char *p, size_t n, struct proto_out *sink,
                         int *verdict)
{
    size_t i = 0;

    *verdict = 0;
    while (i < n) {
        if (d->state == CH_DATA) {
            size_t k = n - i < d->left ? n - i : (size_t)d->left;
            if (sink) {
                size_t room = sink->cap - sink->len;
                k = k < room ? k : room;
                if (k == 0)
                    return i;
                memcpy(sink->buf + sink->len, p + i, k);
                sink->len += k;
            }
            i += k;
            d->left -= k;
            d->total += k;
            if (d->left == 0)
                d->state = CH_DATA_CR;
            continue;
        }
        unsigned char ch = (unsigned char)p[i++];
        int v = d->state <= CH_LINE_LF ? chunk_line(d, ch) : framing(d, ch);
        if (v != 0) {
            *verdict = v;
            return i;
        }
    }
    return i;
}
