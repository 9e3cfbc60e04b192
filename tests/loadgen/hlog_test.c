/* hlog_test.c - unit tests of loadgen/hlog.c (TAP): the V2 compressed encoding round-trips every
 * configuration and count exactly, a text the Java library encoded decodes, bad texts are refused,
 * a log written reads back the same, and per-agent histograms added equal one that saw every value.
 *
 *   loadgen-hlog-test [HLOG]   the tests; with the path of bin/hlog, also its merge of three agents'
 *                              logs against one log of all their values */
#include <math.h>
#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "../../loadgen/hlog.h"
#include "../unit/tap.h"

#define LOW  1
#define HIGH (100LL * 1000000000LL)     /* the load generator's histograms: 1 ns .. 100 s */

static uint64_t rng = 88172645463325252ULL;
static uint64_t next(void)
{
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return rng;
}
static int64_t loguniform(int64_t lo, int64_t hi)
{
    double u = (double)(next() >> 11) * 0x1.0p-53;
    return (int64_t)exp(log((double)lo) + u * (log((double)hi) - log((double)lo)));
}

static int same_hist(const struct hist *a, const struct hist *b)
{
    return a->lowest == b->lowest && a->highest == b->highest && a->sig == b->sig &&
           a->counts_len == b->counts_len && a->total == b->total &&
           memcmp(a->counts, b->counts, (size_t)a->counts_len * sizeof *a->counts) == 0;
}

/* Encode, decode, compare; the decoded one is left in *out (freed by the caller) when asked. */
static int round_trip(const struct hist *h, struct hist *out)
{
    char err[200];
    struct hist d;
    char *text = hlog_encode(h);
    if (!text || hlog_decode(text, strlen(text), &d, err, sizeof err) < 0) {
        diag("round trip: %s", text ? err : "no text");
        free(text);
        return 0;
    }
    free(text);
    int same = same_hist(h, &d);
    if (out)
        *out = d;
    else
        hist_free(&d);
    return same;
}

static void test_encoding(void)
{
    struct hist h, d;
    hist_init(&h, LOW, HIGH, 3);
    ok(round_trip(&h, &d) && d.total == 0, "empty histogram round-trips");
    hist_free(&d);
    for (int i = 0; i < 100000; i++)
        hist_record(&h, loguniform(1, HIGH));
    ok(round_trip(&h, &d), "100000 values over 1 ns .. 100 s: configuration and every counter equal");
    ok(d.min <= h.min && d.max >= h.max && hist_percentile(&d, 99) == hist_percentile(&h, 99),
       "decoded: min and max bracket the exact ones, p99 equal");
    hist_free(&d);
    hist_free(&h);

    /* Counts at every word-length boundary of ZigZag LEB128, up to the 9-byte words. */
    hist_init(&h, LOW, HIGH, 3);
    static const uint64_t counts[] = {1, 63, 64, 127, 128, 8191, 8192, (1ULL << 55) - 1, 1ULL << 55,
                                      (1ULL << 56) + 3, 1ULL << 62};
    for (size_t i = 0; i < sizeof counts / sizeof *counts; i++)
        h.counts[i * 37 + 5] = counts[i];
    h.counts[h.counts_len - 1] = 7;     /* the last counter, after a long run of empty ones */
    hist_recount(&h);
    ok(round_trip(&h, NULL), "counts 1 .. 2^62 at the word-length boundaries round-trip");
    hist_free(&h);

    /* Another configuration: the lowest discernible value and the digits travel as they are. */
    hist_init(&h, 1000, 3600LL * 1000000000LL, 2);
    for (int i = 0; i < 5000; i++)
        hist_record(&h, loguniform(1000, 3600LL * 1000000000LL));
    ok(round_trip(&h, &d) && d.lowest == 1000 && d.sig == 2, "lowest 1000, 2 digits, highest 1 h round-trip");
    hist_free(&d);
    hist_free(&h);
}

/* Encoded by the Java library (HdrHistogram 2.1.11): new Histogram(1, 3600000000000L, 3) with
 * 1, 2, 1000 three times and 123456789, encodeIntoCompressedByteBuffer, base64. */
static const char java_text[] =
    "HISTFAAAACp4nJNpmSzMwMDAxQABzFCaEch0M9ixgMH+A1SEiekkP9vjXiYmAIYnBqs=";

static void test_java_text(void)
{
    struct hist h;
    char err[200];
    int r = hlog_decode(java_text, strlen(java_text), &h, err, sizeof err);
    if (r < 0)
        diag("%s", err);
    ok(r == 0 && h.lowest == 1 && h.highest == 3600000000000LL && h.sig == 3 && h.total == 6,
       "the Java library's encoding decodes: configuration and count");
    if (r == 0) {
        ok(h.counts[hist_index(&h, 1)] == 1 && h.counts[hist_index(&h, 2)] == 1 &&
           h.counts[hist_index(&h, 1000)] == 3 && h.counts[hist_index(&h, 123456789)] == 1,
           "the Java library's encoding decodes: every value in its counter");
        hist_free(&h);
    }
    static const char *bad[] = {"HISTFAAAACp4nJNpmSzMwMDAxQABzFCaEch0M9ix",
                                "HISTFAAAACp4nJNpmSzMwMDAxQ!BzFCaEch0M9ixgMH+A1SEiekkP9vjXiYmAIYnBqs=",
                                "AAAAAAAAACp4nJNpmSzMwMDAxQABzFCaEch0M9ixgMH+A1SEiekkP9vjXiYmAIYnBqs=", ""};
    int refused = 0;
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        if (hlog_decode(bad[i], strlen(bad[i]), &h, err, sizeof err) < 0)
            refused++;
        else
            hist_free(&h);
    }
    ok(refused == 4, "truncated, not base64, wrong cookie, empty: all refused (%d of 4)", refused);
}

/* A log with two tags written and read back: times, tags and histograms equal. */
static void test_log(void)
{
    enum { N = 4 };
    struct hist h[N][2];
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    const char *comments[] = {"[a comment]"};
    hlog_write_header(f, comments, 1, 1764659215.25, 1764659215.25);
    for (int i = 0; i < N; i++)
        for (int k = 0; k < 2; k++) {
            hist_init(&h[i][k], LOW, HIGH, 3);
            for (int j = 0; j < 1000 * (i + 1); j++)
                hist_record(&h[i][k], loguniform(1000, 100000000));
            hlog_write_interval(f, k ? "uncorrected" : "corrected", i, i == N - 1 ? 0.5 : 1,
                                (double)h[i][k].max / HLOG_MAX_DIVISOR, &h[i][k]);
        }
    fclose(f);
    ok(strstr(buf, "#[StartTime: 1764659215.250 (seconds since epoch), ") &&
       strstr(buf, "\n#[BaseTime: 1764659215.250 (seconds since epoch)]\n") &&
       strstr(buf, "\n\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\",\"Interval_Compressed_Histogram\"\n") &&
       strstr(buf, "\nTag=corrected,0.000,1.000,") && strstr(buf, "\nTag=uncorrected,3.000,0.500,"),
       "log: header lines and interval lines in the Java writer's format");
    FILE *in = fmemopen(buf, len, "r");
    struct hlog_reader r;
    hlog_reader_init(&r, in, "memory");
    struct hlog_interval iv;
    char err[300];
    int n = 0, good = 0, rc;
    while ((rc = hlog_reader_next(&r, &iv, err, sizeof err)) > 0) {
        int i = n / 2, k = n % 2;
        good += i < N && !strcmp(iv.tag, k ? "uncorrected" : "corrected") &&
                fabs(iv.start - (1764659215.25 + i)) < 1e-6 && iv.length == (i == N - 1 ? 0.5 : 1) &&
                same_hist(&iv.h, &h[i][k]);
        hist_free(&iv.h);
        n++;
    }
    if (rc < 0)
        diag("%s", err);
    ok(rc == 0 && n == 2 * N && good == n, "log: %d of %d intervals read back with equal tag, times "
       "and histogram", good, 2 * N);
    hlog_reader_free(&r);
    fclose(in);
    free(buf);
    for (int i = 0; i < N; i++)
        hist_free(&h[i][0]), hist_free(&h[i][1]);
}

/* Adding: agents' histograms equal one that saw every value; a wider one grows; another
 * resolution is refused. */
static void test_add(void)
{
    struct hist a[3], all, sum;
    for (int i = 0; i < 3; i++)
        hist_init(&a[i], LOW, HIGH, 3);
    hist_init(&all, LOW, HIGH, 3);
    hist_init(&sum, LOW, HIGH, 3);
    for (int j = 0; j < 300000; j++) {
        int64_t v = loguniform(1, HIGH);
        hist_record(&a[j % 3], v);
        hist_record(&all, v);
    }
    char err[300];
    int rc = 0;
    for (int i = 0; i < 3; i++) {
        struct hist d;
        char *text = hlog_encode(&a[i]);
        rc |= hlog_decode(text, strlen(text), &d, err, sizeof err) | hlog_add(&sum, &d, err, sizeof err);
        free(text);
        hist_free(&d);
    }
    ok(rc == 0 && sum.total == all.total &&
       memcmp(sum.counts, all.counts, (size_t)all.counts_len * sizeof *all.counts) == 0,
       "three agents' decoded histograms added: every counter equals one histogram of every value");
    struct hist small, big;
    hist_init(&small, LOW, 1000000, 3);
    hist_init(&big, LOW, HIGH, 3);
    hist_record(&small, 999999);
    hist_record(&big, HIGH - 1);
    rc = hlog_add(&small, &big, err, sizeof err);
    ok(rc == 0 && small.highest == HIGH && small.total == 2 && small.counts[hist_index(&small, HIGH - 1)] == 1 &&
       small.counts[hist_index(&small, 999999)] == 1, "adding a histogram that reaches higher grows the sum");
    struct hist coarse;
    hist_init(&coarse, LOW, HIGH, 2);
    hist_record(&coarse, 5);
    ok(hlog_add(&all, &coarse, err, sizeof err) < 0 && strstr(err, "resolution"),
       "histograms of another resolution are refused: %s", err);
    /* Percentiles as the Java library ranks them: ceil(p% of n), not rounded. */
    struct hist k;
    hist_init(&k, LOW, HIGH, 3);
    for (int v = 1; v <= 1160; v++)
        hist_record(&k, v);
    ok(hlog_percentile(&k, 99) == 1149 && hist_percentile(&k, 99) == 1148 &&
       hlog_percentile(&k, 50) == 580 && hlog_percentile(&k, 100) == 1160,
       "Java's ranks: p99 of 1..1160 is 1149 (rounded rank: 1148), p50 580, p100 1160");
    for (int i = 0; i < 3; i++)
        hist_free(&a[i]);
    hist_free(&all), hist_free(&sum), hist_free(&small), hist_free(&big), hist_free(&coarse);
    hist_free(&k);
}

/* Logs of three agents (two tags, 3 seconds) and the log of one histogram per second and tag that
 * saw all of their values; values are latencies of 10 us .. 10 ms. */
static int write_agents(const char *dir)
{
    enum { AGENTS = 3, SECS = 3 };
    struct hist all[SECS][2], one[SECS][2];
    FILE *f[AGENTS + 1];
    char path[4096];
    for (int g = 0; g <= AGENTS; g++) {
        snprintf(path, sizeof path, g < AGENTS ? "%s/agent%d.hlog" : "%s/all.hlog", dir, g);
        if (!(f[g] = fopen(path, "w"))) {
            perror(path);
            return 1;
        }
        /* Agents start a few ms apart, as loadgens given one --start-at do. */
        double t = 1764659215.0 + 0.004 * (g % AGENTS);
        hlog_write_header(f[g], NULL, 0, t, t);
    }
    for (int s = 0; s < SECS; s++)
        for (int k = 0; k < 2; k++)
            hist_init(&all[s][k], LOW, HIGH, 3);
    for (int g = 0; g < AGENTS; g++)
        for (int s = 0; s < SECS; s++) {
            for (int k = 0; k < 2; k++) {
                hist_init(&one[s][k], LOW, HIGH, 3);
                for (int j = 0; j < 2000 * (g + 1) + 100 * s; j++) {
                    int64_t v = loguniform(10000, 10000000);
                    hist_record(&one[s][k], v);
                    hist_record(&all[s][k], v);
                }
                hlog_write_interval(f[g], k ? "uncorrected" : "corrected", s, 1,
                                    (double)one[s][k].max / HLOG_MAX_DIVISOR, &one[s][k]);
                hist_free(&one[s][k]);
            }
        }
    for (int s = 0; s < SECS; s++)
        for (int k = 0; k < 2; k++) {
            hlog_write_interval(f[AGENTS], k ? "uncorrected" : "corrected", s, 1,
                                (double)all[s][k].max / HLOG_MAX_DIVISOR, &all[s][k]);
            hist_free(&all[s][k]);
        }
    int bad = 0;
    for (int g = 0; g <= AGENTS; g++)
        bad |= fclose(f[g]);
    return bad;
}

/* Every interval of a and b in order: equal tags and counters. */
static int same_logs(const char *a, const char *b)
{
    FILE *fa = fopen(a, "r"), *fb = fopen(b, "r");
    if (!fa || !fb)
        return 0;
    struct hlog_reader ra, rb;
    hlog_reader_init(&ra, fa, a);
    hlog_reader_init(&rb, fb, b);
    struct hlog_interval x, y;
    char err[300];
    int n = 0, same = 1, r1, r2;
    while ((r1 = hlog_reader_next(&ra, &x, err, sizeof err)) > 0 &&
           (r2 = hlog_reader_next(&rb, &y, err, sizeof err)) > 0) {
        int eq = !strcmp(x.tag, y.tag) && x.h.total == y.h.total &&
                 memcmp(x.h.counts, y.h.counts, (size_t)x.h.counts_len * sizeof *x.h.counts) == 0;
        if (!eq)
            diag("interval %d: tag %s/%s, count %llu/%llu", n, x.tag, y.tag,
                 (unsigned long long)x.h.total, (unsigned long long)y.h.total);
        same &= eq;
        n++;
        hist_free(&x.h);
        hist_free(&y.h);
    }
    if (r1 > 0)
        hist_free(&x.h);
    same &= r1 == 0 && hlog_reader_next(&rb, &y, err, sizeof err) == 0 && n > 0;
    diag("%d intervals compared", n);
    hlog_reader_free(&ra);
    hlog_reader_free(&rb);
    fclose(fa);
    fclose(fb);
    return same;
}

/* bin/hlog merge of the agents' logs: every interval equals the one that saw all values. */
static void test_merge_command(const char *hlog)
{
    char dir[] = "/tmp/hlog-test.XXXXXX", cmd[8192], path[4200], all[4200];
    if (!mkdtemp(dir) || write_agents(dir) != 0) {
        ok(0, "agents' logs written");
        return;
    }
    snprintf(cmd, sizeof cmd, "'%s' merge %s/agent0.hlog %s/agent1.hlog %s/agent2.hlog > %s/merged.hlog "
             "2> %s/merge.err", hlog, dir, dir, dir, dir, dir);
    int rc = system(cmd);
    snprintf(path, sizeof path, "%s/merged.hlog", dir);
    snprintf(all, sizeof all, "%s/all.hlog", dir);
    ok(rc == 0, "bin/hlog merge of three agents' logs: exit 0");
    ok(same_logs(path, all), "merged: every interval's counters equal those of one histogram of all values");
    char head[4096] = "";
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(head, 1, sizeof head - 1, f) : 0;
    head[n] = 0;
    if (f)
        fclose(f);
    ok(strstr(head, "#[StartTime: 1764659215.000 ") && strstr(head, "#[Merged by bin/hlog from 3 logs]") &&
       strstr(head, "\nTag=corrected,0.000,1.008,"), "merged: the earliest start, a note, intervals "
       "spanning the agents' (0.000 + 1.008 s)");
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        diag("could not remove %s", dir);
}

int main(int argc, char **argv)
{
    test_encoding();
    test_java_text();
    test_log();
    test_add();
    if (argc > 1)
        test_merge_command(argv[1]);
    return done_testing();
}
