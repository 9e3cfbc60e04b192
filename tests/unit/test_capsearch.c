/* test_capsearch.c: unit tests of the capacity search (runner/capsearch.c) on simulated servers:
 * a deterministic knee is found within the resolution, a noisy one never makes the search loop
 * (its probes are bounded, its bracket stays ordered), a server that always fails gets a bracket
 * from zero, one that always passes is limited by the load generator or by its steps up, a pass
 * that does not hold on a second window is not the capacity, and the probe bound, the seeds, a
 * stop and a replay do what capsearch.h says. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../runner/capsearch.h"
#include "tap.h"

/* A simulated server: passes below knee, fails above; within noise (a fraction) of the knee the
 * verdict is a coin (rand_r, fixed seed). The load generator saturates at lg_max (0: never). */
struct sim {
    double bound;        /* what the closed-loop probe measures */
    long knee;
    double noise;
    long lg_max;
    int always_fail, bound_fails;
    double fickle;       /* above the knee by up to this fraction: passes a first window only */
    unsigned seed;
    int calls, stop_at;  /* stop_at: return -1 at that call (0: never) */
    long rates[64];
    int nrates;
};

static int probe(void *arg, long rate, int again, struct cs_obs *o)
{
    struct sim *s = arg;
    s->calls++;
    if (s->stop_at && s->calls == s->stop_at)
        return -1;
    if (s->nrates < 64)
        s->rates[s->nrates++] = rate;
    o->loadgen = s->lg_max && (rate == 0 || rate >= s->lg_max);
    if (rate == 0) {
        o->failed = s->bound_fails;
        o->rps = s->bound;
        return 0;
    }
    double lo = s->knee * (1 - s->noise), hi = s->knee * (1 + s->noise);
    if (s->always_fail)
        o->pass = 0;
    else if (rate <= lo)
        o->pass = 1;
    else if (s->fickle > 0)
        o->pass = !again && rate <= s->knee * (1 + s->fickle);
    else if (rate > hi)
        o->pass = 0;
    else
        o->pass = rand_r(&s->seed) & 1;
    return 0;
}

static const struct cs_params P = {.resolution = 0.05, .max_probes = 12, .max_down = 6, .max_up = 2};

/* The bracket is ordered and within the resolution, and holds the knee. */
static int resolved_around(const struct cs_result *r, long knee)
{
    return r->end == CS_RESOLVED && r->pass > 0 && r->pass <= knee && r->fail > knee && r->capacity == r->pass &&
           (r->fail - r->pass <= P.resolution * r->pass || r->fail - r->pass <= 1);
}

static void deterministic(void)
{
    static const long knees[] = {1, 7, 480, 7300, 10000, 123456, 2000000};
    static const double bounds[] = {1.0, 1.3, 1.9, 0.9}; /* bound / knee */
    int good = 0, total = 0, bounded = 1;
    for (size_t k = 0; k < sizeof knees / sizeof *knees; k++)
        for (size_t b = 0; b < sizeof bounds / sizeof *bounds; b++) {
            struct sim s = {.bound = knees[k] * bounds[b], .knee = knees[k]};
            struct cs_result r;
            if (s.bound < 1)
                continue;
            cs_search(&P, NULL, 0, probe, &s, &r);
            total++;
            good += resolved_around(&r, knees[k]);
            if (!resolved_around(&r, knees[k]))
                diag("knee %ld bound %.0f: capacity %ld [%ld, %ld] end %s", knees[k], s.bound, r.capacity, r.pass,
                     r.fail, cs_end_names[r.end]);
            bounded &= r.probes <= cs_probe_bound(&P) && r.probes == s.calls;
        }
    ok(good == total, "deterministic knee: found within the resolution (%d of %d knee/bound pairs)", good, total);
    ok(bounded, "deterministic knee: probes counted and within the bound (%d)", cs_probe_bound(&P));
}

static void noisy(void)
{
    int bounded = 1, ordered = 1, near = 1, n = 0;
    for (unsigned seed = 1; seed <= 2000; seed++) {
        struct sim s = {.bound = 11000, .knee = 10000, .noise = 0.1, .seed = seed};
        struct cs_result r;
        cs_search(&P, NULL, 0, probe, &s, &r);
        bounded &= r.probes <= cs_probe_bound(&P) && s.calls == r.probes;
        ordered &= !r.fail || r.pass < r.fail;
        /* A pass is never above the noise band, a failure never below it. */
        near &= r.capacity <= 11000 && (!r.fail || r.fail > 9000);
        n += r.end == CS_RESOLVED;
    }
    ok(bounded, "noisy knee: every search (2000 seeds) within %d probes", cs_probe_bound(&P));
    ok(ordered, "noisy knee: the bracket stays ordered (pass < fail)");
    ok(near, "noisy knee: capacity and bracket within the noise band");
    ok(n > 0, "noisy knee: searches end by the resolution (%d of 2000)", n);
}

static void always_fail(void)
{
    struct sim s = {.bound = 6400, .always_fail = 1};
    struct cs_result r;
    int rc = cs_search(&P, NULL, 0, probe, &s, &r);
    ok(rc == 0 && r.end == CS_LOWEST && r.capacity == 0 && r.pass == 0, "always fails: capacity 0, bracket from 0");
    ok(r.fail == 100 && r.probes == 1 + 1 + P.max_down, "always fails: lowest rate tried bound/64 = %ld in %d probes",
       r.fail, r.probes);
}

static void always_pass(void)
{
    struct sim s = {.bound = 5000, .knee = 1L << 40, .lg_max = 5000};
    struct cs_result r;
    cs_search(&P, NULL, 0, probe, &s, &r);
    ok(r.end == CS_LOADGEN && r.capacity == 5000 && r.fail == 0 && r.loadgen_limited,
       "passes up to the closed-loop bound, load generator saturated: capacity = bound, loadgen-limited (%s)",
       cs_end_names[r.end]);
    struct sim u = {.bound = 5000, .knee = 1L << 40};
    cs_search(&P, NULL, 0, probe, &u, &r);
    ok(r.end == CS_NO_FAIL && r.capacity == 7813 && r.fail == 0 && !r.loadgen_limited && r.probes == 5,
       "passes everywhere, load generator fine: two steps up and a confirmation, no failure (capacity %ld)",
       r.capacity);
    struct sim v = {.bound = 5000, .knee = 7000, .lg_max = 7000};
    cs_search(&P, NULL, 0, probe, &v, &r);
    ok(r.end == CS_RESOLVED && r.loadgen_limited && r.fail >= 7000,
       "the lowest failure has a saturated load generator: loadgen-limited");
}

/* Passes within 5% above the knee hold for one window only: the capacity is a pass that holds. */
static void confirmed(void)
{
    int good = 0, n = 0;
    for (long knee = 1000; knee <= 64000; knee = knee * 3 / 2, n++) {
        struct sim s = {.bound = knee * 1.03, .knee = knee, .fickle = 0.05};
        struct cs_result r;
        cs_search(&P, NULL, 0, probe, &s, &r);
        good += r.capacity <= knee && r.capacity > 0 && r.fail > r.capacity && r.probes <= cs_probe_bound(&P);
        if (!(r.capacity <= knee))
            diag("knee %ld: capacity %ld [%ld, %ld] end %s", knee, r.capacity, r.pass, r.fail, cs_end_names[r.end]);
    }
    ok(good == n, "a pass that does not hold on a second window is not the capacity (%d of %d knees)", good, n);
}

static void probe_bound(void)
{
    struct cs_params p = P;
    p.max_probes = 3;
    struct sim s = {.bound = 10000, .knee = 7300};
    struct cs_result r;
    cs_search(&p, NULL, 0, probe, &s, &r);
    ok(r.end == CS_PROBE_BOUND && r.probes == 4 && s.calls == 4 && r.pass <= 7300 && r.fail > 7300,
       "max_probes 3: stops after 3 open-loop probes with an ordered bracket [%ld, %ld]", r.pass, r.fail);
}

static void seeds_and_stop(void)
{
    struct sim s = {.bound = 10000, .knee = 7300}, t = s;
    struct cs_result a, b;
    cs_search(&P, NULL, 0, probe, &s, &a);
    struct cs_known k[] = {{7000, 1, 0}, {7500, 0, 0}, {9000, 1, 0} /* a noisy pass above a failure */};
    cs_search(&P, k, 3, probe, &t, &b);
    ok(resolved_around(&b, 7300) && b.probes < a.probes, "known verdicts seed the bracket: %d probes instead of %d",
       b.probes, a.probes);
    struct sim u = {.bound = 10000, .knee = 7300};
    cs_search(&P, NULL, 0, probe, &u, &b);
    ok(u.nrates == s.nrates && !memcmp(u.rates, s.rates, sizeof s.rates[0] * (size_t)s.nrates),
       "the same verdicts ask the same rates (a search replays)");
    struct sim v = {.bound = 10000, .knee = 7300, .stop_at = 3};
    int rc = cs_search(&P, NULL, 0, probe, &v, &b);
    ok(rc == -1 && b.end == CS_STOPPED && v.calls == 3, "the callback stops the search at once");
    struct sim w = {.bound = 10000, .bound_fails = 1};
    rc = cs_search(&P, NULL, 0, probe, &w, &b);
    ok(rc == 0 && b.end == CS_NO_BOUND && w.calls == 1, "no closed-loop result: no search");
}

int main(void)
{
    deterministic();
    noisy();
    always_fail();
    always_pass();
    confirmed();
    probe_bound();
    seeds_and_stop();
    return done_testing();
}
