/* capsearch.c - the capacity search (capsearch.h): bound, bracket, bisection, every step a probe
 * and every loop bounded by a count. */
#include "capsearch.h"

#include <math.h>
#include <string.h>

/* The rate axis's own limit (cfg.h, CFG_AXES): no probe asks the load generator for more. Above
 * the bound the rate grows by a quarter a step: an open loop over the same connections rarely
 * beats the closed loop by much, so the capacity is near the bound when the bound passes. */
#define CS_RATE_MAX 100000000L

const char *const cs_end_names[] = {
    [CS_RESOLVED] = "resolution", [CS_LOWEST] = "lowest_rate", [CS_NO_FAIL] = "no_failure",
    [CS_LOADGEN] = "loadgen",     [CS_PROBE_BOUND] = "probe_bound", [CS_NO_BOUND] = "no_bound",
    [CS_STOPPED] = "stopped",
};

int cs_probe_bound(const struct cs_params *p)
{
    return 1 + p->max_probes;
}

/* Passes remembered to fall back on when a confirmation fails (more are forgotten). */
#define CS_PASSES 256

/* The bracket so far: lo the highest passing rate (0: none), hi the lowest failing one above it
 * (0: none), each with whether the load generator was saturated there; whether lo passed a
 * second window; and the passes seen, with their load generator flag. */
struct bracket {
    long lo, hi;
    int lo_lg, hi_lg, lo_sure;
    long pass[CS_PASSES];
    int pass_lg[CS_PASSES], npass;
};

static void passed(struct bracket *b, long rate, int lg)
{
    b->lo = rate, b->lo_lg = lg, b->lo_sure = 0;
    if (b->npass < CS_PASSES)
        b->pass[b->npass] = rate, b->pass_lg[b->npass++] = lg;
}

/* lo did not hold: it fails, and the highest pass below it (0: none) is the passing end. */
static void unconfirmed(struct bracket *b, int lg)
{
    b->hi = b->lo, b->hi_lg = lg;
    b->lo = 0, b->lo_lg = 0, b->lo_sure = 0;
    for (int i = 0; i < b->npass; i++)
        if (b->pass[i] < b->hi && b->pass[i] > b->lo)
            b->lo = b->pass[i], b->lo_lg = b->pass_lg[i];
}

static void seed(struct bracket *b, const struct cs_known *k, int n)
{
    for (int i = 0; i < n; i++)
        if (!k[i].pass && k[i].rate > 0 && (!b->hi || k[i].rate < b->hi))
            b->hi = k[i].rate, b->hi_lg = k[i].loadgen;
    /* Passes only below the lowest failure: a noisy pass above it would break the bracket. */
    for (int i = 0; i < n; i++) {
        if (!k[i].pass || (b->hi && k[i].rate >= b->hi))
            continue;
        if (k[i].rate == b->lo) {
            b->lo_sure = 1; /* two windows passed there */
        } else if (k[i].rate > b->lo) {
            passed(b, k[i].rate, k[i].loadgen);
        } else if (b->npass < CS_PASSES) {
            b->pass[b->npass] = k[i].rate, b->pass_lg[b->npass++] = k[i].loadgen;
        }
    }
}

/* The next rate to probe, or 0 with *end set when the search is over. up and down count the
 * steps up and halvings made so far. */
static long next_rate(const struct cs_params *p, const struct bracket *b, long bound, int *up, int *down,
                      enum cs_end *end)
{
    if (!b->hi) { /* nothing failed yet: climb */
        if (b->lo < bound)
            return bound;
        if (b->lo_lg)
            return (*end = CS_LOADGEN), 0; /* it cannot push harder than where it saturated */
        if (*up >= p->max_up || b->lo >= CS_RATE_MAX)
            return (*end = CS_NO_FAIL), 0;
        ++*up;
        return b->lo >= CS_RATE_MAX / 5 * 4 ? CS_RATE_MAX : b->lo + (b->lo + 3) / 4;
    }
    if (!b->lo) { /* only failures: descend */
        if (*down >= p->max_down || b->hi <= 1)
            return (*end = CS_LOWEST), 0;
        ++*down;
        return b->hi / 2;
    }
    if (b->hi - b->lo <= 1 || b->hi - b->lo <= p->resolution * (double)b->lo)
        return (*end = CS_RESOLVED), 0;
    return b->lo + (b->hi - b->lo) / 2;
}

static void finish(const struct bracket *b, int bound_lg, struct cs_result *r)
{
    r->capacity = r->pass = b->lo;
    r->fail = b->hi;
    r->loadgen_limited = b->hi ? b->hi_lg : (b->lo_lg || bound_lg);
}

int cs_search(const struct cs_params *p, const struct cs_known *known, int nknown, cs_probe_fn fn, void *arg,
              struct cs_result *r)
{
    struct cs_obs o = {0};
    struct bracket b;
    memset(&b, 0, sizeof b);
    memset(r, 0, sizeof *r);
    r->probes = 1;
    if (fn(arg, 0, 0, &o) < 0)
        return (r->end = CS_STOPPED), -1;
    if (o.failed || !(o.rps >= 1))
        return (r->end = CS_NO_BOUND), 0;
    r->bound = o.rps >= CS_RATE_MAX ? CS_RATE_MAX : lround(o.rps);
    int bound_lg = o.loadgen, up = 0, down = 0;
    seed(&b, known, nknown);
    for (int open = 0;; open++) {
        enum cs_end end = CS_RESOLVED;
        long rate = next_rate(p, &b, r->bound, &up, &down, &end);
        /* Over with a pass not yet confirmed: its rate once more. */
        int again = !rate && b.lo && !b.lo_sure && end != CS_LOWEST;
        if (again)
            rate = b.lo;
        if (!rate || open >= p->max_probes) {
            r->end = rate ? CS_PROBE_BOUND : end;
            break;
        }
        r->probes++;
        memset(&o, 0, sizeof o);
        if (fn(arg, rate, again, &o) < 0) {
            finish(&b, bound_lg, r);
            return (r->end = CS_STOPPED), -1;
        }
        int pass = o.pass && !o.failed;
        /* rate lies inside (lo, hi), or is lo itself: the bracket stays ordered. */
        if (again && pass)
            b.lo_sure = 1;
        else if (again)
            unconfirmed(&b, o.loadgen);
        else if (pass)
            passed(&b, rate, o.loadgen);
        else
            b.hi = rate, b.hi_lg = o.loadgen;
    }
    finish(&b, bound_lg, r);
    return 0;
}
