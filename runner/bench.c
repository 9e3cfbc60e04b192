/* bench.c - bin/bench: read a YAML experiment, check it and the machine, run the plan row by
 * row, write results/<name>-<stamp>/. Exit 0 done, 1 cannot run, 2 bad config or usage,
 * 128+signal when interrupted (complete rows kept, nothing left running). */
#include "acct.h"
#include "capacity.h"
#include "cfg.h"
#include "child.h"
#include "extsrv.h"
#include "hostcheck.h"
#include "loader.h"
#include "plan.h"
#include "preflight.h"
#include "progress.h"
#include "repeats.h"
#include "results.h"
#include "run.h"
#include "runmeta.h"
#include "spawn.h"
#include "util.h"

#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <sys/resource.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct opts {
    const char *config, *only, *resume, *out, *bindir;
    int dry_run, check, no_cgroup, quiet, schema;
    const char *set[32]; /* --set KEY=VALUE, in order */
    int nset;
};

static void usage(FILE *f)
{
    fputs("usage: bench --config FILE [options]\n"
          "  --config FILE   experiment (YAML, schema in configs/README.md)\n"
          "  --dry-run       print the plan and its estimated duration, run nothing\n"
          "  --check         validate the config and exit\n"
          "  --schema        print every config key (markdown, the Keys section of configs/README.md)\n"
          "  --only S1,S2    run only these servers (names or models)\n"
          "  --set KEY=VAL   a key of defaults over the config's (repeatable), e.g. --set repeats_budget=10m\n"
          "  --resume DIR    continue an interrupted run in DIR: complete rows are kept, failed ones rerun\n"
          "                  (the config defaults to DIR/config.yaml)\n"
          "  --out DIR       parent of the results folder (default: results)\n"
          "  --bin DIR       where server-<model> and loadgen are (default: bench's own directory)\n"
          "  --no-cgroup     account by walking /proc even where cgroups can be created\n"
          "  --quiet         progress only; details go to the run's log\n"
          "exit status: 0 done, 1 cannot run, 2 bad config or usage, 128+N interrupted by signal N\n",
          f);
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
    static const struct option lo[] = {
        {"config", required_argument, 0, 'c'}, {"dry-run", no_argument, 0, 'n'},
        {"check", no_argument, 0, 'k'},       {"only", required_argument, 0, 'o'},
        {"resume", required_argument, 0, 'r'}, {"out", required_argument, 0, 'd'},
        {"bin", required_argument, 0, 'b'},   {"no-cgroup", no_argument, 0, 'g'},
        {"quiet", no_argument, 0, 'q'},       {"help", no_argument, 0, 'h'},
        {"schema", no_argument, 0, 's'},      {"set", required_argument, 0, 'S'},
        {0, 0, 0, 0},
    };
    memset(o, 0, sizeof *o);
    o->out = "results";
    for (int ch; (ch = getopt_long(argc, argv, "c:nko:r:d:b:gqh", lo, NULL)) != -1;) {
        switch (ch) {
        case 'c': o->config = optarg; break;
        case 'n': o->dry_run = 1; break;
        case 'k': o->check = 1; break;
        case 'o': o->only = optarg; break;
        case 'r': o->resume = optarg; break;
        case 'd': o->out = optarg; break;
        case 'b': o->bindir = optarg; break;
        case 'g': o->no_cgroup = 1; break;
        case 'q': o->quiet = 1; break;
        case 's': o->schema = 1; break;
        case 'S':
            if (o->nset == (int)(sizeof o->set / sizeof o->set[0])) {
                fputs("bench: too many --set\n", stderr);
                return -1;
            }
            o->set[o->nset++] = optarg;
            break;
        case 'h': usage(stdout); exit(0);
        default: usage(stderr); return -1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "bench: unexpected argument '%s'\n", argv[optind]);
        return -1;
    }
    if (!o->config && !o->resume && !o->schema) {
        fputs("bench: --config FILE is required\n", stderr);
        usage(stderr);
        return -1;
    }
    return 0;
}

/* Default --bin: the directory bench itself lives in (bin/ or bin/san-.../). */
static void own_dir(char *buf, size_t len)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) {
        snprintf(buf, len, "bin");
        return;
    }
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    snprintf(buf, len, "%.*s", slash ? (int)(slash - exe) : 1, slash ? exe : ".");
}

static void summary(const struct res *r, struct meta *m, int skipped, int capacity)
{
    int ok = 0, errors = 0, refused = 0, failed = 0;
    for (int i = 0; i < r->nrows; i++) {
        const char *s = r->rows[i].cell[RC_status] ? r->rows[i].cell[RC_status] : "";
        ok += !strcmp(s, "ok"), errors += !strcmp(s, "errors"), refused += !strcmp(s, "refused");
        failed += !strcmp(s, "failed");
    }
    m->failed = failed;
    char d[32];
    fprintf(stderr, "bench: %d rows (ok %d, errors %d, refused %d, failed %d%s) in %s%s\n", r->nrows, ok, errors,
            refused, failed, skipped ? ", some kept from before" : "", ut_fmt_dur(m->wall_s, d, sizeof d),
            m->interrupted ? " (interrupted)" : "");
    fprintf(stderr, "bench: results in %s/ (runs.csv, %stimeseries.csv, hist/, meta.json, config.yaml, log)\n", r->dir,
            capacity ? "capacity.csv, " : "");
}

/* The rows being run, for the progress line and the ETA. */
struct steps {
    struct run_env *e;
    const struct cfg *c;
    struct plan *p;
    struct meta *m;
    int i;             /* the plan row under way */
    int idx, todo;     /* rows run so far, rows planned (at most, for capacity searches) */
    int in_row;        /* rows run for plan row i (the probes of a search) */
    double overhead, sum_over;
    int measured;
};

/* Run pr (a row of the plan or a probe of its search) and add it to runs.csv. Returns 0, or -1
 * when interrupted. */
static int step(void *arg, const struct plan_row *pr)
{
    struct steps *s = arg;
    const struct cfg *c = s->c;
    char label[240], mode[32], probe[64] = "";
    if (s->idx && run_pause(s->e, c->d.cooldown) < 0)
        return -1;
    if (pr->probe)
        snprintf(probe, sizeof probe, " probe %s", pr->probe);
    char reps[32];
    snprintf(reps, sizeof reps, c->d.repeats ? "%ld" : "%ld-%ld", c->d.repeats ? c->d.repeats : c->d.repeats_min,
             c->d.repeats_max);
    snprintf(label, sizeof label, "%s c=%ld i=%ld s=%ld r=%ld p=%ld %s w=%ld rep %d/%s%s", c->srv[pr->srv].name,
             pr->ax[CFG_CONNECTIONS], pr->ax[CFG_IDLE], pr->ax[CFG_SIZE], pr->ax[CFG_RATE], pr->ax[CFG_PIPELINE],
             cfg_conn_mode_str(pr->ax[CFG_CONN_MODE], mode, sizeof mode), pr->ax[CFG_WORK_US], pr->repeat,
             reps, probe);
    double row_s = plan_row_seconds(c, pr, s->overhead);
    int left_here = plan_row_bound(c) - s->in_row++;
    prog_row(s->idx++, label, row_s, plan_seconds(c, s->p, s->i + 1, s->overhead) + row_s * left_here);
    ut_log(UT_DEBUG, "run %d/%d: %s", s->idx, s->todo, pr->key);
    double t0 = ut_now();
    struct res_row row = {0};
    struct ut_str ts = {0};
    if (run_row(s->e, pr, &row, &ts) < 0) {
        res_row_free(&row);
        ut_str_free(&ts);
        return -1;
    }
    char err[UT_ERRLEN], path[1200];
    if (res_add(s->e->res, &row, ts.s, err, sizeof err) < 0)
        ut_log(UT_ERROR, "%s", err); /* the row stays in memory and is tried with the next */
    if (s->e->nagent_cells &&
        res_csv_write(res_path(s->e->res, "agents.csv", path, sizeof path), agent_col_names, AG_N,
                      s->e->agent_cells, s->e->nagent_cells / AG_N, err, sizeof err) < 0)
        ut_log(UT_ERROR, "%s", err);
    ut_str_free(&ts);
    s->m->done++;
    /* What a run costs beyond its load, measured: the ETA learns it. */
    s->sum_over += ut_now() - t0 - c->d.warmup - c->d.duration;
    s->overhead = s->sum_over / ++s->measured;
    return 0;
}

/* repeats: auto: rounds of the pairs not yet narrow, after the plan's first repeats. What was
 * decided goes into meta.json. */
static void more_repeats(struct steps *s, double t0)
{
    struct rep_state st;
    rep_init(&st, s->c, s->p);
    for (int n; !s->e->interrupted && (n = rep_next(&st, s->c, s->p, s->e->res, ut_now() - t0, s->overhead)) > 0;) {
        ut_log(UT_INFO, "repeats: auto: round %d, %d of %d servers and points not yet narrow", st.rounds, n,
               st.npairs);
        prog_more(n);
        s->i = s->p->n, s->in_row = 0; /* the ETA: this round's rows are beyond the plan's */
        for (int k = 0; k < n && !s->e->interrupted; k++) {
            if (res_has(s->e->res, st.round[k].key)) { /* --resume: kept from before */
                s->m->skipped++;
                continue;
            }
            if (step(s, &st.round[k]) < 0)
                break;
        }
    }
    if (s->e->interrupted)
        rep_interrupted(&st, s->c, s->p, s->e->res);
    for (int i = 0; i < st.npairs; i++)
        s->m->planned += st.pairs[i].repeats - (int)s->c->d.repeats_min;
    ut_str_free(&s->m->repeats);
    rep_json(&st, s->c, s->p, &s->m->repeats);
    rep_free(&st);
}

static int run_plan(struct run_env *e, const struct cfg *c, struct plan *p, struct meta *m, int tty)
{
    struct steps s = {.e = e, .c = c, .p = p, .m = m, .overhead = -1};
    struct cap_table cap = {0};
    char err[UT_ERRLEN];
    for (int i = 0; i < p->n; i++)
        s.todo += !p->rows[i].done;
    s.todo *= plan_row_bound(c);
    if (c->nobj && cap_write(e->res, &cap, err, sizeof err) < 0)
        ut_log(UT_ERROR, "%s", err);
    prog_init(s.todo, tty);
    for (int i = 0; i < p->n && !e->interrupted; i++) {
        if (p->rows[i].done)
            continue;
        s.i = i, s.in_row = 0;
        if (c->nobj ? cap_search(e, &p->rows[i], step, &s, &cap, &m->skipped) < 0 : step(&s, &p->rows[i]) < 0)
            break;
    }
    if (!c->d.repeats)
        more_repeats(&s, m->t0);
    prog_end();
    cap_table_free(&cap);
    return e->interrupted ? -1 : 0;
}

/* Everything after the config is known good: results folder, signals, the rows, the summary.
 * Returns bench's exit status. */
static int run_all(const struct opts *o, int argc, char **argv, const char *bindir, const char *cfgpath,
                   const struct cfg *c, struct plan *p, const struct pf_sys *sys)
{
    char err[UT_ERRLEN], path[PATH_MAX + 64];
    struct meta m;
    meta_init(&m, argc, argv, bindir); /* asks git through a shell: before any child of ours runs */
    /* Every host checked before anything starts: one that fails stops the run here. */
    static struct hosts_run hr;
    if (hosts_preflight(c, p, bindir, &hr, err, sizeof err) < 0) {
        fprintf(stderr, "bench: %s\n", err);
        hosts_close(&hr);
        return 2;
    }
    if (hr.remote)
        hosts_json(&hr, &m.hosts);
    int used[CFG_NLOADERS] = {0};
    for (int i = 0; i < p->n; i++)
        used[p->rows[i].ax[CFG_LOADER]] = 1;
    for (int l = 0; l < CFG_NLOADERS; l++) {
        if (!used[l] || loader_path(loaders[l], bindir, path, sizeof path) == 0)
            continue;
        if (l == CFG_LOADGEN) {
            fprintf(stderr, "bench: %s is not built (make all)\n", path);
            hosts_close(&hr);
            return 1;
        }
        fprintf(stderr, "bench: warning: %s is not installed (make deps): its rows will say failed\n", path);
    }
    for (int s = 0; s < c->nsrv; s++) {
        const struct cfg_server *sv = &c->srv[s];
        if (cfg_srv_external(sv) ? ext_which(sv->command[0], path, sizeof path) < 0
                                 : (snprintf(path, sizeof path, "%s/server-%s", bindir, sv->model),
                                    access(path, X_OK) < 0))
            fprintf(stderr, "bench: warning: %s is not %s: its rows will say failed\n", path,
                    cfg_srv_external(sv) ? "installed" : "built");
    }

    struct run_env e = {.c = c, .sys = sys, .bindir = bindir, .use_cgroup = !o->no_cgroup, .hosts = &hr};
    ut_parse_cpus(c->d.server_cpus, &e.server_cpus);
    ut_parse_cpus(c->d.loadgen_cpus, &e.loadgen_cpus);
    /* The runner's own work (sampling a 10k-process tree is not free) stays off the CPUs being
     * measured: by default it shares the load generator's, whose saturation is checked. */
    cpu_set_t mine;
    ut_parse_cpus(c->d.runner_cpus ? c->d.runner_cpus : c->d.loadgen_cpus, &mine);
    if (sched_setaffinity(0, sizeof mine, &mine) < 0)
        ut_log(UT_WARN, "cannot pin the runner: %s", strerror(errno));
    /* Mostly asleep, the runner must still wake on time for the window's edges on a busy machine:
     * a higher priority where allowed (servers and loadgens get the normal one back, spawn.c). */
    spawn_nice = getpriority(PRIO_PROCESS, 0);
    if (setpriority(PRIO_PROCESS, 0, spawn_nice - 10) < 0)
        ut_log(UT_DEBUG, "runner priority unchanged: %s", strerror(errno));
    if ((e.sigfd = child_signals_init(err, sizeof err)) < 0) {
        fprintf(stderr, "bench: %s\n", err);
        hosts_close(&hr);
        return 1;
    }
    struct res r;
    if (res_open(&r, o->out, c->name, cfgpath, o->resume, err, sizeof err) < 0) {
        fprintf(stderr, "bench: %s\n", err);
        res_close(&r);
        close(e.sigfd);
        hosts_close(&hr);
        return 1;
    }
    e.res = &r;
    /* A capacity search is never skipped: it replays from its kept probes (capacity.c). */
    for (int i = 0; i < p->n && !c->nobj; i++)
        m.skipped += p->rows[i].done = res_has(&r, p->rows[i].key);
    m.planned = p->n * plan_row_bound(c);
    res_path(&r, "meta.json", path, sizeof path);
    acct_cleanup_stale();
    if (c->nobj)
        ut_log(UT_INFO, "%s: %d capacity searches (at most %d runs), results in %s/", c->name, p->n, m.planned, r.dir);
    else
        ut_log(UT_INFO, "%s: %d runs%s, results in %s/", c->name, p->n - m.skipped, m.skipped ? " left" : "", r.dir);
    if (meta_write(path, &m, c, sys, err, sizeof err) < 0)
        ut_log(UT_WARN, "%s", err);
    res_latest(&r);

    m.t0 = ut_now();
    run_plan(&e, c, p, &m, isatty(2));
    m.wall_s = ut_now() - m.t0;
    m.interrupted = e.interrupted;
    m.accounting = e.accounting;
    meta_stamp(m.finished, sizeof m.finished);
    summary(&r, &m, m.skipped, c->nobj > 0);
    if (meta_write(path, &m, c, sys, err, sizeof err) < 0)
        ut_log(UT_WARN, "%s", err);
    res_latest(&r);
    res_close(&r);
    close(e.sigfd);
    hosts_close(&hr);
    for (int i = 0; i < e.nagent_cells; i++)
        free(e.agent_cells[i]);
    free(e.agent_cells);
    ut_str_free(&m.repeats);
    ut_str_free(&m.hosts);
    return e.interrupted ? 128 + e.interrupted : 0;
}

int main(int argc, char **argv)
{
    struct opts o;
    char err[UT_ERRLEN] = "", bindir[PATH_MAX], cfgpath[PATH_MAX];
    if (parse_opts(argc, argv, &o) < 0)
        return 2;
    if (o.schema) {
        cfg_schema(stdout);
        return 0;
    }
    if (o.bindir)
        snprintf(bindir, sizeof bindir, "%s", o.bindir);
    else
        own_dir(bindir, sizeof bindir);
    snprintf(cfgpath, sizeof cfgpath, "%s", o.config ? o.config : "");
    if (!o.config)
        snprintf(cfgpath, sizeof cfgpath, "%s/config.yaml", o.resume);

    struct cfg c;
    struct plan p = {0};
    struct pf_sys sys;
    int rc = 2;
    if (cfg_load(cfgpath, bindir, &c, err, sizeof err) < 0)
        goto fail;
    for (int i = 0; i < o.nset; i++)
        if (cfg_override(&c, o.set[i], err, sizeof err) < 0)
            goto fail;
    if (plan_build(&c, o.only, &p, err, sizeof err) < 0)
        goto fail;
    ut_log_quiet(o.quiet || o.check); /* --dry-run shows the preflight decisions */
    pf_read(&c, &sys);
    if (pf_apply(&c, &sys, &p, err, sizeof err) < 0)
        goto fail;
    if (o.check) {
        printf("%s: OK, %d runs\n", cfgpath, p.n);
        rc = 0;
        goto out;
    }
    if (o.dry_run) {
        if (o.resume) {
            struct res old;
            if (res_load(&old, o.resume, err, sizeof err) < 0)
                goto fail;
            for (int i = 0; i < p.n && !c.nobj; i++)
                p.rows[i].done = res_has(&old, p.rows[i].key);
            res_close(&old);
        }
        plan_print(stdout, &c, &p);
        hosts_print(stdout, &c);
        rc = 0;
        goto out;
    }
    rc = run_all(&o, argc, argv, bindir, cfgpath, &c, &p, &sys);
    goto out;
fail:
    fprintf(stderr, "bench: %s\n", err);
out:
    plan_free(&p);
    cfg_free(&c);
    return rc;
}
