/* repeats_test.c - unit tests (TAP) of repeats: auto (runner/repeats.c) on scripted figures, no
 * server and no run: the interval of a median, which pairs run again and in what order, and the
 * reasons they stop (narrow, max, budget, no figure).
 *
 *   repeats-test CONFIG.yaml    a config of two or more servers at one point, repeats: auto */
#include "../../runner/cfg.h"
#include "../../runner/plan.h"
#include "../../runner/repeats.h"
#include "../unit/tap.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A row in res for key with throughput v (NAN: a failed row, no figure). */
static void put(struct res *r, const char *key, double v)
{
    r->rows = ut_realloc(r->rows, (size_t)(r->nrows + 1) * sizeof *r->rows);
    struct res_row *row = &r->rows[r->nrows++];
    memset(row, 0, sizeof *row);
    row->cell[RC_run] = ut_strdup(key);
    if (!isnan(v)) {
        char buf[32];
        snprintf(buf, sizeof buf, "%.3f", v);
        row->cell[RC_throughput_rps] = ut_strdup(buf);
    }
}

static void put_plan_rows(struct res *r, const struct plan *p, double (*fig)(int srv, int repeat))
{
    for (int i = 0; i < p->n; i++)
        put(r, p->rows[i].key, fig(p->rows[i].srv, p->rows[i].repeat));
}

static void clear(struct res *r)
{
    for (int i = 0; i < r->nrows; i++)
        for (int k = 0; k < RC_N; k++)
            free(r->rows[i].cell[k]);
    free(r->rows);
    r->rows = NULL, r->nrows = 0;
}

static double steady(int srv, int repeat)
{
    (void)repeat;
    return 1000.0 * (srv + 1);
}

static double noisy(int srv, int repeat) /* +-20 %: never within 5 % */
{
    return 1000.0 * (srv + 1) * (repeat % 2 ? 0.8 : 1.2);
}

static double mixed(int srv, int repeat) /* server 0 steady, the others noisy */
{
    return srv == 0 ? steady(srv, repeat) : noisy(srv, repeat);
}

static double failing(int srv, int repeat)
{
    return srv == 0 ? NAN : steady(srv, repeat);
}

static void test_interval(void)
{
    double med, half;
    double same[] = {5, 5, 5, 5};
    rep_interval(same, 4, &med, &half);
    ok(med == 5 && half == 0, "equal values: the median, an interval of width 0 (got %g, %g)", med, half);
    double three[] = {110, 90, 100};
    rep_interval(three, 3, &med, &half);
    ok(med == 100 && fabs(half - 0.10) < 1e-9, "3 values: the interval is their range, half-width 10 %% of the median "
       "(got %g, %g)", med, half);
    double again;
    double shuffled[] = {100, 110, 90};
    rep_interval(shuffled, 3, &med, &again);
    ok(again == half, "the same values in another order give the same interval (a fixed seed)");
    double one[] = {7};
    rep_interval(one, 1, &med, &half);
    ok(med == 7 && isinf(half), "1 value: no interval, never narrow");
    /* 20 values of 100 +- 1 and 1000 outliers-free: the interval of the median is tight. */
    double many[20];
    for (int i = 0; i < 20; i++)
        many[i] = 100 + (i % 3) - 1;
    rep_interval(many, 20, &med, &half);
    ok(med == 100 && half <= 0.01, "20 values within 1 %%: half-width within 1 %% (got %.4f)", half);
}

/* Run rounds against scripted figures: every row of a round gets fig's figure. Returns rounds. */
static int rounds(const struct cfg *c, const struct plan *p, struct rep_state *st, struct res *r,
                  double (*fig)(int, int), double elapsed, int *rows_run, int *interleaved)
{
    int n, k = 0;
    *rows_run = p->n, *interleaved = 1;
    while ((n = rep_next(st, c, p, r, elapsed, 1)) > 0) {
        for (int i = 0; i < n; i++) {
            put(r, st->round[i].key, fig(st->round[i].srv, st->round[i].repeat));
            *interleaved &= i == 0 || st->round[i].srv != st->round[i - 1].srv;
        }
        *rows_run += n, k++;
        elapsed += n * plan_row_seconds(c, &st->round[0], 1); /* the clock moves as the rows run */
        if (k > 1000)
            break; /* a loop that never ends fails below */
    }
    return k;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: repeats-test CONFIG.yaml\n");
        return 2;
    }
    test_interval();

    struct cfg c;
    struct plan p = {0};
    char err[UT_ERRLEN];
    if (cfg_load(argv[1], "bin", &c, err, sizeof err) < 0 || plan_build(&c, NULL, &p, err, sizeof err) < 0) {
        printf("not ok - config: %s\n", err);
        return 1;
    }
    int npairs = p.n / (int)c.d.repeats_min, mn = (int)c.d.repeats_min, mx = (int)c.d.repeats_max;
    ok(c.d.repeats == 0 && p.n == npairs * mn, "the plan runs every pair repeats_min (%d) times first: %d rows", mn,
       p.n);

    struct res r = {0};
    struct rep_state st;
    int ran, inter;

    put_plan_rows(&r, &p, steady);
    rep_init(&st, &c, &p);
    int k = rounds(&c, &p, &st, &r, steady, 0, &ran, &inter);
    int narrow = 0;
    for (int i = 0; i < st.npairs; i++)
        narrow += st.pairs[i].stop == REP_NARROW && st.pairs[i].repeats == mn;
    ok(k == 0 && narrow == npairs, "steady figures: no round beyond the first %d repeats, every pair narrow", mn);
    rep_free(&st);
    clear(&r);

    put_plan_rows(&r, &p, noisy);
    rep_init(&st, &c, &p);
    k = rounds(&c, &p, &st, &r, noisy, 0, &ran, &inter);
    int at_max = 0;
    for (int i = 0; i < st.npairs; i++)
        at_max += st.pairs[i].stop == REP_MAX && st.pairs[i].repeats == mx;
    ok(k == mx - mn && at_max == npairs && ran == npairs * mx,
       "noisy figures: rounds up to repeats_max (%d rounds, %d rows, every pair stopped by max)", k, ran);
    ok(inter, "each round interleaves the servers (no server twice in a row)");
    struct ut_str j = {0};
    rep_json(&st, &c, &p, &j);
    ok(strstr(j.s, "\"stopped\": {\"max\": ") && strstr(j.s, "\"half_width_pct\": {\"throughput_rps\": 20.00}"),
       "meta.json's repeats say why they stopped and how wide the interval was");
    ut_str_free(&j);
    rep_free(&st);
    clear(&r);

    put_plan_rows(&r, &p, mixed);
    rep_init(&st, &c, &p);
    int first = -1, rotated = 0;
    for (int round = 0, n; (n = rep_next(&st, &c, &p, &r, 0, 1)) > 0; round++) {
        for (int i = 0; i < n; i++)
            put(&r, st.round[i].key, mixed(st.round[i].srv, st.round[i].repeat));
        if (round == 0)
            first = st.round[0].srv;
        else if (round == 1)
            rotated = n > 1 && st.round[0].srv != first;
    }
    ok(st.pairs[0].stop == REP_NARROW && st.pairs[0].repeats == mn && st.pairs[1].stop == REP_MAX &&
       st.pairs[1].repeats == mx, "a steady pair stops at %d, a noisy one runs on to %d", mn, mx);
    if (npairs > 2)
        ok(rotated, "the next round starts with another pair");
    rep_free(&st);
    clear(&r);

    /* A budget: no round that would end past it. Each row costs plan_row_seconds (overhead 1). */
    put_plan_rows(&r, &p, noisy);
    double row_s = plan_row_seconds(&c, &p.rows[0], 1);
    c.d.repeats_budget = 10 + row_s * (npairs + 0.5); /* room for exactly one more round after 10 s */
    rep_init(&st, &c, &p);
    k = rounds(&c, &p, &st, &r, noisy, 10, &ran, &inter);
    int budget = 0;
    for (int i = 0; i < st.npairs; i++)
        budget += st.pairs[i].stop == REP_BUDGET;
    ok(k == 1 && budget == npairs, "a budget with room for one round: one round, then every pair stopped by the "
       "budget (%d rounds)", k);
    c.d.repeats_budget = 0;
    rep_free(&st);
    clear(&r);

    put_plan_rows(&r, &p, failing);
    rep_init(&st, &c, &p);
    rounds(&c, &p, &st, &r, failing, 0, &ran, &inter);
    ok(st.pairs[0].stop == REP_NO_FIGURE && st.pairs[0].repeats == mn,
       "a pair whose runs all failed stops at once: nothing to narrow (%s)", rep_stop_names[st.pairs[0].stop]);
    rep_free(&st);
    clear(&r);

    /* Interrupted in a round: the count is what runs.csv holds. */
    put_plan_rows(&r, &p, noisy);
    rep_init(&st, &c, &p);
    int n = rep_next(&st, &c, &p, &r, 0, 1);
    put(&r, st.round[0].key, 1); /* only the round's first row ran */
    rep_interrupted(&st, &c, &p, &r);
    int counted = 0;
    for (int i = 0; i < st.npairs; i++)
        counted += st.pairs[i].repeats;
    ok(n == npairs && counted == npairs * mn + 1 && st.pairs[0].stop == REP_INTERRUPTED,
       "interrupted mid-round: repeats counted as run (%d), stopped as interrupted", counted);
    rep_free(&st);
    clear(&r);

    plan_free(&p);
    cfg_free(&c);
    return done_testing();
}
