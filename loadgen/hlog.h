/* hlog.h - HdrHistogram interval logs (the format of the Java library's HistogramLogWriter, log
 * format version 1.3): one histogram per interval and tag, each in the V2 compressed encoding,
 * base64 on one line. Shared by bin/loadgen (--hlog, the writer) and bin/hlog (merge, summary).
 *
 *   #[StartTime: 1764659215.123 (seconds since epoch), Wed Dec 02 07:06:55 UTC 2026]
 *   #[BaseTime: 1764659215.123 (seconds since epoch)]
 *   "StartTimestamp","Interval_Length","Interval_Max","Interval_Compressed_Histogram"
 *   Tag=corrected,0.000,1.000,0.412,HISTFAAAAC14nJNpmSzMwMDAxQABzFCaEUzGf...
 *
 * An interval's start is relative to BaseTime (without a BaseTime line, absolute when it is within
 * a year of StartTime, else relative to StartTime: the Java reader's rule). Interval_Max is the
 * interval's max divided by the writer's max-value divisor (the Java default 1e6: nanoseconds
 * shown as milliseconds). */
#ifndef LG_HLOG_H
#define LG_HLOG_H

#include <stddef.h>
#include <stdio.h>

#include "hist.h"

#define HLOG_MAX_DIVISOR 1e6   /* Interval_Max = max / this (values in ns, the column in ms) */

/* The V2 compressed encoding of h, base64, NUL-terminated, malloc'd: a 0x1c849314 cookie and the
 * zlib deflate of the V2 encoding (0x1c849313 cookie, lowest discernible value, highest trackable
 * value, significant digits, then the counts up to the last non-empty one as ZigZag LEB128 words,
 * a run of empty counters as one negative word). NULL on no memory. */
char *hlog_encode(const struct hist *h);
/* Decode one such text (len bytes) into *h, which is set up here with the configuration the text
 * carries and owns its counts (hist_free it); total, min, max from the counts (hist_recount).
 * Return 0, or -1 with err filled. */
int hlog_decode(const char *text, size_t len, struct hist *h, char *err, size_t errlen);

/* The writer: the header (comment lines as given, each without its '#', then the format version,
 * StartTime, BaseTime and the legend), then one line per interval. Times are seconds: start_unix
 * since the epoch, an interval's start relative to base_unix. Return 0, or -1 when the encoding
 * found no memory or the stream failed. */
void hlog_write_header(FILE *f, const char *const *comments, int ncomments, double start_unix,
                       double base_unix);
int hlog_write_interval(FILE *f, const char *tag, double start, double length, double max_column,
                        const struct hist *h);

/* One interval as read. */
struct hlog_interval {
    char tag[64];               /* "" when the line has no Tag= */
    double start;               /* seconds since the epoch (BaseTime applied) */
    double length;              /* seconds */
    double max_column;          /* Interval_Max as written (max / the writer's divisor) */
    struct hist h;              /* owned: hist_free it */
};

/* The reader, one interval at a time (Java's HistogramLogReader, without its time ranges). */
struct hlog_reader {
    FILE *f;
    const char *name;           /* for messages */
    unsigned line;
    double start_time, base_time;
    int have_start, have_base;
    char *buf;
    size_t cap;
    /* Called with every other comment line (without the '#'), when set. */
    void (*on_comment)(void *arg, const char *text);
    void *arg;
};

void hlog_reader_init(struct hlog_reader *r, FILE *f, const char *name);
/* 1 with *iv filled, 0 at the end, -1 with err filled (the file's name and line in it). */
int hlog_reader_next(struct hlog_reader *r, struct hlog_interval *iv, char *err, size_t errlen);
void hlog_reader_free(struct hlog_reader *r);

/* dst += src exactly, dst grown when src reaches higher; -1 (err filled) when their resolutions
 * differ, which no exact addition can bridge. */
int hlog_add(struct hist *dst, const struct hist *src, char *err, size_t errlen);

/* The value at percentile p as the Java library computes it (rank ceil(p% of the count, less one
 * ulp), at least 1), so bin/hlog's figures equal its tools'. 0 when empty. */
int64_t hlog_percentile(const struct hist *h, double p);

#endif
