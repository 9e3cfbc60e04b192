/* hist.h - log-linear latency histogram in the HdrHistogram layout: constant-time record, exact
 * merge, percentiles within the configured number of significant digits. */
#ifndef LG_HIST_H
#define LG_HIST_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The layout follows HdrHistogram (Gil Tene) so the index arithmetic and the text output are the
 * ones its tools expect: bucket b holds values [2^(b+M) .. 2^(b+M+1)) split into `sub_half` linear
 * sub-buckets, so the relative error never exceeds 1 / sub_half. */
struct hist {
    int64_t lowest;           /* lowest discernible value, as configured (an encoding carries it) */
    int64_t highest;          /* largest trackable value; bigger values are clamped to it */
    int unit_mag;             /* log2 of the lowest discernible value */
    int sub_half_mag;         /* log2(sub_half) */
    int64_t sub_half;         /* half the linear sub-buckets per bucket */
    int64_t sub_mask;         /* (sub_count - 1) << unit_mag: forces small values into bucket 0 */
    int bucket_count;
    int counts_len;
    int sig;                  /* significant decimal digits kept */
    uint64_t total;           /* values recorded */
    uint64_t clamped;         /* values above `highest` (recorded as `highest`) */
    int64_t min, max;         /* exact extremes (max not clamped) */
    uint64_t sum;             /* exact sum, for the mean */
    double sumsq;             /* sum of squares, for the standard deviation */
    uint64_t *counts;         /* counts_len counters, owned or borrowed (hist_init_at) */
    int owned;
};

/* Size in bytes of the counts array for a configuration (for shared-memory placement). */
size_t hist_counts_bytes(int64_t lowest, int64_t highest, int sig);
/* Set up a histogram for values lowest..highest (lowest >= 1) with sig (1..5) significant digits.
 * hist_init allocates; hist_init_at uses caller memory of hist_counts_bytes() zeroed bytes.
 * Return 0, or -1 on bad arguments or no memory. */
int hist_init(struct hist *h, int64_t lowest, int64_t highest, int sig);
int hist_init_at(struct hist *h, int64_t lowest, int64_t highest, int sig, void *mem);
void hist_free(struct hist *h);
void hist_reset(struct hist *h);

/* Add src into dst, exactly: both must have the same resolution (lowest discernible value's power
 * of two and significant digits, so an index means the same values in both) and dst must reach at
 * least as high. Return 0, or -1 when they differ. */
int hist_add(struct hist *dst, const struct hist *src);
/* Make an owned histogram reach `highest` (never lower): the counts array grows, its indexes keep
 * their meaning. Return 0, or -1 on no memory or a borrowed array. */
int hist_grow(struct hist *h, int64_t highest);
/* After the counts were filled directly (a decoder): derive total, min, max and the sums from them
 * as HdrHistogram does: min the lowest and max the highest value equivalent to the first and last
 * non-empty counter, the mean from each counter's middle value. */
void hist_recount(struct hist *h);

/* Value at percentile p (0..100): the highest value equivalent to the one at that rank, capped at the
 * exact max. 0 for an empty histogram. */
int64_t hist_percentile(const struct hist *h, double p);
/* Value of the rank-th smallest value recorded (1-based; ranks past the total give the max), the
 * same way: the highest equivalent value, capped at the exact max and floored at the exact min. */
int64_t hist_value_at_rank(const struct hist *h, uint64_t rank);
double hist_mean(const struct hist *h);
double hist_stdev(const struct hist *h);

/* Percentile spectrum in the HdrHistogram text format (Value, Percentile, TotalCount,
 * 1/(1-Percentile)), values divided by `scale` (1000 to print nanoseconds as microseconds). */
void hist_print_spectrum(const struct hist *h, FILE *f, double scale, int ticks_per_half);

/* The index a value lands in; exposed for the inline record and the tests. */
static inline int hist_index(const struct hist *h, int64_t v)
{
    int pow2ceil = 64 - __builtin_clzll((uint64_t)v | (uint64_t)h->sub_mask);
    int bucket = pow2ceil - h->unit_mag - (h->sub_half_mag + 1);
    int64_t sub = v >> (bucket + h->unit_mag);
    return (int)(((int64_t)(bucket + 1) << h->sub_half_mag) + (sub - h->sub_half));
}

/* Record one value: a handful of instructions, no branches beyond the clamps. */
static inline void hist_record(struct hist *h, int64_t v)
{
    if (v < 0)
        v = 0;
    if (v > h->max)
        h->max = v;
    if (v < h->min)
        h->min = v;
    h->sum += (uint64_t)v;
    h->sumsq += (double)v * (double)v;
    if (v > h->highest) {
        v = h->highest;
        h->clamped++;
    }
    h->counts[hist_index(h, v)]++;
    h->total++;
}

#endif
