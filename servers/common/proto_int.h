/* proto_int.h: private interface between the protocol engine (proto.c), its static-file half
 * (static.c) and its chunked-body decoder (chunked.c). Not for models. */
#ifndef CMB_PROTO_INT_H
#define CMB_PROTO_INT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

#include "proto.h"

/* ---- character classes (RFC 9110 5.6.2 tchar; field-value chars; hex digits) ------------------ */

static inline int proto_is_tchar(unsigned char ch)
{
    static const char extra[] = "!#$%&'*+-.^_`|~";
    if ((ch >= '0' && ch <= '9') || ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'z'))
        return 1;
    return ch != 0 && memchr(extra, ch, sizeof extra - 1) != NULL;
}

/* Field-value octets: HTAB, SP, VCHAR, obs-text. Everything else (CR, LF, NUL, CTLs, DEL) is refused. */
static inline int proto_is_field_char(unsigned char ch)
{
    return ch == '\t' || (ch >= 0x20 && ch != 0x7f);
}

/* Value of a hex digit, or -1. */
static inline int proto_hexval(unsigned char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    ch |= 0x20;
    return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

/* Reason phrase of an HTTP status. */
const char *proto_reason(int status);

/* Resolve the request path target[0..n) (starts with '/', query removed) under the docroot directory
 * fd. Returns 200 with *fd open on a regular file, *size and *ctype set; else 400 (a path we refuse to
 * interpret) or 404 (no such regular file beneath the root). Never opens anything outside the root. */
int proto_file_open(int root_fd, const char *target, size_t n, int *fd, uint64_t *size,
                    const char **ctype);

/* pread() with EINTR retried. */
ssize_t proto_file_read(int fd, char *buf, size_t n, uint64_t off);

/* Close *fd if open and set it to -1. */
void proto_file_close(int *fd);

/* 1 when p[0..n) is a valid uri-host [":" port] (RFC 9110 7.2, RFC 3986 3.2.2): the value of Host, or
 * the authority of an absolute-form target. authority.c. */
int proto_authority_valid(const char *p, size_t n);

/* ---- chunked request bodies (RFC 9112 7.1), chunked.c ---------------------------------------- */

#define PROTO_CHUNKED_DONE 1 /* proto_chunked_run's verdict: the body ended (last chunk, trailers) */

/* Start decoding a new body. */
void proto_chunked_init(struct proto_chunked *d);

/* Decode p[0..n), resuming where the last call stopped; every byte is seen once, so the input may be
 * split anywhere. Data bytes are appended to sink when it is not NULL (as far as it has room), else
 * dropped. Returns the bytes gone through and sets *verdict: 0 -- go on: every byte was used, or, with
 * a sink, it is full (return value < n); PROTO_CHUNKED_DONE -- the body ended at the returned offset
 * (what follows is the next request); or an HTTP status: 400 malformed framing, 413 data past
 * PROTO_BODY_MAX or a chunk line past PROTO_CHUNK_LINE_MAX, 431 a trailer section past the header
 * limits. After a verdict other than 0 the decoder must be initialized again. */
size_t proto_chunked_run(struct proto_chunked *d, const char *p, size_t n, struct proto_out *sink,
                         int *verdict);

#endif
