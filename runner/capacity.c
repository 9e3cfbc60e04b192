/* capacity.c - capacity searches run for real (capacity.h): the probe callback behind
 * capsearch.c, the verdict of a probe row against an objective, and capacity.csv. */
#include "capacity.h"
#include "capsearch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Below the bound: halvings before the capacity is called 0 (the lowest rate tried is the bound
 * / 64); above it: steps of a quarter while everything passes (up to 1.5625 times the bound). */
#define CAP_MAX_DOWN 6
#define CAP_MAX_UP 2

#define CAP_NAME(n) #n,
static const char *const cap_col_names[CAP_N] = {CAP_COLUMNS(CAP_NAME)};
#undef CAP_NAME
/* A row is its cells and nothing else: the table is one array of cells for res_csv_write. */
_Static_assert(sizeof(struct cap_row) == CAP_N * sizeof(char *), "struct cap_row holds only its cells");

/* A window this search has measured: its rate, whether it was a confirmation (a second window at
 * a rate that passed), and its row in runs.csv (e->res->rows). */
struct meas {
    long rate;
    int again, row;
};

struct search {
    struct run_env *e;
    const struct plan_row *pr;
    const struct cfg_objective *o; /* the objective being searched */
    cap_row_fn run;
    void *arg;
    struct meas *m;                /* shared by the point's objectives */
    int nm, *reused;
};

static const char *cell(const struct res_row *r, enum res_col c)
{
    return r->cell[c] ? r->cell[c] : "";
}

static double num(const struct res_row *r, enum res_col c, double dflt)
{
    char *end;
    double v = r->cell[c] ? strtod(r->cell[c], &end) : 0;
    return r->cell[c] && end != r->cell[c] ? v : dflt;
}

/* The verdict of the probe row at rate (0: the closed-loop one) against o into *v; why says
 * what failed (empty when it passed), *model whether its errors are the model's own: errors
 * while the server refused by design, or while neither its CPU nor the load generator was
 * saturated (a client waiting in a queue until it times out, as in the iterative server). */
static void verdict(const struct cfg_objective *o, const struct res_row *row, long rate, struct cs_obs *v,
                    int *model, struct ut_str *why)
{
    const char *status = cell(row, RC_status), *bottleneck = cell(row, RC_bottleneck);
    memset(v, 0, sizeof *v);
    *model = 0;
    v->loadgen = !strcmp(bottleneck, "loadgen");
    if (!strcmp(status, "failed")) {
        v->failed = 1;
        ut_str_addf(why, "the run failed: %s", cell(row, RC_status_reason));
        return;
    }
    if (rate == 0) {
        v->rps = num(row, RC_throughput_rps, 0);
        if (v->rps < 1)
            ut_str_addf(why, "the closed loop got no throughput%s%s%s", row->cell[RC_status_reason] ? " (" : "",
                        cell(row, RC_status_reason), row->cell[RC_status_reason] ? ")" : "");
        return;
    }
    double achieved = num(row, RC_achieved_rps, 0), p99 = num(row, RC_latency_p99_us, -1);
    double errors = num(row, RC_errors_total, 0);
    if (achieved < o->achieved * (double)rate)
        ut_str_addf(why, "achieved %.0f/s, %.1f%% of %ld/s", achieved, 100 * achieved / (double)rate, rate);
    if (p99 < 0 || p99 > o->p99 * 1e6)
        ut_str_addf(why, "%sp99 %.0f us > %.0f us", why->len ? "; " : "", p99, o->p99 * 1e6);
    if (errors > (double)o->errors) {
        *model = !strcmp(status, "refused") || !strcmp(bottleneck, "none");
        ut_str_addf(why, "%s%.0f errors > %ld (%s)%s", why->len ? "; " : "", errors, o->errors,
                    cell(row, RC_status_reason),
                    *model ? ", the model's own: neither the server's CPU nor the load generator was saturated" : "");
    }
    v->pass = why->len == 0;
}

static int measured(const struct search *s, long rate, int again)
{
    for (int i = 0; i < s->nm; i++)
        if (s->m[i].rate == rate && s->m[i].again == again)
            return s->m[i].row;
    return -1;
}

/* capsearch's callback: the row at rate, measured once per search (kept rows of runs.csv
 * count: --resume replays a search from them). */
static int probe(void *arg, long rate, int again, struct cs_obs *v)
{
    struct search *s = arg;
    struct res *res = s->e->res;
    int idx = measured(s, rate, again), model;
    if (idx < 0) {
        struct plan_row q = *s->pr;
        q.ax[CFG_RATE] = rate;
        q.probe = s->o->name;
        q.seq = s->nm + 1;
        plan_key(s->e->c->srv[q.srv].name, q.ax, q.repeat, q.key, sizeof q.key);
        if (again) /* a row key of its own, so that --resume finds it too */
            snprintf(q.key + strlen(q.key), sizeof q.key - strlen(q.key), "_again");
        if ((idx = res_find(res, q.key)) >= 0)
            ++*s->reused;
        else if (s->run(s->arg, &q) < 0 || (idx = res_find(res, q.key)) < 0)
            return -1;
        s->m = ut_realloc(s->m, (size_t)(s->nm + 1) * sizeof *s->m);
        s->m[s->nm++] = (struct meas){rate, again, idx};
    }
    struct ut_str why = {0};
    verdict(s->o, &res->rows[idx], rate, v, &model, &why);
    ut_str_free(&why);
    return 0;
}

/* One capacity.csv row: the point's cells copied from the closed-loop probe's runs.csv row. */
static void build(const struct search *s, const struct cs_result *r, struct cap_row *out)
{
    const struct cfg_objective *o = s->o;
    const struct res_row *bound = &s->e->res->rows[measured(s, 0, 0)];
    memset(out, 0, sizeof *out);
    for (int c = 0; c < CAP_N; c++)
        for (int k = 0; k < RC_N; k++)
            if (!strcmp(cap_col_names[c], res_col_names[k]) && bound->cell[k])
                res_cellf(&out->cell[c], "%s", bound->cell[k]);
    res_cellf(&out->cell[CAP_objective], "%s", o->name);
    res_cellf(&out->cell[CAP_p99_max_us], "%.0f", o->p99 * 1e6);
    res_cellf(&out->cell[CAP_errors_max], "%ld", o->errors);
    res_cellf(&out->cell[CAP_achieved_min_pct], "%g", o->achieved * 100);
    res_cellf(&out->cell[CAP_resolution_pct], "%g", o->resolution * 100);
    res_cellf(&out->cell[CAP_probes], "%d", r->probes);
    res_cellf(&out->cell[CAP_probe_bound], "%ld", 1 + o->probes);
    res_cellf(&out->cell[CAP_ended_by], "%s", cs_end_names[r->end]);
    struct cs_obs v;
    struct ut_str why = {0};
    int model = 0;
    if (r->end == CS_NO_BOUND) {
        verdict(o, bound, 0, &v, &model, &why);
        res_cellf(&out->cell[CAP_fail_reason], "closed-loop probe: %s", why.s ? why.s : "");
        ut_str_free(&why);
        return;
    }
    res_cellf(&out->cell[CAP_capacity_rps], "%ld", r->capacity);
    res_cellf(&out->cell[CAP_pass_rps], "%ld", r->pass);
    res_cellf(&out->cell[CAP_closed_loop_rps], "%ld", r->bound);
    res_cellf(&out->cell[CAP_loadgen_limited], "%d", r->loadgen_limited);
    /* The window that failed there: the first, or the confirmation of a first that passed. */
    for (int again = 1; r->fail && again >= 0 && !why.len; again--) {
        int row = measured(s, r->fail, again);
        if (row >= 0)
            verdict(o, &s->e->res->rows[row], r->fail, &v, &model, &why);
    }
    if (r->fail) {
        res_cellf(&out->cell[CAP_fail_rps], "%ld", r->fail);
        res_cellf(&out->cell[CAP_fail_reason], "%s", why.s ? why.s : "");
    }
    res_cellf(&out->cell[CAP_errors_from_model], "%d", model);
    ut_str_free(&why);
}

int cap_search(struct run_env *e, const struct plan_row *pr, cap_row_fn run, void *arg, struct cap_table *t,
               int *reused)
{
    const struct cfg *c = e->c;
    struct search s = {.e = e, .pr = pr, .run = run, .arg = arg, .reused = reused};
    struct cap_row *rows = ut_calloc((size_t)c->nobj, sizeof *rows);
    int rc = 0, n = 0;
    for (; n < c->nobj && rc == 0; n++) {
        s.o = &c->obj[n];
        struct cs_params p = {.resolution = s.o->resolution, .max_probes = (int)s.o->probes,
                              .max_down = CAP_MAX_DOWN, .max_up = CAP_MAX_UP};
        /* What the objectives before measured here narrows this one's first bracket. */
        struct cs_known *known = ut_calloc((size_t)s.nm + 1, sizeof *known);
        int nk = 0, model;
        for (int i = 0; i < s.nm; i++) {
            struct cs_obs v;
            struct ut_str why = {0};
            if (!s.m[i].rate)
                continue;
            verdict(s.o, &e->res->rows[s.m[i].row], s.m[i].rate, &v, &model, &why);
            known[nk++] = (struct cs_known){s.m[i].rate, v.pass && !v.failed, v.loadgen}; /* both windows */
            ut_str_free(&why);
        }
        struct cs_result r;
        rc = cs_search(&p, known, nk, probe, &s, &r);
        free(known);
        if (rc == 0) {
            build(&s, &r, &rows[n]);
            ut_log(UT_INFO, "capacity %s %s: %ld/s, bracket [%ld, %s], %d probes, ended by %s%s", c->srv[pr->srv].name,
                   s.o->name, r.capacity, r.pass, rows[n].cell[CAP_fail_rps] ? rows[n].cell[CAP_fail_rps] : "-",
                   r.probes, cs_end_names[r.end], r.loadgen_limited ? " (the load generator limited it)" : "");
        }
    }
    if (rc == 0) {
        t->rows = ut_realloc(t->rows, (size_t)(t->n + c->nobj) * sizeof *t->rows);
        memcpy(t->rows + t->n, rows, (size_t)c->nobj * sizeof *rows);
        t->n += c->nobj;
        char err[UT_ERRLEN];
        if (cap_write(e->res, t, err, sizeof err) < 0)
            ut_log(UT_ERROR, "%s", err); /* tried again after the next search */
    } else {
        for (int i = 0; i < n; i++)
            for (int k = 0; k < CAP_N; k++)
                free(rows[i].cell[k]);
    }
    free(rows);
    free(s.m);
    return rc;
}

int cap_write(const struct res *r, const struct cap_table *t, char *err, size_t errlen)
{
    char path[1200];
    return res_csv_write(res_path(r, "capacity.csv", path, sizeof path), cap_col_names, CAP_N,
                         (char *const *)t->rows, t->n, err, errlen);
}

void cap_table_free(struct cap_table *t)
{
    for (int i = 0; i < t->n; i++)
        for (int k = 0; k < CAP_N; k++)
            free(t->rows[i].cell[k]);
    free(t->rows);
    t->rows = NULL;
    t->n = 0;
}
