/* plan.c - matrix expansion, exclusions, repeat interleaving and the ETA. */
#include "plan.h"
#include "loader.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

/* A point of one block, by mixed-radix counting over its axes. */
static void block_point(const struct cfg *c, const struct cfg_block *b, long idx, long out[CFG_NAXES])
{
    for (int a = CFG_NAXES - 1; a >= 0; a--) {
        const struct cfg_values *v = &b->ax[a];
        if (!v->n) {
            out[a] = c->axis_default[a];
            continue;
        }
        out[a] = v->v[idx % v->n];
        idx /= v->n;
    }
}

static long block_size(const struct cfg_block *b)
{
    long n = 1;
    for (int a = 0; a < CFG_NAXES; a++)
        if (b->ax[a].n)
            n *= b->ax[a].n;
    return n;
}

static int match_one(const struct cfg_match *m, long v)
{
    if (!m->set)
        return 1;
    for (int i = 0; i < m->nvals; i++)
        if (m->vals[i] == v)
            return 1;
    if (m->nvals)
        return 0;
    return (!m->has_min || v >= m->min) && (!m->has_max || v <= m->max);
}

static int excluded(const struct cfg_server *s, const long ax[CFG_NAXES])
{
    for (int e = 0; e < s->nexcl; e++) {
        int all = 1;
        for (int a = 0; a < CFG_NAXES && all; a++)
            all = match_one(&s->excl[e].ax[a], ax[a]);
        if (all)
            return 1;
    }
    return 0;
}

static int selected(const struct cfg_server *s, const char *only)
{
    if (!only)
        return 1;
    size_t nl = strlen(s->name), ml = strlen(s->model);
    for (const char *p = only; *p;) {
        size_t l = strcspn(p, ",");
        if ((l == nl && !strncmp(p, s->name, l)) || (l == ml && !strncmp(p, s->model, l)))
            return 1;
        p += l + (p[l] == ',');
    }
    return 0;
}

void plan_key(const char *server, const long ax[CFG_NAXES], int repeat, char *buf, size_t len)
{
    char mode[32];
    if (ax[CFG_CONN_MODE] == CFG_KEEPALIVE)
        snprintf(mode, sizeof mode, "ka");
    else if (ax[CFG_CONN_MODE] == CFG_CLOSE)
        snprintf(mode, sizeof mode, "close");
    else
        snprintf(mode, sizeof mode, "reqs%ld", ax[CFG_CONN_MODE]);
    /* The loader only appears when it is not ours: keys of runs before the axis existed stay valid. */
    char ld[32] = "";
    if (ax[CFG_LOADER] != CFG_LOADGEN)
        snprintf(ld, sizeof ld, "_%s", cfg_loader_names[ax[CFG_LOADER]]);
    snprintf(buf, len, "%s_c%ld_i%ld_s%ld_r%ld_p%ld_%s_w%ld%s_rep%d", server, ax[CFG_CONNECTIONS], ax[CFG_IDLE],
             ax[CFG_SIZE], ax[CFG_RATE], ax[CFG_PIPELINE], mode, ax[CFG_WORK_US], ld, repeat);
}

/* A (server, point) pair the plan cannot run: the loader cannot measure the point, or an
 * external server cannot serve it. Fills err (naming the point) and returns 1. */
static int point_unsupported(const struct cfg *c, const struct cfg_server *s, const long ax[CFG_NAXES], char *err,
                             size_t errlen)
{
    char why[256], key[200];
    const char *w = loaders[ax[CFG_LOADER]]->unsupported(c, ax, why, sizeof why);
    if (!w && c->nobj && ax[CFG_LOADER] != CFG_LOADGEN)
        w = "a capacity search probes open-loop rates, which only loadgen measures";
    if (!w && cfg_srv_external(s) && s->http_only && c->d.proto != CFG_HTTP)
        w = "it speaks HTTP only (proto: http)";
    if (!w && cfg_srv_external(s) && ax[CFG_WORK_US])
        snprintf(why, sizeof why, "it is external and cannot burn work_us %ld", ax[CFG_WORK_US]), w = why;
    if (!w)
        return 0;
    plan_key(s->name, ax, 1, key, sizeof key);
    snprintf(err, errlen, "%s: server '%s' at point %.*s: %s (take the point away with exclude: or a matrix list "
             "of blocks)", c->path, s->name, (int)(strlen(key) - 5), key, w);
    return 1;
}

int plan_build(const struct cfg *c, const char *only, struct plan *p, char *err, size_t errlen)
{
    memset(p, 0, sizeof *p);
    if (only) {
        /* Every name given must select something: a typo would silently run nothing. */
        for (const char *q = only; *q;) {
            size_t l = strcspn(q, ",");
            int hit = 0;
            for (int s = 0; s < c->nsrv && !hit; s++)
                hit = (strlen(c->srv[s].name) == l && !strncmp(q, c->srv[s].name, l)) ||
                      (strlen(c->srv[s].model) == l && !strncmp(q, c->srv[s].model, l));
            if (!hit && l) {
                snprintf(err, errlen, "--only: no server named '%.*s' in %s", (int)l, q, c->path);
                return -1;
            }
            q += l + (q[l] == ',');
        }
    }
    /* Distinct points over all blocks, in block order. */
    long (*pts)[CFG_NAXES] = NULL;
    int np = 0;
    for (int b = 0; b < c->nblk; b++) {
        long n = block_size(&c->blk[b]);
        for (long i = 0; i < n; i++) {
            long pt[CFG_NAXES];
            block_point(c, &c->blk[b], i, pt);
            int dup = 0;
            for (int j = 0; j < np && !dup; j++)
                dup = !memcmp(pts[j], pt, sizeof pt);
            if (dup)
                continue;
            pts = ut_realloc(pts, (size_t)(np + 1) * sizeof *pts);
            memcpy(pts[np++], pt, sizeof pt);
        }
    }
    p->npoints = np;
    int cap = (int)(np * c->nsrv * cfg_repeats_planned(c));
    p->rows = ut_calloc((size_t)cap, sizeof *p->rows);
    /* Repeats outermost, and each repeat starts the server list one further along: a drift of
     * the machine over time then lands on every server in turn instead of always the last one.
     * Points that differ only in the loader (neighbours: it is the last axis) rotate as one list
     * of (loader, server) pairs, so no loader always runs first either. */
    for (int r = 0; r < cfg_repeats_planned(c); r++)
        for (int i = 0, j; i < np; i = j) {
            for (j = i + 1; j < np && !memcmp(pts[i], pts[j], CFG_LOADER * sizeof pts[i][0]); j++)
                ;
            int pairs = (j - i) * c->nsrv;
            for (int k = 0; k < pairs; k++) {
                int pi = i + (k + r) % pairs / c->nsrv, s = (k + r) % pairs % c->nsrv;
                const struct cfg_server *sv = &c->srv[s];
                long ax[CFG_NAXES];
                memcpy(ax, pts[pi], sizeof ax);
                if (sv->work_us >= 0)
                    ax[CFG_WORK_US] = sv->work_us;
                if (excluded(sv, ax)) {
                    p->nexcluded += r == 0;
                    continue;
                }
                if (r == 0 && point_unsupported(c, sv, ax, err, errlen)) {
                    free(pts);
                    plan_free(p);
                    return -1;
                }
                if (!selected(sv, only))
                    continue;
                struct plan_row *row = &p->rows[p->n++];
                row->srv = s;
                memcpy(row->ax, ax, sizeof ax);
                row->repeat = r + 1;
                row->order = p->n;
                plan_key(sv->name, ax, r + 1, row->key, sizeof row->key);
            }
        }
    free(pts);
    return 0;
}

void plan_free(struct plan *p)
{
    free(p->rows);
    memset(p, 0, sizeof *p);
}

double plan_row_seconds(const struct cfg *c, const struct plan_row *r, double overhead)
{
    /* Built-in guess: server start and stop, plus connection setup that grows with the count. */
    if (overhead < 0)
        overhead = 0.5 + (r->ax[CFG_CONNECTIONS] + r->ax[CFG_IDLE]) / 5000.0;
    return c->d.cooldown + c->d.warmup + c->d.duration + overhead;
}

int plan_row_bound(const struct cfg *c)
{
    int n = c->nobj ? 1 : 0;
    for (int i = 0; i < c->nobj; i++)
        n += (int)c->obj[i].probes;
    return c->nobj ? n : 1;
}

double plan_seconds(const struct cfg *c, const struct plan *p, int from, double overhead)
{
    double t = 0;
    for (int i = from; i < p->n; i++)
        if (!p->rows[i].done)
            t += plan_row_seconds(c, &p->rows[i], overhead);
    return t * plan_row_bound(c);
}

/* A capacity search's plan: what each row stands for. */
static void print_capacity(FILE *f, const struct cfg *c)
{
    fprintf(f, "capacity search: each row below is a search per server and point, not one run: a closed-loop\n"
               "probe for the bound, then open-loop probes (%g s warmup + %g s measured each) bracketing and\n"
               "bisecting the highest rate that meets each objective:\n", c->d.warmup, c->d.duration);
    for (int i = 0; i < c->nobj; i++) {
        const struct cfg_objective *o = &c->obj[i];
        fprintf(f, "  %-12s p99 <= %g ms, errors <= %ld, achieved >= %g%% of the rate, resolution %g%%, "
                   "at most %ld probes\n", o->name, o->p99 * 1000, o->errors, o->achieved * 100,
                o->resolution * 100, o->probes);
    }
    fprintf(f, "at most %d probes per server and point (1 closed-loop + the objectives')\n", plan_row_bound(c));
}

void plan_print(FILE *f, const struct cfg *c, const struct plan *p)
{
    char mode[32], dur[32];
    int todo = 0;
    fprintf(f, "plan for %s (%s)\n", c->name, c->path);
    if (c->nobj)
        print_capacity(f, c);
    fprintf(f, "%5s  %-18s %7s %7s %7s %8s %4s %-10s %7s %-7s %3s  %s\n", "order", "server", "conns", "idle",
            "size", "rate", "pipe", "conn_mode", "work_us", "loader", "rep", "loadgen");
    for (int i = 0; i < p->n; i++) {
        const struct plan_row *r = &p->rows[i];
        todo += !r->done;
        char split[64];
        if (r->ax[CFG_LOADER] == CFG_LOADGEN)
            snprintf(split, sizeof split, "procs=%d threads=%d ips=%d", r->lg_procs, r->lg_threads, r->source_ips);
        else
            snprintf(split, sizeof split, "threads=%d", r->lg_threads);
        char rate[24];
        snprintf(rate, sizeof rate, c->nobj ? "search" : "%ld", r->ax[CFG_RATE]);
        fprintf(f, "%5d  %-18s %7ld %7ld %7ld %8s %4ld %-10s %7ld %-7s %3d  %s%s\n", r->order, c->srv[r->srv].name,
                r->ax[CFG_CONNECTIONS], r->ax[CFG_IDLE], r->ax[CFG_SIZE], rate, r->ax[CFG_PIPELINE],
                cfg_conn_mode_str(r->ax[CFG_CONN_MODE], mode, sizeof mode), r->ax[CFG_WORK_US],
                cfg_loader_names[r->ax[CFG_LOADER]], r->repeat, split, r->done ? "  (done, skipped)" : "");
    }
    char reps[32];
    snprintf(reps, sizeof reps, c->d.repeats ? "%ld" : "%ld (auto: the first)", cfg_repeats_planned(c));
    fprintf(f, "%d %s to do (%d points x %d servers x %s repeats; %d server/point pairs excluded%s%s)\n", todo,
            c->nobj ? "searches" : "runs", p->npoints, c->nsrv, reps, p->nexcluded,
            todo < p->n ? "; already done: " : "", todo < p->n ? "some" : "");
    if (!c->d.repeats) {
        char buf[40];
        fprintf(f, "repeats: auto: each server and point at least %ld, at most %ld times, until the 95%% interval "
                   "of its median is within %g%% of it on ", c->d.repeats_min, c->d.repeats_max,
                c->d.repeats_target * 100);
        for (int i = 0; i < c->d.nrepeats_on; i++)
            fprintf(f, "%s%s", i ? (i == c->d.nrepeats_on - 1 ? " and " : ", ") : "", c->d.repeats_on[i]);
        if (c->d.repeats_budget > 0)
            fprintf(f, "; no round starts that would end past %s", ut_fmt_dur(c->d.repeats_budget, buf, sizeof buf));
        fprintf(f, "\n");
    }
    if (c->nobj)
        fprintf(f, "estimated duration: at most %s (%d runs at most, %.0f s of load per run)\n",
                ut_fmt_dur(plan_seconds(c, p, 0, -1), dur, sizeof dur), todo * plan_row_bound(c),
                c->d.warmup + c->d.duration);
    else if (c->d.repeats)
        fprintf(f, "estimated duration: %s (%.0f s of load per run)\n",
                ut_fmt_dur(plan_seconds(c, p, 0, -1), dur, sizeof dur), c->d.warmup + c->d.duration);
    else {
        double first = plan_seconds(c, p, 0, -1), most = first * (double)c->d.repeats_max / (double)c->d.repeats_min;
        if (c->d.repeats_budget > 0 && most > c->d.repeats_budget)
            most = first > c->d.repeats_budget ? first : c->d.repeats_budget;
        char dmax[32];
        fprintf(f, "estimated duration: %s to %s (%.0f s of load per run)\n", ut_fmt_dur(first, dur, sizeof dur),
                ut_fmt_dur(most, dmax, sizeof dmax), c->d.warmup + c->d.duration);
    }
}
