/* hist_test.c - unit tests of loadgen/hist.c (TAP): percentiles of known distributions within the
 * stated precision, merge equals recording into one, clamping, and the spectrum text format. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../loadgen/hist.h"
#include "../unit/tap.h"

#define LOW  1
#define HIGH (100LL * 1000000000LL)     /* 100 s in ns, as the load generator uses it */


static uint64_t rng = 88172645463325252ULL;
static uint64_t next(void)
{
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return rng;
}
static double unif(void)
{
    return (double)(next() >> 11) * 0x1.0p-53;
}

static int cmp64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* The exact value at the rank hist_percentile uses: round(p/100 * n), at least 1. */
static int64_t exact(const int64_t *v, size_t n, double p)
{
    size_t want = (size_t)(p / 100 * (double)n + 0.5);
    return v[(want < 1 ? 1 : want) - 1];
}

/* Every percentile within 1/1000 of the exact value: 3 significant digits. */
static void check_dist(const char *name, int64_t *v, size_t n)
{
    struct hist h;
    hist_init(&h, LOW, HIGH, 3);
    double sum = 0;
    for (size_t i = 0; i < n; i++) {
        hist_record(&h, v[i]);
        sum += (double)v[i];
    }
    qsort(v, n, sizeof *v, cmp64);
    static const double ps[] = {0.1, 1, 10, 25, 50, 75, 90, 99, 99.9, 99.99, 100};
    double worst = 0;
    for (size_t i = 0; i < sizeof ps / sizeof *ps; i++) {
        int64_t e = exact(v, n, ps[i]), g = hist_percentile(&h, ps[i]);
        double rel = fabs((double)(g - e)) / (double)(e ? e : 1);
        if (rel > worst)
            worst = rel;
    }
    ok(worst <= 1e-3, "%s: percentiles within 0.1%% of exact (worst %.5f%%)", name, 100 * worst);
    ok(h.total == n && h.min == v[0] && h.max == v[n - 1], "%s: count, min, max exact", name);
    ok(fabs(hist_mean(&h) - sum / (double)n) < 1e-6 * sum / (double)n, "%s: mean exact", name);
    hist_free(&h);
}

int main(void)
{
    enum { N = 200000 };
    int64_t *v = malloc(N * sizeof *v);

    /* Log-uniform over the whole range: exercises every bucket. */
    for (size_t i = 0; i < N; i++)
        v[i] = (int64_t)exp(log(1000.0) + unif() * (log((double)HIGH) - log(1000.0)));
    check_dist("log-uniform 1us..100s", v, N);
    /* Uniform 1 us .. 10 ms: dense in a few buckets. */
    for (size_t i = 0; i < N; i++)
        v[i] = 1000 + (int64_t)(unif() * 9999000);
    check_dist("uniform 1us..10ms", v, N);
    /* Exponential with a 50 us mean plus a 20 us floor: the shape of a loopback latency. */
    for (size_t i = 0; i < N; i++)
        v[i] = 20000 + (int64_t)(-log1p(-unif()) * 50000);
    check_dist("exponential 50us + 20us", v, N);
    /* Small values below 2048 ns are exact. */
    for (size_t i = 0; i < N; i++)
        v[i] = 1 + (int64_t)(next() % 2047);
    check_dist("small values exact region", v, N);

    /* A constant: every percentile is that value, exactly. */
    struct hist c;
    hist_init(&c, LOW, HIGH, 3);
    for (int i = 0; i < 1000; i++)
        hist_record(&c, 123456789);
    ok(hist_percentile(&c, 0) == 123456789 && hist_percentile(&c, 50) == 123456789 &&
       hist_percentile(&c, 100) == 123456789 && hist_stdev(&c) == 0,
       "constant: every percentile is the value");

    /* Merge equals recording everything into one. */
    struct hist a, b, all;
    hist_init(&a, LOW, HIGH, 3);
    hist_init(&b, LOW, HIGH, 3);
    hist_init(&all, LOW, HIGH, 3);
    for (int i = 0; i < N; i++) {
        int64_t x = (int64_t)exp(unif() * log((double)HIGH));
        hist_record(i % 3 ? &a : &b, x);
        hist_record(&all, x);
    }
    ok(hist_add(&a, &b) == 0, "merge: same layouts add");
    ok(a.total == all.total && a.min == all.min && a.max == all.max && a.sum == all.sum &&
       memcmp(a.counts, all.counts, (size_t)a.counts_len * sizeof *a.counts) == 0,
       "merge: counts, total, min, max, sum equal recording into one");
    int same = 1;
    for (double p = 0; p <= 100; p += 0.5)
        same &= hist_percentile(&a, p) == hist_percentile(&all, p);
    ok(same, "merge: every percentile equal");
    struct hist other;
    hist_init(&other, LOW, HIGH, 2);
    ok(hist_add(&a, &other) == -1, "merge: different layouts refused");

    /* Out of range: clamped into the top bucket, max still exact; negatives count as 0. */
    struct hist k;
    hist_init(&k, LOW, HIGH, 3);
    hist_record(&k, HIGH * 5);
    hist_record(&k, -7);
    ok(k.clamped == 1 && k.max == HIGH * 5 && k.total == 2 && hist_percentile(&k, 0) == 0,
       "clamp: above range counted, max exact; negative recorded as 0");

    /* Layout: 3 digits from 1 ns means 2048 sub-buckets. */
    ok(all.sub_half * 2 == 2048 && hist_counts_bytes(LOW, HIGH, 3) == (size_t)all.counts_len * 8,
       "layout: 2048 sub-buckets (3 significant digits), counts array as announced");

    /* Spectrum text: HdrHistogram's format, monotonic, final line at percentile 1.0. */
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    hist_print_spectrum(&all, f, 1000.0, 5);
    fclose(f);
    ok(strstr(text, "\n#[Mean    = ") && strstr(text, "\n#[Max     = ") && strstr(text, "\n#[Buckets = "),
       "spectrum: footer lines");
    ok(strncmp(text, "       Value     Percentile TotalCount 1/(1-Percentile)\n\n", 57) == 0,
       "spectrum: header line");
    double pv = -1, pp = -1;
    unsigned long long pc = 0, lastc = 0;
    int mono = 1, lines = 0, final = 0;
    for (char *line = strtok(text + 57, "\n"); line; line = strtok(NULL, "\n")) {
        double val, pct, inv;
        unsigned long long cnt;
        if (line[0] == '#')
            continue;
        int n = sscanf(line, "%lf %lf %llu %lf", &val, &pct, &cnt, &inv);
        if (n == 3 && pct == 1.0)
            final = 1, lastc = cnt;
        else if (n != 4)
            mono = 0;
        mono &= val >= pv && pct >= pp && cnt >= pc;
        pv = val, pp = pct, pc = cnt;
        lines++;
    }
    ok(mono && lines > 50, "spectrum: %d lines, values, percentiles and counts non-decreasing", lines);
    ok(final && lastc == all.total, "spectrum: last line is percentile 1.0 with the total count");
    free(text);

    hist_free(&a), hist_free(&b), hist_free(&all), hist_free(&c), hist_free(&k), hist_free(&other);
    free(v);
    return done_testing();
}
