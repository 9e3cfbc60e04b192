/* hist.c - HdrHistogram-style log-linear histogram: layout, merge, percentiles, text spectrum. */
#include "hist.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Derive the layout; fills everything but counts and the running totals. With 3 digits, 2048
 * sub-buckets: values below 2048 units are exact, each doubling above adds 1024 counters. */
static int layout(struct hist *h, int64_t lowest, int64_t highest, int sig)
{
    if (lowest < 1 || sig < 1 || sig > 5 || highest < 2 * lowest)
        return -1;
    int64_t single = 2;                  /* largest value kept with unit resolution: 2 * 10^sig */
    for (int i = 0; i < sig; i++)
        single *= 10;
    int sub_count_mag = (int)ceil(log2((double)single));
    memset(h, 0, sizeof *h);
    h->lowest = lowest;
    h->sig = sig;
    h->highest = highest;
    h->sub_half_mag = (sub_count_mag > 1 ? sub_count_mag : 1) - 1;
    h->unit_mag = (int)floor(log2((double)lowest));
    int64_t sub_count = (int64_t)1 << (h->sub_half_mag + 1);
    h->sub_half = sub_count / 2;
    h->sub_mask = (sub_count - 1) << h->unit_mag;
    /* Buckets until the first untrackable value passes highest; each doubles the range. */
    int64_t untrackable = sub_count << h->unit_mag;
    int buckets = 1;
    while (untrackable <= highest) {
        if (untrackable > INT64_MAX / 2) {
            buckets++;
            break;
        }
        untrackable <<= 1;
        buckets++;
    }
    h->bucket_count = buckets;
    h->counts_len = (buckets + 1) * (int)h->sub_half;
    h->min = INT64_MAX;
    return 0;
}

size_t hist_counts_bytes(int64_t lowest, int64_t highest, int sig)
{
    struct hist h;
    if (layout(&h, lowest, highest, sig) < 0)
        return 0;
    return (size_t)h.counts_len * sizeof(uint64_t);
}

int hist_init(struct hist *h, int64_t lowest, int64_t highest, int sig)
{
    if (layout(h, lowest, highest, sig) < 0)
        return -1;
    h->counts = calloc((size_t)h->counts_len, sizeof(uint64_t));
    if (!h->counts)
        return -1;
    h->owned = 1;
    return 0;
}

int hist_init_at(struct hist *h, int64_t lowest, int64_t highest, int sig, void *mem)
{
    if (layout(h, lowest, highest, sig) < 0)
        return -1;
    h->counts = mem;
    return 0;
}

void hist_free(struct hist *h)
{
    if (h->owned)
        free(h->counts);
    h->counts = NULL;
}

void hist_reset(struct hist *h)
{
    memset(h->counts, 0, (size_t)h->counts_len * sizeof(uint64_t));
    h->total = h->clamped = h->sum = 0;
    h->sumsq = 0;
    h->min = INT64_MAX;
    h->max = 0;
}

/* Counters are plain sums, so a merge is exact: merged percentiles equal those of one histogram
 * that saw every value (tests/loadgen/hist_test.c checks it). Only counters src has are written,
 * and an empty src is not read: the per-second histograms of --hlog are mostly pages never
 * touched, and stay so. */
int hist_add(struct hist *dst, const struct hist *src)
{
    if (dst->counts_len < src->counts_len || dst->unit_mag != src->unit_mag ||
        dst->sub_half_mag != src->sub_half_mag)
        return -1;
    if (src->total == 0)
        return 0;
    for (int i = 0; i < src->counts_len; i++)
        if (src->counts[i])
            dst->counts[i] += src->counts[i];
    dst->total += src->total;
    dst->clamped += src->clamped;
    dst->sum += src->sum;
    dst->sumsq += src->sumsq;
    if (src->min < dst->min)
        dst->min = src->min;
    if (src->max > dst->max)
        dst->max = src->max;
    return 0;
}

int hist_grow(struct hist *h, int64_t highest)
{
    if (highest <= h->highest)
        return 0;
    struct hist g;
    if (!h->owned || layout(&g, h->lowest, highest, h->sig) < 0)
        return -1;
    uint64_t *c = realloc(h->counts, (size_t)g.counts_len * sizeof *c);
    if (!c)
        return -1;
    memset(c + h->counts_len, 0, (size_t)(g.counts_len - h->counts_len) * sizeof *c);
    h->counts = c;
    h->highest = g.highest;
    h->bucket_count = g.bucket_count;
    h->counts_len = g.counts_len;
    return 0;
}

/* Inverse of hist_index: the lowest value that lands in index i. */
static int64_t value_at_index(const struct hist *h, int i)
{
    int bucket = (i >> h->sub_half_mag) - 1;
    int64_t sub = (i & (h->sub_half - 1)) + h->sub_half;
    if (bucket < 0) {
        sub -= h->sub_half;
        bucket = 0;
    }
    return sub << (bucket + h->unit_mag);
}

/* Highest value that shares index i's counter (what HdrHistogram reports). */
static int64_t highest_equivalent(const struct hist *h, int i)
{
    int bucket = (i >> h->sub_half_mag) - 1;
    if (bucket < 0)
        bucket = 0;
    return value_at_index(h, i) + ((int64_t)1 << (bucket + h->unit_mag)) - 1;
}

/* Report values no larger than the exact max: the last bucket's upper edge is an artefact. */
static int64_t cap(const struct hist *h, int64_t v)
{
    return v > h->max ? h->max : v;
}

int64_t hist_value_at_rank(const struct hist *h, uint64_t rank)
{
    uint64_t seen = 0;
    for (int i = 0; i < h->counts_len; i++) {
        seen += h->counts[i];
        if (seen >= rank && seen) {
            int64_t v = cap(h, highest_equivalent(h, i));
            return v < h->min ? h->min : v;
        }
    }
    return h->max;
}

/* The rank is round(p% of total), at least 1, as HdrHistogram's C library computes it (its Java
 * library takes ceil: bin/hlog follows that one); a linear walk over the counters is fine at report
 * time (tens of thousands of counters, a few dozen queries). */
int64_t hist_percentile(const struct hist *h, double p)
{
    if (h->total == 0)
        return 0;
    if (p > 100)
        p = 100;
    uint64_t want = (uint64_t)(p / 100 * (double)h->total + 0.5);
    return hist_value_at_rank(h, want < 1 ? 1 : want);
}

void hist_recount(struct hist *h)
{
    h->total = h->clamped = h->sum = 0;
    h->sumsq = 0;
    h->min = INT64_MAX;
    h->max = 0;
    for (int i = 0; i < h->counts_len; i++) {
        uint64_t n = h->counts[i];
        if (!n)
            continue;
        int64_t lo = value_at_index(h, i), hi = highest_equivalent(h, i);
        int64_t mid = lo + (hi - lo + 1) / 2;
        if (h->total == 0)
            h->min = lo;
        h->max = hi;
        h->total += n;
        h->sum += n * (uint64_t)mid;
        h->sumsq += (double)n * (double)mid * (double)mid;
    }
}

double hist_mean(const struct hist *h)
{
    return h->total ? (double)h->sum / (double)h->total : 0;
}

double hist_stdev(const struct hist *h)
{
    if (h->total < 2)
        return 0;
    double m = hist_mean(h);
    double var = h->sumsq / (double)h->total - m * m;
    return var > 0 ? sqrt(var) : 0;
}

/* The percentile iterator of HdrHistogram: reporting levels get denser as they approach 100%,
 * `ticks_per_half` steps for every halving of the distance to 100%. */
void hist_print_spectrum(const struct hist *h, FILE *f, double scale, int ticks_per_half)
{
    fprintf(f, "%12s %14s %10s %14s\n\n", "Value", "Percentile", "TotalCount", "1/(1-Percentile)");
    double level = 0;
    uint64_t seen = 0;
    int64_t last = 0;
    for (int i = 0; i < h->counts_len && seen < h->total; i++) {
        if (h->counts[i] == 0)
            continue;
        seen += h->counts[i];
        last = cap(h, highest_equivalent(h, i));
        double here = 100.0 * (double)seen / (double)h->total;
        /* Like HdrHistogram, the last counter gets one level line, then the final 100% line. */
        while (level <= here) {
            fprintf(f, "%12.3f %2.12f %10llu %14.2f\n", (double)last / scale, level / 100,
                    (unsigned long long)seen, 1 / (1 - level / 100));
            double half = pow(2, floor(log2(100 / (100 - level))) + 1);
            level += 100 / (ticks_per_half * half);
            if (seen == h->total)
                break;
        }
    }
    if (h->total)
        fprintf(f, "%12.3f %2.12f %10llu\n", (double)last / scale, 1.0, (unsigned long long)seen);
    fprintf(f, "#[Mean    = %12.3f, StdDeviation   = %12.3f]\n", hist_mean(h) / scale,
            hist_stdev(h) / scale);
    fprintf(f, "#[Max     = %12.3f, Total count    = %12llu]\n", (double)h->max / scale,
            (unsigned long long)h->total);
    fprintf(f, "#[Buckets = %12d, SubBuckets     = %12lld]\n", h->bucket_count,
            (long long)h->sub_half * 2);
}
