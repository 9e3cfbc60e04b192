#!/usr/bin/python3
"""report-bootstrap.t: report/bootstrap.py, the 95 % percentile-bootstrap intervals of medians and
of ratios of medians that every table, plot and claim verdict of the report shows.

Determinism: the same repeats give the same interval, in any order; the seed is used. Small
counts: 1 repeat has no interval; 2 to 5 repeats give the range, whose coverage is 1 - 2^(1-n) as
the method text says. Coverage on known distributions: the percentile bootstrap of the median
under-covers at small n (about 92-95 % at 10 to 20 repeats where 95 % is nominal); over 300 samples
of n = 10 and n = 20 from a normal and a lognormal the interval must hold the true median in 87 to
98.5 % of them, a band about 3 standard errors wide around that, which a 90 % interval or the
range (~100 %) falls outside. Ratios: on two samples of three the ends are known exactly; on two
of four the Monte Carlo ends lie within 1 % of the exact bootstrap quantiles (enumerated); draws
with a zero denominator are left out. The sampling is seeded, so the test's outcome is fixed."""

import itertools
import os
import random
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "report"))
from reporttest import REPORT_DIR, Tap  # noqa: E402

sys.path.insert(0, REPORT_DIR)
import bootstrap as B  # noqa: E402

TRIALS = 300                 # samples per coverage check
COVERAGE_BAND = (0.87, 0.985)


def check_determinism(t):
    values = [12.1, 9.7, 10.4, 11.0, 8.9, 10.2, 13.5, 9.9, 10.8, 11.7, 9.1, 10.0]
    first, again = B.of_median(values).interval(), B.of_median(values).interval()
    shuffled = values[:]
    random.Random(7).shuffle(shuffled)
    t.ok(first == again, "the same repeats give the same interval", (first, again))
    t.ok(B.of_median(shuffled).interval() == first, "in any order", B.of_median(shuffled).interval())
    # A ratio of two samples of 12 has atoms fine enough for the seed to move its ends.
    den = sorted([5.2, 4.9, 5.5, 6.1, 4.4, 5.0, 5.8, 4.7, 5.3, 6.4, 4.6, 5.1])
    seeded = {s: B.percentile_interval(B.divide, [sorted(values), den], seed=s) for s in range(1, 7)}
    t.ok(B.ratio(B.of_median(values), B.of_median(den)).interval() == seeded[1] and len(set(seeded.values())) > 1,
         "intervals use seed %d; another seed gives other ends: the seed is what fixes them" % B.SEED, seeded)
    t.ok(B.of_median(values).lo <= B.median(values) <= B.of_median(values).hi, "the interval holds the median", first)


def check_small(t):
    one = B.of_median([42.0])
    t.ok(one.interval() == (42.0, 42.0) and not one.has_interval(), "1 repeat: the interval is the figure itself")
    t.ok(B.text(one, str) == "42.0 (1 repeat: no interval)", "and its text says so", B.text(one, str))
    t.ok(B.excludes(one, 1.0) == "n/a (1 repeat)", "no interval, nothing excluded", B.excludes(one, 1.0))
    t.ok(B.text(B.exact(3.0), str) == "3.0", "a counted figure is written alone", B.text(B.exact(3.0), str))
    gen = random.Random(11)
    wrong = []
    for n in (2, 3, 4, 5):
        for _ in range(10):
            values = [gen.lognormvariate(0, 1) for _ in range(n)]
            if B.of_median(values).interval() != (min(values), max(values)):
                wrong.append((n, values, B.of_median(values).interval()))
    t.ok(not wrong, "with 2 to 5 repeats the interval is their range", wrong[:2])
    held = 0
    for _ in range(4000):
        values = [gen.gauss(0, 1) for _ in range(5)]
        held += min(values) <= 0 <= max(values)
    t.ok(abs(held / 4000 - B.coverage_of_range(5)) < 0.015,
         "the range of 5 holds the true median %.3f of the time, as 1 - 2^-4 = %.4f says"
         % (held / 4000, B.coverage_of_range(5)))
    t.ok([round(100 * B.coverage_of_range(n)) for n in (2, 3, 4, 5)] == [50, 75, 88, 94]
         and "75 % at 3 repeats" in B.method_text(), "the method text states those coverages", B.method_text())
    t.ok("2,000 resamples" in B.method_text() and "random.Random(1)" in B.method_text() and "95 %" in B.method_text(),
         "the method text states B, the seed and the level", B.method_text())


def check_coverage(t):
    gen = random.Random(20260101)
    cases = [("normal(10, 2)", lambda: gen.gauss(10, 2), 10.0),
             ("lognormal(0, 0.5)", lambda: gen.lognormvariate(0, 0.5), 1.0)]
    for name, draw, true_median in cases:
        for n in (10, 20):
            held = 0
            for _ in range(TRIALS):
                e = B.of_median([draw() for _ in range(n)])
                held += e.lo <= true_median <= e.hi
            share = held / TRIALS
            t.ok(COVERAGE_BAND[0] <= share <= COVERAGE_BAND[1],
                 "%s, n=%d: the interval holds the true median in %.3f of %d samples (band %.3f..%.3f)"
                 % (name, n, share, TRIALS, COVERAGE_BAND[0], COVERAGE_BAND[1]))


def exact_quantile(figures, p):
    """The p quantile of the exact bootstrap distribution (every resample equally likely)."""
    return figures[min(len(figures) - 1, int(p * len(figures)))]


def check_ratio(t):
    a, b = B.of_median([100.0, 110.0, 120.0]), B.of_median([90.0, 95.0, 100.0])
    r = B.ratio(a, b)
    # Each side's resampled median is its least value with probability 7/27 (two or three draws of
    # it), so both ends are the extreme ratios: min(a)/max(b) and max(a)/min(b).
    t.ok(r.value == 110 / 95 and r.interval() == (100 / 100, 120 / 90),
         "110 over 95 from [100 110 120] / [90 95 100]: interval [1..1.33]", (r.value, r.interval()))
    t.ok(B.excludes(r, 1.0) == "no" and B.excludes(B.ratio(a, B.of_median([50.0, 55.0, 60.0])), 1.0) == "yes",
         "it reaches 1, so it does not exclude 1; over [50 55 60] it does")

    num, den = [9.0, 10.0, 12.0, 15.0], [4.0, 5.0, 5.5, 7.0]
    exact = sorted(B.median(x) / B.median(y) for x in itertools.product(num, repeat=4)
                   for y in itertools.product(den, repeat=4))
    lo, hi = B.ratio(B.of_median(num), B.of_median(den)).interval()
    t.ok(exact_quantile(exact, 0.015) <= lo <= exact_quantile(exact, 0.035) and
         exact_quantile(exact, 0.965) <= hi <= exact_quantile(exact, 0.985),
         "two samples of 4: the interval's ends are the exact bootstrap's 2.5 and 97.5 %% quantiles "
         "within 1 %% (%.3f..%.3f vs %.3f..%.3f)" % (lo, hi, exact_quantile(exact, 0.025), exact_quantile(exact, 0.975)))
    same = B.ratio(B.of_median([5.0, 5.0, 5.0]), B.of_median([5.0, 5.0, 5.0]))
    t.ok(same.interval() == (1.0, 1.0), "constant sides give a ratio of 1 exactly", same.interval())

    zero = B.ratio(B.of_median([1.0, 2.0, 3.0]), B.of_median([0.0, 0.0, 5.0]))
    t.ok(zero.value is None, "a denominator whose median is 0: no ratio")
    some = B.ratio(B.of_median([1.0, 2.0, 3.0]), B.of_median([0.0, 4.0, 5.0]))
    t.ok(some.value == 2 / 4 and some.interval() == (1 / 5, 3 / 4),
         "draws whose denominator's median is 0 are left out: [1 2 3] / [0 4 5] gives [0.2..0.75]", some.interval())
    above = B.combine(lambda at, base: (at - base) / 10, B.of_median([1100.0, 1200.0, 1300.0]),
                      B.of_median([100.0, 100.0, 100.0]))
    t.ok(above.value == 110 and above.interval() == (100, 120) and above.repeats == 3,
         "a difference of medians per connection resamples both points", (above.value, above.interval()))
    t.ok(B.ratio(a, None) is None, "a side not measured: no ratio")
    uneven = B.ratio(B.of_median([1.0, 2.0, 3.0, 4.0, 5.0]), B.of_median([2.0, 2.5, 3.0]))
    t.ok(uneven.repeats == 3 and uneven.repeats_text() == "3 to 5 repeats" and uneven.has_interval(),
         "sides of 5 and 3 repeats (as a runner repeating until narrow would leave them): an interval, "
         "and the text says 3 to 5", uneven.repeats_text())
    t.ok(not B.ratio(a, B.of_median([95.0])).has_interval(), "a side of 1 repeat: no interval for the ratio")


def main():
    t = Tap()
    start = time.monotonic()
    check_determinism(t)
    check_small(t)
    check_coverage(t)
    check_ratio(t)
    t.diag("%.1f s" % (time.monotonic() - start))
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
