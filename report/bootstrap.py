"""bootstrap.py - 95 % percentile-bootstrap intervals over the repeats of a point, for a median and
for any figure computed from medians (a ratio of two, memory above a base point per connection).

An Estimate is such a figure with what it was computed from: one or more sets of repeats (samples)
and the function of their medians. Its interval: B times, every sample is drawn again with
replacement, each independently of the others, the figure is computed from the medians of the
draws, and the interval runs from the 2.5th to the 97.5th percentile of the B figures. The
generator is random.Random(SEED), seeded afresh for every interval, and each sample is sorted
first, so the same repeats give the same interval whatever their order and whatever was computed
before. Draws where the figure is undefined (a denominator's median <= 0) are left out: for a ratio
that is the top of its tail, so a ">=" criterion reads a slightly lower interval, not a higher one.

With fewer than two repeats on a side there is nothing to resample: the interval is the figure
itself, and the text says "1 repeat: no interval". With 2 to 5 repeats the percentile interval of a
median is the range of the repeats (a draw is all minimum with probability >= 2.5 %), which holds
the true median with probability 1 - 2^(1-n) only; from about 10 repeats it holds it 92-95 % of
the time (tests/report-bootstrap.t). Nothing here reads rows: results.py makes Estimates of them.
"""

import random

B = 2000        # resamples per interval
SEED = 1        # the generator's seed, the same for every interval
LEVEL = 0.95    # the interval's nominal coverage


def median(values):
    """The median of a non-empty list of numbers (the mean of the middle two for an even count)."""
    s = sorted(values)
    half = len(s) // 2
    return s[half] if len(s) % 2 else (s[half - 1] + s[half]) / 2


def percentile_interval(fn, samples, b=B, seed=SEED, level=LEVEL):
    """(lo, hi): the percentile-bootstrap interval of fn(*medians of samples), each sample
    resampled independently b times; None when fn is undefined on every draw."""
    rng = random.Random(seed)
    figures = []
    for _ in range(b):
        value = fn(*[median(rng.choices(s, k=len(s))) for s in samples])
        if value is not None:
            figures.append(value)
    if not figures:
        return None
    figures.sort()
    tail = int(len(figures) * (1 - level) / 2)  # draws below lo, and above hi
    return figures[tail], figures[len(figures) - 1 - tail]


def coverage_of_range(n):
    """How often the range of n repeats holds the true median: 1 - 2^(1-n) (each repeat falls
    either side of it with probability 1/2; the range misses only when all fall on one side)."""
    return 1 - 2.0 ** (1 - n)


class Estimate:
    """A figure computed from the medians of samples, with its bootstrap interval.

    value: fn(*medians), None when undefined; repeats: the fewest repeats of any sample that is not
    fixed (an exact count, not a median of repeats: see exact()), None when all are; lo, hi: the
    interval, computed on first use (the figure itself with fewer than 2 repeats, or when every draw
    was undefined)."""

    def __init__(self, fn, samples, fixed=None):
        self.fn = fn
        self.samples = [sorted(s) for s in samples]
        self.fixed = list(fixed or [False] * len(self.samples))
        self.value = fn(*[median(s) for s in self.samples])
        sizes = [len(s) for s, f in zip(self.samples, self.fixed) if not f]
        self.repeats = min(sizes) if sizes else None
        self._interval = None

    def interval(self):
        if self._interval is None:
            found = None
            if self.value is not None and self.repeats is not None and self.repeats >= 2:
                found = percentile_interval(self.fn, self.samples)
            self._interval = found or (self.value, self.value)
        return self._interval

    @property
    def lo(self):
        return self.interval()[0]

    @property
    def hi(self):
        return self.interval()[1]

    def has_interval(self):
        return self.value is not None and self.repeats is not None and self.repeats >= 2

    def repeats_text(self):
        """'3 repeats', or '3 to 5 repeats' when the samples differ in size."""
        sizes = sorted(len(s) for s, f in zip(self.samples, self.fixed) if not f)
        return "%d%s repeats" % (sizes[0], " to %d" % sizes[-1] if sizes[-1] != sizes[0] else "")


def of_median(values):
    """The median of values (numbers) as an Estimate; None when there are none."""
    return Estimate(lambda m: m, [values]) if values else None


def exact(value):
    """A figure that is counted, not a median of repeats (runs that failed at a point): no interval."""
    return Estimate(lambda m: m, [[value]], fixed=[True])


def combine(fn, *estimates):
    """fn of the figures of estimates, as an Estimate whose draws resample all of their samples
    independently; None when one of them is None."""
    if any(e is None for e in estimates):
        return None
    sizes = [len(e.samples) for e in estimates]
    def composed(*medians):
        parts, at = [], 0
        for e, size in zip(estimates, sizes):
            parts.append(e.fn(*medians[at:at + size]))
            at += size
        return None if None in parts else fn(*parts)
    return Estimate(composed, [s for e in estimates for s in e.samples], [f for e in estimates for f in e.fixed])


def divide(a, b):
    return a / b if b > 0 else None


def ratio(num, den):
    """num / den of two Estimates (a ratio of medians, both sides resampled); None when either is
    None. Its value is None when den's is <= 0."""
    return combine(divide, num, den)


def text(e, fmt, note=True):
    """An Estimate in words, each number written by fmt: '12.3k [11.9k..12.8k]'; with 1 repeat
    '12.3k (1 repeat: no interval)', or '12.3k' without note; a count as the number alone."""
    if e is None:
        return ""
    if e.value is None:
        return "n/a"
    if e.has_interval():
        return "%s [%s..%s]" % (fmt(e.value), fmt(e.lo), fmt(e.hi))
    return fmt(e.value) + (" (1 repeat: no interval)" if note and e.repeats is not None else "")


def excludes(e, x):
    """'yes' when the interval of e lies wholly above or below x, 'no' when it holds x, and
    'n/a (...)' when there is no interval."""
    if e is None or e.value is None:
        return "n/a (not measured)"
    if not e.has_interval():
        return "n/a (1 repeat)"
    return "yes" if e.lo > x or e.hi < x else "no"


def method_text():
    """The method in one paragraph, for the pages that show intervals."""
    return ("Intervals [lo..hi] are %d %% percentile-bootstrap intervals of the median over the repeats "
            "(%s resamples, random.Random(%d)); an interval of a ratio resamples both sides "
            "independently. A figure without one had 1 repeat: no interval. With 2 to 5 repeats the "
            "interval is the range of the repeats and holds the true median less often than %d %%: "
            "%s." % (round(LEVEL * 100), "{:,}".format(B), SEED, round(LEVEL * 100),
                     ", ".join("%d %% at %d repeats" % (round(100 * coverage_of_range(n)), n)
                               for n in range(2, 6))))
