/* repeats.c - repeats: auto (repeats.h): which (server, point) pairs run again, in what order,
 * and why each stopped. */
#include "repeats.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define REP_B 2000    /* resamples, as report/bootstrap.py */
#define REP_TAIL 50   /* draws left out on each side: 2.5 % of REP_B */

const char *const rep_stop_names[REP_NSTOPS] = {
    [REP_RUNNING] = "running",     [REP_NARROW] = "narrow",           [REP_MAX] = "max",
    [REP_BUDGET] = "budget",       [REP_NO_FIGURE] = "no figure",     [REP_INTERRUPTED] = "interrupted",
};

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median_sorted(const double *s, int n)
{
    return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/* xorshift64*: small, fast and the same on every machine (the interval must not depend on libc). */
static uint64_t next_u64(uint64_t *x)
{
    *x ^= *x >> 12, *x ^= *x << 25, *x ^= *x >> 27;
    return *x * 2685821657736338717ULL;
}

void rep_interval(const double *v, int n, double *med, double *half)
{
    double *s = ut_calloc((size_t)n, sizeof *s), *draw = ut_calloc((size_t)n, sizeof *draw);
    double *figs = ut_calloc(REP_B, sizeof *figs);
    memcpy(s, v, (size_t)n * sizeof *s);
    qsort(s, (size_t)n, sizeof *s, cmp_double);
    *med = median_sorted(s, n);
    uint64_t x = 1; /* a fixed seed: the same repeats always give the same decision */
    for (int b = 0; b < REP_B; b++) {
        for (int i = 0; i < n; i++)
            draw[i] = s[next_u64(&x) % (uint64_t)n];
        qsort(draw, (size_t)n, sizeof *draw, cmp_double);
        figs[b] = median_sorted(draw, n);
    }
    qsort(figs, REP_B, sizeof *figs, cmp_double);
    double width = (figs[REP_B - 1 - REP_TAIL] - figs[REP_TAIL]) / 2;
    if (n < 2)
        *half = HUGE_VAL; /* one value: no interval, never narrow */
    else if (width == 0)
        *half = 0;
    else
        *half = *med != 0 ? width / fabs(*med) : HUGE_VAL;
    free(s), free(draw), free(figs);
}

void rep_init(struct rep_state *st, const struct cfg *c, const struct plan *p)
{
    memset(st, 0, sizeof *st);
    for (int i = 0; i < c->d.nrepeats_on && st->ncols < REP_COLS; i++)
        for (int k = 0; k < RC_N; k++)
            if (!strcmp(c->d.repeats_on[i], res_col_names[k]))
                st->cols[st->ncols++] = k;
    st->pairs = ut_calloc((size_t)p->n + 1, sizeof *st->pairs);
    for (int i = 0; i < p->n; i++)
        if (p->rows[i].repeat == 1)
            st->pairs[st->npairs++] = (struct rep_pair){.row = i, .repeats = (int)c->d.repeats_min};
}

/* The values of column col over the pair's repeats so far, from the rows res holds. */
static int values(const struct rep_pair *pr, int col, const struct cfg *c, const struct plan *p,
                  const struct res *res, double *out)
{
    const struct plan_row *row = &p->rows[pr->row];
    int n = 0;
    for (int r = 1; r <= pr->repeats; r++) {
        char key[200], *end;
        plan_key(c->srv[row->srv].name, row->ax, r, key, sizeof key);
        int idx = res_find(res, key);
        const char *cell = idx >= 0 ? res->rows[idx].cell[col] : NULL;
        double v = cell ? strtod(cell, &end) : 0;
        if (cell && end != cell && isfinite(v))
            out[n++] = v;
    }
    return n;
}

/* Narrow, out of repeats, or on: the pair's state after its repeats so far. */
static void decide(struct rep_pair *pr, const struct rep_state *st, const struct cfg *c, const struct plan *p,
                   const struct res *res)
{
    double *v = ut_calloc((size_t)pr->repeats + 1, sizeof *v), worst = -1;
    int figures = 0, narrow = 1;
    for (int k = 0; k < st->ncols; k++) {
        int n = values(pr, st->cols[k], c, p, res, v);
        double med, half;
        pr->half_pct[k] = -1;
        if (n == 0)
            continue;
        figures++;
        rep_interval(v, n, &med, &half);
        pr->half_pct[k] = half * 100;
        narrow &= half <= c->d.repeats_target;
        if (half > worst)
            worst = half, pr->worst = k;
    }
    free(v);
    if (!figures)
        pr->stop = REP_NO_FIGURE; /* every run failed: repeating cannot narrow what is not measured */
    else if (narrow)
        pr->stop = REP_NARROW;
    else if (pr->repeats >= c->d.repeats_max)
        pr->stop = REP_MAX;
}

int rep_next(struct rep_state *st, const struct cfg *c, const struct plan *p, const struct res *res, double elapsed,
             double overhead)
{
    int *on = ut_calloc((size_t)st->npairs + 1, sizeof *on), n = 0;
    double est = 0;
    for (int i = 0; i < st->npairs; i++) {
        struct rep_pair *pr = &st->pairs[i];
        if (pr->stop == REP_RUNNING)
            decide(pr, st, c, p, res);
        if (pr->stop == REP_RUNNING)
            on[n++] = i, est += plan_row_seconds(c, &p->rows[pr->row], overhead);
    }
    if (n && c->d.repeats_budget > 0 && elapsed + est > c->d.repeats_budget) {
        for (int i = 0; i < n; i++)
            st->pairs[on[i]].stop = REP_BUDGET;
        n = 0;
    }
    free(st->round);
    st->round = ut_calloc((size_t)n + 1, sizeof *st->round);
    /* Each round starts one pair further along, as the plan's repeats do: a drift of the machine
     * lands on every pair in turn. */
    for (int k = 0; k < n; k++) {
        struct rep_pair *pr = &st->pairs[on[(k + st->rounds) % n]];
        struct plan_row *q = &st->round[k];
        *q = p->rows[pr->row];
        q->repeat = ++pr->repeats;
        q->order = p->n + st->rounds * st->npairs + k + 1; /* unique, and after every row of the plan */
        q->done = 0;
        plan_key(c->srv[q->srv].name, q->ax, q->repeat, q->key, sizeof q->key);
    }
    st->rounds += n > 0;
    free(on);
    return n;
}

void rep_interrupted(struct rep_state *st, const struct cfg *c, const struct plan *p, const struct res *res)
{
    for (int i = 0; i < st->npairs; i++) {
        struct rep_pair *pr = &st->pairs[i];
        if (pr->stop != REP_RUNNING)
            continue;
        pr->stop = REP_INTERRUPTED;
        /* The round under way counted a repeat for rows it never ran: count what runs.csv holds. */
        const struct plan_row *row = &p->rows[pr->row];
        char key[200];
        for (int r = pr->repeats; r > 0; r--) {
            plan_key(c->srv[row->srv].name, row->ax, r, key, sizeof key);
            if (res_find(res, key) >= 0)
                break;
            pr->repeats = r - 1;
        }
    }
}

void rep_json(const struct rep_state *st, const struct cfg *c, const struct plan *p, struct ut_str *o)
{
    int count[REP_NSTOPS] = {0}, lo = 0, hi = 0;
    for (int i = 0; i < st->npairs; i++) {
        const struct rep_pair *pr = &st->pairs[i];
        count[pr->stop]++;
        lo = i == 0 || pr->repeats < lo ? pr->repeats : lo;
        hi = pr->repeats > hi ? pr->repeats : hi;
    }
    ut_str_addf(o, "{\"mode\": \"auto\", \"min\": %ld, \"max\": %ld, \"target_pct\": %g, \"budget_s\": %g, \"on\": [",
                c->d.repeats_min, c->d.repeats_max, c->d.repeats_target * 100, c->d.repeats_budget);
    for (int k = 0; k < st->ncols; k++)
        ut_str_addf(o, "%s\"%s\"", k ? ", " : "", res_col_names[st->cols[k]]);
    ut_str_addf(o, "], \"method\": \"95%% percentile bootstrap of the median, %d resamples, fixed seed\", "
                   "\"rounds\": %d, \"repeats_ran\": [%d, %d], \"stopped\": {", REP_B, st->rounds, lo, hi);
    for (int s = 0, first = 1; s < REP_NSTOPS; s++)
        if (count[s])
            ut_str_addf(o, "%s\"%s\": %d", first ? "" : ", ", rep_stop_names[s], count[s]), first = 0;
    ut_str_add(o, "},\n    \"points\": [");
    for (int i = 0; i < st->npairs; i++) {
        const struct rep_pair *pr = &st->pairs[i];
        const struct plan_row *row = &p->rows[pr->row];
        char key[200];
        plan_key(c->srv[row->srv].name, row->ax, 1, key, sizeof key);
        key[strlen(key) - strlen("_rep1")] = '\0'; /* the point, whatever the repeat */
        ut_str_add(o, i ? ",\n      " : "\n      ");
        ut_str_add(o, "{\"point\": ");
        ut_str_json(o, key);
        ut_str_add(o, ", \"server\": ");
        ut_str_json(o, c->srv[row->srv].name);
        ut_str_addf(o, ", \"repeats\": %d, \"stopped\": \"%s\", \"half_width_pct\": {", pr->repeats,
                    rep_stop_names[pr->stop]);
        for (int k = 0; k < st->ncols; k++) {
            ut_str_addf(o, "%s\"%s\": ", k ? ", " : "", res_col_names[st->cols[k]]);
            if (pr->half_pct[k] < 0 || !isfinite(pr->half_pct[k]))
                ut_str_add(o, "null");
            else
                ut_str_addf(o, "%.2f", pr->half_pct[k]);
        }
        ut_str_add(o, "}}");
    }
    ut_str_add(o, "]}");
}

void rep_free(struct rep_state *st)
{
    free(st->pairs);
    free(st->round);
    memset(st, 0, sizeof *st);
}
