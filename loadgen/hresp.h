/* hresp.h - incremental, allocation-free HTTP/1.x response parser for the load generator.
 * Fed whatever recv() returned, split anywhere; it finds where each response ends (Content-Length,
 * chunked, or close-delimited bodies) and keeps only what it needs: status, keep-alive. */
#ifndef LG_HRESP_H
#define LG_HRESP_H

#include <stddef.h>
#include <stdint.h>

#define HRESP_LINE_KEEP 96      /* bytes kept of a line split across reads (enough for any header
                                   the parser reads; longer lines keep their head and are skipped) */
#define HRESP_HEAD_MAX  65536   /* status line + headers larger than this are a bad response */

enum {
    HRESP_ERROR = -1,           /* malformed: the connection cannot be trusted any more */
    HRESP_MORE = 0,             /* all input consumed, the response is not complete yet */
    HRESP_DONE = 1,             /* one response complete; *used says where it ended */
};

struct hresp {
    uint8_t state;              /* enum in hresp.c */
    uint8_t chunked;            /* Transfer-Encoding ends in chunked */
    uint8_t close;              /* the server will close after this response */
    uint8_t have_len;           /* Content-Length seen */
    uint8_t line_trunc;         /* the kept partial line lost its tail */
    uint16_t status;            /* status code of the current response */
    uint16_t line_len;          /* bytes in line[] */
    uint32_t head_bytes;        /* header bytes so far, capped by HRESP_HEAD_MAX */
    uint64_t remaining;         /* body or chunk bytes still to skip */
    uint64_t content_length;
    char line[HRESP_LINE_KEEP];
};

/* Prepare for a new response (also after HRESP_DONE). */
void hresp_reset(struct hresp *p);

/* Feed len bytes. Returns HRESP_DONE with *used = bytes of buf that belong to the completed response
 * (the rest belongs to the next one: call hresp_reset and feed it again), HRESP_MORE with
 * *used = len, or HRESP_ERROR. A 1xx interim response is skipped, not reported. */
int hresp_feed(struct hresp *p, const char *buf, size_t len, size_t *used);

/* The peer closed the connection: HRESP_DONE if that completes a close-delimited body, HRESP_MORE
 * if no response was started (an idle close), HRESP_ERROR for a truncated response. */
int hresp_eof(struct hresp *p);

#endif
